"""Self-service: the menu, answers to common questions (handlers/faq.py) and the handoff to a person.

The customer router (handlers/router.py) decides when each part runs; its table holds the order. The parts:
- "menu" / "مینو" / "/menu" → the menu (also while a ticket is open). Telegram: buttons; WhatsApp and SMS:
  numbered options, and a reply of a digit (Latin or Urdu) picks one while the menu was the last thing asked.
- While a ticket is open everything else joins the ticket (False: the ticket rules take it).
- "agent" / "insaan" / "کسی سے بات" … → a ticket (the handoff).
- A reply to what the bot just asked (a menu number, a question's number, yes/no to "did this help?").
- After "file a complaint" or "track an order" the next message goes on to the ticket rules.
- A complaint → straight to the ticket rules, never delayed; a greeting alone → welcome and menu;
  a clear FAQ match → the answer and "did this help?"; anything else → the ticket rules (a ticket, as before).
- "no", or asking the same question again after its answer → a ticket.

The dialog state lives in Customer.dialog (JSON): what was last asked and when (it expires after
selfservice.dialog_minutes), the answer awaiting feedback, and the history since the last ticket, which the
new ticket's card shows (`on_ticket_opened`). Every question tried is a FaqLog row; `stats` sums them up.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from zoneinfo import ZoneInfo

import config
import outbox
from bots.base import TELEGRAM, Inbound
from db.models import Contact, Customer, FaqLog, Message, Ticket
from handlers.core import cards, clock, customers, events, hours, teams, texts, tickets
from handlers.features import faq, shopinfo

log = logging.getLogger(__name__)

OPTIONS = ("complaint", "order", "faq", "person")  # the menu, in order (numbers 1–4)
HISTORY = 10  # dialog lines kept for the next ticket's card
QUESTION_CHARS = 300
LINE_CHARS = 120  # of each customer message quoted on the card


def enabled() -> bool:
    return config.selfservice().enabled


# ---- the dialog state (Customer.dialog) ------------------------------------------------------------------
def _dialog(customer: Customer) -> dict:
    return dict(customer.dialog or {})


def _asked(dialog: dict) -> str | None:
    """What the bot last asked, while the answer still counts."""
    at = dialog.get("at")
    if not dialog.get("asked") or not at:
        return None
    age = clock.now() - dt.datetime.fromisoformat(at)
    return dialog["asked"] if age <= dt.timedelta(minutes=config.selfservice().dialog_minutes) else None


def _save(
    customer: Customer,
    dialog: dict,
    asked: str | None = None,
    heard: str | None = None,
    did: dict | None = None,
    **state,
) -> None:
    """Remember what the bot now waits for (asked=None: nothing) and one more line of history."""
    dialog = {k: v for k, v in dialog.items() if k == "history"}
    if asked:
        dialog.update(asked=asked, at=clock.now().isoformat(timespec="seconds"), **state)
    if did is not None and tickets.open_ticket_of(customer) is None:  # a ticket's own talk is not history
        line = {"at": clock.now().isoformat(timespec="seconds"), "text": (heard or "")[:QUESTION_CHARS], **did}
        dialog["history"] = [*(dialog.get("history") or [])[-(HISTORY - 1) :], line]
    customer.dialog = dialog or None
    customer.save()


# ---- customers' messages (the customer router, handlers/router.py, decides which of these runs) ---------------
def asked(customer: Customer) -> str | None:
    """What the bot last asked this customer (menu, faq_list, feedback, thanked, complaint, order), while the
    answer still counts."""
    return _asked(_dialog(customer))


def asked_after(customer: Customer, moment: dt.datetime | None) -> bool:
    """Did the bot ask something of the dialog after `moment` (so the dialog, not what came before, is answered)?"""
    dialog = _dialog(customer)
    if _asked(dialog) is None or moment is None:
        return False
    return dt.datetime.fromisoformat(dialog["at"]) >= moment.replace(microsecond=0)


def is_menu_word(text: str) -> bool:
    return faq.is_menu_word(text)


def wants_person(text: str) -> bool:
    return faq.wants_person(text)


def is_greeting(text: str) -> bool:
    return faq.is_greeting(text) and not faq.is_complaint(text)


def is_dialog_reply(customer: Customer, asked_now: str | None, text: str) -> bool:
    """Does the text answer what the bot just asked: a menu number, a question's number, yes/no to "did this
    help?", "thanks" after "glad to help", or the complaint / order it asked for?"""
    number = faq.choice(text)
    if asked_now == "menu":
        return bool(number) and 1 <= number <= len(OPTIONS)
    if asked_now == "faq_list":
        return bool(number) and 1 <= number <= len(_dialog(customer).get("keys") or [])
    if asked_now == "feedback":
        return bool(faq.feedback(text) or {1: "yes", 2: "no"}.get(number))
    if asked_now == "thanked":
        return faq.feedback(text) == "yes"
    return asked_now in ("complaint", "order")


