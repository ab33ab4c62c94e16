"""Owners' broadcasts: an offer or a notice to a segment of customers, sent at bulk priority.

A broadcast is planned (who would get it, on which channel, in which words), then started: its
recipients are materialised once (one row per customer, with the contact it goes to), and their outbox
rows are enqueued in chunks, each chunk in one transaction with the recipients' "queued" mark and an
idempotency key f"b{broadcast}:c{customer}" — so a crash mid-way, then a restart, continues with nobody
twice and nobody skipped. The scheduler's `tick` starts scheduled broadcasts when due, resumes any left
'sending', reports progress to the owner and closes finished ones. The figures come from the outbox rows
(and the Twilio status callbacks recorded on them).

Owners (telegram.owner_ids) drive it from the command line (`flask --app webhook broadcast`) or from a
private chat with the bot (/broadcast, /broadcasts, /broadcast_cancel); the chat flow's state is the
draft broadcast row itself.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from zoneinfo import ZoneInfo

from peewee import JOIN, Case, fn

import config
import outbox
from bots.base import SMS, TELEGRAM, WHATSAPP, Inbound
from db.connection import after_commit, release, write
from db.models import Broadcast, BroadcastRecipient, Contact, Customer, CustomerTag, Order, Outbox
from handlers.core import clock, commands, customers, team, texts
from handlers.features import campaigns
from sender.pacing import sms_segments

log = logging.getLogger(__name__)

KINDS = ("offer", "notice")
CHANNELS = (WHATSAPP, SMS, TELEGRAM)
LANGUAGES = ("ur", "en")
ACTIVE = ("scheduled", "sending")
COUNT_KEYS = (
    "recipients",
    "to_send",
    "waiting",
    "sent",
    "delivered",
    "failed",
    "opted_out",
    "blocked",
    "skipped",
    "cancelled",
)
OWNER_COMMANDS = ("broadcast", "broadcasts", "broadcast_cancel")
AUDIENCE_BUTTONS = (
    ("all", None),
    ("channel:whatsapp", "WhatsApp"),
    ("channel:sms", "SMS"),
    ("channel:telegram", "Telegram"),
    ("language:ur", "اردو"),
    ("language:en", "English"),
)
LOCK_KEY = 7212005


class BroadcastError(ValueError):
    """A broadcast that cannot be made as asked (the message says why, in English for the command line);
    `words`, where given, is (template, values) to tell the owner the same in the agents' language."""

    def __init__(self, message: str, words: tuple[str, dict] | None = None):
        super().__init__(message)
        self.words = words

    @classmethod
    def worded(cls, name: str, **values) -> BroadcastError:
        return cls(texts.render("en", name, **values), (name, values))

    def for_owner(self) -> str:
        return texts.for_agents(self.words[0], **self.words[1]) if self.words else str(self)


# ---- segments ---------------------------------------------------------------------------------------
SEGMENT_HELP = (
    "all, channel:whatsapp|sms|telegram, language:ur|en, tag:NAME, tier:NAME, ordered-within:30d, birthday-month:1-12"
)
WITHIN_UNITS = {"d": 1, "w": 7, "m": 30}


