"""Typed settings: one frozen dataclass per section of settings.toml, read through one accessor each.

settings.toml is the only place that holds defaults; these classes name the keys and their types, so code says
`config.broadcasts().chunk` (the accessors are in config/__init__.py) instead of repeating
`settings["broadcasts"].get("chunk", 500)`. `read_all()` runs when the settings are loaded and turns a missing key
or a wrong type in a shop's file or environment into one clear error at start-up.
"""

from __future__ import annotations

import re
import types
from dataclasses import dataclass, fields
from typing import TypeVar, Union, get_args, get_origin, get_type_hints


class SettingsError(ValueError):
    """A key missing from settings.toml or holding a value of the wrong type."""


def whatsapp_template(section, kind: str, language: str) -> str:
    """A section's WhatsApp Content SID `whatsapp_<kind>_template_<language>`; "" when none is set."""
    return str(getattr(section, f"whatsapp_{kind}_template_{language}", "") or "")


KIND_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "text", list: "a list"}


def kind_words(kind) -> str:
    """How an error names what a setting should be ("a whole number")."""
    return KIND_WORDS.get(get_origin(kind) or kind, str(kind))


@dataclass(frozen=True)
class App:
    public_url: str
    shop_name: str
    default_language: str
    agent_language: str
    timezone: str
    default_country: str
    agent_signature: bool
    first_response_minutes: int
    host: str
    port: int
    threads: int
    media_secret: str
    media_url_ttl_s: int
    media_link_ttl_s: int
    log_format: str
    max_body_bytes: int


@dataclass(frozen=True)
class Database:
    url: str


@dataclass(frozen=True)
class Telegram:
    token: str
    api_base_url: str
    webhook_secret: str
    agents_chat_id: int
    owner_ids: list[int]
    agent_ids: list
    rate_global_per_s: float
    rate_chat_per_s: float
    rate_group_per_min: float
    timeout_s: float
    connections: int


@dataclass(frozen=True)
class Twilio:
    account_sid: str
    auth_token: str
    api_base_url: str
    whatsapp_from: str
    sms_from: str
    rate_whatsapp_per_s: float
    rate_sms_per_s: float
    timeout_s: float


@dataclass(frozen=True)
class Sender:
    retry_for_s: float
    max_backoff_s: float
    poll_s: float
    concurrency: int
    merge_interval_s: float


@dataclass(frozen=True)
class Scheduler:
    enabled: bool
    sla_every_s: float
    opening_every_s: float


@dataclass(frozen=True)
class Csat:
    enabled: bool
    answer_within_hours: float


@dataclass(frozen=True)
class Hours:
    monday: str
    tuesday: str
    wednesday: str
    thursday: str
    friday: str
    saturday: str
    sunday: str
    closed_dates: list[str]


@dataclass(frozen=True)
class Sla:
    first_response_urgent: float
    first_response_high: float
    first_response_normal: float
    first_response_low: float
    resolution_urgent: float
    resolution_high: float
    resolution_normal: float
    resolution_low: float
    warn_at: float


@dataclass(frozen=True)
class Broadcasts:
    chunk: int
    backlog: int
    whatsapp_offer_template_ur: str
    whatsapp_offer_template_en: str
    whatsapp_notice_template_ur: str
    whatsapp_notice_template_en: str

    def whatsapp_template(self, kind: str, language: str) -> str:
        """The Content SID for a broadcast of this kind ("offer", "notice") in this language; "" if none."""
        return whatsapp_template(self, kind, language)


@dataclass(frozen=True)
class Greetings:
    enabled: bool
    send_at: str
    birthdays: bool
    anniversaries: bool
    holidays: list[str]
    plain_wishes_ignore_opt_out: bool
    birthday_coupon_percent: float
    anniversary_coupon_percent: float
    holiday_coupon_percent: float
    coupon_valid_days: int
    whatsapp_templates: list[str]
    catch_up_days: int


@dataclass(frozen=True)
class Shop:
    phone: str
    email: str
    address: str
    address_ur: str


@dataclass(frozen=True)
class Coupons:
    agent_max_percent: float
    agent_max_amount: float
    valid_days: int


@dataclass(frozen=True)
class Loyalty:
    points_per_100: float
    award_statuses: list[str]
    tiers: list[str]


@dataclass(frozen=True)
class Api:
    token: str


@dataclass(frozen=True)
class Orders:
    delay_coupon_percent: float
    delay_coupon_valid_days: int
    reply_window_days: float
    whatsapp_delay_template_ur: str
    whatsapp_delay_template_en: str
    whatsapp_overdue_template_ur: str
    whatsapp_overdue_template_en: str

    def whatsapp_template(self, notice: str, language: str) -> str:
        """The Content SID for this notice ("delay", "overdue") in this language; "" if none."""
        return whatsapp_template(self, notice, language)


@dataclass(frozen=True)
class Selfservice:
    enabled: bool
    threshold: float
    margin: float
    min_coverage: float
    min_explained: float
    rival: float
    unsure: float
    dialog_minutes: float


@dataclass(frozen=True)
class Backup:
    at: str
    dir: str
    keep_days: int
    keep_months: int
    min_free_mb: int


@dataclass(frozen=True)
class Dashboard:
    secret_key: str
    session_days: float
    link_minutes: float


