"""The dashboard's pages: parse the date range, call the report, render it (or its table as CSV)."""

from __future__ import annotations

from collections.abc import Callable

from flask import Blueprint, abort, request

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

REPORTS: dict[str, Callable[..., Report]] = {
    "traffic": traffic.report,
    "speed": speed.report,
    "satisfaction": satisfaction.report,
    "complaints": complaints.report,
    "proactive": proactive.report,
    "broadcasts": campaigns.report,
}


def _period() -> tuple[periods.Period, str | None]:
    """The range asked for, or (with the reason, shown on the page) the default one."""
    try:
        return periods.parse(request.args.get("range"), request.args.get("from"), request.args.get("to")), None
    except periods.BadRange as exc:
        return periods.parse(periods.DEFAULT), exc.reason


def _report(name: str) -> tuple[Report, periods.Period | None, str | None]:
    if name == "now":
        return now.report(), None, None
    if name not in REPORTS:
        abort(404)
    period, error = _period()
    return REPORTS[name](period), period, error


@owners_only
def page(name: str = "now"):
    report, period, error = _report(name)
    return view.report_page(report, period, error)


@owners_only
def table_csv(name: str, table: str):
    report, period, _ = _report(name)
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
