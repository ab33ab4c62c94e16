"""Teams, end to end through the webhook: [[teams]] route new tickets to their groups (channel, language, tag, the
customer's choice with the bot), the rest to the main group; /move TEAM carries a ticket's card and history to
another group while the customer notices nothing; every group takes the agents' commands, in its own language,
with its own on-duty agents and its own Telegram budget; the owners' numbers per team."""

import pytest

import config
from config.sections import SettingsError
from db.models import CustomerTag, Ticket
from sender.pacing import Pacer
from tests.helpers import AGENTS, answer, eventually, make_settings, open_ticket, quiet

RETURNS, URDU, SMS_TEAM, WHOLESALE = -1002000000001, -1002000000002, -1002000000003, -1002000000004
TEAMS = [
    {"name": "returns", "chat_id": RETURNS, "menu": "return_policy"},
    {"name": "urdu", "chat_id": URDU, "language": "ur", "agent_language": "ur"},
    {"name": "sms", "chat_id": SMS_TEAM, "channel": "sms"},
    {"name": "wholesale", "chat_id": WHOLESALE, "tag": "wholesale"},
]
SARA = {"agent_id": 5001, "first_name": "Sara", "username": "sara_k"}
HAMZA = {"agent_id": 6002, "first_name": "Hamza", "username": "hamza_s"}
BILAL = {"agent_id": 7003, "first_name": "Bilal", "username": "bilal_r"}


def texts_in(k, chat_id):
    return [m.get("text") or m.get("caption") or "" for m in k.tg.sent(chat_id=chat_id)]


def wait_in(k, chat_id, predicate, what="a message in the team's group"):
    return k.settled(
        eventually(lambda: [m for m in k.tg.sent(chat_id=chat_id) if predicate(m.get("text") or "")], what=what)
    )


def test_a_ticket_goes_to_the_first_team_whose_rule_matches_and_the_rest_to_the_main_group(make_khidmat):
    k = make_khidmat(teams=TEAMS)
    k.whatsapp("+923007778899", "Can I return an item?", profile_name="Nadia")  # the bot answers (return_policy) …
    k.wait_twilio("whatsapp:+923007778899", lambda b: "return an item within 7 days" in b)
    k.whatsapp("+923007778899", "2")  # … "not helpful": a ticket, for the returns team
    wait_in(k, RETURNS, lambda t: t.startswith("🎫 #1001"))
    k.whatsapp("+923001112233", "جوتے پھٹے ہوئے آئے ہیں", profile_name="Sana")  # Urdu: the Urdu team
    wait_in(k, URDU, lambda t: "جوتے پھٹے ہوئے آئے ہیں" in t)
    k.sms("+923004445566", "the parcel never came")  # SMS: the SMS team
    wait_in(k, SMS_TEAM, lambda t: "the parcel never came" in t)
    k.wait_twilio("+923004445566", lambda b: "#1003" in b)  # acknowledged as always
    open_ticket(k, 21, "the blender is broken")  # matches no team: the main group
    quiet(k)
    assert [t.team for t in Ticket.select().order_by(Ticket.id)] == ["returns", "urdu", "sms", None]
    assert not [t for t in texts_in(k, AGENTS) if "🎫 #100" in t and "#1004" not in t]  # only its own card
    assert [t.split(" ·")[0] for t in texts_in(k, RETURNS) if t.startswith("🎫")] == ["🎫 #1001"]
    assert [t.split(" ·")[0] for t in texts_in(k, SMS_TEAM) if t.startswith("🎫")] == ["🎫 #1003"]


