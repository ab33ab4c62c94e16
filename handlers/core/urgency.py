"""Urgent wording in a customer's message (Urdu, Roman Urdu, English): it raises the ticket's priority."""

from __future__ import annotations

import re

WORDS = {
    # English
    "urgent",
    "urgently",
    "asap",
    "emergency",
    "immediately",
    "refund",
    "fraud",
    "scam",
    "cheated",
    "cheat",
    "police",
    "court",
    "lawyer",
    "legal",
    "consumer court",
    # Roman Urdu
    "jaldi",
    "fori",
    "foran",
    "fauran",
    "dhoka",
    "dhokha",
    "paisay wapis",
    "paise wapas",
    # Urdu
    "فوری",
    "فوراً",
    "فورا",
    "جلدی",
    "فراڈ",
    "دھوکہ",
    "دھوکا",
    "ریفنڈ",
    "پولیس",
    "عدالت",
    "وکیل",
    "پیسے واپس",
}
_WORD = re.compile(
    r"(?<![\w])(" + "|".join(sorted(map(re.escape, WORDS), key=len, reverse=True)) + r")(?![\w])", re.IGNORECASE
)


def is_urgent(text: str) -> bool:
    return bool(text) and bool(_WORD.search(text) or re.search(r"!{3,}", text))
