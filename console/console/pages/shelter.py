"""Shelter (shelter operators, the center head): the bed board of the center's shelters, the
residents with their minors and days left (SHL-1), the SHL-3 notice of each admission with
minors; admit and discharge (operators only)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import forms
from console.api import ApiError, Json
from console.auth import CurrentUser, User
from console.forms import N_, Errors
from console.pages.common import require, take_flash
from console.templating import render
from kamqor.clock import utcnow

READERS = ("shelter-operator", "center-head")
OPERATORS = ("shelter-operator",)
REFERRALS = {
    "self_application": N_("The person's own application"),
    "employment_and_social_programmes": N_("Employment and social programmes authority"),
    "health": N_("Health authority"),
    "police": N_("Police"),
}
# The API's refusal of the referring document's number (SHL-2), beside its field.
REFERRAL_DOCUMENT_REFUSED = {
    "referral_document": N_("Check the referring document's number: at most 100 characters"),
}
# The API's refusals of a hold or a bed change, as the operator reads them.
HOLD_REFUSALS = {
    "shelter-full": N_("Too few free beds to hold"),
    "bed-taken": N_("That bed is not free"),
    "bed-not-free": N_("Only a free bed can go out of service"),
}
# The console's sort -> the API's `order`; the API sorts every page of the shelter's stays.
SORTS = {"days_left": "days_left", "admitted": "latest_admission", "name": "name"}
# Red on the board below this many days left (the issue: "red when under three days").
URGENT_DAYS = 3
MAX_MINOR_ROWS = 20
# The API's default hold (minutes) and its ceiling (three days).
HOLD_MINUTES = 240
MAX_HOLD_MINUTES = 4320
PAGE_SIZE = 25

router = APIRouter(prefix="/shelter", dependencies=[require(*READERS)])


async def _shelters(user: User) -> list[Json]:
    # `free` comes from the API: held and out-of-service beds are not free either (SHL-6).
    shelters: list[Json] = (await user.api.get("/v1/shelters"))["items"]
    return shelters


def _pick(shelters: list[Json], shelter_id: str | None) -> Json | None:
    for s in shelters:
        if s["id"] == shelter_id:
            return s
    return shelters[0] if shelters else None


async def _notices_by_stay(user: User, stays: list[Json]) -> dict[str, list[Json]]:
    """The SHL-3 notices of the admissions with minors on this page, by stay."""
    subjects = [f"stay/{s['id']}" for s in stays if s["minors"]]
    found: dict[str, list[Json]] = {}
    if not subjects:
        return found
    page = await user.api.get("/v1/notices", {"subject": subjects, "page_size": 200})
    for notice in page["items"]:
        found.setdefault(notice["subject"].removeprefix("stay/"), []).append(notice)
    return found


def _notice_status(notices: list[Json], now: datetime) -> str:
    if not notices:
        return "none"
    if all(n["state"] == "acknowledged" for n in notices):
        return "acknowledged"
    due: datetime = min(n["due_at"] for n in notices if n["state"] == "pending")
    return "overdue" if due < now else "sent"


async def _board(
    user: User, shelter_id: str | None, state: str, sort: str, page: str | None
) -> Json:
    shelters = await _shelters(user)
    shelter = _pick(shelters, shelter_id)
    stays: list[Json] = []
    beds: Json | None = None
    next_page = None
    notices: dict[str, list[Json]] = {}
    if shelter is not None:
        answer = await user.api.get(
            "/v1/stays",
            {
                "shelter_id": shelter["id"],
                "state": state if state in ("active", "discharged") else "active",
                "order": SORTS.get(sort, SORTS["days_left"]),
                "page_size": PAGE_SIZE,
                "page_token": page,
            },
        )
        stays = answer["items"]
        next_page = answer.get("next_page_token")
        notices = await _notices_by_stay(user, stays)
        beds = await user.api.get(f"/v1/shelters/{shelter['id']}/beds")
    now = utcnow()
    for stay in stays:
        stay["adult_name"] = stay["adult"]["full_name"]
        stay["urgent"] = stay.get("days_left") is not None and stay["days_left"] < URGENT_DAYS
        stay["notices"] = notices.get(stay["id"], [])
        stay["notice_status"] = _notice_status(stay["notices"], now) if stay["minors"] else ""
    return {
        "shelters": shelters,
        "shelter": shelter,
        "stays": stays,
        "state": state,
        "sort": sort,
        "next_page": next_page,
        "page": page,
        "can_admit": user.can(*OPERATORS),
        "referrals": REFERRALS,
        "beds": beds,
        "hold_minutes": HOLD_MINUTES,
    }


@router.get("")
async def board(
    request: Request,
    user: CurrentUser,
    shelter: str | None = None,
    state: str = "active",
    sort: str = "days_left",
    page: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    context = await _board(user, shelter, state, sort, page)
    template = "shelter/_board.html" if request.headers.get("HX-Request") else "shelter/board.html"
    return render(request, template, {**context, "flash": take_flash(user)})


def _blank_form(minor_rows: int = 2) -> Json:
    return {
        "adult_name": "",
        "adult_birth": "",
        "referral": "",
        "referral_document": "",
        "minors": [{"name": "", "birth": ""} for _ in range(minor_rows)],
    }


@router.get("/admit", dependencies=[require(*OPERATORS)])
async def admit_form(request: Request, user: CurrentUser, shelter: str | None = None) -> Response:
    shelters = await _shelters(user)
    chosen = _pick(shelters, shelter)
    return render(
        request,
        "shelter/admit.html",
        {"shelter": chosen, "form": _blank_form(), "errors": Errors(), "referrals": REFERRALS},
    )


def _read_admission(data: Any) -> tuple[Json, Errors, Json]:
    """The form's values (to show again), its errors and the API body."""
    errors = Errors()
    values: Json = {
        "adult_name": str(data.get("adult-full_name", "")),
        "adult_birth": str(data.get("adult-birth_date", "")),
        "referral": str(data.get("referral", "")),
        "referral_document": str(data.get("referral_document", "")),
        "minors": [],
    }
    body: Json = {"minors": []}
    name = forms.required_text(
        errors, "adult-full_name", values["adult_name"], N_("Enter the adult's full name")
    )
    birth = forms.birth_date(
        errors,
        "adult-birth_date",
        values["adult_birth"],
        missing=N_("Enter the adult's date of birth"),
    )
    body["adult"] = {"full_name": name, "birth_date": birth.isoformat() if birth else ""}
    for i in range(MAX_MINOR_ROWS):
        m_name = str(data.get(f"minors-{i}-full_name", ""))
        m_birth = str(data.get(f"minors-{i}-birth_date", ""))
        if f"minors-{i}-full_name" not in data:
            break
        values["minors"].append({"name": m_name, "birth": m_birth})
        if not m_name.strip() and not m_birth.strip():
            continue  # an empty row is no child
        row = f"minors-{i}"
        m_name = forms.required_text(
            errors, f"{row}-full_name", m_name, N_("Enter the child's full name")
        )
        born = forms.birth_date(
            errors, f"{row}-birth_date", m_birth, missing=N_("Enter the child's date of birth")
        )
        body["minors"].append(
            {"full_name": m_name, "birth_date": born.isoformat() if born else "", "row": i}
        )
    if values["referral"] not in REFERRALS:
        errors.add("referral", N_("Select who referred the person"))
    body["referral"] = values["referral"]
    # SHL-2: an authority's referral is made in writing, so its number is required; an own
    # application has none (the service checks both too).
    document = values["referral_document"].strip()
    if values["referral"] == "self_application" and document:
        errors.add("referral_document", N_("An own application has no referring document"))
    elif values["referral"] in REFERRALS and values["referral"] != "self_application":
        forms.required_text(
            errors, "referral_document", document, N_("Enter the referring document's number")
        )
    body["referral_document"] = document
    return values, errors, body


