"""What the shop tells customers about itself, from settings, so it never falls out of step with them: the opening
hours from [hours] and the phone, email and address from [shop]. The FAQ's answers (templates/<lang>/faq.toml) say
{hours}, {phone}, {email}, {address} and {shop}; `fill` puts the values in, in the customer's language.

The opening hours are written day by day from [hours], consecutive days with the same hours together ("Monday to
Saturday: 10:00–20:00", "Sunday: closed"), with the closed dates of the coming weeks (hours.closed_dates). The
words are templates (templates/<lang>/shop/).

`placeholders()` names the [shop] settings still holding the example values shipped in settings.toml: start-up
warns about them (runtime.describe_channels), as customers would be told an example number.
"""

from __future__ import annotations

import datetime as dt

import config
from handlers.core import clock, hours, texts

# the examples settings.toml ships with ([shop]); tests/test_shopinfo.py checks that they still match the file
EXAMPLES = {
    "phone": "0300-1234567",
    "email": "support@khidmat.pk",
    "address": "12 Main Boulevard, Gulberg III, Lahore (near Liberty Market)",
    "address_ur": "12 مین بلیوارڈ، گلبرگ III، لاہور (لبرٹی مارکیٹ کے قریب)",
}
OPTIONAL = {"address_ur"}  # empty is fine: Urdu readers get the address as written
CLOSED_DATES_AHEAD_DAYS = 60  # the answer names the closed dates within this many days
CLOSED_DATES_SHOWN = 5


def _clock(since_midnight: dt.timedelta) -> str:
    minutes = int(since_midnight.total_seconds() // 60)
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def _times(lang: str, ranges: list) -> str:
    if not ranges:
        return texts.render(lang, "shop/hours_closed")
    return ", ".join(
        texts.render(lang, "shop/hours_range", opens=_clock(opens), closes=_clock(closes)) for opens, closes in ranges
    )


def hours_words(lang: str, today: dt.date | None = None) -> str:
    """The opening hours as a customer reads them, one line per run of days with the same hours, then the closed
    dates of the coming weeks."""
    week, closed = hours.weekly()
    names = texts.render(lang, "weekdays").splitlines()
    lines = []
    if all(day == [hours.WHOLE_DAY] for day in week):
        lines.append(texts.render(lang, "shop/hours_always"))
    else:
        start = 0
        for index in range(1, len(week) + 1):
            if index < len(week) and week[index] == week[start]:
                continue
            days = (
                names[start]
                if index - 1 == start
                else texts.render(lang, "shop/hours_days", first=names[start], last=names[index - 1])
            )
            lines.append(texts.render(lang, "shop/hours_line", days=days, times=_times(lang, week[start])))
            start = index
    today = today or clock.local_now().date()
    coming = [d for d in closed if today <= d <= today + dt.timedelta(days=CLOSED_DATES_AHEAD_DAYS)]
    if coming:
        dates = ", ".join(texts.day_month(lang, d.day, d.month) for d in coming[:CLOSED_DATES_SHOWN])
        lines.append(texts.render(lang, "shop/hours_closed_dates", dates=dates))
    return "\n".join(lines)


def address(lang: str) -> str:
    conf = config.shop()
    return (conf.address_ur if lang == "ur" and conf.address_ur.strip() else conf.address).strip()


def fill(text: str, lang: str) -> str:
    """An FAQ answer with the shop's facts put in: {shop}, {hours}, {phone}, {email}, {address} (only those: an
    answer may hold other braces)."""
    conf = config.shop()
    values = {
        "{shop}": lambda: config.app().shop_name,
        "{hours}": lambda: hours_words(lang),
        "{phone}": lambda: conf.phone.strip(),
        "{email}": lambda: conf.email.strip(),
        "{address}": lambda: address(lang),
    }
    for placeholder, value in values.items():
        if placeholder in text:
            text = text.replace(placeholder, value())
    return text


def placeholders(settings=None) -> list[str]:
    """The [shop] settings that still hold the example values shipped in settings.toml (or are empty)."""
    conf = config.shop(settings)
    found = []
    for key, example in EXAMPLES.items():
        value = getattr(conf, key).strip()
        if value == example or (not value and key not in OPTIONAL):
            found.append(key)
    return found
