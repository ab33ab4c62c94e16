"""The dashboard's pages: parse the date range, call the report, render it (or its table as CSV)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, request

from handlers.core import teams
from handlers.features.reports import (
    campaigns,
    complaints,
    conversation,
    now,
    periods,
    proactive,
    satisfaction,
    speed,
    traffic,
)
from handlers.features.reports.model import Report
from web.dashboard import view
from web.dashboard.auth import owners_only
from web.dashboard.words import Words

WHOLE_SHOP = {"proactive", "broadcasts"}  # pages of the shop's own messages: never one team's

REPORTS: dict[str, Callable[..., Report]] = {
    "traffic": traffic.report,
    "speed": speed.report,
    "satisfaction": satisfaction.report,
    "complaints": complaints.report,
    "proactive": proactive.report,
    "broadcasts": campaigns.report,
}


def team_names() -> list[str]:
    """The teams an owner can narrow the pages to (none while the shop has no [[teams]]): the main group, then each."""
    return teams.names() if teams.all_teams() else []


def _team() -> tuple[str | None, bool]:
    """The team asked for (None: the whole shop), and whether one was asked for that is not a team."""
    asked = (request.args.get("team") or "").strip()
    if not asked:
        return None, False
    return (asked, False) if asked in team_names() else (None, True)


def _period(team: str | None) -> tuple[periods.Period, str | None]:
    """The range asked for, or (with the reason, shown on the page) the default one."""
    try:
        args = request.args
        return periods.parse(args.get("range"), args.get("from"), args.get("to"), team), None
    except periods.BadRange as exc:
        return periods.parse(periods.DEFAULT, team=team), exc.reason


def _report(name: str) -> tuple[Report, periods.Period | None, str | None, str | None, bool]:
    team, bad_team = _team()
    if name == "now":
        return now.report(team), None, None, team, bad_team
    if name not in REPORTS:
        abort(404)
    period, error = _period(team)
    return REPORTS[name](period), period, error, team, bad_team


@owners_only
def page(name: str = "now"):
    report, period, error, team, bad_team = _report(name)
    return view.report_page(
        report, period, error, team=team, teams=team_names(), bad_team=bad_team, whole_shop=name in WHOLE_SHOP
    )


@owners_only
def table_csv(name: str, table: str):
    report, period, *_ = _report(name)
    try:
        return view.csv_response(report.table(table), period)
    except KeyError:
        abort(404)


@owners_only
def ticket(ticket_id: int):
    found = conversation.of(ticket_id)
    if found is None:
        return view.page_response("missing", status=404)
    return view.page_response("ticket", conversation=found)


def intro():
    """GET /: what this is and how an owner gets in (instead of a 404)."""
    return view.page_response("intro", bye=request.args.get("bye") == "1", words_en=Words("en"))


def register(bp: Blueprint) -> None:
    bp.add_url_rule("/", "intro", intro, methods=["GET"])
    bp.add_url_rule("/dashboard/", "now", page, methods=["GET"])
    bp.add_url_rule("/dashboard/<name>", "page", page, methods=["GET"])
    bp.add_url_rule("/dashboard/<name>/<table>.csv", "csv", table_csv, methods=["GET"])
    bp.add_url_rule("/dashboard/ticket/<int:ticket_id>", "ticket", ticket, methods=["GET"])
