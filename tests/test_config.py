"""Settings: defaults from settings.toml, a shop's own file, BOT_<SECTION>_<KEY> overrides."""

import pytest

import config


def test_defaults_are_the_documented_platform_limits():
    s = config.load(environ={})
    assert s["database"]["url"] == "sqlite:///data/khidmat.db"
    assert s["telegram"]["api_base_url"] == "https://api.telegram.org"
    assert s["twilio"]["api_base_url"] == "https://api.twilio.com"
    assert (
        s["telegram"]["rate_global_per_s"],
        s["telegram"]["rate_chat_per_s"],
        s["telegram"]["rate_group_per_min"],
    ) == (30, 1, 20)
    assert (s["twilio"]["rate_whatsapp_per_s"], s["twilio"]["rate_sms_per_s"]) == (10, 1)
    assert s["app"]["default_language"] in ("ur", "en") and s["app"]["timezone"] == "Asia/Karachi"
    assert s["telegram"]["token"] == "" and s["twilio"]["auth_token"] == ""  # no secrets in the file


def test_environment_overrides_with_types():
    s = config.load(
        environ={
            "BOT_TELEGRAM_TOKEN": "1:abc",
            "BOT_TELEGRAM_AGENTS_CHAT_ID": "-1001234",
            "BOT_TELEGRAM_OWNER_IDS": "11, 22",
            "BOT_APP_AGENT_SIGNATURE": "false",
            "BOT_TELEGRAM_RATE_GLOBAL_PER_S": "300",
            "BOT_DATABASE_URL": "postgresql://u@h/db",
        }
    )
    assert s["telegram"]["token"] == "1:abc"
    assert s["telegram"]["agents_chat_id"] == -1001234
    assert s["telegram"]["owner_ids"] == [11, 22]
    assert s["app"]["agent_signature"] is False
    assert s["telegram"]["rate_global_per_s"] == 300
    assert s["database"]["url"] == "postgresql://u@h/db"
    assert "1:abc" not in str(s.redacted())


def test_bot_settings_selects_a_shop_file_with_only_its_changes(tmp_path):
    shop = tmp_path / "shop.toml"
    shop.write_text('[app]\ndefault_language = "en"\nshop_name = "Karachi Crockery"\n', encoding="utf-8")
    s = config.load(environ={"BOT_SETTINGS": str(shop)})
    assert s["app"]["shop_name"] == "Karachi Crockery" and s["app"]["default_language"] == "en"
    assert s["telegram"]["rate_chat_per_s"] == 1  # everything else keeps its default


def test_scheduler_intervals_are_settings():
    s = config.load(environ={})
    assert (s["scheduler"]["sla_every_s"], s["scheduler"]["opening_every_s"]) == (60, 60)
    s = config.load(environ={"BOT_SCHEDULER_SLA_EVERY_S": "15", "BOT_SCHEDULER_OPENING_EVERY_S": "30"})
    assert (s["scheduler"]["sla_every_s"], s["scheduler"]["opening_every_s"]) == (15, 30)


def test_each_section_is_read_through_one_typed_accessor():
    settings = config.load(environ={"BOT_BROADCASTS_CHUNK": "250"})
    assert config.broadcasts(settings).chunk == 250
    assert config.broadcasts(settings).backlog == 2000  # the default, from settings.toml only
    assert config.orders(settings).whatsapp_template("delay", "ur") == ""
    assert config.sender(settings).concurrency == 32


def test_a_wrong_type_in_the_environment_or_a_shop_file_is_one_clear_error_at_start(tmp_path):
    with pytest.raises(config.SettingsError, match="BOT_BROADCASTS_CHUNK='many' should be a whole number"):
        config.load(environ={"BOT_BROADCASTS_CHUNK": "many"})
    shop = tmp_path / "shop.toml"
    shop.write_text('[sla]\nwarn_at = "soon"\n', encoding="utf-8")
    with pytest.raises(config.SettingsError, match=r"\[sla\] warn_at = 'soon' should be a number"):
        config.load(shop, environ={})


def test_a_list_setting_in_the_environment_may_be_written_as_a_toml_list():
    s = config.load(environ={"BOT_TELEGRAM_OWNER_IDS": "[11, 22]", "BOT_DATABASE_URL": "sqlite:///x.db"})
    assert s["telegram"]["owner_ids"] == [11, 22]
