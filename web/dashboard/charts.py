"""A table drawn as a chart: SVG rendered on the server by pygal (README: The owners' dashboard, why). The first
column labels the x axis; each other numeric column (or only those the table names in `series`) is a series.
No script, no fetch from another host: pygal's tooltips script is left out (js=[]) and its inline settings removed."""

from __future__ import annotations

import re

import pygal
from markupsafe import Markup
from pygal.style import Style

from handlers.features.reports.model import Table
from web.dashboard.show import cell
from web.dashboard.words import Words

# pygal always writes its settings for its tooltips script into a <script> of its own: the page runs no script
SCRIPT = re.compile(r"<script\b[^>]*>.*?</script>", re.S)
KINDS = {"stacked_bar": pygal.StackedBar, "bar": pygal.Bar, "line": pygal.Line}
FONTS = "'Noto Nastaliq Urdu', 'Jameel Noori Nastaleeq', 'Noto Naskh Arabic', 'Noto Sans Arabic', system-ui, sans-serif"
STYLE = Style(
    background="transparent",
    plot_background="transparent",
    foreground="#222",
    foreground_strong="#111",
    foreground_subtle="#888",
    colors=("#1b6ca8", "#2e9e5b", "#e08a1e", "#b8336a", "#6c4ab6"),
    font_family=FONTS,
    label_font_size=13,
    major_label_font_size=13,
    legend_font_size=14,
    value_font_size=12,
)


def svg(w: Words, table: Table) -> Markup | None:
    """The chart of a table as inline SVG, or None when the table is not drawn (or has nothing to draw)."""
    kind = KINDS.get(table.chart or "")
    if kind is None or not table.rows:
        return None
    chart = kind(
        js=[],
        disable_xml_declaration=True,
        style=STYLE,
        width=640,
        height=320,
        legend_at_bottom=True,
        show_legend=len(_series(table)) > 1,
        x_label_rotation=45 if len(table.rows) > 8 else 0,
        show_minor_x_labels=len(table.rows) <= 16,
        x_labels_major_every=max(1, len(table.rows) // 8),
        truncate_label=16,
        print_values=False,
        margin=8,
        inverse_y_axis=False,
        no_data_text=w.no_data,
    )
    first = table.columns[0]
    chart.x_labels = [_short(cell(w, table, first, row[0])) for row in table.rows]
    for name in _series(table):
        index = table.columns.index(name)
        chart.add(w.get(f"col_{name}", name), [row[index] for row in table.rows])
    return Markup(SCRIPT.sub("", chart.render(is_unicode=True)))


def _series(table: Table) -> list[str]:
    if table.series:
        return list(table.series)
    return [c for i, c in enumerate(table.columns[1:], 1) if all(_numeric(r[i]) for r in table.rows)]


def _numeric(value) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


def _short(label: str) -> str:
    """Dates on the axis as MM-DD (the table beside it has the full date)."""
    return label[5:] if len(label) == 10 and label[4] == "-" and label[7] == "-" else label