def take_dialog_reply(
    inbound: Inbound, customer: Customer, contact: Contact, lang: str, ticket: Ticket | None, asked_now: str
) -> None:
    """Carry out the answer to what the bot asked (is_dialog_reply said it is one)."""
    text = inbound.text.strip()
    if asked_now in ("complaint", "order"):
        tickets.on_customer_message(inbound, customer, contact)  # what they were asked for: a ticket
        return
    _reply_to_bot(asked_now, _dialog(customer), inbound, text, customer, contact, lang, ticket)


def person(inbound: Inbound, customer: Customer, contact: Contact) -> None:
    """They asked for a person: a ticket with their words."""
    _person(inbound, customer, contact, _dialog(customer), words=inbound.text.strip())


def greet(customer: Customer, contact: Contact, lang: str, text: str) -> None:
    """A greeting alone: hello (the welcome on first contact) and the menu."""
    first = not _dialog(customer).get("history") and not Ticket.select().where(Ticket.customer == customer).exists()
    send_menu(customer, contact, lang, heard=text, welcome=first)


def match(text: str) -> faq.Match:
    """The FAQ's best answer for a customer's words. A message longer than a question is never one: a
    person reads it."""
    if len(text) > QUESTION_CHARS:
        return faq.Match(key=None, reason="too_long")
    return faq.match(text, _faq())


def _repeats(customer: Customer, key: str | None) -> FaqLog | None:
    """The answer awaiting "did this help?", when the customer now asks what it already answered."""
    dialog = _dialog(customer)
    pending = dialog.get("faq_log") if _asked(dialog) == "feedback" else None
    row = FaqLog.get_or_none(id=pending) if pending else None
    return row if row is not None and key is not None and row.answer_key == key else None


def has_answer(customer: Customer, found: faq.Match) -> bool:
    """A clear answer in the shop's FAQ (not a complaint), and not the one just given again."""
    return found.answered and _repeats(customer, found.key) is None


def answer_question(
    inbound: Inbound, customer: Customer, contact: Contact, lang: str, text: str, found: faq.Match
) -> None:
    give_answer(found.key, inbound, customer, contact, lang, None, heard=text, score=found.score)


def log_unanswered(inbound: Inbound, customer: Customer, lang: str, text: str, found: faq.Match) -> None:
    """A message becomes a new matter: asking again what the bot just answered marks that answer unhelpful;
    a question the FAQ could not answer is logged (the answers worth writing next)."""
    repeated = _repeats(customer, found.key) if found.answered else None
    if repeated is not None:
        repeated.outcome = "unhelpful"  # the same answer again would not help: a person takes over
        repeated.save()
        _save(customer, _dialog(customer), heard=text, did={"did": "repeat", "key": found.key})
        log.info("faq answer %s asked again customer=%s: handoff", found.key, customer.id)
        return
    if found.reason != "too_long" and found.reason not in ("complaint", "greeting", "person") and faq.is_question(text):
        FaqLog.create(
            customer=customer,
            channel=inbound.channel,
            language=lang,
            question=text[:QUESTION_CHARS],
            answer_key=None,
            score=found.score,
            outcome="handoff",
            created_at=clock.now(),
        )
        log.info("faq no answer (%s, best %s %.2f) customer=%s", found.reason, found.best, found.score, customer.id)


def _reply_to_bot(asked, dialog, inbound, text, customer, contact, lang, ticket) -> bool:
    """A digit answering the menu or the list of questions, or yes/no to "did this help?"."""
    number = faq.choice(text)
    if asked == "menu" and number and 1 <= number <= len(OPTIONS):
        choose(OPTIONS[number - 1], inbound, customer, contact, lang, ticket, heard=text)
        return True
    if asked == "faq_list" and number and 1 <= number <= len(dialog.get("keys") or []):
        key = dialog["keys"][number - 1]
        entry = _faq().get(key)
        give_answer(
            key, inbound, customer, contact, lang, ticket, heard=text, question=entry.title(lang) if entry else None
        )
        return True
    if asked == "feedback":
        verdict = faq.feedback(text) or {1: "yes", 2: "no"}.get(number)
        if verdict:
            feedback(verdict, dialog.get("faq_log"), inbound, customer, contact, lang, ticket, heard=text)
            return True
    # "thanks" / "ok" after our "glad to help": nothing more to say, nothing for the agents
    return asked == "thanked" and faq.feedback(text) == "yes"