def parse_segment(segment: str) -> dict:
    """'channel:sms,language:ur,tag:vip' → what each condition asks for; all conditions must hold (AND).
    Keys: channels, languages (sets), tags (a set of tag names), tiers (a set), ordered_within_days, birthday_month."""
    wanted = {
        "channels": set(CHANNELS),
        "languages": set(LANGUAGES),
        "tags": set(),
        "tiers": set(),
        "ordered_within_days": None,
        "birthday_month": None,
    }
    parts = [p.strip().lower() for p in (segment or "").split(",") if p.strip()]
    if not parts:
        raise BroadcastError.worded("owners/segment_empty", help=SEGMENT_HELP)
    for part in parts:
        key, _, value = part.partition(":")
        value = value.strip()
        if part == "all":
            continue
        if key == "channel" and value in CHANNELS:
            wanted["channels"] &= {value}
        elif key == "language" and value in LANGUAGES:
            wanted["languages"] &= {value}
        elif key == "tag" and value:
            wanted["tags"].add(value.lstrip("#"))
        elif key == "tier" and value:
            wanted["tiers"].add(value)
        elif key == "ordered-within" and value[:-1].isdigit() and value[-1:] in WITHIN_UNITS and int(value[:-1]) > 0:
            days = int(value[:-1]) * WITHIN_UNITS[value[-1]]
            current = wanted["ordered_within_days"]
            wanted["ordered_within_days"] = days if current is None else min(current, days)
        elif key == "birthday-month" and value.isdigit() and 1 <= int(value) <= 12:
            if wanted["birthday_month"] not in (None, int(value)):
                wanted["channels"] = set()  # two different months: nobody
            wanted["birthday_month"] = int(value)
        elif key in ("channel", "language", "tag", "tier", "ordered-within", "birthday-month"):
            raise BroadcastError.worded(
                f"owners/segment_unknown_{key.replace('-', '_')}", value=repr(value), part=repr(part), help=SEGMENT_HELP
            )
        else:
            raise BroadcastError.worded("owners/segment_unknown", part=repr(part), help=SEGMENT_HELP)
    return wanted


def _customer_conditions(wanted: dict, now: dt.datetime) -> list:
    """The segment's conditions on the customer (tags, tier, recent orders, birthday month) as SQL."""
    conditions = []
    for tag in sorted(wanted["tags"]):
        conditions.append(
            Customer.id.in_(CustomerTag.select(CustomerTag.customer).where(fn.LOWER(CustomerTag.tag) == tag))
        )
    if wanted["tiers"]:
        if len(wanted["tiers"]) > 1:
            conditions.append(Customer.id < 0)  # one tier each: two different tiers match nobody
        conditions.append(fn.LOWER(Customer.tier) == next(iter(wanted["tiers"])))
    if wanted["ordered_within_days"] is not None:
        since = now - dt.timedelta(days=wanted["ordered_within_days"])
        conditions.append(Customer.id.in_(Order.select(Order.customer).where(Order.created_at >= since)))
    if wanted["birthday_month"] is not None:
        month = f"{wanted['birthday_month']:02d}"
        conditions.append(Customer.birthday.between(f"{month}-01", f"{month}-31"))  # the birthday index
    return conditions


# ---- who gets what ----------------------------------------------------------------------------------


def template_for(kind: str, language: str, override: str | None) -> str:
    """The WhatsApp Content SID for customers outside the 24-hour window ('' when none is configured)."""
    return override or config.broadcasts().whatsapp_template(kind, language)


def _choose(
    kind: str, template: str | None, customer: Customer, contacts: list[Contact], language: str, now: dt.datetime
) -> tuple[Contact | None, str, str | None]:
    """The contact a customer's broadcast goes to, and the recipient's state (pending or why not)."""

    def sendable(c):
        return not customers.outside_window(c, now) or bool(template_for(kind, language, template))

    reachable = [c for c in contacts if not c.unreachable]
    if kind == "offer" and customer.marketing_opt_out:
        return (reachable or contacts)[0], "opted_out", None
    if not reachable:
        return contacts[0], "blocked", contacts[0].unreachable
    best = max(reachable, key=lambda c: (sendable(c), c.last_inbound_at or dt.datetime.min, c.id))
    if not sendable(best):
        return best, "skipped", "no_template"
    return best, "pending", None


def targets(kind: str, segment: str, template: str | None = None) -> list[dict]:
    """Every customer in the segment: customer, contact, language, state, reason (not yet stored)."""
    wanted = parse_segment(segment)
    now = clock.now()
    _reach_imported(wanted, now)
    query = (
        Contact.select(Contact, Customer)
        .join(Customer)
        .where(Contact.channel.in_(sorted(wanted["channels"]) or ["-"]), *_customer_conditions(wanted, now))
        .order_by(Contact.customer, Contact.id)
    )
    found, contacts, customer = [], [], None

    def flush():
        language = customers.language_of(customer)
        if language in wanted["languages"]:
            contact, state, reason = _choose(kind, template, customer, contacts, language, now)
            found.append(
                {"customer": customer, "contact": contact, "language": language, "state": state, "reason": reason}
            )

    for contact in query:
        if customer is not None and contact.customer_id != customer.id:
            flush()
            contacts = []
        customer = contact.customer
        contacts.append(contact)
    if customer is not None:
        flush()
    return found


