"""Settings: settings.toml (or the file named by BOT_SETTINGS) overridden by BOT_<SECTION>_<KEY> variables."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


class Settings(dict):
    """Sections as nested dicts: settings["telegram"]["token"]; also settings.get_path("telegram.token")."""

    def get_path(self, dotted: str, default=None):
        section, _, key = dotted.partition(".")
        return self.get(section, {}).get(key, default)

    def redacted(self) -> dict:
        secret = ("token", "secret", "account_sid", "auth_token", "password")
        return {
            s: {k: ("***" if any(w in k for w in secret) and v else v) for k, v in vals.items()}
            for s, vals in self.items()
        }


def _coerce(raw: str, default):
    if isinstance(default, bool):
        return raw.strip().lower() in ("1", "true", "yes", "on")
    if isinstance(default, int):
        return int(raw)
    if isinstance(default, float):
        return float(raw)
    if isinstance(default, list):
        return [item.strip() for item in raw.split(",") if item.strip()]
    return raw


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
            base.setdefault(section, {}).update(values)
        data = base
    settings = Settings(data)
    for section, values in settings.items():
        for key, default in list(values.items()):
            env_name = f"BOT_{section.upper()}_{key.upper()}"
            if env_name in environ:
                values[key] = _coerce(environ[env_name], default)
    for dotted, value in (overrides or {}).items():
        section, _, key = dotted.partition(".")
        settings.setdefault(section, {})[key] = value
    settings["telegram"]["agents_chat_id"] = int(settings["telegram"]["agents_chat_id"] or 0)
    settings["telegram"]["owner_ids"] = [int(x) for x in settings["telegram"]["owner_ids"]]
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
