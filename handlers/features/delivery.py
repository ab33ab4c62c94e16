"""What a send means for the business: where a group message goes, what to remember once it is sent,
and telling the agents, in the ticket's thread, when a customer could not be reached."""

from __future__ import annotations

import logging

import config
import outbox
from bots.base import (
    BLOCKED,
    FAILED,
    GONE,
    INVALID_ADDRESS,
    SMS,
    TELEGRAM,
    UNSUBSCRIBED,
    WHATSAPP,
    Outbound,
    SendResult,
)
from db.models import Contact, GroupMessage, Outbox, SentMessage, State, Ticket
from handlers.core import cards, clock, customers, teams, texts, tickets

log = logging.getLogger(__name__)

TOPICS = "group_topics"  # State: "off" once Telegram said the group cannot have topics ("group_topics:<team>")


def topics_key(lane: str) -> str:
    """The State key saying whether this group (an outbox lane) can have topics."""
    team = outbox.team_of(lane)
    return f"{TOPICS}:{team}" if team else TOPICS


FINAL_FOR_CONTACT = (BLOCKED, UNSUBSCRIBED, INVALID_ADDRESS)


def build(rows: list[Outbox]) -> tuple[Outbound | None, bool]:
    """The Outbound for these rows (one, or several merged), and whether it is a preliminary step
    (creating the ticket's forum topic) after which the rows themselves still have to go.
    None means there is nothing to send (skip the rows)."""
    head = rows[0]
    p = head.payload
    text = p.get("text", "")
    if p.get("merge_header"):
        text = p["merge_header"] + "\n" + "\n".join(r.payload.get("text", "") for r in rows)
    out = Outbound(
        channel=head.channel,
        chat_id=head.chat_id,
        text=text,
        media=outbox.media_from_payload(p),
        method=p.get("method", "send"),
        thread_id=p.get("thread_id"),
        reply_to_message_id=p.get("reply_to_message_id"),
        copy_from_chat_id=p.get("copy_from_chat_id"),
        copy_message_id=p.get("copy_message_id"),
        content_sid=p.get("content_sid"),
        content_variables=p.get("content_variables"),
        buttons=p.get("buttons"),
        callback_id=p.get("callback_id"),
        mentions=p.get("mentions"),
        edit_message_id=p.get("edit_message_id"),
        topic_name=p.get("topic_name"),
        no_preview=bool(p.get("no_preview")),
    )
    if outbox.is_group(head.chat_id):
        group = teams.chat_id_of_lane(head.chat_id)
        if not group:
            return None, False
        out.chat_id = str(group)
        if p.get("edit_card") and head.ticket_id:
            ticket = Ticket.get_by_id(head.ticket_id)
            if not ticket.root_message_id or ticket.group_chat_id not in (None, group):
                return None, False
            out.edit_message_id = ticket.root_message_id
            return out, False
        if p.get("in_thread") and head.ticket_id:
            ticket = Ticket.get_by_id(head.ticket_id)
            if ticket.group_chat_id and ticket.group_chat_id != group:  # the group changed: old threads are gone
                ticket.thread_id = ticket.root_message_id = None
            if ticket.thread_id:
                out.thread_id = ticket.thread_id
            elif out.method == "send" and State.read(topics_key(head.chat_id)) != "off":
                return Outbound(
                    TELEGRAM,
                    str(group),
                    method="create_topic",
                    topic_name=p.get("topic_name") or cards.topic_name(ticket),
                ), True
            elif ticket.root_message_id:
                out.reply_to_message_id = ticket.root_message_id
        if out.method in ("close_topic", "reopen_topic", "edit_topic") and not out.thread_id:
            return None, False
    elif head.channel in (WHATSAPP, SMS):
        out.status_callback = config.app().public_url.rstrip("/") + "/twilio/status"
    return out, False


def media_unavailable_note(kind: str, status: int) -> str:
    """What agents read instead of a customer's file that the platform no longer gives us."""
    return texts.for_agents("agents/media_unavailable", kind=texts.kind_for_agents(kind), status=status)


def topic_created(rows: list[Outbox], out: Outbound, result: SendResult) -> None:
    ticket = Ticket.get_by_id(rows[0].ticket_id)
    ticket.thread_id, ticket.group_chat_id = result.thread_id, int(out.chat_id)
    ticket.save()
    State.put(topics_key(rows[0].chat_id), "on")


def topics_unavailable(detail: str, lane: str = outbox.GROUP) -> None:
    """The group is not a forum or the bot may not manage topics: say so once, then thread by replies."""
    key = topics_key(lane)
    if State.read(key) != "off":
        State.put(key, "off")
        log.warning("agents' group %s cannot have topics (%s): tickets are threaded by replies", lane, detail)
        with teams.speaking_in(outbox.team_of(lane)):
            outbox.to_group(texts.for_agents("agents/no_topics", detail=detail), purpose="agents", group=lane)


