"""The sender keeps to the platforms' limits: never over the group's per-minute cap, merging instead."""

import itertools

from db.models import Outbox
from tests.helpers import AGENTS, eventually


def test_group_cap_is_kept_and_waiting_messages_merge(make_khidmat, tg_api):
    tg_api.enforce_rate(group_per_min=5)
    k = make_khidmat(**{"telegram.rate_group_per_min": 5, "telegram.rate_chat_per_s": 1})
    for user in (1, 2):
        k.tg_message(user, f"ticket of customer {user}")
    for i in range(6):
        for user in (1, 2):
            k.tg_message(user, f"detail {i} from {user}")

    def calls_into_group():  # messages, and the one createForumTopic that found the group has no topics
        return [
            c
            for c in tg_api.calls
            if str(c["params"].get("chat_id")) == str(AGENTS) and c["method"] not in ("getChat",)
        ]

    eventually(lambda: len(calls_into_group()) >= 5, timeout=10, what="five calls into the group")
    window = k.sender.pacer.groups["group"]  # the sender's own count of the group's minute: nothing more can go
    eventually(
        lambda: len(window.times) >= window.limit and not k.sender.inflight,  # before it frees (~55 s)
        what="the group's minute spent and nothing in flight",
    )
    assert len(calls_into_group()) == 5  # the cap, and no more
    group = k.group()
    assert tg_api.too_many == 0  # we never made Telegram refuse us
    text = "\n".join(m["text"] for m in group)
    # every customer message is either in the group already or still waiting, in order; none is lost
    waiting = [
        r.payload["text"] for r in Outbox.select().where((Outbox.status == "pending") & (Outbox.chat_id == "group"))
    ]
    for i in range(6):
        for user in (1, 2):
            assert f"detail {i} from {user}" in text or f"detail {i} from {user}" in waiting
    # merging: follow-ups of one ticket arrived together, not one message each
    merged = [m for m in group if m["text"].count("detail") > 1]
    assert merged, group


def test_customer_chat_pace_is_one_per_second(make_khidmat, tg_api):
    k = make_khidmat(**{"telegram.rate_chat_per_s": 1})
    k.tg_message(7, "complaint")
    card = k.wait_group(lambda t: "complaint" in t)[0]
    for i in range(3):
        k.agent_message(f"answer {i}", reply_to=card["message_id"])
    got = eventually(
        lambda: (
            [m for m in k.chat(7) if "answer" in (m["text"] or "")]
            if len([m for m in k.chat(7) if "answer" in (m["text"] or "")]) == 3
            else None
        ),
        timeout=8,
    )
    times = [m["time"] for m in got]
    assert all(b - a >= 0.9 for a, b in itertools.pairwise(times)), times


def _topic_then_card(tg_api, k, text: str) -> tuple[dict, dict]:
    """The createForumTopic call and the card it was made for, once the card is in the group."""
    card = k.wait_group(lambda t: text in t)[0]
    topics = [c for c in tg_api.calls if c["method"] == "createForumTopic" and c["time"] <= card["time"]]
    assert topics, tg_api.calls[-5:]
    return topics[-1], card


def test_forum_card_lands_in_its_new_topic_right_after_it(make_khidmat, tg_api):
    tg_api.set_forum(AGENTS, True)
    k = make_khidmat(**{"telegram.rate_chat_per_s": 1000, "telegram.rate_group_per_min": 100000})
    for user, text in ((41, "first customer's parcel"), (42, "second customer's refund")):
        k.tg_message(user, text)
        topic, card = _topic_then_card(tg_api, k, text)
        assert card["thread_id"] in tg_api.topics(AGENTS)  # in the topic, which existed before the card
        assert card["time"] - topic["time"] < 1.0  # not a poll or a pace later
    assert len(tg_api.topics(AGENTS)) == 2
    assert tg_api.too_many == 0


def test_forum_card_follows_its_topic_at_once_at_the_shipped_limits_and_cards_keep_the_groups_pace(
    make_khidmat, tg_api
):
    """Creating a topic is no message into the group (Telegram counts messages): the card goes on the slot its
    rows were paced by, right after the topic; two new customers' cards are still a whole second apart."""
    tg_api.set_forum(AGENTS, True)
    tg_api.enforce_rate(chat_per_s=1, group_per_min=20)
    k = make_khidmat(**{"telegram.rate_chat_per_s": 1, "telegram.rate_group_per_min": 20})
    k.tg_message(43, "my order is late")
    topic, card = _topic_then_card(tg_api, k, "my order is late")
    assert card["thread_id"] in tg_api.topics(AGENTS)
    assert card["time"] - topic["time"] < 0.5  # not a chat slot later
    k.tg_message(44, "my refund is late")
    _, second = _topic_then_card(tg_api, k, "my refund is late")
    assert second["time"] - card["time"] >= 0.99  # the group's one message a second
    assert tg_api.too_many == 0
