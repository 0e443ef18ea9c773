"""Intake journal (hotline and intake operators, case workers, the center head): register an
appeal from any channel (INT-1, INT-2); the journal with its numbers and the triage clocks of
each entry (INT-3: due time, rule, time left or overdue)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import forms
from console.api import ApiError, Json
from console.auth import CurrentUser
from console.forms import N_, Errors
from console.pages.common import require, take_flash
from console.templating import render
from kamqor.clock import utcnow

READERS = ("hotline-operator", "intake-operator", "case-worker", "center-head")
# As the API's registrars: case workers register what they receive (Yugra's application,
# Bashkortostan's signal card).
REGISTRARS = ("hotline-operator", "intake-operator", "case-worker")
CHANNELS = {
    "hotline_111": N_("Hotline 111"),
    "in_person": N_("In person"),
    "phone": N_("Phone"),
    "online": N_("Online"),
    "state_system": N_("State information system"),
    "report": N_("Report of a body or organisation"),
    "media": N_("Media and social networks"),
    "mobile_group": N_("Mobile group"),
    "signal_card": N_("Signal card"),
}
RELATIONS = {
    "applicant": N_("Applicant"),
    "mother": N_("Mother"),
    "father": N_("Father"),
    "child": N_("Child"),
    "other": N_("Other"),
}
# The console's sort -> the API's `order`; the API sorts and filters the whole journal.
SORTS = {"newest": "newest_first", "oldest": "oldest_first", "number": "journal_number"}
THREATS = {"yes": "true", "no": "false"}
PERSON_ROWS = 3
MAX_PERSON_ROWS = 30
PAGE_SIZE = 25

router = APIRouter(prefix="/journal", dependencies=[require(*READERS)])


def _clocks(appeal: Json) -> list[Json]:
    now = utcnow()
    clocks = []
    for obligation in appeal.get("obligations", []):
        due = obligation["due_at"]
        clocks.append(
            {
                **obligation,
                "overdue": obligation["state"] == "open" and due < now,
                "hours_left": int((due - now).total_seconds() // 3600),
            }
        )
    return clocks


def _day(value: str, errors: Errors, name: str) -> str | None:
    """An ISO day for the API, or None (no bound) with an error beside the field."""
    if not value:
        return None
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        errors.add(name, N_("Enter a real date"))
        return None


@router.get("")
async def journal(
    request: Request,
    user: CurrentUser,
    channel: str = "",
    threat: str = "",
    start: Annotated[str, Query(max_length=20)] = "",
    end: Annotated[str, Query(max_length=20)] = "",
    sort: str = "newest",
    page: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    """One page of the journal; the API applies the filters and the order to the whole journal,
    so the next page continues them. `start` and `end` are local days, both inclusive."""
    errors = Errors()
    first, last = _day(start, errors, "start"), _day(end, errors, "end")
    if first and last and last < first:
        errors.add("end", N_("The end must be after the start"))
        last = None
    answer = await user.api.get(
        "/v1/appeals",
        {
            "channel": channel if channel in CHANNELS else None,
            "threat_to_life": THREATS.get(threat),
            "registered_from": first,
            "registered_to": last,
            "order": SORTS.get(sort, SORTS["newest"]),
            "page_size": PAGE_SIZE,
            "page_token": page,
        },
    )
    appeals = answer["items"]
    for appeal in appeals:
        appeal["clocks"] = _clocks(appeal)
    return render(
        request,
        "journal/journal.html",
        {
            "appeals": appeals,
            "channel": channel,
            "threat": threat,
            "start": start,
            "end": end,
            "errors": errors,
            "sort": sort,
            "page": page,
            "next_page": answer.get("next_page_token"),
            "channels": CHANNELS,
            "can_register": user.can(*REGISTRARS),
            "flash": take_flash(user),
        },
        status_code=422 if errors else 200,
    )


def _blank() -> Json:
    return {
        "channel": "",
        "summary": "",
        "threat_to_life": False,
        "domestic_violence": False,
        "persons": [{"name": "", "relation": "", "birth": ""} for _ in range(PERSON_ROWS)],
    }


def _page(request: Request, form: Json, errors: Errors, status: int = 200) -> Response:
    return render(
        request,
        "journal/register.html",
        {"form": form, "errors": errors, "channels": CHANNELS, "relations": RELATIONS},
        status_code=status,
    )


@router.get("/register", dependencies=[require(*REGISTRARS)])
async def register_form(request: Request, user: CurrentUser) -> Response:
    return _page(request, _blank(), Errors())


def _read(data: Any) -> tuple[Json, Errors, Json, list[int]]:
    errors = Errors()
    form: Json = {
        "channel": str(data.get("channel", "")),
        "summary": str(data.get("summary", "")),
        "threat_to_life": data.get("threat_to_life") == "yes",
        "domestic_violence": data.get("domestic_violence") == "yes",
        "persons": [],
    }
    if form["channel"] not in CHANNELS:
        errors.add("channel", N_("Select how the appeal came"))
    summary = form["summary"].strip()
    if not summary:
        errors.add("summary", N_("Enter what the appeal says"))
    elif len(summary) > 4000:
        errors.add("summary", N_("Enter at most 4000 characters"))
    persons: list[Json] = []
    rows: list[int] = []
    for i in range(MAX_PERSON_ROWS):
        if f"persons-{i}-full_name" not in data:
            break
        row = {
            "name": str(data.get(f"persons-{i}-full_name", "")),
            "relation": str(data.get(f"persons-{i}-relation", "")),
            "birth": str(data.get(f"persons-{i}-birth_date", "")),
        }
        form["persons"].append(row)
        if not row["name"].strip() and not row["birth"].strip():
            continue
        prefix = f"persons-{i}"
        name = forms.required_text(
            errors, f"{prefix}-full_name", row["name"], N_("Enter the person's full name")
        )
        if row["relation"] not in RELATIONS:
            errors.add(f"{prefix}-relation", N_("Select who the person is"))
        person: Json = {"full_name": name, "relation": row["relation"]}
        if row["birth"].strip():
            born = forms.birth_date(errors, f"{prefix}-birth_date", row["birth"], missing="")
            person["birth_date"] = born.isoformat() if born else None
        persons.append(person)
        rows.append(i)
    body: Json = {
        "channel": form["channel"],
        "summary": summary,
        "persons": persons,
        "threat_to_life": form["threat_to_life"],
        "domestic_violence": form["domestic_violence"],
    }
    return form, errors, body, rows


@router.post("/register", dependencies=[require(*REGISTRARS)])
async def register(request: Request, user: CurrentUser) -> Response:
    data = await request.form()
    form, errors, body, rows = _read(data)
    if data.get("action") == "add_person" and len(form["persons"]) < MAX_PERSON_ROWS:
        form["persons"].append({"name": "", "relation": "", "birth": ""})
        return _page(request, form, Errors())
    if not errors:
        try:
            appeal = await user.api.post(
                "/v1/appeals", body, idempotency_key=str(data.get("form_key", "")) or None
            )
        except ApiError as exc:
            if exc.status >= 500:
                raise
            exc.fields = {_row(f, rows): m for f, m in exc.fields.items()}
            forms.from_api(errors, exc)
        else:
            del appeal
            user.session.flash = N_("Registered in the journal.")
            return RedirectResponse("/journal", status_code=303)
    return _page(request, form, errors, status=422)


def _row(api_field: str, rows: list[int]) -> str:
    if api_field.startswith("persons["):
        index = int(api_field[len("persons[") : api_field.index("]")])
        if index < len(rows):
            return f"persons[{rows[index]}]" + api_field[api_field.index("]") + 1 :]
    return api_field
