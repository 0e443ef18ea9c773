"""Refusals and the waiting list of a shelter (shelter operators, the center head): who was
turned away, why and referred where (SHL-6); the queue for the next free beds. Operators record
a refusal, optionally queuing the person."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import forms
from console.api import ApiError, Json
from console.auth import CurrentUser, User
from console.forms import N_, Errors
from console.pages.common import require, take_flash
from console.pages.shelter import OPERATORS, READERS
from console.templating import render

REASONS = {
    "shelter_full": N_("The shelter is full"),
    "not_eligible": N_("Not eligible for the shelter"),
    "needs_other_care": N_("Needs other care"),
    "declined": N_("The person declined"),
    "other": N_("Other reason"),
}
WAITLIST_STATES = {
    "waiting": N_("Waiting"),
    "offered": N_("Beds offered"),
    "admitted": N_("Admitted"),
    "lapsed": N_("Lapsed"),
}
MAX_MINORS = 20
PAGE_SIZE = 25

router = APIRouter(prefix="/shelter/refusals", dependencies=[require(*READERS)])


def _blank() -> Json:
    return {
        "adult_name": "",
        "adult_birth": "",
        "minors": "0",
        "reason": "",
        "detail": "",
        "referred_to": "",
        "waitlist": False,
    }


async def _page(user: User, shelter_id: str | None, page: str | None) -> Json:
    shelters: list[Json] = (await user.api.get("/v1/shelters"))["items"]
    shelter = next((s for s in shelters if s["id"] == shelter_id), None)
    if shelter is None and shelters:
        shelter = shelters[0]
    refusals: list[Json] = []
    waitlist: list[Json] = []
    next_page = None
    if shelter is not None:
        answer = await user.api.get(
            "/v1/refusals",
            {"shelter_id": shelter["id"], "page_size": PAGE_SIZE, "page_token": page},
        )
        refusals, next_page = answer["items"], answer.get("next_page_token")
        queue = await user.api.get(
            "/v1/waitlist", {"shelter_id": shelter["id"], "page_size": PAGE_SIZE}
        )
        waitlist = queue["items"]
    return {
        "shelters": shelters,
        "shelter": shelter,
        "refusals": refusals,
        "waitlist": waitlist,
        "next_page": next_page,
        "page": page,
        "reasons": REASONS,
        "waitlist_states": WAITLIST_STATES,
        "can_record": user.can(*OPERATORS),
    }


@router.get("")
async def refusals(
    request: Request,
    user: CurrentUser,
    shelter: str | None = None,
    page: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    context = await _page(user, shelter, page)
    return render(
        request,
        "shelter/refusals.html",
        {**context, "form": _blank(), "errors": Errors(), "flash": take_flash(user)},
    )


def _read(data: Any) -> tuple[Json, Errors, Json]:
    """The form's values (to show again), its errors and the API body."""
    errors = Errors()
    values: Json = {
        "adult_name": str(data.get("adult-full_name", "")),
        "adult_birth": str(data.get("adult-birth_date", "")),
        "minors": str(data.get("minors", "0")).strip() or "0",
        "reason": str(data.get("reason", "")),
        "detail": str(data.get("detail", "")).strip(),
        "referred_to": str(data.get("referred_to", "")).strip(),
        "waitlist": data.get("waitlist") == "true",
    }
    name = forms.required_text(
        errors, "adult-full_name", values["adult_name"], N_("Enter the adult's full name")
    )
    birth = forms.birth_date(
        errors,
        "adult-birth_date",
        values["adult_birth"],
        missing=N_("Enter the adult's date of birth"),
    )
    minors = int(values["minors"]) if values["minors"].isdigit() else -1
    if not 0 <= minors <= MAX_MINORS:
        errors.add("minors", N_("Enter how many children, from 0 to 20"))
    if values["reason"] not in REASONS:
        errors.add("reason", N_("Select why the person is refused"))
    for key in ("detail", "referred_to"):
        if len(values[key]) > 300:
            errors.add(key, N_("Enter at most 300 characters"))
    body: Json = {
        "adult": {"full_name": name, "birth_date": birth.isoformat() if birth else ""},
        "minors": max(minors, 0),
        "reason": values["reason"],
        "detail": values["detail"],
        "referred_to": values["referred_to"],
        "waitlist": values["waitlist"],
    }
    return values, errors, body


@router.post("", dependencies=[require(*OPERATORS)])
async def record(request: Request, user: CurrentUser) -> Response:
    data = await request.form()
    shelter_id = str(data.get("shelter_id", ""))
    values, errors, body = _read(data)
    if not errors:
        try:
            await user.api.post(
                "/v1/refusals",
                {**body, "shelter_id": shelter_id},
                idempotency_key=str(data.get("form_key", "")) or None,
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            forms.from_api(errors, exc)
        else:
            user.session.flash = (
                N_("Refusal recorded; the person is on the waiting list.")
                if body["waitlist"]
                else N_("Refusal recorded.")
            )
            return RedirectResponse(f"/shelter/refusals?shelter={shelter_id}", status_code=303)
    context = await _page(user, shelter_id, None)
    return render(
        request,
        "shelter/refusals.html",
        {**context, "form": values, "errors": errors},
        status_code=422,
    )