def test_a_customers_tag_routes_their_ticket(make_khidmat):
    k = make_khidmat(teams=TEAMS)
    k.whatsapp("+923009990000", "hello, I have a question about my bulk order", profile_name="Imran")
    k.wait_twilio("whatsapp:+923009990000")
    ticket = Ticket.get_or_none()
    assert ticket is None or ticket.team is None  # before the shop tagged them (a greeting may get the menu)
    from db.connection import write

    with write():
        from db.models import Contact

        CustomerTag.create(customer=Contact.get(Contact.address == "whatsapp:+923009990000").customer, tag="wholesale")
        Ticket.update(status="closed").execute()
    k.whatsapp("+923009990000", "the 40 cartons came damaged, please check")
    wait_in(k, WHOLESALE, lambda t: "40 cartons came damaged" in t)
    assert Ticket.select().order_by(Ticket.id.desc()).first().team == "wholesale"


def test_move_takes_the_card_and_history_to_the_other_group_and_the_customer_notices_nothing(make_khidmat, tg_api):
    tg_api.set_forum(AGENTS, True)
    tg_api.set_forum(RETURNS, True)
    k = make_khidmat(teams=TEAMS)
    open_ticket(k, 21, "the blender is broken", first_name="Ali")
    open_ticket(k, 22, "my shoes arrived with a broken heel", first_name="Zara")
    first, second = Ticket.get_by_id(1), Ticket.get_by_id(2)
    k.agent_message("Sorry to hear that, which size?", thread_id=second.thread_id, **SARA)
    k.wait_chat(22, lambda t: "which size" in t)
    k.agent_message("/note she bought two pairs", thread_id=second.thread_id, **SARA)
    answer(k, lambda t: "Note saved" in t)
    for words, expected in (
        ("/move", "Usage: /move TEAM — move this ticket to another team's group. Teams: default, returns, urdu, sms"),
        ("/move nowhere", "There is no team nowhere. Teams: default, returns, urdu, sms, wholesale"),
        ("/move default", "#1002 is already in default."),
    ):
        k.agent_message(words, thread_id=second.thread_id, **SARA)
        assert answer(k, lambda t, expected=expected: t.startswith(expected[:30]), what=words).startswith(expected)
    seen_by_customer = len(k.chat(22))
    old_thread = second.thread_id
    k.agent_message("/move returns", thread_id=old_thread, **SARA)
    card = wait_in(k, RETURNS, lambda t: t.startswith("🎫 #1002"), what="the card in the returns group")[0]
    assert "my shoes arrived with a broken heel" in card["text"] and "Zara" in card["text"]
    history = wait_in(k, RETURNS, lambda t: t.startswith("⬅️ #1002"), what="the history")[0]["text"]
    assert history.splitlines()[0] == "⬅️ #1002 came from default (Sara moved it). The conversation so far:"
    assert "👤 Zara: my shoes arrived with a broken heel" in history
    assert "💬 Sara: Sorry to hear that, which size?" in history and "📝 Sara: she bought two pairs" in history
    moved = Ticket.get_by_id(2)
    assert moved.team == "returns" and moved.group_chat_id == RETURNS
    assert (
        card["thread_id"] == moved.thread_id
        and history
        and tg_api.topics(RETURNS)[moved.thread_id]["name"] == ("#1002 · Zara · Telegram")
    )
    away = k.wait_group(lambda t: t.startswith("➡️ #1002"))[0]
    assert away["text"] == "➡️ #1002 moved to returns by Sara: answer it there." and away["thread_id"] == old_thread
    eventually(lambda: tg_api.topics(AGENTS)[old_thread].get("closed"), what="the old topic closed")
    # the customer goes on as before: their words reach the returns group, its agents' answers reach them
    k.tg_message(22, "size 38 please", first_name="Zara")
    relayed = wait_in(k, RETURNS, lambda t: "size 38 please" in t, what="the follow-up")[0]
    assert relayed["thread_id"] == moved.thread_id
    k.agent_message("We will pick them up tomorrow.", chat_id=RETURNS, thread_id=moved.thread_id, **BILAL)
    assert k.wait_chat(22, lambda t: "pick them up" in t)[0]["text"].endswith("— Bilal")
    # topics' ids are per group: the main group's topic with the same number is still the first ticket's
    assert moved.thread_id == first.thread_id  # the stand-in numbers each group's messages from 1, as Telegram does
    k.agent_message("A new blender ships today.", thread_id=first.thread_id, **HAMZA)
    k.wait_chat(21, lambda t: "new blender" in t)
    quiet(k)
    assert not [m for m in k.chat(22) if "new blender" in (m["text"] or "")]
    chat = [m["text"] for m in k.chat(22)]
    assert len([t for t in chat if "pick them up" not in t]) == seen_by_customer  # nothing about the move
    assert "size 38 please" not in "".join(texts_in(k, AGENTS))


