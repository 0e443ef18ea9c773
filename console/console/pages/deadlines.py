"""Deadlines (the center head, analysts): the MON-3 on-time report per rule and agency for a
chosen period, as a table and a chart."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import i18n
from console.api import ApiError, Json
from console.auth import CurrentUser, User
from console.forms import N_, Errors
from console.pages.common import require, sort_rows
from console.templating import render
from kamqor.clock import utcnow

READERS = ("center-head", "analyst")
SORTS = {"rule": "rule", "agency": "responsible_agency", "share": "on_time_share"}

router = APIRouter(prefix="/deadlines", dependencies=[require(*READERS)])


def _month(today: date) -> tuple[date, date]:
    start = today.replace(day=1)
    end = (start + timedelta(days=32)).replace(day=1)
    return start, end


def _day(value: str, errors: Errors, name: str) -> date | None:
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(name, N_("Enter a real date"))
        return None


@dataclass
class Period:
    """A report's chosen period as the form gives it back, and the API's answer for it."""

    first: date | None
    after: date | None
    errors: Errors
    data: Json | None


async def period_report(user: User, path: str, start: str, end: str) -> Period:
    """Read `start` (inclusive) and `end` (exclusive), this month by default, and ask `path`
    for that period; a bad date, a backward period or one the API finds too long is a form
    error, not a request."""
    errors = Errors()
    default_from, default_to = _month(i18n.local(utcnow()).date())
    first = _day(start, errors, "start") if start else default_from
    after = _day(end, errors, "end") if end else default_to
    if first and after and after <= first:
        errors.add("end", N_("The end must be after the start"))
    data = None
    if not errors and first and after:
        try:
            data = await user.api.get(path, {"from": first.isoformat(), "to": after.isoformat()})
        except ApiError as exc:
            if exc.status != 422:
                raise
            errors.add("end", N_("The period is at most 366 days"))
    return Period(first, after, errors, data)


@router.get("")
async def report(
    request: Request,
    user: CurrentUser,
    start: str = "",
    end: str = "",
    sort: str = "rule",
) -> Response:
    """`start` inclusive, `end` exclusive (the API's `from` and `to`); this month by default."""
    period = await period_report(user, "/v1/reports/deadlines", start, end)
    first, after, errors, data = period.first, period.after, period.errors, period.data
    chart = None
    if data is not None:
        by_rule = data["by_rule"]
        chart = json.dumps(
            {
                "labels": [r["rule"] for r in by_rule],
                "onTime": [r["met_on_time"] for r in by_rule],
                "late": [r["met_late"] + r["open_overdue"] for r in by_rule],
                "onTimeLabel": i18n.gettext("On time"),
                "lateLabel": i18n.gettext("Late or overdue"),
            }
        ).replace("<", "\\u003c")  # data inside <script type="application/json">
    return render(
        request,
        "deadlines/report.html",
        {
            "report": data,
            "rows": sort_rows(data["rows"], sort, SORTS) if data else [],
            "start": start or (first.isoformat() if first else ""),
            "end": end or (after.isoformat() if after else ""),
            "sort": sort,
            "errors": errors,
            "chart": chart,
        },
        status_code=422 if errors else 200,
    )
