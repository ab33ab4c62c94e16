"""Numbers as the owner reads them (units, changes against the previous period) and as a CSV holds them."""

from __future__ import annotations

import csv
import io

from handlers.features.reports.model import Figure, Table
from web.dashboard.words import Words

BOM = "\ufeff"  # so that Excel opens a UTF-8 file (Urdu names) as UTF-8


def value(w: Words, number, unit: str = "count") -> str:
    if number is None:
        return w.no_value
    if unit == "minutes":
        return w.format("minutes_value", n=_num(number))
    if unit == "percent":
        return w.format("percent_value", n=_num(number))
    if unit == "age":
        hours, minutes = divmod(int(number), 60)
        days, hours = divmod(hours, 24)
        if days:
            return w.format("age_days", d=days, h=hours)
        return w.format("age_hours", h=hours, m=minutes) if hours else w.format("minutes_value", n=minutes)
    return _num(number)


def _num(number) -> str:
    if isinstance(number, float):
        return f"{number:,.2f}".rstrip("0").rstrip(".") if number % 1 else f"{int(number):,}"
    return f"{number:,}" if isinstance(number, int) else str(number)


def change(w: Words, figure: Figure) -> str:
    """'+3 against the previous period' (or '−2', 'no change'); '' when there is nothing to compare."""
    delta = figure.change
    if delta is None:
        return ""
    if abs(delta) < 1e-9:
        return w.no_change
    sign = "+" if delta > 0 else "−"
    unit = "count" if figure.unit == "age" else figure.unit
    return w.format(
        "change", delta=sign + value(w, abs(round(delta, 2)), unit), previous=value(w, figure.previous, unit)
    )


def cell(w: Words, table: Table, column: str, raw) -> str:
    """A table cell as the page shows it: coded values in words, numbers with their unit."""
    if column in table.coded:
        return w.get(f"{column}_{raw}", str(raw))
    if raw is None:
        return w.no_value
    return value(w, raw, table.units.get(column, "count")) if isinstance(raw, int | float) else str(raw)


def csv_text(w: Words, table: Table) -> str:
    """The table as CSV, UTF-8 with a BOM: the headers and coded values in the owner's words, numbers bare."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([w.get(f"col_{c}", c) for c in table.columns])
    for row in table.rows:
        writer.writerow(
            [
                w.get(f"{c}_{v}", str(v)) if c in table.coded else _bare(v)
                for c, v in zip(table.columns, row, strict=True)
            ]
        )
    return BOM + out.getvalue()


def _bare(v):
    """A CSV cell: empty for no value, 40 rather than 40.0."""
    if v is None:
        return ""
    return int(v) if isinstance(v, float) and v.is_integer() else v