def _reach_imported(wanted: dict, now: dt.datetime) -> None:
    """Customers known only from the shop's data (an order import or the API: a phone or a Telegram id, never
    written to us) get the contact the shop would reach them on (customers.best_contact), so a broadcast
    counts and reaches them like everyone else."""
    has_contact = Contact.select(Contact.id).where(Contact.customer == Customer.id)
    never_wrote = (
        Customer.select()
        .where(
            ~fn.EXISTS(has_contact),
            Customer.phone.is_null(False) | Customer.telegram_user_id.is_null(False),
            *_customer_conditions(wanted, now),
        )
        .order_by(Customer.id)
    )
    while True:
        with write():
            batch = list(never_wrote.limit(500))
            reached = [c for c in batch if customers.best_contact(c) is not None]
        if len(batch) < 500 or not reached:
            return


def render(kind: str, text: str, language: str) -> str:
    """The owner's words as a customer reading `language` receives them (footer and shop name are templates)."""
    return texts.render(language, f"broadcast_{kind}", text=text.strip(), shop=config.app().shop_name)


def plan(kind: str, segment: str, text: str, template: str | None = None) -> dict:
    """What a broadcast would do now: recipients per channel and language, those left out, SMS segments."""
    found = targets(kind, segment, template)
    going = [t for t in found if t["state"] == "pending"]
    result = {
        "total": len(going),
        "audience": len(found),
        "channels": {c: sum(t["contact"].channel == c for t in going) for c in CHANNELS},
        "languages": {lang: sum(t["language"] == lang for t in going) for lang in LANGUAGES},
        "opted_out": sum(t["state"] == "opted_out" for t in found),
        "blocked": sum(t["state"] == "blocked" for t in found),
        "skipped": sum(t["state"] == "skipped" for t in found),
        "texts": {lang: render(kind, text, lang) for lang in LANGUAGES},
    }
    result["sms_segments"] = {
        lang: sms_segments(result["texts"][lang])
        for lang in LANGUAGES
        if any(t["language"] == lang and t["contact"].channel == SMS for t in going)
    }
    return result


def describe_plan(b: Broadcast, figures: dict) -> str:
    """The plan in the owner's words (command line and chat preview)."""
    channels = ", ".join(f"{c} {n}" for c, n in figures["channels"].items() if n) or "—"
    lines = [
        texts.for_agents(
            "owners/summary",
            total=figures["total"],
            channels=channels,
            **{k: figures[k] for k in ("opted_out", "blocked", "skipped")},
        )
    ]
    lines += [
        texts.for_agents("owners/summary_sms", segments=n, language=texts.word_for_agents("agents/language_", lang))
        for lang, n in figures["sms_segments"].items()
    ]
    for language in LANGUAGES:
        if figures["languages"][language]:
            lines.append(
                texts.for_agents(
                    "owners/preview_language",
                    language=texts.word_for_agents("agents/language_", language),
                    count=figures["languages"][language],
                    text=figures["texts"][language],
                )
            )
    return texts.for_agents("owners/preview", kind=_kind(b.kind), id=b.id, segment=b.segment, summary="\n".join(lines))


# ---- life of a broadcast ----------------------------------------------------------------------------
def create(
    kind: str,
    segment: str,
    text: str = "",
    template: str | None = None,
    at: dt.datetime | None = None,
    created_by: int | None = None,
    step: str | None = None,
) -> Broadcast:
    """A draft (checked: kind, segment, text); confirm() sends or schedules it."""
    if kind not in KINDS:
        raise BroadcastError(f"kind must be offer or notice (got {kind!r})")
    parse_segment(segment)
    if step is None and not text.strip():
        raise BroadcastError("the text is empty")
    with write():
        return Broadcast.create(
            kind=kind,
            segment=segment,
            text=text,
            template=template or None,
            scheduled_at=at,
            created_by=created_by,
            step=step,
            status="draft",
        )