# ---- Telegram buttons --------------------------------------------------------------------------------
def on_button(inbound: Inbound, customer: Customer, contact: Contact) -> None:
    """A customer tapped one of our buttons: answered at once (Telegram wants every tap answered), then
    done like the typed choice. Old or unknown buttons only get the answer."""
    outbox.enqueue(
        TELEGRAM,
        "callback",
        purpose="callback",
        callback_id=inbound.callback_id,
        method="answer_callback",
        priority=outbox.PRIORITY_CUSTOMER,
    )
    parts = (inbound.callback_data or "").split(":")
    if not enabled() or len(parts) < 3 or parts[0] != "ss":
        log.info("customer button ignored data=%r customer=%s", inbound.callback_data, customer.id)
        return
    lang = customers.language_of(customer)
    ticket = tickets.open_ticket_of(customer)
    kind, value = parts[1], parts[2]
    label = _button_label(kind, value, lang)
    if kind == "menu" and value in OPTIONS:
        choose(value, inbound, customer, contact, lang, ticket, heard=label)
    elif kind == "faq":
        give_answer(value, inbound, customer, contact, lang, ticket, heard=label)
    elif kind == "fb" and value in ("yes", "no"):
        row_id = texts.as_id(parts[3]) if len(parts) > 3 else None
        feedback(value, row_id, inbound, customer, contact, lang, ticket, heard=label)


def _button_label(kind: str, value: str, lang: str) -> str:
    if kind == "menu" and value in OPTIONS:
        return texts.render(lang, f"selfservice/option_{value}")
    if kind == "fb" and value in ("yes", "no"):
        return texts.render(lang, f"selfservice/button_{value}")
    entry = _faq().get(value) if kind == "faq" else None
    return entry.title(lang) if entry else value


# ---- what the bot says -------------------------------------------------------------------------------
def on_start(customer: Customer, contact: Contact) -> bool:
    """Telegram /start: the welcome and the menu (False when self-service is off: the plain welcome)."""
    if not enabled():
        return False
    send_menu(customer, contact, customers.language_of(customer), heard="/start", welcome=True)
    return True


def send_menu(customer: Customer, contact: Contact, lang: str, heard: str, welcome: bool = False) -> None:
    """The menu in the customer's language (after the welcome on first contact), with when the team is
    back while the shop is closed."""
    shop = config.app().shop_name
    name = customers.greeting_name(customer)
    parts = [
        texts.render(lang, "welcome", name=name, shop=shop)
        if welcome
        else texts.render(lang, "selfservice/hello", name=name)
        if faq.is_greeting(heard)
        else ""
    ]
    now = clock.now()
    if not hours.is_open(now):
        opening = hours.next_opening(now)
        if opening is not None:
            parts.append(texts.render(lang, "selfservice/menu_closed", when=hours.opening_words(lang, opening, now)))
    labels = [texts.render(lang, f"selfservice/option_{o}") for o in OPTIONS]
    if contact.channel == TELEGRAM:
        parts.append(
            texts.render(lang, "selfservice/menu_head") + "\n" + texts.render(lang, "selfservice/menu_buttons")
        )
        buttons = [[[label, f"ss:menu:{option}"]] for label, option in zip(labels, OPTIONS, strict=False)]
    else:
        parts.append(
            "\n".join(
                [texts.render(lang, "selfservice/menu_head")]
                + [f"{n}. {label}" for n, label in enumerate(labels, 1)]
                + [texts.render(lang, "selfservice/menu_numbers")]
            )
        )
        buttons = None
    outbox.to_contact(contact, "\n\n".join(p for p in parts if p), purpose="menu", buttons=buttons)
    _save(customer, _dialog(customer), asked="menu", heard=heard, did={"did": "menu"})


def choose(option: str, inbound, customer, contact, lang, ticket, heard: str) -> None:
    """A menu option picked (button or number)."""
    dialog = _dialog(customer)
    did = {"did": "option", "option": option}
    if option == "person":
        _person(inbound, customer, contact, dialog, words=None, ticket=ticket, heard=heard)
    elif option == "faq":
        _faq_list(customer, contact, lang, dialog, heard)
    else:
        outbox.to_contact(contact, texts.render(lang, f"selfservice/ask_{option}"), purpose="menu")
        _save(customer, dialog, asked=option, heard=heard, did=did)