def topics_possible(is_forum: bool) -> None:
    """At start-up: a forum group gets topics again (the shop may have fixed the set-up)."""
    if is_forum and State.read(TOPICS) == "off":
        State.put(TOPICS, "on")


def thread_gone(rows: list[Outbox]) -> None:
    """Telegram says the ticket's topic no longer exists: the next send creates a new one."""
    if rows[0].ticket_id:
        Ticket.update(thread_id=None).where(Ticket.id == rows[0].ticket_id).execute()


def sent(rows: list[Outbox], out: Outbound, result: SendResult) -> None:
    """Remember where the message landed: group messages map back to their ticket for agents' replies."""
    if outbox.is_group(rows[0].chat_id) and out.method in ("send", "copy"):
        chat = int(out.chat_id)
        for row in rows:
            if row.ticket_id:
                for message_id in result.message_ids:
                    GroupMessage.insert(
                        chat_id=chat, message_id=int(message_id), ticket=row.ticket_id
                    ).on_conflict_ignore().execute()
        ticket_id = rows[0].ticket_id
        if ticket_id and result.message_ids:
            Ticket.update(root_message_id=int(result.message_ids[0]), group_chat_id=chat).where(
                (Ticket.id == ticket_id) & Ticket.root_message_id.is_null()
            ).execute()
    elif out.channel in (WHATSAPP, SMS):
        for sid in result.message_ids:
            SentMessage.insert(channel=out.channel, platform_id=sid, outbox=rows[0].id).on_conflict_ignore().execute()


def undeliverable(rows: list[Outbox], result: SendResult) -> None:
    """A message could not be delivered for good: remember an unreachable contact and tell the agents."""
    head = rows[0]
    if outbox.is_group(head.chat_id) or head.purpose in ("agents", "setup"):
        log.error("could not post to the agents' group: %s %s", result.reason, result.detail)
        return
    contact = Contact.get_or_none(channel=head.channel, address=head.chat_id)
    if contact and result.status == GONE and result.reason in FINAL_FOR_CONTACT:
        contact.unreachable, contact.unreachable_at = result.reason, clock.now()
        contact.save()
    ticket = Ticket.get_or_none(id=head.ticket_id) if head.ticket_id else None
    if ticket is None and contact is not None:
        ticket = tickets.open_ticket_of(contact.customer)
    log.warning(
        "undeliverable ticket=%s channel=%s customer=%s reason=%s",
        ticket.number if ticket else None,
        head.channel,
        contact.customer_id if contact else None,
        result.reason,
    )
    if ticket is None:
        return
    with teams.speaking_for(ticket):
        _tell_undeliverable(ticket, head, result)


def _tell_undeliverable(ticket: Ticket, head: Outbox, result: SendResult) -> None:
    name = f"agents/reason_{result.reason}"
    reason = texts.for_agents(
        name if texts.exists(name) else "agents/reason_other",
        detail=result.detail or result.reason,
        minutes=max(1, config.sender().retry_for_s // 60),
    )
    excerpt = head.payload.get("text", "")
    outbox.to_group(
        texts.for_agents(
            "agents/undeliverable",
            ticket=ticket.number,
            name=customers.display_name(ticket.customer),
            channel=customers.channel_name(head.channel),
            reason=reason,
            excerpt=excerpt[:200] + ("…" if len(excerpt) > 200 else ""),
        ),
        purpose="agents",
        ticket=ticket,
    )


def status_callback(message_sid: str, status: str, error_code: int | None, failure: tuple[str, str]) -> None:
    """Twilio reported on a message we sent: record it; a failure is final and the agents hear of it.
    `failure` is what bots/twilio read the error code as: (status, reason) in SendResult terms."""
    link = SentMessage.get_or_none(platform_id=message_sid)
    if link is None:
        log.info("status for an unknown message ignored (%s)", status)
        return
    row = link.outbox
    row.delivery = status
    row.save()
    if status in ("failed", "undelivered") and row.status == "sent":
        kind, reason = failure
        row.status = GONE if kind == GONE else FAILED
        row.reason, row.detail = reason, f"Twilio error {error_code}"
        row.save()
        undeliverable([row], SendResult(row.status, reason=reason, detail=row.detail))


def set_reachable(channel: str, address: str, blocked: bool) -> None:
    """A Telegram user blocked (or unblocked) the bot."""
    contact = Contact.get_or_none(channel=channel, address=address)
    if contact is None:
        return
    contact.unreachable = BLOCKED if blocked else None
    contact.unreachable_at = clock.now() if blocked else None
    contact.save()
    ticket = tickets.open_ticket_of(contact.customer)
    if blocked and ticket:
        outbox.to_group(
            texts.for_agents("agents/customer_blocked", name=customers.display_name(contact.customer)),
            purpose="agents",
            ticket=ticket,
        )