def confirm(b: Broadcast) -> Broadcast:
    """The owner said yes: scheduled (if it has a time in the future) or sending now."""
    with write():
        scheduled = b.scheduled_at is not None and b.scheduled_at > clock.now()
        Broadcast.update(status="scheduled" if scheduled else "sending", step=None).where(
            (Broadcast.id == b.id) & (Broadcast.status == "draft")
        ).execute()
    return Broadcast.get_by_id(b.id)


def _lock(broadcast_id: int) -> None:
    """One writer per broadcast at a time (SQLite: write() already serialises everything)."""
    campaigns.lock(LOCK_KEY, broadcast_id)


def materialise(broadcast_id: int) -> bool:
    """Store the recipients, once, in one transaction; the broadcast is then 'sending'."""
    with write():
        _lock(broadcast_id)
        b = Broadcast.get_by_id(broadcast_id)
        if b.total is not None or b.status not in ACTIVE:
            return False
        found = targets(b.kind, b.segment, b.template)
        rows = [
            {
                "broadcast": b.id,
                "customer": t["customer"].id,
                "contact": t["contact"].id,
                "language": t["language"],
                "state": t["state"],
                "reason": t["reason"],
            }
            for t in found
        ]
        for i in range(0, len(rows), 500):
            BroadcastRecipient.insert_many(rows[i : i + 500]).on_conflict_ignore().execute()
        Broadcast.update(status="sending", total=len(rows), started_at=clock.now()).where(
            Broadcast.id == b.id
        ).execute()
    log.info("broadcast %d started: %d recipients", broadcast_id, len(rows))
    return True


def enqueue_chunk(broadcast_id: int) -> int:
    """Enqueue the next chunk of waiting recipients (one transaction, `broadcasts.chunk` of them, whatever
    the backlog); how many were handled."""
    return _next_chunk(broadcast_id, within_backlog=False) or 0


def _next_chunk(broadcast_id: int, within_backlog: bool = True) -> int | None:
    """The campaign step: the next waiting recipients, at most as many as the bulk backlog has room for
    (None when it has none); how many were handled."""
    with write():
        _lock(broadcast_id)
        limit = campaigns.room() if within_backlog else config.broadcasts().chunk
        if limit <= 0:
            return None
        b = Broadcast.get_by_id(broadcast_id)
        if b.status != "sending":
            return 0
        chunk = list(
            BroadcastRecipient.select(BroadcastRecipient, Contact, Customer)
            .join(Contact, JOIN.LEFT_OUTER)
            .switch(BroadcastRecipient)
            .join(Customer)
            .where((BroadcastRecipient.broadcast == b.id) & (BroadcastRecipient.state == "pending"))
            .order_by(BroadcastRecipient.id)
            .limit(limit)
        )
        _enqueue(b, chunk, clock.now())
    return len(chunk)


def _enqueue(b: Broadcast, chunk: list[BroadcastRecipient], now: dt.datetime) -> None:
    """The chunk's outbox rows and the recipients' new states, in a few statements (not a few per
    recipient: on PostgreSQL each is a round trip, and the sender must not run dry while a chunk is written).
    A recipient who opted out since the start, or whose contact went away, is marked and left out."""
    words: dict[str, str] = {}
    messages, queued, marks = [], {}, {}
    for r in chunk:
        contact = r.contact
        if b.kind == "offer" and r.customer.marketing_opt_out:
            marks.setdefault(("opted_out", None), []).append(r.id)
            continue
        if contact is None:
            marks.setdefault(("skipped", "no_contact"), []).append(r.id)
            continue
        way = campaigns.window(contact, now, template_for, b.kind, r.language, b.template)
        if way.skip:
            marks.setdefault(("skipped", campaigns.NO_TEMPLATE), []).append(r.id)
            continue
        extra = way.extra({"1": b.text.strip()})
        if r.language not in words:
            words[r.language] = render(b.kind, b.text, r.language)
        key = f"b{b.id}:c{r.customer_id}"
        messages.append((contact, words[r.language], key, extra))
        queued[key] = r.id
    ids = outbox.to_contacts(messages, purpose="broadcast", priority=outbox.PRIORITY_BULK)
    if queued:
        BroadcastRecipient.update(
            state="queued",
            outbox=Case(BroadcastRecipient.id, [(recipient, ids[key]) for key, recipient in queued.items()]),
        ).where(BroadcastRecipient.id.in_(list(queued.values()))).execute()
    for (state, reason), recipients in marks.items():
        BroadcastRecipient.update(state=state, reason=reason).where(BroadcastRecipient.id.in_(recipients)).execute()


