"""The customer router's table, shown state × kind: for every conversation state a customer can be in and every
kind of message they send, what they receive, what the agents' group receives and which ticket it joined.

One test per database and language brings many Telegram customers into their states at once (orders from a CSV
import, delays through `flask orders delay`, tickets closed by /close in the group, the menu asked for), sends
each one kind of message, and reads the outcome back from what reached the chats and the rows that exist.

Outcomes:
    NEW       a new ticket holds the message; the customer got its acknowledgement; the card reached the group
    JOIN      the open ticket holds the message (no new ticket) and the group got it
    RATED     the closed ticket's rating question took it (a rating, or a short comment); no new ticket
    ANSWERED  the customer got their order's status at once; no ticket
    ANS+JOIN  the same, and the message and the bot's answer joined the open ticket (the agents see both)
    OPT       STOP opted them out, START back in, each confirmed in their language
    BIRTHDAY  the birthday was saved and confirmed
    MENU      the self-service menu came back
    GREETED   a greeting came back, nothing for the agents
    WELCOME   the welcome came back, nothing for the agents
    DRAFT     (owner) the message went to the owner's broadcast draft: no ticket, not opted out
"""

import pytest

from db.models import Customer, Message, Ticket
from handlers.core import texts
from tests.helpers import import_orders, order_rows, quiet

# the table: one row per kind of message, one column per state; see the module's docstring for the outcomes
EXPECTED = """
kind            none      rating    notice    open      dialog
complaint       NEW       NEW       NEW       JOIN      NEW
rating          NEW       RATED     NEW       JOIN      NEW
rating_words    NEW       RATED     NEW       JOIN      NEW
comment         NEW       RATED     NEW       JOIN      NEW
order_question  ANSWERED  ANSWERED  ANSWERED  ANS+JOIN  ANSWERED
stop_start      OPT       OPT       OPT       OPT       OPT
menu            MENU      MENU      MENU      MENU      MENU
greeting        GREETED   GREETED   NEW       JOIN      GREETED
start           WELCOME   WELCOME   WELCOME   WELCOME   WELCOME
birthday        BIRTHDAY  BIRTHDAY  BIRTHDAY  BIRTHDAY  BIRTHDAY
media           NEW       NEW       NEW       JOIN      NEW
long            NEW       NEW       NEW       JOIN      NEW
"""
ROWS = [line.split() for line in EXPECTED.strip().splitlines()]
STATES = ROWS[0][1:]
TABLE = {(row[0], state): outcome for row in ROWS[1:] for state, outcome in zip(STATES, row[1:], strict=True)}
KINDS = [row[0] for row in ROWS[1:]]

WORDS = {
    "en": {
        "complaint": "my blender arrived broken and nobody answers the phone, I want a refund",
        "rating": "4",
        "rating_words": "5 great service",
        "comment": "thanks",
        "order_question": "where is my order {ref}",
        "menu": "menu",
        "greeting": "hello",
        "start": "/start",
        "birthday": "/birthday 14-03",
        "long": "the parcel came late and the box was torn open. " * 184,
        "stop": "STOP",
        "start_again": "START",
        "setup": "setup complaint {uid}: the lid is cracked",
    },
    "ur": {
        "complaint": "میرا بلینڈر ٹوٹا ہوا آیا ہے اور کوئی فون نہیں اٹھاتا، مجھے رقم واپس چاہیے",
        "rating": "4",
        "rating_words": "5 بہت اچھی سروس",
        "comment": "شکریہ",
        "order_question": "میرا آرڈر {ref} کہاں ہے",
        "menu": "مینو",
        "greeting": "السلام علیکم",
        "start": "/start",
        "birthday": "سالگرہ 14-03",
        "long": "پارسل دیر سے آیا اور ڈبہ پھٹا ہوا تھا۔ " * 225,
        "stop": "بند",
        "start_again": "شروع",
        "setup": "setup complaint {uid}: ڈھکن ٹوٹا ہوا ہے",
    },
}
PHOTO = [{"file_id": "CUSTOMER-PHOTO", "file_unique_id": "cp", "width": 10, "height": 10}]
OWNER = 900


