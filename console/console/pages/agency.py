"""Agency inbox (agency coordinators and assignees): the measures sent to the agency with their
deadlines (PLN-15); the coordinator designates the responsible person (PLN-6), the assignee
reports execution (PLN-7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import forms
from console.api import ApiError
from console.auth import CurrentUser, User
from console.forms import N_, Errors
from console.pages.common import require, take_flash
from console.templating import render

STAFF = ("agency-coordinator", "agency-assignee")
COORDINATORS = ("agency-coordinator",)
ASSIGNEES = ("agency-assignee",)
STATES = {
    "sent": N_("Sent, no one designated"),
    "assigned": N_("Designated"),
    "reported": N_("Reported"),
    "returned": N_("Returned for rework"),
    "completed": N_("Completed"),
}
# The console's sort -> the API's `order`; the API sorts every page.
SORTS = {"deadline": "deadline", "sent": "latest_sent"}
PAGE_SIZE = 25

router = APIRouter(prefix="/agency", dependencies=[require(*STAFF)])


async def _inbox(
    request: Request,
    user: User,
    *,
    state: str,
    sort: str,
    page: str | None,
    errors: dict[str, Errors] | None = None,
    values: dict[str, str] | None = None,
    status: int = 200,
) -> Response:
    answer = await user.api.get(
        "/v1/measures",
        {
            "state": state if state in STATES else None,
            "order": SORTS.get(sort, SORTS["deadline"]),
            "page_size": PAGE_SIZE,
            "page_token": page,
        },
    )
    return render(
        request,
        "agency/inbox.html",
        {
            "measures": answer["items"],
            "state": state,
            "sort": sort,
            "page": page,
            "next_page": answer.get("next_page_token"),
            "states": STATES,
            "can_designate": user.can(*COORDINATORS),
            "can_report": user.can(*ASSIGNEES),
            "username": user.principal.username,
            "errors": errors or {},
            "values": values or {},
            "flash": take_flash(user),
        },
        status_code=status,
    )


@router.get("")
async def inbox(
    request: Request,
    user: CurrentUser,
    state: str = "",
    sort: str = "deadline",
    page: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    return await _inbox(request, user, state=state, sort=sort, page=page)


@router.post("/measures/{measure_id}/assignee", dependencies=[require(*COORDINATORS)])
async def designate(
    request: Request, user: CurrentUser, measure_id: str, assignee: Annotated[str, Form()] = ""
) -> Response:
    errors = Errors()
    name = forms.required_text(
        errors, "assignee", assignee, N_("Enter the username of the responsible person")
    )
    if not errors:
        try:
            await user.api.post(f"/v1/measures/{measure_id}/assignee", {"assignee": name})
        except ApiError as exc:
            if exc.status >= 500:
                raise
            forms.from_api(errors, exc)
        else:
            user.session.flash = N_("The responsible person is designated.")
            return RedirectResponse("/agency", status_code=303)
    return await _inbox(
        request,
        user,
        state="",
        sort="deadline",
        page=None,
        errors={measure_id: errors},
        values={measure_id: assignee},
        status=422,
    )


@router.post("/measures/{measure_id}/report", dependencies=[require(*ASSIGNEES)])
async def report(
    request: Request, user: CurrentUser, measure_id: str, report: Annotated[str, Form()] = ""
) -> Response:
    errors = Errors()
    text = report.strip()
    if not text:
        errors.add("report", N_("Enter what was done"))
    elif len(text) > 4000:
        errors.add("report", N_("Enter at most 4000 characters"))
    if not errors:
        try:
            await user.api.post(f"/v1/measures/{measure_id}/report", {"report": text})
        except ApiError as exc:
            if exc.status >= 500:
                raise
            forms.from_api(errors, exc)
        else:
            user.session.flash = N_("The report is sent to the center.")
            return RedirectResponse("/agency", status_code=303)
    return await _inbox(
        request,
        user,
        state="",
        sort="deadline",
        page=None,
        errors={measure_id: errors},
        values={measure_id: report},
        status=422,
    )