def test_each_group_has_its_agents_on_duty_its_language_and_its_numbers(make_khidmat):
    k = make_khidmat(teams=TEAMS, **{"desk.auto_assign": "least_busy"})
    k.agent_message("/on", chat_id=URDU, **SARA)
    assert (
        wait_in(k, URDU, lambda t: t.startswith("🟢"))[0]["text"] == "🟢 Sara اب urdu میں ڈیوٹی پر ہیں (کھلے ٹکٹ: 0)۔"
    )
    k.agent_message("/on", **HAMZA)
    assert answer(k, lambda t: t.startswith("🟢")) == "🟢 Hamza is on duty in default (0 open tickets)."
    k.whatsapp("+923001112233", "جوتے پھٹے ہوئے آئے ہیں", profile_name="Sana")
    told = wait_in(k, URDU, lambda t: t.startswith("🙋"), what="Sara told, in Urdu")[0]["text"]
    assert told == "🙋 Sara: #1001 اب آپ کا ہے (کھلے 1، زیادہ سے زیادہ 8)۔"
    open_ticket(k, 21, "the blender is broken")
    assert answer(k, lambda t: t.startswith("🙋")) == "🙋 Hamza: #1002 is yours now (1 open of at most 8)."
    assert [(t.team, t.assignee) for t in Ticket.select().order_by(Ticket.id)] == [("urdu", "Sara"), (None, "Hamza")]
    k.agent_message("/team", chat_id=URDU, **SARA)
    team_here = wait_in(k, URDU, lambda t: t.startswith("👥"))[0]["text"]
    assert team_here == "👥 urdu میں ڈیوٹی پر: 1 · ایجنٹ کے منتظر ٹکٹ: 0\n• Sara — کھلے: 1"
    k.agent_message("/team", **HAMZA)
    assert (
        answer(k, lambda t: t.startswith("👥"))
        == "👥 On duty in default: 1 · waiting for an agent: 0\n• Hamza — 1 open"
    )
    k.agent_message("/chatid", chat_id=URDU, **SARA)  # a team's group's own id
    wait_in(k, URDU, lambda t: str(URDU) in t, what="the Urdu group's id")
    k.agent_message("/tickets", **HAMZA)  # each group lists its own
    listing = answer(k, lambda t: t.startswith("Open tickets"))
    assert "#1002" in listing and "#1001" not in listing
    k.agent_message("/stats urdu", **HAMZA)
    numbers = answer(k, lambda t: t.startswith("👥 Team urdu"))
    assert "opened 1, closed 0" in numbers
    k.agent_message("/stats week default", **HAMZA)
    assert "opened 1, closed 0" in answer(k, lambda t: t.startswith("👥 Team default"))
    k.agent_message("/stats nowhere", **HAMZA)
    assert answer(k, lambda t: t.startswith("Usage: /stats")) == (
        "Usage: /stats [today|week|month] [team: default, returns, sms, urdu, wholesale]"
    )
    # moved to the main group: it leaves Sara and goes to whoever is on duty there
    card = wait_in(k, URDU, lambda t: t.startswith("🎫 #1001"))[0]
    k.agent_message("/move default", chat_id=URDU, reply_to=card["message_id"], **SARA)
    assert (
        wait_in(k, URDU, lambda t: t.startswith("➡️"))[0]["text"]
        == "➡️ Sara نے #1001 کو default میں بھیج دیا: جواب وہیں دیں۔"
    )
    assert answer(k, lambda t: t.startswith("⬅️ #1001")).startswith("⬅️ #1001 came from urdu (Sara moved it).")
    eventually(lambda: Ticket.get_by_id(1).assignee == "Hamza", what="given to Hamza")
    assert Ticket.get_by_id(1).team is None


