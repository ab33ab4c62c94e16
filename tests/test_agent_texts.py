"""Every text agents and owners read exists in Urdu too: each English template under templates/en/agents/ and
templates/en/owners/ (subfolders included) has an Urdu twin of the same name with the same {placeholders}, written
in Urdu (commands, settings and codes stay Latin inside it); and `app.agent_language` chooses between them."""

from __future__ import annotations

import re
import string
from pathlib import Path

import pytest

import config
from handlers.core import texts
from tests.helpers import make_settings

TEMPLATES = Path(texts.TEMPLATES)
FOLDERS = ("agents", "owners")
# what may stay Latin in an Urdu text: /commands, {placeholders}, settings and env names, segment syntax, formats
_LATIN_ALLOWED = re.compile(
    r"/\w+(@\w+)?|\{[^}]*\}|[\w.]+_[\w.]+|BOT_\w+|DD-MM(-YYYY)?|YYYY-MM-DD|ORDER|[a-z]+:[\w|:-]+"
    r"|flask --app webhook db backup"
)


def english_agent_templates() -> list[str]:
    return sorted(
        str(path.relative_to(TEMPLATES / "en").with_suffix(""))
        for folder in FOLDERS
        for path in (TEMPLATES / "en" / folder).rglob("*.txt")
    )


def placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field is not None}


def read(lang: str, name: str) -> str:
    return (TEMPLATES / lang / f"{name}.txt").read_text(encoding="utf-8")


def has_words(text: str) -> bool:
    """English words a person reads, beyond commands, placeholders and codes."""
    return bool(re.search(r"[A-Za-z]{3,}", _LATIN_ALLOWED.sub("", text)))


def test_the_agents_have_their_templates():
    names = english_agent_templates()
    assert len(names) > 150 and "agents/card" in names and "agents/orders/card" in names
    assert "agents/selfservice/context" in names and "owners/preview" in names and "owners/faq_test/answer" in names


@pytest.mark.parametrize("name", english_agent_templates())
def test_every_english_agent_template_has_an_urdu_twin_with_the_same_placeholders(name):
    path = TEMPLATES / "ur" / f"{name}.txt"
    assert path.exists(), f"templates/ur/{name}.txt is missing"
    english, urdu = read("en", name), read("ur", name)
    assert placeholders(urdu) == placeholders(english), name
    if has_words(english):  # a text with words is written in Urdu (not a copy of the English)
        assert texts.has_urdu_script(urdu), name
    commands = set(re.findall(r"(?<![\w/])/[a-z_]+", english))
    assert commands <= set(re.findall(r"(?<![\w/])/[a-z_]+", urdu)), (name, "commands keep their Latin names")


def test_the_other_texts_agents_read_exist_in_urdu():
    """Names for_agents renders outside agents/ and owners/: weekdays on the card, menu options in the context."""
    for name in ("weekdays", "months", *(f"selfservice/option_{o}" for o in ("complaint", "faq", "order", "person"))):
        assert (TEMPLATES / "ur" / f"{name}.txt").exists(), name


def test_agent_language_chooses_the_words():
    before = config.current()
    try:
        config.activate(make_settings("sqlite:///:memory:", **{"app.agent_language": "ur"}))
        assert texts.for_agents("agents/button_close") == "✅ بند کریں"
        assert texts.for_agents("agents/usage_note").startswith("استعمال: \u200e/note")
        assert texts.kind_for_agents("audio") == "آڈیو"
        config.activate(make_settings("sqlite:///:memory:", **{"app.agent_language": "en"}))
        assert texts.for_agents("agents/button_close") == "✅ Close"
        assert (
            texts.kind_for_agents("audio") == "an audio"
            and texts.kind_for_agents("../x") == "a message of the kind “../x”"
        )
    finally:
        config.activate(before)


def test_an_agent_language_without_templates_is_refused_at_start():
    with pytest.raises(config.SettingsError, match="""\\[app\\] agent_language = 'urdu' should be "ur" or "en\""""):
        config.load(environ={"BOT_APP_AGENT_LANGUAGE": "urdu"})
    assert config.app(config.load(environ={"BOT_APP_AGENT_LANGUAGE": "ur"})).agent_language == "ur"
