"""Individual plans (case workers, the center head, the commission): the center's plans with what
is due next, one plan with its measures and obligations, drafting a plan (PLN-1, PLN-2),
submitting it and approving it (PLN-4), completing or returning a reported measure (PLN-8,
PLN-9). The services decide; these screens ask and show their answers beside the fields."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, HTTPException, Query, Request
from fastapi.responses import RedirectResponse, Response

from console import forms
from console.api import ApiError, Json
from console.auth import CurrentUser, User
from console.forms import N_, Errors
from console.pages.common import require, take_flash
from console.templating import render
from kamqor.clock import utcnow

READERS = ("case-worker", "center-head", "commission-member")
CASE_WORKERS = ("case-worker",)
APPROVERS = ("center-head", "commission-member")
PLAN_STATES = {
    "draft": N_("Draft"),
    "submitted": N_("Submitted for approval"),
    "approved": N_("In force"),
    "under_review": N_("Under review"),
    "monitoring": N_("Closed, monitored"),
    "closed": N_("Closed"),
    "reopened": N_("Reopened"),
}
MEASURE_STATES = {
    "draft": N_("Draft"),
    "sent": N_("Sent, no one designated"),
    "assigned": N_("Designated"),
    "reported": N_("Reported"),
    "returned": N_("Returned for rework"),
    "completed": N_("Completed"),
    "declined": N_("Declined by the agency"),
    "cancelled": N_("Cancelled"),
}
SITUATIONS = {
    "dls": N_("Difficult life situation"),
    "sdp": N_("Socially dangerous position"),
}
SUPPORT_LEVELS = {
    "adaptation": N_("Adaptation"),
    "basic": N_("Basic"),
    "crisis": N_("Crisis"),
    "emergency": N_("Emergency"),
}
MEASURE_KINDS = {
    "medical": N_("Medical"),
    "psychological": N_("Psychological"),
    "pedagogical": N_("Pedagogical"),
    "legal": N_("Legal"),
    "social": N_("Social"),
    "employment": N_("Employment"),
    "housing": N_("Housing"),
    "family_participation": N_("The family's own participation"),
}
AGENCY_TYPES = {
    "education": N_("Education"),
    "health": N_("Health"),
    "social_protection": N_("Social protection"),
    "employment": N_("Employment"),
    "police": N_("Police"),
    "guardianship": N_("Guardianship"),
    "housing": N_("Housing"),
    "youth_policy": N_("Youth policy"),
    "culture_sport": N_("Culture and sport"),
    "ngo": N_("Non-governmental organisation"),
}
PARTICIPANT_ROLES = {
    "family": N_("Family member"),
    "social_worker": N_("Social worker"),
    "psychologist": N_("Psychologist"),
    "social_pedagogue": N_("Social pedagogue"),
    "medical_worker": N_("Medical worker"),
    "lawyer": N_("Lawyer"),
    "police": N_("Police officer"),
    "ngo": N_("Non-governmental organisation"),
}
OWN_PARTICIPATION = "family_participation"
RETURN_MODES = {"rework": N_("Rework"), "repeat": N_("Repeat execution")}
REVIEW_KINDS = {"interim": N_("Interim review"), "final": N_("Final review")}
REVIEW_DECISIONS = {
    "continue": N_("Continue the plan"),
    "extend": N_("Extend the plan"),
    "close": N_("Close the plan"),
}
# PLN-10: the grounds every profile has; the service refuses one its profile does not list.
CLOSURE_GROUNDS = {
    "result_achieved": N_("The result is achieved"),
    "family_refused": N_("The family refused support"),
    "family_noncompliance": N_("The family does not take part"),
    "result_impossible": N_("The result cannot be achieved"),
    "other_confirmed": N_("Another confirmed ground"),
}
DIRECTIONS = {"worse": N_("worse"), "better": N_("better"), "other": N_("other")}
CENTER_STAFF = ("case-worker", "center-head")
WHOSE = {"mine": N_("Drafted by me"), "all": N_("All of the center's")}
IN_FORCE = ("approved", "under_review")
# The API's refusals of a plan or measure step, as the case worker or head reads them.
REFUSALS = {
    "plan-approved": N_("The plan is already approved"),
    "plan-state": N_("The plan is not in a state that allows this"),
    "measure-state": N_("The measure is not in a state that allows this"),
    "measures-open": N_("The result is achieved only when every measure is completed"),
    "four-eyes": N_("Whoever drafted or submitted the plan cannot approve it"),
    "no-measures": N_("A plan needs at least one measure"),
}
# Field refusals of the services, by the form's field without its row: what to tell the person.
FIELD_MESSAGES = {
    "participants": N_("Name at least one family member who drafted the plan"),
    "support_level": N_("This territory sets the plan's term by the support level: select it"),
    "measures-agency_id": N_("This agency is unknown or cannot carry out this kind of measure"),
    "measures-agency_type": N_("Select the type of the agency"),
    "measures-deadline": N_("The deadline must be today or later and within the plan's term"),
    "decision": N_("Enter the approving body's decision, at most 200 characters"),
    "completed_on": N_("The date cannot be in the future"),
    "new_deadline": N_("The new deadline must be after today and within the plan's term"),
}
MEASURE_FIELDS = ("agency_id", "agency_type", "kind", "title", "target", "deadline")
MAX_MEASURE_ROWS = 20
MAX_PARTICIPANT_ROWS = 30
PARTICIPANT_FIELDS = ("role", "name", "organisation")
_ROW = re.compile(r"(\w+)\[(\d+)\]")
PAGE_SIZE = 25

router = APIRouter(prefix="/plans", dependencies=[require(*READERS)])


def _refused(errors: Errors, exc: ApiError) -> None:
    """A refusal of the API beside the field it names, or over the whole form."""
    if exc.status >= 500:
        raise exc
    known = {}
    for api_field in exc.fields:
        name = forms.form_field(api_field)
        message = FIELD_MESSAGES.get(re.sub(r"-\d+-", "-", name))
        if message is not None:
            known[name] = message
    forms.from_api(errors, exc, known)
    if errors.form is not None and exc.reason in REFUSALS:
        errors.form = REFUSALS[exc.reason]


def _day(errors: Errors, name: str, value: str) -> date | None:
    value = value.strip()
    if not value:
        errors.add(name, N_("Enter a date"))
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        errors.add(name, N_("Enter a real date, for example 2027-02-15"))
        return None


# --- the list -------------------------------------------------------------------------------


@router.get("")
async def plan_list(
    request: Request,
    user: CurrentUser,
    state: str = "",
    who: str = "",
    page: Annotated[str | None, Query(max_length=500)] = None,
) -> Response:
    # A case worker starts from their own plans; the head and the commission from all.
    if who not in WHOSE:
        who = "mine" if user.can(*CASE_WORKERS) else "all"
    answer = await user.api.get(
        "/v1/plans",
        {
            "state": state if state in PLAN_STATES else None,
            "mine": "true" if who == "mine" else None,
            "page_size": PAGE_SIZE,
            "page_token": page,
        },
    )
    context = {
        "plans": answer["items"],
        "state": state,
        "who": who,
        "page": page,
        "next_page": answer.get("next_page_token"),
        "states": PLAN_STATES,
        "whose": WHOSE,
        "situations": SITUATIONS,
        "can_draft": user.can(*CASE_WORKERS),
        "flash": take_flash(user),
    }
    # The filter swaps only the table in; a history restore wants the whole page.
    fragment = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    template = "plans/_list.html" if fragment else "plans/list.html"
    return render(request, template, context)


# --- drafting -------------------------------------------------------------------------------


async def _agencies(user: User) -> list[Json] | None:
    """The territory's agency directory (the active ones; it lists 200 at the most), or None
    where the gateway has none (then a text field and a type)."""
    try:
        answer = await user.api.get("/v1/agencies", {"page_size": 200})
    except ApiError as exc:
        if exc.status in (404, 405):
            return None
        raise
    return [a for a in answer["items"] if a.get("active", True)]


def _blank_measure() -> Json:
    return dict.fromkeys(MEASURE_FIELDS, "")


def _blank_participant() -> Json:
    return dict.fromkeys(PARTICIPANT_FIELDS, "")


def _read_participants(errors: Errors, data: Any) -> tuple[list[Json], list[Json], list[int]]:
    """Who drafted the plan with the family (PLN-3): the rows as typed, those filled in and
    their rows."""
    rows: list[Json] = []
    filled: list[Json] = []
    indices: list[int] = []
    for i in range(MAX_PARTICIPANT_ROWS):
        if f"participants-{i}-name" not in data:
            break
        row = {f: str(data.get(f"participants-{i}-{f}", "")).strip() for f in PARTICIPANT_FIELDS}
        rows.append(row)
        if not row["name"] and not row["organisation"]:
            continue
        if row["role"] not in PARTICIPANT_ROLES:
            errors.add(f"participants-{i}-role", N_("Select the participant's role"))
        forms.required_text(
            errors, f"participants-{i}-name", row["name"], N_("Enter the participant's name")
        )
        filled.append(row)
        indices.append(i)
    if not any(p["role"] == "family" for p in filled):
        errors.add("participants", N_("Name at least one family member who drafted the plan"))
    return rows, filled, indices


def _draft_page(
    request: Request, form: Json, errors: Errors, agencies: list[Json] | None, status: int = 200
) -> Response:
    return render(
        request,
        "plans/new.html",
        {
            "form": form,
            "errors": errors,
            "agency_names": None
            if agencies is None
            else {str(a["id"]): f"{a['name']} ({a['id']})" for a in agencies},
            "situations": SITUATIONS,
            "support_levels": SUPPORT_LEVELS,
            "kinds": MEASURE_KINDS,
            "agency_types": AGENCY_TYPES,
            "roles": PARTICIPANT_ROLES,
            "max_rows": MAX_MEASURE_ROWS,
            "max_participants": MAX_PARTICIPANT_ROWS,
        },
        status_code=status,
    )


@router.get("/new", dependencies=[require(*CASE_WORKERS)])
async def draft_form(request: Request, user: CurrentUser) -> Response:
    form: Json = {
        "situation": "",
        "support_level": "",
        "measures": [_blank_measure()],
        "participants": [{"role": "family", "name": "", "organisation": ""}, _blank_participant()],
    }
    return _draft_page(request, form, Errors(), await _agencies(user))


def _read_measure(
    errors: Errors, data: Any, i: int, agencies: list[Json] | None
) -> tuple[Json, Json | None]:
    """One row of the form: its values (to show again) and its API body (None when empty)."""
    row = f"measures-{i}"
    values: Json = {f: str(data.get(f"{row}-{f}", "")).strip() for f in MEASURE_FIELDS}
    if not any(values[f] for f in ("agency_id", "title", "target", "deadline")):
        return values, None  # an untouched row is no measure
    kind = values["kind"]
    if kind not in MEASURE_KINDS:
        errors.add(f"{row}-kind", N_("Select the kind of measure"))
    body: Json = {"kind": kind, "title": "", "target": values["target"]}
    body["title"] = forms.required_text(
        errors, f"{row}-title", values["title"], N_("Enter what is to be done")
    )
    if kind != OWN_PARTICIPATION:
        agency_type = values["agency_type"]
        if agencies is not None:
            known = {str(a["id"]): str(a["agency_type"]) for a in agencies}
            if values["agency_id"] not in known:
                errors.add(f"{row}-agency_id", N_("Select the agency that carries it out"))
            agency_type = known.get(values["agency_id"], "")
        elif not values["agency_id"]:
            errors.add(f"{row}-agency_id", N_("Enter the agency that carries it out"))
        elif agency_type not in AGENCY_TYPES:
            errors.add(f"{row}-agency_type", N_("Select the type of the agency"))
        body["agency_id"] = values["agency_id"]
        body["agency_type"] = agency_type
    deadline = _day(errors, f"{row}-deadline", values["deadline"])
    body["deadline"] = deadline.isoformat() if deadline else ""
    return values, body


@router.post("/new", dependencies=[require(*CASE_WORKERS)])
async def draft(request: Request, user: CurrentUser) -> Response:
    data = await request.form()
    agencies = await _agencies(user)
    errors = Errors()
    form: Json = {
        "situation": str(data.get("situation", "")),
        "support_level": str(data.get("support_level", "")),
        "measures": [],
    }
    measures: list[Json] = []
    rows: list[int] = []  # the form row of each measure sent, for the API's `measures[k]`
    for i in range(MAX_MEASURE_ROWS):
        if f"measures-{i}-title" not in data:
            break
        values, measure = _read_measure(errors, data, i, agencies)
        form["measures"].append(values)
        if measure is not None:
            measures.append(measure)
            rows.append(i)
    form["participants"], participants, people = _read_participants(errors, data)
    if data.get("action") == "add_measure" and len(form["measures"]) < MAX_MEASURE_ROWS:
        form["measures"].append(_blank_measure())
        return _draft_page(request, form, Errors(), agencies)
    if data.get("action") == "add_participant" and (
        len(form["participants"]) < MAX_PARTICIPANT_ROWS
    ):
        form["participants"].append(_blank_participant())
        return _draft_page(request, form, Errors(), agencies)
    if form["situation"] not in SITUATIONS:
        errors.add("situation", N_("Select the family's situation"))
    if form["support_level"] and form["support_level"] not in SUPPORT_LEVELS:
        errors.add("support_level", N_("Select the support level"))
    if not measures and not errors:
        errors.add("measures-0-title", N_("A plan needs at least one measure"))
    if not errors:
        body: Json = {
            "situation": form["situation"],
            "measures": measures,
            "participants": participants,
        }
        if form["support_level"]:
            body["support_level"] = form["support_level"]
        try:
            plan = await user.api.post(
                "/v1/plans", body, idempotency_key=str(data.get("form_key", "")) or None
            )
        except ApiError as exc:
            exc.fields = {
                _row_field(_row_field(f, "measures", rows), "participants", people): m
                for f, m in exc.fields.items()
            }
            _refused(errors, exc)
        else:
            user.session.flash = N_("The plan is drafted. Submit it for approval when ready.")
            return RedirectResponse(f"/plans/{plan['id']}", status_code=303)
    return _draft_page(request, form, errors, agencies, status=422)


def _row_field(api_field: str, prefix: str, rows: list[int]) -> str:
    """`measures[k]` (`participants[k]`) of the API is the k-th filled row of the form."""
    found = _ROW.match(api_field)
    if found is None or found[1] != prefix or int(found[2]) >= len(rows):
        return api_field
    return f"{prefix}[{rows[int(found[2])]}]{api_field[found.end() :]}"


# --- one plan -------------------------------------------------------------------------------


def _offered(user: User, step: str) -> bool:
    return user.can(*STEPS[step].roles)


async def _plan_page(
    request: Request,
    user: User,
    plan_id: str,
    *,
    errors: dict[str, Errors] | None = None,
    values: dict[str, Json] | None = None,
    status: int = 200,
) -> Response:
    plan = await user.api.get(f"/v1/plans/{plan_id}")
    # Instants the API client leaves as text (their keys do not end in `_at`).
    closure = plan.get("closure") or {}
    for item, key in [
        *((i, "at") for i in [*plan.get("history", []), *plan.get("level_changes", [])]),
        (closure, "monitoring_from"),
        (closure, "monitoring_until"),
    ]:
        if isinstance(item.get(key), str):
            item[key] = datetime.fromisoformat(item[key])
    return render(
        request,
        "plans/plan.html",
        {
            "plan": plan,
            "plan_states": PLAN_STATES,
            "measure_states": MEASURE_STATES,
            "situations": SITUATIONS,
            "support_levels": SUPPORT_LEVELS,
            "kinds": MEASURE_KINDS,
            "return_modes": RETURN_MODES,
            "roles": PARTICIPANT_ROLES,
            "can_submit": user.can(*CASE_WORKERS) and plan["state"] == "draft",
            "can_approve": user.can(*APPROVERS) and plan["state"] == "submitted",
            "can_settle": user.can(*CASE_WORKERS),
            "can_review": _offered(user, "reviews") and plan["state"] == "approved",
            "can_conclude": _offered(user, "reviews/conclude") and plan["state"] == "under_review",
            "can_change_level": _offered(user, "level-changes") and plan["state"] in IN_FORCE,
            "can_close": _offered(user, "close") and plan["state"] in IN_FORCE,
            "can_end_monitoring": _offered(user, "monitoring/end")
            and plan["state"] == "monitoring",
            "review_kinds": REVIEW_KINDS,
            "review_decisions": REVIEW_DECISIONS,
            "grounds": CLOSURE_GROUNDS,
            "directions": DIRECTIONS,
            "today": utcnow().date().isoformat(),
            "errors": errors or {},
            "values": values or {},
            "flash": take_flash(user),
        },
        status_code=status,
    )


@router.get("/{plan_id}")
async def plan_page(request: Request, user: CurrentUser, plan_id: str) -> Response:
    return await _plan_page(request, user, plan_id)


async def _step(
    request: Request,
    user: User,
    plan_id: str,
    *,
    path: str,
    body: Json,
    errors: Errors,
    done: str,
    key: str = "plan",
    values: Json | None = None,
    prefixed: bool = False,
) -> Response:
    """Posts one step of a plan or measure unless the form already has errors; back to the plan
    with `done` said, or the plan again with the errors beside the form (`key`)."""
    if not errors:
        try:
            await user.api.post(path, body)
        except ApiError as exc:
            _refused(errors, exc)
        else:
            user.session.flash = done
            return RedirectResponse(f"/plans/{plan_id}", status_code=303)
    if prefixed:
        # The plan's later steps share one page: their fields' ids carry the form's name.
        errors.fields = {f"{key}-{name}": message for name, message in errors.fields.items()}
    elif key != "plan":
        # Every reported measure has its own form: its fields' ids carry the measure's id.
        errors.fields = {f"{name}-{key}": message for name, message in errors.fields.items()}
    return await _plan_page(
        request,
        user,
        plan_id,
        errors={key: errors},
        values={key: values or {}},
        status=422 if errors.fields else 409,
    )


@router.post("/{plan_id}/submit", dependencies=[require(*CASE_WORKERS)])
async def submit(request: Request, user: CurrentUser, plan_id: str) -> Response:
    return await _step(
        request,
        user,
        plan_id,
        path=f"/v1/plans/{plan_id}/submit",
        body={},
        errors=Errors(),
        done=N_("The plan is submitted for approval."),
    )


@router.post("/{plan_id}/approve", dependencies=[require(*APPROVERS)])
async def approve(
    request: Request, user: CurrentUser, plan_id: str, decision: Annotated[str, Form()] = ""
) -> Response:
    errors = Errors()
    text = forms.required_text(
        errors, "decision", decision, N_("Enter the approving body's decision")
    )
    return await _step(
        request,
        user,
        plan_id,
        path=f"/v1/plans/{plan_id}/approve",
        body={"decision": text},
        errors=errors,
        done=N_("The plan is approved; its measures go to their agencies."),
        values={"decision": decision},
    )


@router.post("/{plan_id}/measures/{measure_id}/complete", dependencies=[require(*CASE_WORKERS)])
async def complete(
    request: Request,
    user: CurrentUser,
    plan_id: str,
    measure_id: str,
    completed_on: Annotated[str, Form()] = "",
) -> Response:
    errors = Errors()
    day = _day(errors, "completed_on", completed_on)
    if day is not None and day > utcnow().date():
        errors.add("completed_on", N_("The date cannot be in the future"))
    return await _step(
        request,
        user,
        plan_id,
        path=f"/v1/measures/{measure_id}/complete",
        body={"completed_on": day.isoformat() if day else ""},
        errors=errors,
        done=N_("The measure is completed."),
        key=measure_id,
        values={"completed_on": completed_on},
    )


@router.post("/{plan_id}/measures/{measure_id}/return", dependencies=[require(*CASE_WORKERS)])
async def return_measure(
    request: Request,
    user: CurrentUser,
    plan_id: str,
    measure_id: str,
    mode: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    new_deadline: Annotated[str, Form()] = "",
) -> Response:
    errors = Errors()
    if mode not in RETURN_MODES:
        errors.add("mode", N_("Select rework or repeat execution"))
    text = _text(errors, "reason", reason, N_("Enter why the measure goes back"))
    day = _day(errors, "new_deadline", new_deadline)
    return await _step(
        request,
        user,
        plan_id,
        path=f"/v1/measures/{measure_id}/return",
        body={"mode": mode, "reason": text, "new_deadline": day.isoformat() if day else ""},
        errors=errors,
        done=N_("The measure is returned to its agency with the new deadline."),
        key=measure_id,
        values={"mode": mode, "reason": reason, "new_deadline": new_deadline},
    )


# --- later in the plan's life (PLN-10 ... PLN-14) ---------------------------------------------


@dataclass(frozen=True)
class Answer:
    """One field of a later step's form: a choice of `options`, a line (at most 200 characters)
    or a text; `missing` is said when it is empty (None: it may be)."""

    name: str
    missing: str | None = None
    options: dict[str, str] | None = None
    line: bool = False


@dataclass(frozen=True)
class Step:
    roles: tuple[str, ...]
    key: str  # the form's name on the plan page, before each of its fields' ids
    answers: tuple[Answer, ...]
    done: str


# The API path after /v1/plans/{id}/ -> the step (the same path after /plans/{id}/ here).
STEPS = {
    "reviews": Step(
        CENTER_STAFF,
        "review",
        (Answer("kind", N_("Select the interim or the final review"), REVIEW_KINDS),),
        N_("The review is open: measures may now be added, changed or cancelled."),
    ),
    "reviews/conclude": Step(
        CENTER_STAFF,
        "conclude",
        (
            Answer("decision", N_("Select what the review decides"), REVIEW_DECISIONS),
            Answer("conclusion", N_("Enter the review's findings")),
        ),
        N_("The review is concluded."),
    ),
    "level-changes": Step(
        CENTER_STAFF,
        "level",
        (
            Answer("person", N_("Enter who in the family it concerns"), line=True),
            Answer("from_level", N_("Select the support level"), SUPPORT_LEVELS),
            Answer("to_level", N_("Select the support level"), SUPPORT_LEVELS),
            Answer("reason"),
        ),
        N_("The support level change is recorded."),
    ),
    "close": Step(
        APPROVERS,
        "close",
        (
            Answer("ground", N_("Select the ground for closing"), CLOSURE_GROUNDS),
            Answer("explanation"),
            Answer("decision", N_("Enter the approving body's decision"), line=True),
        ),
        N_("The plan is closed; the family is told in writing and monitoring begins."),
    ),
    "monitoring/end": Step(
        CENTER_STAFF,
        "monitoring",
        (Answer("outcome", N_("Enter what the monitoring found")),),
        N_("Monitoring has ended; the plan is closed."),
    ),
}


def _text(errors: Errors, name: str, value: str, missing: str | None) -> str:
    text = value.strip()
    if missing is not None and not text:
        errors.add(name, missing)
    elif len(text) > 4000:
        errors.add(name, N_("Enter at most 4000 characters"))
    return text


def _answer(errors: Errors, answer: Answer, value: str) -> str:
    if answer.options is not None:
        if value not in answer.options:
            errors.add(answer.name, answer.missing or N_("Select"))
        return value
    if answer.line:
        return forms.required_text(errors, answer.name, value, answer.missing or "")
    return _text(errors, answer.name, value, answer.missing)


@router.post("/{plan_id}/{step:path}")
async def later_step(request: Request, user: CurrentUser, plan_id: str, step: str) -> Response:
    """Review, conclude, support-level change, closure, end of monitoring: the services decide
    whether the plan's state and the profile allow it."""
    spec = STEPS.get(step)
    if spec is None or not user.can(*spec.roles):
        raise HTTPException(status_code=404)
    data = await request.form()
    errors = Errors()
    values = {a.name: str(data.get(a.name, "")) for a in spec.answers}
    body = {a.name: _answer(errors, a, values[a.name]) for a in spec.answers}
    return await _step(
        request,
        user,
        plan_id,
        path=f"/v1/plans/{plan_id}/{step}",
        body=body,
        errors=errors,
        done=spec.done,
        key=spec.key,
        values=values,
        prefixed=True,
    )
