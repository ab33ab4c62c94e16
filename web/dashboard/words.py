"""The dashboard's words: templates/<lang>/dashboard/words.toml, one flat table per language. A key missing in
Urdu falls back to English; a key missing in English is a bug and raises KeyError (the tests read every page)."""

from __future__ import annotations

import functools
import tomllib

from handlers.core import texts


@functools.lru_cache(maxsize=4)
def _table(lang: str) -> dict[str, str]:
    path = texts.TEMPLATES / lang / "dashboard" / "words.toml"
    if not path.exists():
        return {}
    with open(path, "rb") as fh:
        return tomllib.load(fh)


class Words:
    """`w.open_tickets` or `w["open_tickets"]` in the owner's language; `w.get(key, default)` for optional ones."""

    def __init__(self, lang: str):
        self.lang = lang if lang in texts.LANGUAGES else "en"

    def __getitem__(self, key: str) -> str:
        found = _table(self.lang).get(key)
        if found is None:
            found = _table("en")[key]
        return found

    def __getattr__(self, key: str) -> str:
        if key.startswith("_"):
            raise AttributeError(key)
        return self[key]

    def get(self, key, default: str = "") -> str:
        try:
            return self[str(key)]
        except KeyError:
            return default

    def format(self, key: str, **values) -> str:
        return self[key].format(**values)

    @property
    def direction(self) -> str:
        return "rtl" if self.lang == "ur" else "ltr"


def keys(lang: str) -> set[str]:
    return set(_table(lang))
