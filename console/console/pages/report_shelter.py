"""Shelter indicators (the center head, analysts): the MON-6 report of a chosen period —
occupancy per day as a chart and a table, bed-days per shelter (SHL-5), stays by length,
admissions with minors, refusals by reason (SHL-6) and notice timeliness per recipient
agency (SHL-3). Aggregates only: no person is named."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date

from fastapi import APIRouter, Request
from fastapi.responses import Response

from console import i18n
from console.api import Json
from console.auth import CurrentUser
from console.forms import N_
from console.pages.common import require
from console.pages.deadlines import READERS, period_report
from console.pages.shelter_refusals import REASONS
from console.templating import render

router = APIRouter(prefix="/reports/shelter", dependencies=[require(*READERS)])
# Recipient agency types of the notices (notify's `recipient_agency_type`).
AGENCY_TYPES = {
    "police": N_("Police"),
    "guardianship": N_("Guardianship"),
    "education": N_("Education"),
    "health": N_("Health"),
}


def _occupancy(report: Json) -> list[Json]:
    """Occupied and free beds per local day, summed over the territory's shelters."""
    days: dict[date, Json] = defaultdict(lambda: {"occupied": 0, "capacity": 0})
    for row in report["occupancy"]:
        day = date.fromisoformat(row["day"]) if isinstance(row["day"], str) else row["day"]
        days[day]["occupied"] += int(row["occupied"])
        days[day]["capacity"] += int(row["capacity"])
    return [
        {"day": day, "occupied": v["occupied"], "free": max(0, v["capacity"] - v["occupied"])}
        for day, v in sorted(days.items())
    ]


@router.get("")
async def report(request: Request, user: CurrentUser, start: str = "", end: str = "") -> Response:
    """`start` inclusive, `end` exclusive (the API's `from` and `to`); this month by default."""
    period = await period_report(user, "/v1/reports/shelter", start, end)
    first, after, errors, data = period.first, period.after, period.errors, period.data
    days: list[Json] = []
    chart = None
    if data is not None:
        days = _occupancy(data)
        # The console's stacked bar chart: occupied below, free on top, per day.
        chart = json.dumps(
            {
                "labels": [d["day"].isoformat() for d in days],
                "onTime": [d["occupied"] for d in days],
                "late": [d["free"] for d in days],
                "onTimeLabel": i18n.gettext("Occupied"),
                "lateLabel": i18n.gettext("Free"),
            }
        ).replace("<", "\\u003c")  # data inside <script type="application/json">
    return render(
        request,
        "reports/shelter.html",
        {
            "report": data,
            "days": days,
            "reasons": REASONS,
            "agency_types": AGENCY_TYPES,
            "start": start or (first.isoformat() if first else ""),
            "end": end or (after.isoformat() if after else ""),
            "errors": errors,
            "chart": chart,
        },
        status_code=422 if errors else 200,
    )