def _faq_list(customer, contact, lang, dialog, heard) -> None:
    entries = _faq().entries
    head = texts.render(lang, "selfservice/faq_head")
    if contact.channel == TELEGRAM:
        text = head + "\n" + texts.render(lang, "selfservice/faq_buttons")
        buttons = [[[e.title(lang)[:60], f"ss:faq:{e.key}"]] for e in entries]
    else:
        text = "\n".join(
            [head]
            + [f"{n}. {e.title(lang)}" for n, e in enumerate(entries, 1)]
            + [texts.render(lang, "selfservice/faq_numbers")]
        )
        buttons = None
    outbox.to_contact(contact, text, purpose="menu", buttons=buttons)
    _save(customer, dialog, asked="faq_list", heard=heard, did={"did": "list"}, keys=[e.key for e in entries])


def give_answer(
    key: str,
    inbound,
    customer,
    contact,
    lang,
    ticket,
    heard: str,
    score: float | None = None,
    question: str | None = None,
) -> None:
    """The shop's answer and "did this help?" (no question while a ticket is open: a person is on it).
    question: what was asked, when it is not what the customer typed (a number picked from the list)."""
    entry = _faq().get(key)
    if entry is None:
        log.info("unknown faq key %r (an old button?) customer=%s", key, customer.id)
        return
    answer = shopinfo.fill(entry.answer(lang), lang)  # {shop}, {hours}, {phone} … from settings
    row = FaqLog.create(
        customer=customer,
        channel=inbound.channel,
        language=lang,
        question=(question or heard)[:QUESTION_CHARS],
        answer_key=key,
        score=score,
        outcome="answered",
        ticket=ticket,
        created_at=clock.now(),
    )
    dialog = _dialog(customer)
    did = {"did": "answer", "key": key, "score": score}
    if ticket is not None:
        outbox.to_contact(contact, answer, purpose="faq", ticket=ticket)
        Message.create(ticket=ticket, direction="out", channel=contact.channel, text=answer, author=cards.SELF_SERVICE)
        _save(customer, dialog)
        log.info("faq answer %s during ticket=%s", key, ticket.number)
        return
    if contact.channel == TELEGRAM:
        text = answer + "\n\n" + texts.render(lang, "selfservice/helped_buttons")
        buttons = [
            [
                [texts.render(lang, "selfservice/button_yes"), f"ss:fb:yes:{row.id}"],
                [texts.render(lang, "selfservice/button_no"), f"ss:fb:no:{row.id}"],
            ]
        ]
    else:
        text, buttons = answer + "\n\n" + texts.render(lang, "selfservice/helped_numbers"), None
    outbox.to_contact(contact, text, purpose="faq", buttons=buttons)
    _save(customer, dialog, asked="feedback", heard=heard, did=did, faq_log=row.id, key=key)
    log.info("faq answer %s score=%s channel=%s customer=%s", key, score, inbound.channel, customer.id)


def feedback(verdict: str, row_id, inbound, customer, contact, lang, ticket, heard: str) -> None:
    """Yes: thanks. No: a person takes over (a ticket that shows what the bot answered)."""
    row = FaqLog.get_or_none((FaqLog.id == (row_id or 0)) & (FaqLog.customer == customer))
    dialog = _dialog(customer)
    if row is not None and row.outcome in ("answered", "helpful", "unhelpful"):
        row.outcome = "helpful" if verdict == "yes" else "unhelpful"
        row.save()
    if verdict == "yes":
        outbox.to_contact(contact, texts.render(lang, "selfservice/glad"), purpose="faq")
        _save(customer, dialog, asked="thanked", heard=heard, did={"did": "helpful"})
        return
    _save(customer, dialog, heard=heard, did={"did": "unhelpful"})
    words = heard if len(faq.normalise(heard).split()) > 2 else (row.question if row is not None else None)
    _handoff(inbound, customer, contact, words, ticket)


def _person(inbound, customer, contact, dialog, words: str | None, ticket=None, heard: str | None = None) -> None:
    """The customer asked for a person: a ticket (or, with one open, the agents are told)."""
    pending = dialog.get("faq_log") if _asked(dialog) == "feedback" else None
    if pending:
        FaqLog.update(outcome="handoff").where((FaqLog.id == pending) & (FaqLog.outcome == "answered")).execute()
    _save(customer, dialog, heard=heard or words, did={"did": "person"})
    if ticket is not None:
        lang = customers.language_of(customer)
        outbox.to_contact(
            contact, texts.render(lang, "selfservice/ticket_open", ticket=ticket.number), purpose="menu", ticket=ticket
        )
        outbox.to_group(texts.for_agents("agents/selfservice/person_in_ticket"), purpose="agents", ticket=ticket)
        return
    last = next(
        (
            h.get("text")
            for h in reversed(_dialog(customer).get("history") or [])
            if h.get("did") == "answer" and h.get("text")
        ),
        None,
    )
    _handoff(inbound, customer, contact, words or last, None)


