"""What a report is made of: figures with the previous period's value, and tables with an optional chart."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Figure:
    """One number on a page: `key` names it (words.toml), `unit` says how to show it ("count", "minutes",
    "percent", "rating", "age"); `previous` is the same number over the previous period (None: not compared)."""

    key: str
    value: float | int | None
    unit: str = "count"
    previous: float | int | None = None
    link: str | None = None  # a ticket to open, e.g. "ticket:42"

    @property
    def change(self) -> float | None:
        if self.value is None or self.previous is None:
            return None
        return self.value - self.previous


@dataclass
class Table:
    """Rows under named columns. `chart` is how it is drawn ("stacked_bar", "bar", "line", "heatmap" or None):
    the first column labels the x axis, the others are the series. Columns in `coded` hold word keys
    (a channel, a priority, a weekday); `links` maps a column to the kind of page its values open."""

    name: str
    columns: list[str]
    rows: list[list] = field(default_factory=list)
    chart: str | None = None
    coded: frozenset[str] = frozenset()
    units: dict[str, str] = field(default_factory=dict)
    links: dict[str, str] = field(default_factory=dict)
    marks: list[list[bool]] | None = None  # heatmap: cells inside the opening hours
    series: tuple[str, ...] = ()  # the columns a chart draws (empty: every numeric column after the first)


@dataclass
class Report:
    page: str
    figures: list[Figure] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    live: bool = False  # something on it is still moving (a broadcast going out): the page refreshes itself

    def table(self, name: str) -> Table:
        for t in self.tables:
            if t.name == name:
                return t
        raise KeyError(name)

    def figure(self, key: str) -> Figure:
        for f in self.figures:
            if f.key == key:
                return f
        raise KeyError(key)
