"""Agents' photos, documents and voice notes on their way to a customer."""
from __future__ import annotations

import config
from bots.base import TELEGRAM, Inbound
from handlers import outbox, texts


def relay_agent_media(ticket, agent_name: str, inbound: Inbound, lang: str) -> bool:
    """Send the media of an agent's message to the ticket's customer. True when the text went with it
    (as its caption), False when the caller still has to send the text."""
    contact = ticket.contact
    if contact.channel != TELEGRAM:
        outbox.to_group(texts.for_agents("agents/media_not_supported", channel=contact.channel),
                        purpose="agents", ticket=ticket)
        return False
    signed = config.current()["app"]["agent_signature"] and agent_name
    caption = texts.render(lang, "agent_reply" if signed else "agent_reply_unsigned",
                           text=inbound.text, agent=agent_name) if inbound.text.strip() else ""
    outbox.to_contact(contact, caption, purpose="reply", ticket=ticket, method="copy",
                      copy_from_chat_id=inbound.chat_id, copy_message_id=inbound.message_id)
    return True
