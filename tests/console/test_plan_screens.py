"""The plan screens rendered against a fake gateway: the center's plans with what is due next,
drafting a plan, submit and approve, completing or returning a reported measure; each role's
buttons, the API's refusals beside the right field in the user's language, CSRF."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pytest

from kamqor.clock import clock_at
from tests.console.fakes import answer, client, console_app, principal, sign_in

CASE_WORKER = principal("caseworker.ast", "case-worker")
HEAD = principal("head.ast", "center-head")
PLAN_ID = "0196b000-0000-7000-8000-000000000001"
MEASURE_ID = "0196b000-0000-7000-8000-0000000000a1"
MEASURE: dict[str, Any] = {
    "id": MEASURE_ID,
    "plan_id": PLAN_ID,
    "case_id": None,
    "territory": "kz-ast",
    "center_id": "fc-ast-1",
    "agency_id": "edu-ast-1",
    "agency_type": "education",
    "kind": "pedagogical",
    "title": "Tutoring in mathematics",
    "target": "eldest child",
    "deadline": "2027-02-15",
    "state": "reported",
    "sent_at": "2026-11-17T05:00:00Z",
    "assignee": "teacher.ast",
    "assigned_at": "2026-11-17T06:00:00Z",
    "reported_at": "2026-11-17T07:00:00Z",
    "report": "Eight lessons given",
    "reported_on_time": True,
    "return_reason": None,
    "return_mode": None,
    "returns": 0,
    "completed_on": None,
    "obligations": [
        {"rule": "PLN-9", "state": "open", "due_at": "2026-11-20T12:59:59Z"},
        {"rule": "PLN-6", "state": "met", "due_at": "2026-11-19T12:59:59Z"},
    ],
}
PLAN: dict[str, Any] = {
    "id": PLAN_ID,
    "center_id": "fc-ast-1",
    "territory": "kz-ast",
    "case_id": None,
    "situation": "dls",
    "support_level": None,
    "state": "approved",
    "created_by": "sub-caseworker.ast",
    "created_at": "2026-11-17T04:00:00Z",
    "approved_by": "sub-head.ast",
    "approved_at": "2026-11-17T04:30:00Z",
    "approval_decision": "Protocol 12",
    "term_ends_at": "2027-11-17T18:59:59Z",
    "measures": [MEASURE],
    "history": [
        {
            "act": "approve",
            "from_state": "submitted",
            "to_state": "approved",
            "at": "2026-11-17T04:30:00Z",
            "by": "head.ast",
            "reason": "Protocol 12",
        }
    ],
    "level_changes": [
        {
            "id": "0196b000-0000-7000-8000-0000000000c1",
            "person": "mother",
            "from_level": "crisis",
            "to_level": "basic",
            "direction": "better",
            "indicator": None,
            "reason": None,
            "at": "2026-11-17T04:40:00Z",
            "by": "head.ast",
        }
    ],
}
LISTED = {
    "id": PLAN_ID,
    "case_id": None,
    "situation": "dls",
    "state": "approved",
    "created_by": "sub-caseworker.ast",
    "created_at": "2026-11-17T04:00:00Z",
    "term_ends_at": "2027-11-17T18:59:59Z",
    "measures": 3,
    "open_measures": 2,
    "next_due": {"rule": "PLN-9", "state": "open", "due_at": "2026-11-20T12:59:59Z"},
}
AGENCIES = {
    "items": [
        {"id": "edu-ast-1", "name": "School 12", "agency_type": "education", "active": True},
        {"id": "hlt-ast-1", "name": "Polyclinic 3", "agency_type": "health", "active": True},
        {"id": "edu-ast-9", "name": "Closed school", "agency_type": "education", "active": False},
    ]
}
INVALID = "https://kamqor.dev/problems/invalid"
RETURNED = {"mode": "rework", "reason": "No grades attached", "new_deadline": "2027-01-15"}
# A Tuesday morning in Astana: "today" of the completion date and of the future-date check.
NOW = datetime.fromisoformat("2026-11-17T10:00:00+05:00")


@pytest.fixture(autouse=True)
def pinned_clock() -> Iterator[None]:
    with clock_at(NOW):
        yield


def gateway(
    seen: list[httpx.Request],
    plan: dict[str, Any] | None = None,
    routes: dict[str, Any] | None = None,
) -> Any:
    overrides = routes or {}

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        path = request.url.path
        if path in overrides:
            return overrides[path](request)  # type: ignore[no-any-return]
        if path == "/v1/plans" and request.method == "GET":
            return answer({"items": [LISTED], "next_page_token": None})
        if path == f"/v1/plans/{PLAN_ID}":
            return answer(plan or PLAN)
        if path == "/v1/agencies":
            return answer(AGENCIES)
        if request.method == "POST":
            return answer({"id": PLAN_ID}, 201)
        return answer({"type": "https://kamqor.dev/problems/not-found"}, 404)

    return handle


def posted(seen: list[httpx.Request], path: str) -> Any:
    (request,) = [r for r in seen if r.method == "POST" and r.url.path == path]
    return json.loads(request.content)


def measure_row(**values: str) -> dict[str, str]:
    return {
        f"measures-0-{k}": values.get(k, "") for k in ("kind", "agency_id", "title", "target")
    } | {"measures-0-deadline": values.get("deadline", "")}


async def test_the_list_shows_each_plan_with_its_state_and_what_is_due_next() -> None:
    seen: list[httpx.Request] = []
    app = console_app(gateway(seen))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        page = await http.get("/plans?state=approved")
        fragment = await http.get("/plans?state=draft", headers={"HX-Request": "true"})
        everything = await http.get("/plans?state=bogus")
    assert page.status_code == 200, page.text
    row = re.search(rf'<tr data-plan="{PLAN_ID}".*?</tr>', page.text, re.S)
    assert row is not None
    assert "In force" in row.group(0) and "PLN-9" in row.group(0)
    assert "due 11/20/26, 5:59" in row.group(0)  # the due time in Astana (UTC+5)
    assert 'href="/plans/new"' in page.text  # a case worker drafts
    assert 'href="/plans"' in page.text  # the menu names the screen
    lists = [r for r in seen if r.url.path == "/v1/plans"]
    assert [r.url.params.get("state") for r in lists] == ["approved", "draft", None]
    assert "<html" not in fragment.text and 'id="plan-list"' in fragment.text
    assert everything.status_code == 200


async def test_the_russian_list_and_the_head_drafts_nothing() -> None:
    app = console_app(gateway([]))
    session = sign_in(app, HEAD, language="ru")
    async with client(app, session) as http:
        page = await http.get("/plans")
        form = await http.get("/plans/new")
    assert "Действует" in page.text  # "In force"
    assert 'href="/plans/new"' not in page.text
    assert form.status_code == 404


async def test_agencies_do_not_see_the_plan_screens() -> None:
    app = console_app(gateway([]))
    teacher = principal(
        "teacher.ast", "agency-assignee", agency="edu-ast-1", agency_type="education"
    )
    session = sign_in(app, teacher, language="en")
    async with client(app, session) as http:
        listing = await http.get("/plans")
        plan = await http.get(f"/plans/{PLAN_ID}")
        menu = await http.get("/agency")
    assert listing.status_code == 404 and plan.status_code == 404
    assert 'href="/plans"' not in menu.text


async def test_drafting_posts_the_plan_with_the_agency_from_the_directory() -> None:
    seen: list[httpx.Request] = []
    app = console_app(gateway(seen))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        blank = await http.get("/plans/new")
        done = await http.post(
            "/plans/new",
            data={
                "csrf_token": session.csrf_token,
                "form_key": "key-7",
                "situation": "dls",
                "support_level": "",
                "participants-0-role": "family",
                "participants-0-name": "Aigerim S. (mother)",
                "participants-0-organisation": "",
                "participants-1-role": "",
                "participants-1-name": "",
                "participants-1-organisation": "",
                "participants-2-role": "psychologist",
                "participants-2-name": "Dana K.",
                "participants-2-organisation": "fc-ast-1",
                **measure_row(
                    kind="pedagogical",
                    agency_id="edu-ast-1",
                    title="Tutoring in mathematics",
                    deadline="2027-02-15",
                ),
                "measures-1-kind": "",
                "measures-1-agency_id": "",
                "measures-1-title": "",
                "measures-1-target": "",
                "measures-1-deadline": "",
                "action": "draft",
            },
        )
    assert '<option value="edu-ast-1"' in blank.text and "School 12" in blank.text
    assert "edu-ast-9" not in blank.text  # no longer listed
    assert done.status_code == 303 and done.headers["location"] == f"/plans/{PLAN_ID}"
    assert posted(seen, "/v1/plans") == {
        "situation": "dls",
        "measures": [
            {
                "kind": "pedagogical",
                "title": "Tutoring in mathematics",
                "target": "",
                "agency_id": "edu-ast-1",
                "agency_type": "education",
                "deadline": "2027-02-15",
            }
        ],
        "participants": [
            {"role": "family", "name": "Aigerim S. (mother)", "organisation": ""},
            {"role": "psychologist", "name": "Dana K.", "organisation": "fc-ast-1"},
        ],
    }
    (create,) = [r for r in seen if r.method == "POST"]
    assert create.headers["Idempotency-Key"] == "key-7"


async def test_without_a_directory_the_agency_is_typed_with_its_type() -> None:
    seen: list[httpx.Request] = []
    missing = {"/v1/agencies": lambda r: answer({"type": "not-found"}, 404)}
    app = console_app(gateway(seen, routes=missing))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        blank = await http.get("/plans/new")
        refused = await http.post(
            "/plans/new",
            data={
                "csrf_token": session.csrf_token,
                "situation": "sdp",
                **measure_row(kind="medical", agency_id="hlt-ast-1", title="Check-up"),
                "measures-0-agency_type": "",
            },
        )
    assert 'name="measures-0-agency_type"' in blank.text
    assert refused.status_code == 422
    assert 'id="measures-0-agency_type-error"' in refused.text
    assert 'id="measures-0-deadline-error"' in refused.text
    assert not [r for r in seen if r.method == "POST"]  # named before the API is asked


async def test_the_api_refusal_of_a_deadline_is_beside_that_row_in_russian() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        if request.method == "GET":
            return answer({"items": [], "next_page_token": None})
        errors = [
            {"field": "measures[0].deadline", "message": "must be within the plan term"},
            {"field": "participants[0].name", "message": "at most 200 characters"},
        ]
        return answer({"type": INVALID, "status": 422, "errors": errors}, 422)

    seen: list[httpx.Request] = []
    app = console_app(gateway(seen, routes={"/v1/plans": refuse}))
    session = sign_in(app, CASE_WORKER, language="ru")
    empty_first = {f"measures-0-{k}": "" for k in ("kind", "agency_id", "title", "target")}
    async with client(app, session) as http:
        page = await http.post(
            "/plans/new",
            data={
                "csrf_token": session.csrf_token,
                "situation": "dls",
                "participants-0-role": "",
                "participants-0-name": "",
                "participants-0-organisation": "",
                "participants-1-role": "family",
                "participants-1-name": "Айгерим",
                "participants-1-organisation": "",
                **empty_first,
                "measures-0-deadline": "",
                # The second row is the plan's first measure: the API's measures[0].
                "measures-1-kind": "pedagogical",
                "measures-1-agency_id": "edu-ast-1",
                "measures-1-title": "Репетитор",
                "measures-1-target": "",
                "measures-1-deadline": "2030-01-01",
            },
        )
    assert page.status_code == 422
    beside = re.search(r'id="measures-1-deadline-error">(.*?)</p>', page.text, re.S)
    assert beside is not None and "срок" in beside.group(1).lower()
    assert 'href="#measures-1-deadline"' in page.text
    assert 'id="participants-1-name-error"' in page.text  # the API's participants[0]
    assert 'value="Репетитор"' in page.text  # kept


async def test_add_another_measure_keeps_what_was_typed() -> None:
    app = console_app(gateway([]))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        page = await http.post(
            "/plans/new",
            data={
                "csrf_token": session.csrf_token,
                "situation": "dls",
                **measure_row(kind="legal", title="Legal advice"),
                "action": "add_measure",
            },
        )
    assert page.status_code == 200
    assert 'id="measures-1-title"' in page.text and 'value="Legal advice"' in page.text
    assert "There is a problem" not in page.text


async def test_the_plan_page_shows_measures_obligations_and_the_case_worker_actions() -> None:
    app = console_app(gateway([]))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        page = await http.get(f"/plans/{PLAN_ID}")
    assert page.status_code == 200, page.text
    measure = re.search(rf'id="measure-{MEASURE_ID}".*?</li>', page.text, re.S)
    assert measure is not None
    text = measure.group(0)
    assert "edu-ast-1" in text and "Pedagogical" in text and "Reported" in text
    assert "PLN-9" in text and "PLN-6" not in text  # open obligations only
    assert f'action="/plans/{PLAN_ID}/measures/{MEASURE_ID}/complete"' in text
    assert f'action="/plans/{PLAN_ID}/measures/{MEASURE_ID}/return"' in text
    assert 'value="2026-11-17"' in text  # completed today by default (NOW)
    assert "/submit" not in page.text and "/approve" not in page.text
    history = re.search(r'<table class="table" id="history">.*?</table>', page.text, re.S)
    assert history is not None and "11/17/26, 9:30" in history.group(0)  # Astana time
    assert "Crisis → Basic (better), 11/17/26, 9:40" in page.text


async def test_submit_for_the_case_worker_and_approve_for_the_head() -> None:
    seen: list[httpx.Request] = []
    draft = {**PLAN, "state": "draft", "measures": [{**MEASURE, "state": "draft"}]}
    submitted = {**draft, "state": "submitted"}
    worker_app = console_app(gateway(seen, plan=draft))
    worker = sign_in(worker_app, CASE_WORKER, language="en")
    async with client(worker_app, worker) as http:
        page = await http.get(f"/plans/{PLAN_ID}")
        done = await http.post(f"/plans/{PLAN_ID}/submit", data={"csrf_token": worker.csrf_token})
        approve = await http.post(
            f"/plans/{PLAN_ID}/approve", data={"csrf_token": worker.csrf_token, "decision": "x"}
        )
        after = await http.get(done.headers["location"])
    assert f'action="/plans/{PLAN_ID}/submit"' in page.text and "/complete" not in page.text
    assert done.status_code == 303 and "submitted for approval" in after.text
    assert approve.status_code == 404  # a case worker never approves
    head_app = console_app(gateway(seen, plan=submitted))
    head = sign_in(head_app, HEAD, language="en")
    async with client(head_app, head) as http:
        page = await http.get(f"/plans/{PLAN_ID}")
        empty = await http.post(f"/plans/{PLAN_ID}/approve", data={"csrf_token": head.csrf_token})
        done = await http.post(
            f"/plans/{PLAN_ID}/approve",
            data={"csrf_token": head.csrf_token, "decision": "Protocol 12"},
        )
    assert f'action="/plans/{PLAN_ID}/approve"' in page.text and "/submit" not in page.text
    assert empty.status_code == 422 and 'id="decision-error"' in empty.text
    assert done.status_code == 303
    assert posted(seen, f"/v1/plans/{PLAN_ID}/submit") == {}
    assert posted(seen, f"/v1/plans/{PLAN_ID}/approve") == {"decision": "Protocol 12"}


async def test_the_four_eyes_refusal_is_said_over_the_form() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        return answer({"type": "https://kamqor.dev/problems/four-eyes", "status": 409}, 409)

    submitted = {**PLAN, "state": "submitted"}
    app = console_app(gateway([], plan=submitted, routes={f"/v1/plans/{PLAN_ID}/approve": refuse}))
    session = sign_in(app, HEAD, language="en")
    async with client(app, session) as http:
        page = await http.post(
            f"/plans/{PLAN_ID}/approve",
            data={"csrf_token": session.csrf_token, "decision": "Protocol 12"},
        )
    assert page.status_code == 409
    assert "Whoever drafted or submitted the plan cannot approve it" in page.text


async def test_completing_and_returning_a_reported_measure() -> None:
    seen: list[httpx.Request] = []
    app = console_app(gateway(seen))
    session = sign_in(app, CASE_WORKER, language="en")
    base = f"/plans/{PLAN_ID}/measures/{MEASURE_ID}"
    async with client(app, session) as http:
        future = await http.post(
            f"{base}/complete",
            data={"csrf_token": session.csrf_token, "completed_on": "2026-12-01"},
        )
        done = await http.post(
            f"{base}/complete",
            data={"csrf_token": session.csrf_token, "completed_on": "2026-11-17"},
        )
        unsaid = await http.post(
            f"{base}/return", data={"csrf_token": session.csrf_token, "mode": "rework"}
        )
        back = await http.post(
            f"{base}/return", data={"csrf_token": session.csrf_token, **RETURNED}
        )
    assert future.status_code == 422
    assert f'id="completed_on-{MEASURE_ID}-error"' in future.text
    assert f'href="#completed_on-{MEASURE_ID}"' in future.text
    assert done.status_code == 303 and back.status_code == 303
    assert unsaid.status_code == 422 and f'id="reason-{MEASURE_ID}-error"' in unsaid.text
    assert posted(seen, f"/v1/measures/{MEASURE_ID}/complete") == {"completed_on": "2026-11-17"}
    assert posted(seen, f"/v1/measures/{MEASURE_ID}/return") == RETURNED


async def test_the_api_refusal_of_a_new_deadline_is_beside_that_measure_in_kazakh() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        error = {"field": "new_deadline", "message": "must be within the plan term"}
        return answer({"type": INVALID, "status": 422, "errors": [error]}, 422)

    app = console_app(gateway([], routes={f"/v1/measures/{MEASURE_ID}/return": refuse}))
    session = sign_in(app, CASE_WORKER, language="kk")
    async with client(app, session) as http:
        late = {**RETURNED, "mode": "repeat", "new_deadline": "2030-01-01"}
        page = await http.post(
            f"/plans/{PLAN_ID}/measures/{MEASURE_ID}/return",
            data={"csrf_token": session.csrf_token, **late},
        )
    assert page.status_code == 422
    beside = re.search(rf'id="new_deadline-{MEASURE_ID}-error">(.*?)</p>', page.text, re.S)
    assert beside is not None and "The new deadline" not in beside.group(1)
    assert 'value="2030-01-01"' in page.text


async def test_every_plan_form_needs_the_csrf_token() -> None:
    seen: list[httpx.Request] = []
    app = console_app(gateway(seen))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        page = await http.get(f"/plans/{PLAN_ID}")
        forged = [
            await http.post(path, data={"csrf_token": "forged", "completed_on": "2026-11-17"})
            for path in (
                "/plans/new",
                f"/plans/{PLAN_ID}/submit",
                f"/plans/{PLAN_ID}/measures/{MEASURE_ID}/complete",
            )
        ]
    assert [r.status_code for r in forged] == [403, 403, 403]
    assert not [r for r in seen if r.method == "POST"]
    forms = re.findall(r'<form method="post".*?</form>', page.text, re.S)
    assert forms and all(f'value="{session.csrf_token}"' in f for f in forms)


async def test_later_steps_are_offered_by_state_and_role() -> None:
    under_review = {**PLAN, "state": "under_review"}
    closure = {
        "ground": "family_refused",
        "explanation": None,
        "decision": "Protocol 30",
        "closed_by": "head.ast",
        "closed_at": "2026-11-17T05:00:00Z",
        "monitoring_from": "2027-02-17T05:00:00Z",
        "monitoring_until": "2027-05-17T05:00:00Z",
        "monitoring_ended_at": None,
        "monitoring_outcome": None,
    }
    monitoring = {**PLAN, "state": "monitoring", "closure": closure}
    pages = {}
    for name, who, plan in (
        ("worker", CASE_WORKER, PLAN),
        ("head", HEAD, PLAN),
        ("review", CASE_WORKER, under_review),
        ("monitoring", HEAD, monitoring),
    ):
        app = console_app(gateway([], plan=plan))
        session = sign_in(app, who, language="en")
        async with client(app, session) as http:
            pages[name] = (await http.get(f"/plans/{PLAN_ID}")).text
    actions = {
        name: set(re.findall(rf'action="/plans/{PLAN_ID}/([a-z/-]+)"', text))
        for name, text in pages.items()
    }
    assert actions["worker"] >= {"reviews", "level-changes"} and "close" not in actions["worker"]
    assert actions["head"] >= {"reviews", "level-changes", "close"}
    assert actions["review"] >= {"reviews/conclude", "level-changes"}
    assert "reviews" not in actions["review"]
    assert actions["monitoring"] == {"monitoring/end"}
    assert "The family refused support: Protocol 30" in pages["monitoring"]
    assert "monitored until 5/17/27, 10:00" in pages["monitoring"]


async def test_closing_posts_the_ground_and_shows_a_refused_ground_beside_it() -> None:
    seen: list[httpx.Request] = []
    calls = []

    def close(request: httpx.Request) -> httpx.Response:
        calls.append(json.loads(request.content))
        if len(calls) == 1:
            error = {"field": "ground", "message": "must be one of [...] (PLN-10)"}
            return answer({"type": INVALID, "status": 422, "errors": [error]}, 422)
        return answer({**PLAN, "state": "monitoring"})

    app = console_app(gateway(seen, routes={f"/v1/plans/{PLAN_ID}/close": close}))
    session = sign_in(app, HEAD, language="ru")
    form = {
        "csrf_token": session.csrf_token,
        "ground": "family_refused",
        "explanation": "",
        "decision": "Протокол 30",
    }
    async with client(app, session) as http:
        missing = await http.post(f"/plans/{PLAN_ID}/close", data={**form, "decision": ""})
        refused = await http.post(f"/plans/{PLAN_ID}/close", data=form)
        done = await http.post(f"/plans/{PLAN_ID}/close", data=form)
    assert missing.status_code == 422 and 'id="close-decision-error"' in missing.text
    assert refused.status_code == 422
    assert 'id="close-ground-error"' in refused.text and 'href="#close-ground"' in refused.text
    assert '<details class="plan__close" open>' in refused.text
    assert done.status_code == 303
    assert calls[-1] == {"ground": "family_refused", "explanation": "", "decision": "Протокол 30"}
    assert len(calls) == 2  # the missing decision never reached the API


async def test_a_review_is_opened_and_concluded_with_its_findings() -> None:
    seen: list[httpx.Request] = []
    app = console_app(gateway(seen, plan={**PLAN, "state": "under_review"}))
    session = sign_in(app, CASE_WORKER, language="en")
    async with client(app, session) as http:
        opened = await http.post(
            f"/plans/{PLAN_ID}/reviews", data={"csrf_token": session.csrf_token, "kind": "interim"}
        )
        unsaid = await http.post(
            f"/plans/{PLAN_ID}/reviews/conclude",
            data={"csrf_token": session.csrf_token, "decision": "continue"},
        )
        concluded = await http.post(
            f"/plans/{PLAN_ID}/reviews/conclude",
            data={
                "csrf_token": session.csrf_token,
                "decision": "continue",
                "conclusion": "Attendance restored",
            },
        )
    assert opened.status_code == 303 and concluded.status_code == 303
    assert unsaid.status_code == 422 and 'id="conclude-conclusion-error"' in unsaid.text
    assert posted(seen, f"/v1/plans/{PLAN_ID}/reviews") == {"kind": "interim"}
    assert posted(seen, f"/v1/plans/{PLAN_ID}/reviews/conclude") == {
        "decision": "continue",
        "conclusion": "Attendance restored",
    }
