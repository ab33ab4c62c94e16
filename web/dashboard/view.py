"""Rendering the dashboard: the owner's language and direction, the shared context of every page (navigation,
the forms' CSRF token), a report page with its charts and tables, the refusal page (403) and CSV downloads."""

from __future__ import annotations

from urllib.parse import quote

from flask import Response, current_app, g, render_template, request

import config
from handlers.core import texts
from handlers.features import dashboard
from handlers.features.reports.model import Report, Table
from handlers.features.reports.periods import CHOICES, Period
from web.dashboard import charts, show
from web.dashboard.words import Words

COOKIE = "khidmat_dashboard"
PAGES = ("now", "traffic", "speed", "satisfaction", "complaints", "proactive", "broadcasts")


def language() -> str:
    session = getattr(g, "session", None)
    if session is not None:
        return session.language
    asked = request.args.get("lang", "")
    return asked if asked in texts.LANGUAGES else config.app(current_app.config["KHIDMAT"]).default_language


def page_response(name: str, status: int = 200, **context) -> Response:
    lang = language()
    session = getattr(g, "session", None)
    html = render_template(
        [f"{lang}/dashboard/{name}.html", f"en/dashboard/{name}.html"],
        w=Words(lang),
        lang=lang,
        session=session,
        csrf=context.pop("csrf", None) or (dashboard.csrf_token(request.cookies.get(COOKIE, "")) if session else ""),
        pages=PAGES,
        shop=config.app().shop_name,
        here=request.full_path.rstrip("?"),
        show=show,
        **context,
    )
    return Response(html, status=status, mimetype="text/html")


def refused(reason: str) -> Response:
    """403: the link or session does not let anyone in, and why; no data."""
    return page_response("refused", status=403, reason=reason, minutes=int(config.dashboard().link_minutes))


def report_page(
    report: Report,
    period: Period | None,
    error: str | None = None,
    team: str | None = None,
    teams: list[str] | None = None,
    bad_team: bool = False,
    whole_shop: bool = False,
) -> Response:
    """A report's page; with the shop's teams (`teams`) a choice of one team (`team`, None: the whole shop)."""
    w = Words(language())
    drawn = [(t, charts.svg(w, t)) for t in report.tables]
    return page_response(
        "report",
        report=report,
        period=period,
        choices=CHOICES,
        tables=drawn,
        error=error,
        team=team,
        teams=teams or [],
        bad_team=bad_team,
        whole_shop=whole_shop and team is not None,
        query=_query(period, team),
    )


def _query(period: Period | None, team: str | None) -> str:
    """The query string that keeps the owner's range and team on the other pages' links and the CSVs."""
    parts = []
    if period is not None and period.choice == "custom":
        parts.append(f"range=custom&from={period.first_day.isoformat()}&to={period.last_day.isoformat()}")
    elif period is not None:
        parts.append(f"range={period.choice}")
    if team is not None:
        parts.append(f"team={quote(team)}")
    return "&".join(parts)


def csv_response(table: Table, period: Period | None) -> Response:
    w = Words(language())
    days = f"-{period.first_day.isoformat()}-{period.last_day.isoformat()}" if period else ""
    return Response(
        show.csv_text(w, table).encode("utf-8"),
        mimetype="text/csv",
        headers={
            "Content-Type": "text/csv; charset=utf-8",
            "Content-Disposition": f'attachment; filename="{table.name}{days}.csv"',
        },
    )