def pump(broadcast_id: int) -> None:
    """Start (if due) and enqueue waiting recipients chunk by chunk, while the outbox holds fewer than
    `broadcasts.backlog` bulk messages: a big broadcast is fed as it goes (by this, the command's watch and
    the scheduler's tick), so the sender's queue stays short and other messages are not slowed down."""
    b = Broadcast.get_by_id(broadcast_id)
    if (b.status == "scheduled" and (b.scheduled_at is None or b.scheduled_at <= clock.now())) or (
        b.status == "sending" and b.total is None
    ):
        materialise(b.id)
    campaigns.feed(lambda: _next_chunk(broadcast_id))


bulk_backlog = campaigns.bulk_backlog  # the name the tests and older callers know


def counts(b: Broadcast) -> dict:
    """The figures of a broadcast, from its recipients and their outbox rows."""
    result = dict.fromkeys(COUNT_KEYS, 0)
    query = (
        BroadcastRecipient.select(
            BroadcastRecipient.state, Outbox.status, Outbox.reason, Outbox.delivery, fn.COUNT(BroadcastRecipient.id)
        )
        .join(Outbox, JOIN.LEFT_OUTER)
        .where(BroadcastRecipient.broadcast == b.id)
        .group_by(BroadcastRecipient.state, Outbox.status, Outbox.reason, Outbox.delivery)
        .tuples()
    )
    for state, status, reason, delivery, n in query:
        result["recipients"] += n
        result["to_send"] += n if state in ("pending", "queued", "cancelled") else 0
        result[_outcome(state, status, reason)] += n
        if status == "sent" and delivery in ("delivered", "read"):
            result["delivered"] += n
    return result


def _outcome(state: str, status: str | None, reason: str | None) -> str:
    if state == "pending":
        return "waiting"
    if state != "queued":
        return state
    if status == "pending":
        return "waiting"
    if status in ("gone", "failed"):
        return "blocked" if reason in ("blocked", "unsubscribed") else "failed"
    if status == "skipped":
        return "cancelled"
    return "sent"  # sent (or pruned long after)


def finish_if_done(b: Broadcast) -> bool:
    """A started broadcast with nothing left waiting is done: record the figures, tell the owner."""
    if b.status != "sending" or b.total is None:
        return False
    figures = counts(b)
    if figures["waiting"]:
        return False
    with write():
        if (
            not Broadcast.update(status="done", finished_at=clock.now(), counts=figures)
            .where((Broadcast.id == b.id) & (Broadcast.status == "sending"))
            .execute()
        ):
            return False
        b.status, b.counts = "done", figures
        if b.created_by:
            _progress(b, figures, force=True)
            outbox.enqueue(
                TELEGRAM,
                b.created_by,
                purpose="broadcast_report",
                priority=outbox.PRIORITY_CUSTOMER,
                text=texts.for_agents("owners/final", id=b.id, total=b.total, **figures),
            )
    log.info("broadcast %d done: %s", b.id, figures)
    return True


def cancel(b: Broadcast) -> dict:
    """Stop a broadcast: nothing more is enqueued, waiting messages are dropped (in-flight ones still go)."""
    with write():
        _lock(b.id)
        Broadcast.update(status="cancelled", step=None, finished_at=clock.now()).where(Broadcast.id == b.id).execute()
        BroadcastRecipient.update(state="cancelled").where(
            (BroadcastRecipient.broadcast == b.id) & (BroadcastRecipient.state == "pending")
        ).execute()
        mine = BroadcastRecipient.select(BroadcastRecipient.outbox).where(BroadcastRecipient.broadcast == b.id)
        Outbox.update(status="skipped", reason="cancelled").where(
            (Outbox.id.in_(mine)) & (Outbox.status == "pending")
        ).execute()
        b.status = "cancelled"
        figures = counts(b)
        Broadcast.update(counts=figures).where(Broadcast.id == b.id).execute()
    log.info("broadcast %d cancelled", b.id)
    return figures