@router.post("/admit", dependencies=[require(*OPERATORS)])
async def admit(request: Request, user: CurrentUser) -> Response:
    data = await request.form()
    shelter_id = str(data.get("shelter_id", ""))
    shelters = await _shelters(user)
    shelter = _pick(shelters, shelter_id)
    values, errors, body = _read_admission(data)
    if data.get("action") == "add_minor" and len(values["minors"]) < MAX_MINOR_ROWS:
        values["minors"].append({"name": "", "birth": ""})
        return render(
            request,
            "shelter/admit.html",
            {"shelter": shelter, "form": values, "errors": Errors(), "referrals": REFERRALS},
        )
    if shelter is None:
        raise ApiError(404, "not-found")
    persons = 1 + len(body["minors"])
    if not errors and persons > shelter["free"]:
        errors.form = N_("The shelter has too few free beds for everyone in this admission")
    if not errors:
        rows = [m.pop("row") for m in body["minors"]]
        try:
            await user.api.post(
                "/v1/stays",
                {**body, "shelter_id": shelter["id"]},
                idempotency_key=str(data.get("form_key", "")) or None,
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            # `minors[k]` of the API is the k-th filled row of the form.
            exc.fields = {_row_field(f, rows): message for f, message in exc.fields.items()}
            forms.from_api(errors, exc, REFERRAL_DOCUMENT_REFUSED)
        else:
            user.session.flash = N_("Admitted. The stay is on the bed board.")
            return RedirectResponse(f"/shelter?shelter={shelter['id']}", status_code=303)
    return render(
        request,
        "shelter/admit.html",
        {"shelter": shelter, "form": values, "errors": errors, "referrals": REFERRALS},
        status_code=422,
    )


def _row_field(api_field: str, rows: list[int]) -> str:
    if api_field.startswith("minors["):
        index = int(api_field[len("minors[") : api_field.index("]")])
        if index < len(rows):
            return f"minors[{rows[index]}]" + api_field[api_field.index("]") + 1 :]
    return api_field


@router.get("/stays/{stay_id}/discharge", dependencies=[require(*OPERATORS)])
async def discharge_form(request: Request, user: CurrentUser, stay_id: str) -> Response:
    stay = await user.api.get(f"/v1/stays/{stay_id}")
    return render(
        request, "shelter/discharge.html", {"stay": stay, "reason": "", "errors": Errors()}
    )


@router.post("/stays/{stay_id}/discharge", dependencies=[require(*OPERATORS)])
async def discharge(
    request: Request,
    user: CurrentUser,
    stay_id: str,
    reason: Annotated[str, Form()] = "",
) -> Response:
    errors = Errors()
    reason = reason.strip()
    if not reason:
        errors.add("reason", N_("Enter why the stay ends"))
    elif len(reason) > 500:
        errors.add("reason", N_("Enter at most 500 characters"))
    if not errors:
        try:
            stay = await user.api.post(f"/v1/stays/{stay_id}/discharge", {"reason": reason})
        except ApiError as exc:
            if exc.status >= 500:
                raise
            forms.from_api(errors, exc)
        else:
            user.session.flash = N_("Discharged.")
            return RedirectResponse(f"/shelter?shelter={stay['shelter_id']}", status_code=303)
    stay = await user.api.get(f"/v1/stays/{stay_id}")
    return render(
        request,
        "shelter/discharge.html",
        {"stay": stay, "reason": reason, "errors": errors},
        status_code=422,
    )


def _whole(value: str, low: int, high: int) -> int | None:
    try:
        number = int(value.strip())
    except ValueError:
        return None
    return number if low <= number <= high else None


@router.post("/{shelter_id}/holds", dependencies=[require(*OPERATORS)])
async def hold(request: Request, user: CurrentUser, shelter_id: str) -> Response:
    """Keeps free beds for an expected arrival; the hold lapses by itself (no-shows)."""
    data = await request.form()
    beds = _whole(str(data.get("beds", "")), 1, 21)
    minutes = _whole(str(data.get("minutes", "")) or str(HOLD_MINUTES), 1, MAX_HOLD_MINUTES)
    note = str(data.get("note", "")).strip()
    if beds is None:
        user.session.flash = N_("Enter how many beds to hold, from 1 to 21")
    elif minutes is None:
        user.session.flash = N_("Enter for how many minutes to hold the beds, at most 4320")
    elif len(note) > 300:
        user.session.flash = N_("Enter at most 300 characters")
    else:
        try:
            await user.api.post(
                "/v1/holds",
                {"shelter_id": shelter_id, "beds": beds, "minutes": minutes, "note": note},
                idempotency_key=str(data.get("form_key", "")) or None,
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            user.session.flash = HOLD_REFUSALS.get(exc.reason, N_("The beds could not be held"))
        else:
            user.session.flash = N_("Beds held.")
    return RedirectResponse(f"/shelter?shelter={shelter_id}#beds-board", status_code=303)


@router.post("/{shelter_id}/beds/{number}/service", dependencies=[require(*OPERATORS)])
async def bed_service(
    user: CurrentUser,
    shelter_id: str,
    number: int,
    out_of_service: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
) -> Response:
    """Takes a free bed out of service (a reason is required) or puts it back."""
    taking_out = out_of_service == "true"
    reason = reason.strip()
    if taking_out and not reason:
        user.session.flash = N_("Enter why the bed is out of service")
    elif len(reason) > 300:
        user.session.flash = N_("Enter at most 300 characters")
    else:
        try:
            await user.api.post(
                f"/v1/shelters/{shelter_id}/beds/{number}/service",
                {"out_of_service": taking_out, "reason": reason},
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            user.session.flash = HOLD_REFUSALS.get(exc.reason, N_("The bed could not be changed"))
        else:
            user.session.flash = (
                N_("The bed is out of service.")
                if taking_out
                else N_("The bed is back in service.")
            )
    return RedirectResponse(f"/shelter?shelter={shelter_id}#beds-board", status_code=303)