def urdu(text: str) -> bool:
    return any("\u0600" <= c <= "\u06ff" for c in text)


def send(k, uid, lang, kind):
    words = WORDS[lang]
    if kind == "media":
        return k.tg_message(uid, None, language_code=lang, photo=PHOTO)
    text = words["stop"] if kind == "stop_start" else words[kind].format(ref=f"G-{uid}")
    return k.tg_message(uid, text, language_code=lang)


def customer_of(uid) -> Customer:
    return Customer.get(Customer.telegram_user_id == uid)


def outcome(k, uid, lang, kind, before) -> tuple[str, list[str]]:
    """What happened to this cell's message, read from the chats and the rows; and what the customer read."""
    customer = customer_of(uid)
    said = [m["text"] or "" for m in k.chat(uid)[before["chat"] :]]
    group_messages = k.group()[before["group"] :]
    group = [m["text"] or "" for m in group_messages]
    tickets = list(Ticket.select().where(Ticket.customer == customer).order_by(Ticket.id))
    new = [t for t in tickets if t.id not in before["tickets"]]
    ref = f"G-{uid}"
    if kind == "stop_start":
        confirmed = [texts.render(lang, "opted_out"), texts.render(lang, "opted_in")]
        if not customer.marketing_opt_out and all(any(c in s for s in said) for c in confirmed) and not new:
            return "OPT", said
        return f"not OPT (opted out: {customer.marketing_opt_out}, new tickets: {len(new)})", said
    if len(new) == 1:
        ticket = new[0]
        held = Message.select().where((Message.ticket == ticket) & (Message.direction == "in")).count()
        acked = any(f"#{ticket.number}" in s for s in said)
        carded = any(f"#{ticket.number}" in g for g in group)
        if held and acked and carded:
            return "NEW", said
        return f"a new ticket, but held {held} / acked {acked} / carded {carded}", said
    if new:
        return f"{len(new)} new tickets", said
    if before["rating"] is not None:
        rated = Ticket.get_by_id(before["rating"])
        if rated.rating is not None or rated.rating_comment:
            return "RATED", said
    answered = any(ref in s for s in said)
    if before["open"] is not None:
        joined = (
            Message.select()
            .where((Message.ticket == before["open"]) & (Message.direction == "in") & (Message.id > before["message"]))
            .count()
        )
        if joined and answered:
            return (
                "ANS+JOIN" if any("🤖" in g and ref in g for g in group) else "answered, joined, agents not told"
            ), said
        ticket = Ticket.get_by_id(before["open"])
        relayed = any(  # into the ticket's thread: naming it, or as a reply to its card (a photo has no words)
            f"#{ticket.number}" in (m["text"] or "") or m.get("reply_to") == ticket.root_message_id
            for m in group_messages
        )
        if joined:
            return ("JOIN" if relayed else "joined, but the group got nothing"), said
    if answered:
        return "ANSWERED", said
    if customer.birthday == "03-14" and kind == "birthday":
        return "BIRTHDAY", said
    hello = texts.render(lang, "selfservice/hello", name=customer.name).strip()
    if kind == "greeting" and said and said[0].startswith(hello):  # the greeting, with the menu below it
        return "GREETED", said
    welcome = texts.render(lang, "welcome", name=customer.name, shop=texts.shop_name()).strip()
    if kind == "start" and said and said[0].startswith(welcome.splitlines()[0]):
        return "WELCOME", said
    if any(texts.render(lang, "selfservice/menu_head") in s for s in said):
        return "MENU", said
    return f"nothing recognised (customer read {said[:1]!r}, group {group[:1]!r})", said