def tick() -> None:
    """The scheduler's job: start what is due, resume what was left sending, report progress, close."""
    due = (
        Broadcast.select()
        .where(
            ((Broadcast.status == "scheduled") & (Broadcast.scheduled_at <= clock.now()))
            | (Broadcast.status == "sending")
        )
        .order_by(Broadcast.id)
    )
    for b in list(due):
        try:
            pump(b.id)
            b = Broadcast.get_by_id(b.id)
            if not finish_if_done(b) and b.created_by:
                with write():
                    _progress(b, counts(b))
        except Exception:
            log.exception("broadcast %d: tick failed", b.id)


def start_soon(broadcast_id: int) -> None:
    """After this transaction commits, enqueue in the background (the scheduler's tick would otherwise)."""

    def run():
        try:
            pump(broadcast_id)
        except Exception:
            log.exception("broadcast %d: start failed (the scheduler will resume it)", broadcast_id)
        finally:
            release()

    after_commit(lambda: threading.Thread(target=run, name=f"broadcast-{broadcast_id}", daemon=True).start())


# ---- the owner's progress message -------------------------------------------------------------------
def progress_text(b: Broadcast, figures: dict) -> str:
    return texts.for_agents(
        "owners/progress",
        id=b.id,
        kind=_kind(b.kind),
        segment=b.segment,
        status=texts.word_for_agents("owners/status_", b.status),
        total=b.total if b.total is not None else "…",
        **figures,
    )


def _progress(b: Broadcast, figures: dict, force: bool = False) -> None:
    """Post the progress message once, then edit it as the figures change (the newest edit only)."""
    if not force and figures == b.counts:
        return
    text = progress_text(b, figures)
    Broadcast.update(counts=figures).where(Broadcast.id == b.id).execute()
    row = Outbox.get_or_none(id=b.progress_outbox) if b.progress_outbox else None
    if row is None:
        row = outbox.enqueue(
            TELEGRAM, b.created_by, purpose="broadcast_progress", text=text, priority=outbox.PRIORITY_CUSTOMER
        )
        Broadcast.update(progress_outbox=row.id).where(Broadcast.id == b.id).execute()
        return
    if row.status == "pending":
        Outbox.update(payload=dict(row.payload, text=text)).where(Outbox.id == row.id).execute()
        return
    if row.status != "sent" or not row.message_ids:
        return
    key = f"bp{b.id}"
    Outbox.update(status="skipped").where((Outbox.merge_key == key) & (Outbox.status == "pending")).execute()
    outbox.enqueue(
        TELEGRAM,
        b.created_by,
        purpose="broadcast_progress",
        text=text,
        method="edit",
        edit_message_id=int(row.message_ids[0]),
        merge_key=key,
        priority=outbox.PRIORITY_CUSTOMER,
    )


# ---- the owner's private chat -----------------------------------------------------------------------
def _draft_of(user_id) -> Broadcast | None:
    return (
        Broadcast.select()
        .where((Broadcast.created_by == int(user_id)) & (Broadcast.status == "draft"))
        .order_by(Broadcast.id.desc())
        .first()
    )


def takes_private(inbound: Inbound) -> bool:
    """Is this private Telegram message the owners' business: an owner's /broadcast, /broadcasts,
    /broadcast_cancel or a tap on the flow's buttons, an owner's answer to their draft's question, or a
    non-owner typing an owner command (refused)?"""
    if inbound.channel != TELEGRAM or inbound.is_group:
        return False
    name = commands.parse(inbound.text)[0] if inbound.kind == "command" else None
    if not team.is_owner(inbound.user_id):
        return name in OWNER_COMMANDS
    if name in OWNER_COMMANDS or (inbound.kind == "callback" and (inbound.callback_data or "").startswith("bc:")):
        return True
    return inbound.kind == "message" and _draft_of(inbound.user_id) is not None