def _handoff(inbound: Inbound, customer, contact, words: str | None, ticket) -> None:
    """Open (or join) the customer's ticket with their words, or a note that they asked for a person."""
    text = words or texts.for_agents("agents/selfservice/asked_person")
    handed = replace(inbound, kind="message", text=text, media=[])
    tickets.on_customer_message(handed, customer, contact)
    log.info("handoff to a person channel=%s customer=%s", inbound.channel, customer.id)


# ---- the ticket's side -------------------------------------------------------------------------------
@teams.menu_choices
def choices(customer: Customer) -> set[str]:
    """What the customer picked with the bot since their last ticket (menu options, FAQ entries answered): the
    teams' `menu` routing rule reads these (before the ticket's opening clears the dialog)."""
    picked = set()
    for h in _dialog(customer).get("history") or []:
        if h.get("did") == "option" and h.get("option"):
            picked.add(str(h["option"]))
        elif h.get("did") == "answer" and h.get("key"):
            picked.add(str(h["key"]))
    return picked


@events.on(events.TICKET_OPENED)
def on_ticket_opened(ticket: Ticket, customer: Customer, channel: str) -> None:
    """A ticket was just opened for this customer: what they did with the bot since the last ticket becomes
    a note the card shows, their questions are linked to the ticket, and the dialog starts afresh."""
    dialog = _dialog(customer)
    FaqLog.update(ticket=ticket).where((FaqLog.customer == customer) & FaqLog.ticket.is_null()).execute()
    history = dialog.get("history") or []
    if customer.dialog:
        customer.dialog = None
        customer.save()
    if history:
        lines = "\n".join(_history_line(h) for h in history)
        Message.create(
            ticket=ticket,
            direction="note",
            channel=channel,
            author=cards.SELF_SERVICE,
            text=texts.for_agents("agents/selfservice/context", lines=lines),
            created_at=clock.now(),
        )


def _history_line(h: dict) -> str:
    did = h.get("did")
    if did == "answer":
        entry = _faq().get(h.get("key") or "")
        words = texts.for_agents(
            "agents/selfservice/did_answer",
            key=h.get("key"),
            title=entry.title(config.app().agent_language) if entry else h.get("key"),
            score="—" if h.get("score") is None else f"{h['score']:.2f}",
        )
    elif did == "option":
        words = texts.for_agents(
            "agents/selfservice/did_option", option=texts.for_agents(f"selfservice/option_{h.get('option')}")
        )
    elif did == "repeat":
        words = texts.for_agents("agents/selfservice/did_repeat", key=h.get("key"))
    else:
        words = texts.for_agents(f"agents/selfservice/did_{did}")
    said = h.get("text") or ""
    said = said if len(said) <= LINE_CHARS else said[: LINE_CHARS - 1] + "…"
    return texts.for_agents("agents/selfservice/line", time=_local(h.get("at")), text=said, did=words)


def _local(at: str | None) -> str:
    if not at:
        return ""
    zone = ZoneInfo(config.app().timezone)
    moment = dt.datetime.fromisoformat(at).replace(tzinfo=dt.UTC).astimezone(zone)
    today = clock.now().replace(tzinfo=dt.UTC).astimezone(zone).date()
    return moment.strftime("%H:%M" if moment.date() == today else "%d %b %H:%M")


def _faq() -> faq.Faq:
    try:
        return faq.load()
    except faq.FaqFileError:
        log.exception("the FAQ file cannot be read: no automatic answers until it is fixed")
        return faq.Faq([])


# ---- the shop's numbers --------------------------------------------------------------------------------
def stats(since: dt.datetime) -> str:
    """The self-service lines of /stats: questions answered, marked helpful, and the questions that most
    often went to a person (the answers worth writing next)."""
    rows = list(FaqLog.select().where(FaqLog.created_at >= since))
    if not rows:
        return ""
    answered = [r for r in rows if r.answer_key]
    to_person = [r for r in rows if r.outcome in ("handoff", "unhelpful")]
    top = faq.group_questions([r.question for r in to_person])[:5]
    return texts.for_agents(
        "agents/selfservice/stats",
        answered=len(answered),
        helpful=sum(r.outcome == "helpful" for r in rows),
        unhelpful=sum(r.outcome == "unhelpful" for r in rows),
        handoffs=len(to_person),
        top=", ".join(texts.for_agents("agents/selfservice/top_line", question=q[:60], count=n) for q, n in top) or "—",
    )
