"""Notices (police, guardianship and other receiving agencies; the sending center's head): the
inbox of written notices, pending ones on top, newest first, with due time; acknowledge (NTF-7)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from console.api import ApiError, Json
from console.auth import CurrentUser, User
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
CHANNELS = {
    "webhook": N_("Signed webhook"),
    "email": N_("E-mail"),
    "letter": N_("Registered letter"),
}
DELIVERY_STATES = {
    "pending": N_("Being delivered"),
    "delivered": N_("Delivered"),
    "failed": N_("Failed"),
}
PAGE_SIZE = 20
# What of the gateway's letter answer reaches the browser.
LETTER_HEADERS = ("Content-Type", "Content-Disposition")

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
        # One call per notice on the page, made together (a page holds at most PAGE_SIZE).
        found = await asyncio.gather(*(_deliveries(user, n) for n in answer["items"]))
        for notice, deliveries in zip(answer["items"], found, strict=True):
            notice["deliveries"] = deliveries
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
            "channels": CHANNELS,
            "delivery_states": DELIVERY_STATES,
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
        notice["deliveries"] = await _deliveries(user, notice)
        return render(
            request,
            "notices/_notice.html",
            {
                "notice": notice,
                "rule_titles": RULE_TITLES,
                "channels": CHANNELS,
                "delivery_states": DELIVERY_STATES,
                "can_ack": True,
                "now": utcnow(),
            },
        )
    user.session.flash = N_("Acknowledged.")
    return RedirectResponse("/notices", status_code=303)


async def _deliveries(user: User, notice: Json) -> list[Json]:
    """How the notice went out: one delivery per channel of the recipient agency."""
    answer = await user.api.get(f"/v1/notices/{notice['id']}/deliveries")
    items: list[Json] = answer["items"]
    return items


@router.get("/{notice_id}/letter")
async def letter(request: Request, user: CurrentUser, notice_id: str) -> Response:
    """The registered PDF letter, fetched from the gateway with the user's own token (the
    gateway checks access and audits the read); only the notice's id is in the URL and the file
    is named by its registration number, never by a person."""
    tokens = user.session.tokens
    if tokens is None:
        raise HTTPException(status_code=401)
    answer = await request.app.state.http.get(
        f"/v1/notices/{notice_id}/letter",
        headers={"Authorization": f"Bearer {tokens.access_token}"},
    )
    if answer.status_code != 200:
        # The problem answer becomes the console's own error page.
        raise ApiError(answer.status_code, f"http-{answer.status_code}")
    headers = {k: answer.headers[k] for k in LETTER_HEADERS if k in answer.headers}
    return Response(
        content=answer.content,
        status_code=200,
        headers={**headers, "Cache-Control": "no-store"},
    )
