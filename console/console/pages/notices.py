"""Notices (police, guardianship and other receiving agencies; the sending center's head): the
inbox of written notices, pending ones on top, newest first, with due time; acknowledge (NTF-7)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.api import ApiError, Json
from console.auth import CurrentUser
from console.forms import N_
from console.pages.common import require, take_flash
from console.templating import render
from kamqor.clock import utcnow

READERS = ("agency-coordinator", "agency-assignee", "center-head")
RECIPIENTS = ("agency-coordinator", "agency-assignee")
STATES = ("pending", "acknowledged")
# The console's sort -> the API's `order`; the API sorts every page.
SORTS = {"newest": "newest_first", "due": "due_first"}
RULE_TITLES = {
    "SHL-3": N_("Shelter admission with minor children (SHL-3): written notice within 24 hours"),
}
PAGE_SIZE = 20

router = APIRouter(prefix="/notices", dependencies=[require(*READERS)])


@router.get("")
async def inbox(
    request: Request,
    user: CurrentUser,
    state: str = "",
    sort: str = "newest",
    page: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """`state` empty: the pending notices first, then the acknowledged ones."""
    sections: list[Json] = []
    for section_state in (state,) if state in STATES else STATES:
        answer = await user.api.get(
            "/v1/notices",
            {
                "state": section_state,
                "order": SORTS.get(sort, SORTS["newest"]),
                "page_size": PAGE_SIZE,
                "page_token": page if state else None,
            },
        )
        sections.append(
            {
                "state": section_state,
                "items": answer["items"],
                "next_page": answer.get("next_page_token"),
            }
        )
    now = utcnow()
    return render(
        request,
        "notices/inbox.html",
        {
            "sections": sections,
            "state": state,
            "sort": sort,
            "page": page,
            "now": now,
            "rule_titles": RULE_TITLES,
            "can_ack": user.can(*RECIPIENTS),
            "flash": take_flash(user),
        },
    )


@router.post("/{notice_id}/ack", dependencies=[require(*RECIPIENTS)])
async def acknowledge(request: Request, user: CurrentUser, notice_id: str) -> Response:
    try:
        notice = await user.api.post(f"/v1/notices/{notice_id}/ack")
    except ApiError as exc:
        if exc.status >= 500:
            raise
        user.session.flash = N_("The notice could not be acknowledged")
        return RedirectResponse("/notices", status_code=303)
    if request.headers.get("HX-Request"):
        return render(
            request,
            "notices/_notice.html",
            {"notice": notice, "rule_titles": RULE_TITLES, "can_ack": True, "now": utcnow()},
        )
    user.session.flash = N_("Acknowledged.")
    return RedirectResponse("/notices", status_code=303)