def on_private(inbound: Inbound) -> bool:
    """Owners' commands and the /broadcast flow in a private Telegram chat; True when handled here.
    A non-owner typing an owner command is refused; anything else of theirs is a customer's message."""
    if inbound.channel != TELEGRAM or inbound.is_group:
        return False
    name = commands.parse(inbound.text)[0] if inbound.kind == "command" else None
    callback = inbound.kind == "callback" and (inbound.callback_data or "").startswith("bc:")
    if not team.is_owner(inbound.user_id):
        if name in OWNER_COMMANDS:
            customer = Customer.get_or_none(telegram_user_id=int(inbound.user_id or 0))
            lang = texts.detect_language(inbound.text, inbound.language_code, customer.language if customer else None)
            _to_owner(inbound, texts.render(lang, "broadcast_not_owner"))
            return True
        return False
    draft = _draft_of(inbound.user_id)
    if name == "broadcast":
        _start_flow(inbound, draft)
    elif name == "broadcasts":
        _to_owner(inbound, recent_list())
    elif name == "broadcast_cancel":
        _cancel_command(inbound, draft)
    elif callback:
        _on_button(inbound, draft)
    elif draft is not None and inbound.kind == "message":
        _on_answer(inbound, draft)
    else:
        return False
    return True


def _to_owner(inbound: Inbound, text: str, buttons=None) -> None:
    outbox.enqueue(
        TELEGRAM, inbound.chat_id, purpose="owner", text=text, buttons=buttons, priority=outbox.PRIORITY_CUSTOMER
    )


def _start_flow(inbound: Inbound, draft: Broadcast | None) -> None:
    kind = "notice" if commands.parse(inbound.text)[1].lower().startswith("notice") else "offer"
    if draft is not None:
        _discard(draft)
    b = create(kind, "all", created_by=int(inbound.user_id), step="audience")
    buttons = [
        [
            [label or texts.for_agents("owners/button_all"), f"bc:{b.id}:seg:{segment}"]
            for segment, label in AUDIENCE_BUTTONS[i : i + 2]
        ]
        for i in range(0, len(AUDIENCE_BUTTONS), 2)
    ]
    _to_owner(inbound, texts.for_agents("owners/ask_audience", kind=_kind(kind)), buttons)


def _on_answer(inbound: Inbound, draft: Broadcast) -> None:
    """A typed answer to the flow's current question."""
    if draft.step == "audience":
        _choose_audience(inbound, draft, inbound.text.strip())
    elif draft.step == "text":
        if not inbound.text.strip() or inbound.media:
            _to_owner(inbound, texts.for_agents("owners/text_only"))
            return
        draft.text, draft.step = inbound.text.strip(), "confirm"
        draft.save()
        _preview(inbound, draft)
    else:
        _preview(inbound, draft)


def _choose_audience(inbound: Inbound, draft: Broadcast, segment: str) -> None:
    try:
        figures = plan(draft.kind, segment, "")
    except BroadcastError as exc:
        _to_owner(inbound, texts.for_agents("owners/bad_segment", error=exc.for_owner()))
        return
    if not figures["audience"]:
        _to_owner(inbound, texts.for_agents("owners/empty_audience", segment=segment))
        return
    draft.segment, draft.step = segment, "text"
    draft.save()
    _to_owner(inbound, texts.for_agents("owners/ask_text", segment=segment, count=figures["total"]))


def _preview(inbound: Inbound, draft: Broadcast) -> None:
    figures = plan(draft.kind, draft.segment, draft.text, draft.template)
    buttons = [
        [
            [texts.for_agents("owners/button_send"), f"bc:{draft.id}:send"],
            [texts.for_agents("owners/button_cancel"), f"bc:{draft.id}:cancel"],
        ]
    ]
    _to_owner(inbound, describe_plan(draft, figures), buttons)