def bring_into_states(k, tmp_path, lang, cells):
    """Each cell's customer into its state, as people do it; quiet after each step."""
    words = WORDS[lang]
    rows = [f"G-{uid},Customer {uid},,{uid},Blender,4500,shipped,2027-06-30,,,{lang}," for uid, _, _ in cells]
    import_orders(k, tmp_path, order_rows(*rows))
    for uid, state, _ in cells:
        if state in ("rating", "open"):
            k.tg_message(uid, words["setup"].format(uid=uid), language_code=lang)
        elif state == "dialog":
            k.tg_message(uid, words["menu"], language_code=lang)
    quiet(k, timeout=30)
    runner = k.app.test_cli_runner()
    for uid, state, _ in cells:
        if state == "rating":
            setup = words["setup"].format(uid=uid)
            card = next(m for m in k.group() if setup in (m["text"] or ""))
            k.agent_message("/close", reply_to=card["message_id"])
        elif state == "notice":
            done = runner.invoke(args=["orders", "delay", f"G-{uid}", "--until", "2027-07-15", "--reason", "courier"])
            assert done.exit_code == 0, done.output
    quiet(k, timeout=30)
    for uid, state, _ in cells:  # the state each cell needs holds before its message
        customer = customer_of(uid)
        if state == "rating":
            assert Ticket.get(Ticket.customer == customer).csat_asked_at is not None, uid
        if state == "dialog":
            assert customer.dialog, uid


def snapshot(k, uid):
    customer = customer_of(uid)
    tickets = {t.id: t for t in Ticket.select().where(Ticket.customer == customer)}
    open_one = next((t.id for t in tickets.values() if t.status == "open"), None)
    closed = next((t.id for t in tickets.values() if t.csat_asked_at is not None), None)
    last = Message.select().order_by(Message.id.desc()).first()
    return {
        "chat": len(k.chat(uid)),
        "group": len(k.group()),
        "tickets": set(tickets),
        "open": open_one,
        "rating": closed,
        "message": last.id if last else 0,
    }


@pytest.mark.parametrize("lang", ["en", "ur"])
def test_every_state_and_kind_of_message(make_khidmat, tmp_path, lang):
    k = make_khidmat(**{"telegram.owner_ids": [OWNER], "app.default_language": lang})
    base = 10_000 if lang == "en" else 20_000
    cells = [(base + 100 * s + i, state, kind) for s, state in enumerate(STATES) for i, kind in enumerate(KINDS)]
    bring_into_states(k, tmp_path, lang, cells)
    before = {uid: snapshot(k, uid) for uid, _, _ in cells}
    # the group's count is taken once, after every cell is in its state: a cell's group messages are its own
    group_at = len(k.group())
    for uid, _, kind in cells:
        before[uid]["group"] = group_at
        send(k, uid, lang, kind)
    quiet(k, timeout=60)
    for uid, _, kind in cells:
        if kind == "stop_start":
            k.tg_message(uid, WORDS[lang]["start_again"], language_code=lang)
    # the owner, in the middle of a /broadcast draft, writes what would be a complaint and STOP
    k.tg_message(OWNER, "/broadcast", first_name="Owner")
    quiet(k, timeout=30)
    for text in (WORDS[lang]["complaint"], WORDS[lang]["stop"]):
        k.tg_message(OWNER, text, first_name="Owner", language_code=lang)
    quiet(k, timeout=60)

    wrong = []
    for uid, state, kind in cells:
        seen, said = outcome(k, uid, lang, kind, before[uid])
        want = TABLE[(kind, state)]
        if seen != want:
            wrong.append(f"  {state:>7} × {kind:<15} want {want:<9} saw {seen}; customer read {said[:2]!r}")
        for text in said:  # every word the customer read is in their language
            if urdu(text) != (lang == "ur"):
                wrong.append(f"  {state:>7} × {kind:<15} read in the wrong language: {text[:80]!r}")
    owner = Customer.get_or_none(Customer.telegram_user_id == OWNER)
    owner_said = [m["text"] or "" for m in k.chat(OWNER)]
    if Ticket.select().join(Customer).where(Customer.telegram_user_id == OWNER).exists():
        wrong.append("    draft × complaint      want DRAFT     saw a ticket for the owner")
    if owner is not None and owner.marketing_opt_out:
        wrong.append("    draft × stop           want DRAFT     saw the owner opted out")
    if sum("unknown segment" in s for s in owner_said) < 2:
        wrong.append(f"    draft × complaint/stop want DRAFT     owner read {owner_said[-2:]!r}")
    assert not wrong, f"{len(wrong)} cell(s) of the router's table ({lang}) went wrong:\n" + "\n".join(wrong)