@dataclass(frozen=True)
class Desk:
    auto_assign: str
    max_open_per_agent: int


AUTO_ASSIGN = ("off", "least_busy")
TEAM_NAME = re.compile(r"^[a-z0-9_-]{1,32}$")
DEFAULT_TEAM = "default"  # /move default: back to telegram.agents_chat_id (no team may take this name)


@dataclass(frozen=True)
class Team:
    """One [[teams]] entry: an agents' group and the rule that sends it tickets (every rule given must match)."""

    name: str
    chat_id: int
    channel: str = ""  # "whatsapp", "sms", "telegram"
    language: str = ""  # the customer's language: "ur", "en"
    tag: str = ""  # one of the customer's tags (from the order imports)
    menu: str = ""  # what the customer picked with the bot before: a menu option or an FAQ entry ("return_policy")
    agent_language: str = ""  # the bot's language in this group; "" = app.agent_language

    @property
    def has_rule(self) -> bool:
        return bool(self.channel or self.language or self.tag or self.menu)


def read_teams(settings: dict) -> list[Team]:
    """[[teams]] as Team records, checked: a unique name and chat id each, known keys, text values."""
    raw = settings.get("teams") or []
    if not isinstance(raw, list):
        raise SettingsError("teams should be a list of [[teams]] tables")
    known = {f.name for f in fields(Team)}
    teams: list[Team] = []
    for number, entry in enumerate(raw, 1):
        if not isinstance(entry, dict):
            raise SettingsError(f"[[teams]] number {number} should be a table")
        unknown = sorted(set(entry) - known)
        if unknown:
            raise SettingsError(f"[[teams]] number {number}: unknown key {unknown[0]!r}")
        name = str(entry.get("name", "")).strip().lower()
        if not TEAM_NAME.match(name) or name == DEFAULT_TEAM:
            raise SettingsError(f"[[teams]] number {number}: name = {entry.get('name')!r} should be a short word")
        chat_id = entry.get("chat_id")
        if isinstance(chat_id, str) and chat_id.lstrip("-").isdigit():
            chat_id = int(chat_id)
        if not isinstance(chat_id, int) or isinstance(chat_id, bool) or not chat_id:
            raise SettingsError(f"[[teams]] {name}: chat_id = {chat_id!r} should be the group's id (-100…)")
        values = {k: str(entry.get(k, "")).strip().lower() for k in known - {"name", "chat_id"}}
        if values["agent_language"] not in ("", "ur", "en"):
            raise SettingsError(f'[[teams]] {name}: agent_language should be "ur" or "en"')
        if any(t.name == name or t.chat_id == chat_id for t in teams):
            raise SettingsError(f"[[teams]] {name}: its name and chat_id must differ from the other teams'")
        teams.append(Team(name=name, chat_id=chat_id, **values))
    return teams


SECTIONS: dict[str, type] = {
    "app": App,
    "shop": Shop,
    "database": Database,
    "telegram": Telegram,
    "twilio": Twilio,
    "sender": Sender,
    "scheduler": Scheduler,
    "csat": Csat,
    "hours": Hours,
    "sla": Sla,
    "broadcasts": Broadcasts,
    "greetings": Greetings,
    "coupons": Coupons,
    "loyalty": Loyalty,
    "api": Api,
    "orders": Orders,
    "selfservice": Selfservice,
    "backup": Backup,
    "dashboard": Dashboard,
    "desk": Desk,
}

T = TypeVar("T")


def _accepts(kind, value) -> bool:
    origin = get_origin(kind)
    if origin in (Union, types.UnionType):
        return any(_accepts(k, value) for k in get_args(kind))
    if origin is list or kind is list:
        return isinstance(value, list)
    if kind is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind is int:
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, kind)


def read(cls: type[T], name: str, settings: dict) -> T:
    """Section `name` of these settings as a `cls`."""
    values = settings.get(name, {})
    hints = get_type_hints(cls)
    kwargs = {}
    for field in fields(cls):  # type: ignore[arg-type]  # cls is one of the dataclasses above
        if field.name not in values:
            raise SettingsError(f"[{name}] {field.name} is missing (settings.toml holds every key's default)")
        value = values[field.name]
        kind = hints[field.name]
        if not _accepts(kind, value):
            raise SettingsError(f"[{name}] {field.name} = {value!r} should be {kind_words(kind)}")
        kwargs[field.name] = value
    return cls(**kwargs)


def read_all(settings: dict) -> dict[str, object]:
    """Every section, typed; SettingsError for the first key that is missing or of the wrong type."""
    typed: dict[str, object] = {name: read(cls, name, settings) for name, cls in SECTIONS.items()}
    desk = typed["desk"]
    if isinstance(desk, Desk) and desk.auto_assign not in AUTO_ASSIGN:
        raise SettingsError(f"[desk] auto_assign = {desk.auto_assign!r} should be one of {', '.join(AUTO_ASSIGN)}")
    app = typed["app"]
    for key in ("default_language", "agent_language"):
        if isinstance(app, App) and getattr(app, key) not in ("ur", "en"):
            raise SettingsError(f'[app] {key} = {getattr(app, key)!r} should be "ur" or "en"')
    typed["teams"] = read_teams(settings)
    return typed