def _on_button(inbound: Inbound, draft: Broadcast | None) -> None:
    parts = (inbound.callback_data or "").split(":", 3)
    outbox.enqueue(
        TELEGRAM,
        "callback",
        purpose="callback",
        callback_id=inbound.callback_id,
        method="answer_callback",
        text="",
        priority=outbox.PRIORITY_CUSTOMER,
    )
    if draft is None or len(parts) < 3 or parts[1] != str(draft.id):
        _to_owner(inbound, texts.for_agents("owners/stale"))
        return
    action = parts[2]
    if action == "seg" and draft.step == "audience" and len(parts) == 4:
        _choose_audience(inbound, draft, parts[3])
    elif action == "send" and draft.step == "confirm":
        b = confirm(draft)
        start_soon(b.id)
        _progress(b, dict.fromkeys(COUNT_KEYS, 0), force=True)
    elif action == "cancel":
        _discard(draft)
        _to_owner(inbound, texts.for_agents("owners/draft_cancelled"))
    else:
        _to_owner(inbound, texts.for_agents("owners/stale"))


def _discard(draft: Broadcast) -> None:
    Broadcast.update(status="cancelled", step=None).where(Broadcast.id == draft.id).execute()


def _cancel_command(inbound: Inbound, draft: Broadcast | None) -> None:
    """/broadcast_cancel [id]: the draft, or the owner's broadcast in progress (the newest, or #id)."""
    if draft is not None:
        _discard(draft)
        _to_owner(inbound, texts.for_agents("owners/draft_cancelled"))
        return
    wanted = commands.parse(inbound.text)[1].lstrip("#")
    query = Broadcast.select().where(Broadcast.status.in_(ACTIVE)).order_by(Broadcast.id.desc())
    if texts.as_id(wanted) is not None:
        query = query.where(Broadcast.id == texts.as_id(wanted))
    b = query.first()
    if b is None:
        _to_owner(inbound, texts.for_agents("owners/nothing_to_cancel"))
        return
    figures = cancel(b)
    _to_owner(inbound, texts.for_agents("owners/cancelled", id=b.id, sent=figures["sent"]))


def _kind(kind: str) -> str:
    return texts.word_for_agents("owners/kind_", kind)


def recent_list(limit: int = 10) -> str:
    rows = list(Broadcast.select().where(Broadcast.status != "draft").order_by(Broadcast.id.desc()).limit(limit))
    if not rows:
        return texts.for_agents("owners/none")
    lines = [texts.for_agents("owners/list_head")]
    for b in rows:
        figures = counts(b) if b.total is not None else dict.fromkeys(COUNT_KEYS, 0)
        lines.append(
            texts.for_agents(
                "owners/list_line",
                id=b.id,
                created=b.created_at.strftime("%Y-%m-%d %H:%M"),
                kind=_kind(b.kind),
                segment=b.segment,
                status=texts.word_for_agents("owners/status_", b.status),
                total=b.total if b.total is not None else "…",
                **figures,
            )
        )
    return "\n".join(lines)


# ---- the command line -------------------------------------------------------------------------------
def parse_time(value: str) -> dt.datetime:
    """'YYYY-MM-DD HH:MM' in the shop's time zone (app.timezone) → naive UTC, like the database."""
    try:
        local = dt.datetime.strptime(value.strip(), "%Y-%m-%d %H:%M")
    except ValueError:
        raise BroadcastError(f'--at must look like "2026-12-01 09:30" (shop time), not {value!r}') from None
    zone = ZoneInfo(config.app().timezone)
    return local.replace(tzinfo=zone).astimezone(dt.UTC).replace(tzinfo=None)


def watch(broadcast_id: int, every_s: float = 1.0):
    """Progress lines until the broadcast is done or cancelled (the running bot's sender delivers it)."""
    last = None
    while True:
        b = Broadcast.get_by_id(broadcast_id)
        if b.status == "sending":
            pump(b.id)  # a no-op unless an earlier run stopped half-way
            finish_if_done(b)
            b = Broadcast.get_by_id(broadcast_id)
        line = progress_text(b, counts(b))
        if line != last:
            yield line
            last = line
        release()
        if b.status in ("done", "cancelled"):
            return
        time.sleep(every_s)
