"""The business as the inbox and the sender see it (hooks.Business): each parsed event handled, the group's
messages built, and what became of each send recorded. Installed into hooks/ by runtime/ at start-up."""

from __future__ import annotations

from handlers import inbound
from handlers.core import team, teams
from handlers.features import delivery

handle = inbound.handle

build = delivery.build
media_unavailable_note = delivery.media_unavailable_note
sent = delivery.sent
undeliverable = delivery.undeliverable
topic_created = delivery.topic_created
topics_unavailable = delivery.topics_unavailable
topics_possible = delivery.topics_possible
thread_gone = delivery.thread_gone

group_migrated = teams.on_group_migrated
agents_chat_id = team.agents_chat_id
bot_username = team.remember_bot_username