def test_each_group_has_its_own_budget_of_messages_a_minute(tmp_path):
    settings = make_settings(f"sqlite:///{tmp_path}/k.db", **{"telegram.rate_group_per_min": 2})
    pacer = Pacer(settings)
    for _ in range(2):
        pacer.take("telegram", "group", 100.0)
    assert pacer.wait("telegram", "group", 100.0) > 50  # the main group's 2 a minute are used up …
    assert pacer.wait("telegram", "group:returns", 100.0) == 0  # … a team's group still has its own


@pytest.mark.parametrize(
    "teams, error",
    [
        ([{"name": "Returns Desk", "chat_id": -100}], "should be a short word"),
        ([{"name": "default", "chat_id": -100}], "should be a short word"),
        ([{"name": "returns"}], "chat_id = None should be the group's id"),
        ([{"name": "a", "chat_id": -100}, {"name": "b", "chat_id": -100}], "must differ"),
        ([{"name": "a", "chat_id": -100, "colour": "red"}], "unknown key 'colour'"),
        ([{"name": "a", "chat_id": -100, "agent_language": "fr"}], 'agent_language should be "ur" or "en"'),
    ],
)
def test_wrong_teams_are_one_clear_error_at_start_up(teams, error):
    with pytest.raises(SettingsError, match=error):
        make_settings("sqlite:///:memory:", teams=teams)


def test_auto_assign_takes_only_known_ways():
    with pytest.raises(SettingsError, match="auto_assign = 'round_robin' should be one of off, least_busy"):
        make_settings("sqlite:///:memory:", **{"desk.auto_assign": "round_robin"})
    assert config.desk(make_settings("sqlite:///:memory:")).auto_assign == "off"


def test_at_opening_each_group_hears_of_its_own_tickets_from_the_night(make_khidmat):
    import datetime as dt

    from handlers.core import clock, hours

    k = make_khidmat(teams=TEAMS)
    clock.travel_to(dt.datetime(2026, 11, 25, 17, 0))  # 22:00 in Karachi: closed
    k.sms("+923004445566", "the parcel never came")
    wait_in(k, SMS_TEAM, lambda t: "the parcel never came" in t)
    open_ticket(k, 21, "the blender is broken")
    clock.travel_to(dt.datetime(2026, 11, 26, 5, 1))  # 10:01 the next morning: open
    hours.post_opening_summary()
    mine = wait_in(k, SMS_TEAM, lambda t: t.startswith("🔔"))[0]["text"]
    assert "#1001" in mine and "the parcel never came" in mine and "#1002" not in mine
    main = k.wait_group(lambda t: t.startswith("🔔"))[0]["text"]
    assert "#1002" in main and "#1001" not in main


def test_a_shops_settings_file_lists_its_teams(tmp_path):
    shop = tmp_path / "shop.toml"
    shop.write_text(
        '[[teams]]\nname = "returns"\nchat_id = -1009876543210\nmenu = "return_policy"\n\n'
        '[[teams]]\nname = "urdu"\nchat_id = -1009876543211\nlanguage = "ur"\nagent_language = "ur"\n\n'
        '[desk]\nauto_assign = "least_busy"\n',
        encoding="utf-8",
    )
    settings = config.load(shop, environ={"BOT_DESK_MAX_OPEN_PER_AGENT": "3"})
    assert [(t.name, t.chat_id, t.menu, t.language) for t in config.teams(settings)] == [
        ("returns", -1009876543210, "return_policy", ""),
        ("urdu", -1009876543211, "", "ur"),
    ]
    assert config.desk(settings) == config.sections.Desk(auto_assign="least_busy", max_open_per_agent=3)
    assert config.teams(config.load(environ={})) == []  # settings.toml: no teams
