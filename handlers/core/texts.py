"""Words: render templates/<lang>/<name>.txt and decide which language a customer reads."""

from __future__ import annotations

import contextlib
import contextvars
import functools
import re
import string
from collections.abc import Iterator
from pathlib import Path

import config

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
LANGUAGES = ("ur", "en")
# Arabic-script letters (Urdu); the Arabic-Indic and Urdu digits (U+0660–0669, U+06F0–06F9) do not count
_ARABIC_SCRIPT = re.compile(
    r"[\u0600-\u065F\u066A-\u06EF\u06FA-\u06FF\u0750-\u077F\u08A0-\u08FF\uFB50-\uFDFF\uFE70-\uFEFF]"
)
_LATIN = re.compile(r"[A-Za-z]")


class _Blank(dict):
    def __missing__(self, key):
        return ""


@functools.lru_cache(maxsize=512)
def _load(lang: str, name: str) -> str:
    path = TEMPLATES / lang / f"{name}.txt"
    return path.read_text(encoding="utf-8").rstrip("\n")


def render(lang: str, name: str, /, **values) -> str:
    """The template `name` in `lang` (falling back to English) with {placeholders} filled."""
    lang = lang if lang in LANGUAGES else "en"
    try:
        text = _load(lang, name)
    except FileNotFoundError:
        text = _load("en", name)
    return string.Formatter().vformat(text, (), _Blank(values))


def exists(name: str) -> bool:
    return (TEMPLATES / "en" / f"{name}.txt").exists()


# the language of the agents' group being written to, while the bot handles one of its updates or tickets
# (handlers.core.teams.speaking_in: a team's agent_language); unset: app.agent_language
_agents_language: contextvars.ContextVar[str | None] = contextvars.ContextVar("agents_language", default=None)


def agents_language() -> str:
    """The language agents read here and now: the group's (a team's agent_language), or app.agent_language."""
    return _agents_language.get() or config.app().agent_language


@contextlib.contextmanager
def agents_speaking(lang: str | None) -> Iterator[None]:
    """Within this block, for_agents() writes in `lang` (None or "": app.agent_language)."""
    token = _agents_language.set(lang or None)
    try:
        yield
    finally:
        _agents_language.reset(token)


def for_agents(name: str, /, **values) -> str:
    """A text for an agents' group, in its language (agents_language())."""
    return render(agents_language(), name, **values)


_KIND = re.compile(r"[a-z_]{1,40}")


def word_for_agents(prefix: str, value: str | None) -> str:
    """A stored code (an order's status, a broadcast's kind, a language) as agents read it: the template
    `prefix + value` in the agents' language when there is one ('agents/orders/status_shipped'), else the code."""
    value = value or ""
    if _KIND.fullmatch(value) and exists(prefix + value):
        return for_agents(prefix + value)
    return value


def kind_for_agents(kind: str | None) -> str:
    """What a customer sent, as agents read it: 'a photo', 'an audio' (agents/kinds/<kind>), or the platform's
    own word quoted (agents/kinds/other) for a kind we have no name for."""
    name = f"agents/kinds/{kind}"
    if kind and _KIND.fullmatch(kind) and exists(name):
        return for_agents(name)
    return for_agents("agents/kinds/other", kind=kind or "?")


def has_urdu_script(text: str) -> bool:
    return bool(text and _ARABIC_SCRIPT.search(text))


def detect_language(text: str, language_code: str | None, current: str | None) -> str:
    """Urdu when the customer writes Arabic script or their Telegram language is ur; else the shop default.

    A message without letters (emoji, digits, media), or in Latin letters from a customer who already
    wrote Urdu (Roman Urdu is common), keeps the language we already had.
    """
    default = config.app().default_language
    if has_urdu_script(text):
        return "ur"
    code = (language_code or "").split("-")[0].lower()
    if code == "ur":
        return "ur"
    if code == "en" and text and _LATIN.search(text):
        return "en"
    return current or (code if code in LANGUAGES else default)


def day_month(lang: str, day: int, month: int, year: int | None = None) -> str:
    """'14 August' / '14 اگست' (with the year when given), in the customer's language."""
    words = f"{day} {render(lang, 'months').splitlines()[month - 1]}"
    return f"{words} {year}" if year else words


def shop_name() -> str:
    """The shop's name as customers read it (app.shop_name)."""
    return config.app().shop_name


def as_id(text: str | None) -> int | None:
    """A row id written in a button's data or a command ('42'); None for anything else (not ASCII digits, or
    too long for a 64-bit column)."""
    text = (text or "").strip()
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None
