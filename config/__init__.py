"""Settings: settings.toml (or the file named by BOT_SETTINGS) overridden by BOT_<SECTION>_<KEY> variables."""

from __future__ import annotations

import os
import sys
import tomllib
from pathlib import Path

from config import sections
from config.sections import SettingsError

ROOT = Path(__file__).resolve().parent.parent


class Settings(dict):
    """Sections as nested dicts: settings["telegram"]["token"]; also settings.get_path("telegram.token").
    Code reads them through the typed accessors below (config.telegram().token); `typed` caches those."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.typed: dict[str, object] = {}

    def get_path(self, dotted: str, default=None):
        section, _, key = dotted.partition(".")
        return self.get(section, {}).get(key, default)

    def redacted(self) -> dict:
        secret = ("token", "secret", "account_sid", "auth_token", "password")
        return {
            s: {k: ("***" if any(w in k for w in secret) and v else v) for k, v in vals.items()}
            if isinstance(vals, dict)
            else vals
            for s, vals in self.items()
        }


def _coerce(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list):  # "42,43", or written as a TOML list: "[42, 43]", '["a", "b"]'
        items = (item.strip().strip("'\"").strip() for item in raw.strip().strip("[]").split(","))
        return [item for item in items if item]
    return raw


def load_or_exit(path: str | os.PathLike | None = None) -> Settings:
    """load() for a process starting: a wrong setting is one line on stderr and exit status 2, not a traceback."""
    try:
        return load(path)
    except (SettingsError, tomllib.TOMLDecodeError) as exc:
        print(f"settings: {exc}", file=sys.stderr)
        raise SystemExit(2) from None


def load(path: str | os.PathLike | None = None, environ=None, overrides: dict | None = None) -> Settings:
    """Read the settings file, then apply environment variables, then explicit overrides (for tests)."""
    environ = os.environ if environ is None else environ
    path = Path(path or environ.get("BOT_SETTINGS") or ROOT / "settings.toml")
    with open(path, "rb") as fh:
        data = tomllib.load(fh)
    if path.resolve() != (ROOT / "settings.toml").resolve():
        # a shop's own file only needs the keys it changes
        with open(ROOT / "settings.toml", "rb") as fh:
            base = tomllib.load(fh)
        for section, values in data.items():
            if isinstance(values, list) or not isinstance(base.get(section, {}), dict):  # [[teams]]: the file's list
                base[section] = values
            else:
                base.setdefault(section, {}).update(values)
        data = base
    settings = Settings(data)
    for section, values in settings.items():
        if not isinstance(values, dict):  # [[teams]] come from the file only
            continue
        for key, default in list(values.items()):
            env_name = f"BOT_{section.upper()}_{key.upper()}"
            if env_name in environ:
                try:
                    values[key] = _coerce(environ[env_name], default)
                except ValueError:
                    wanted = sections.kind_words(type(default))
                    raise SettingsError(f"{env_name}={environ[env_name]!r} should be {wanted}") from None
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        if not key:  # a whole list section ("teams")
            settings[section] = value
            continue
        settings.setdefault(section, {})[key] = value
    settings["telegram"]["agents_chat_id"] = int(settings["telegram"]["agents_chat_id"] or 0)
    settings["telegram"]["owner_ids"] = [int(x) for x in settings["telegram"]["owner_ids"]]
    settings.typed = sections.read_all(settings)  # checked once, here; the accessors below read this
    return settings


_current: Settings | None = None


def activate(settings: Settings) -> Settings:
    """Make these the settings the running process uses (create_app and worker.py call this)."""
    global _current
    _current = settings
    return settings


def current() -> Settings:
    global _current
    if _current is None:
        _current = load()
    return _current


# ---- one typed accessor per section (config/sections.py names the keys and their types) ---------------------
def _section(cls, name: str, settings: Settings | None):
    """Typed when loaded (they do not change after load: load again to change them); a Settings made some
    other way is read on first use."""
    settings = settings if settings is not None else current()
    if name not in settings.typed:
        settings.typed[name] = sections.read(cls, name, settings)
    return settings.typed[name]


def app(settings: Settings | None = None) -> sections.App:
    """[app] of these settings (the running process's by default)."""
    return _section(sections.App, "app", settings)


def database(settings: Settings | None = None) -> sections.Database:
    """[database] of these settings (the running process's by default)."""
    return _section(sections.Database, "database", settings)


def telegram(settings: Settings | None = None) -> sections.Telegram:
    """[telegram] of these settings (the running process's by default)."""
    return _section(sections.Telegram, "telegram", settings)


def twilio(settings: Settings | None = None) -> sections.Twilio:
    """[twilio] of these settings (the running process's by default)."""
    return _section(sections.Twilio, "twilio", settings)


def sender(settings: Settings | None = None) -> sections.Sender:
    """[sender] of these settings (the running process's by default)."""
    return _section(sections.Sender, "sender", settings)


def scheduler(settings: Settings | None = None) -> sections.Scheduler:
    """[scheduler] of these settings (the running process's by default)."""
    return _section(sections.Scheduler, "scheduler", settings)


def csat(settings: Settings | None = None) -> sections.Csat:
    """[csat] of these settings (the running process's by default)."""
    return _section(sections.Csat, "csat", settings)


def hours(settings: Settings | None = None) -> sections.Hours:
    """[hours] of these settings (the running process's by default)."""
    return _section(sections.Hours, "hours", settings)


def sla(settings: Settings | None = None) -> sections.Sla:
    """[sla] of these settings (the running process's by default)."""
    return _section(sections.Sla, "sla", settings)


def broadcasts(settings: Settings | None = None) -> sections.Broadcasts:
    """[broadcasts] of these settings (the running process's by default)."""
    return _section(sections.Broadcasts, "broadcasts", settings)


def greetings(settings: Settings | None = None) -> sections.Greetings:
    """[greetings] of these settings (the running process's by default)."""
    return _section(sections.Greetings, "greetings", settings)


def shop(settings: Settings | None = None) -> sections.Shop:
    """[shop] of these settings (the running process's by default)."""
    return _section(sections.Shop, "shop", settings)


def coupons(settings: Settings | None = None) -> sections.Coupons:
    """[coupons] of these settings (the running process's by default)."""
    return _section(sections.Coupons, "coupons", settings)


def loyalty(settings: Settings | None = None) -> sections.Loyalty:
    """[loyalty] of these settings (the running process's by default)."""
    return _section(sections.Loyalty, "loyalty", settings)


def api(settings: Settings | None = None) -> sections.Api:
    """[api] of these settings (the running process's by default)."""
    return _section(sections.Api, "api", settings)


def orders(settings: Settings | None = None) -> sections.Orders:
    """[orders] of these settings (the running process's by default)."""
    return _section(sections.Orders, "orders", settings)


def selfservice(settings: Settings | None = None) -> sections.Selfservice:
    """[selfservice] of these settings (the running process's by default)."""
    return _section(sections.Selfservice, "selfservice", settings)


def backup(settings: Settings | None = None) -> sections.Backup:
    """[backup] of these settings (the running process's by default)."""
    return _section(sections.Backup, "backup", settings)


def dashboard(settings: Settings | None = None) -> sections.Dashboard:
    """[dashboard] of these settings (the running process's by default)."""
    return _section(sections.Dashboard, "dashboard", settings)


def desk(settings: Settings | None = None) -> sections.Desk:
    """[desk] of these settings (the running process's by default)."""
    return _section(sections.Desk, "desk", settings)


def teams(settings: Settings | None = None) -> list[sections.Team]:
    """[[teams]] of these settings: the agents' groups besides telegram.agents_chat_id, in routing order."""
    settings = settings if settings is not None else current()
    if "teams" not in settings.typed:
        settings.typed["teams"] = sections.read_teams(settings)
    return settings.typed["teams"]  # type: ignore[return-value]
