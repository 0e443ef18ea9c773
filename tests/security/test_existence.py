"""Another territory cannot tell whether a record exists (issue 10, "Existence leaks").

Every gateway route that takes a record's id (in its path, its query or its body) is called by
users of another territory who hold the route's roles, once with the id of a real record and once
with a random id: the two answers are the same, status and problem body alike (its `instance`
aside, which echoes the path), and neither is measurably slower. Each service establishes that a
record is in the caller's scope before any other check (a role that depends on the record, its
state), and answers a foreign record exactly as it answers a missing one.

`PROBES` lists the routes; `test_every_route_with_an_id_is_probed` fails when a route that takes
an id is added without a probe.
"""

from __future__ import annotations

import asyncio
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest

from gateway.app import create_app
from gateway.settings import GatewaySettings
from kamqor.clock import utcnow
from kamqor.profiles import get_profile
from tests.e2e.harness import Suite
from tests.registry.factories import change_json, inquiry_json, session_json
from tests.security.conftest import PASSWORD, create_user
from tests.support.factories import years_ago

pytestmark = pytest.mark.e2e

KZ = get_profile("kz")
IRK = get_profile("ru-irk")
# A registry office's staff in Almaty: an agency type the realm's demo users do not have.
FOREIGN_OFFICE = "security.office.ala"
# Calls per id for the timing comparison; medians further apart than this are a visible gap.
TIMING_CALLS = 7
GROSS_GAP_SECONDS = 0.05

Ids = dict[str, str]


@dataclass(frozen=True)
class Probe:
    """One route, who calls it from another territory, and the request with a given id."""

    method: str
    path: str  # the route's template, as in the OpenAPI document
    kind: str  # which record's id (`Ids` key)
    callers: tuple[str, ...]
    body: Callable[[str], dict[str, Any] | None] = lambda _id: None
    query: Callable[[str], dict[str, str]] = lambda _id: {}
    # The path's other parameters, fixed (a bed's number in its shelter).
    fixed: tuple[tuple[str, str], ...] = ()

    def url(self, record_id: str) -> str:
        param = self.path[self.path.find("{") + 1 : self.path.find("}")] if "{" in self.path else ""
        url = self.path.replace("{" + param + "}", record_id) if param else self.path
        for name, value in self.fixed:
            url = url.replace("{" + name + "}", value)
        return url


def _future(days: int) -> str:
    return (utcnow().astimezone(KZ.zone).date() + timedelta(days=days)).isoformat()


def _adult() -> dict[str, Any]:
    return {"full_name": "Existence Check", "birth_date": years_ago(30)}


PROBES: tuple[Probe, ...] = (
    Probe("get", "/v1/appeals/{appeal_id}", "appeal", ("caseworker.ala", "head.ala")),
    Probe(
        "post",
        "/v1/stays",
        "shelter",
        ("shelter.ala",),
        body=lambda i: {"shelter_id": i, "adult": _adult(), "referral": "self_application"},
    ),
    Probe(
        "get",
        "/v1/stays",
        "shelter",
        ("shelter.ala", "head.ala"),
        query=lambda i: {"shelter_id": i},
    ),
    Probe("get", "/v1/stays/{stay_id}", "stay", ("shelter.ala", "head.ala")),
    Probe(
        "post",
        "/v1/stays/{stay_id}/discharge",
        "stay",
        ("shelter.ala",),
        body=lambda _i: {"reason": "existence check"},
    ),
    Probe("get", "/v1/notices/{notice_id}", "notice", ("police.ala", "head.ala")),
    Probe("get", "/v1/notices/{notice_id}/deliveries", "notice", ("police.ala", "head.ala")),
    Probe("get", "/v1/notices/{notice_id}/letter", "notice", ("police.ala",)),
    Probe("get", "/v1/shelters/{shelter_id}/beds", "shelter", ("shelter.ala", "head.ala")),
    Probe(
        "post",
        "/v1/shelters/{shelter_id}/beds/{number}/service",
        "shelter",
        ("shelter.ala",),
        body=lambda _i: {"out_of_service": True, "reason": "existence check"},
        fixed=(("number", "1"),),
    ),
    Probe(
        "post",
        "/v1/stays/{stay_id}/extend",
        "stay",
        ("shelter.ala", "head.ala"),
        body=lambda _i: {"decision_number": "7-sh", "reason": "check", "until": _future(40)},
    ),
    Probe(
        "post",
        "/v1/stays/{stay_id}/support",
        "stay",
        ("shelter.ala",),
        body=lambda _i: {
            "case_id": str(uuid.uuid4()),
            "items": [
                {
                    "agency_id": "hlt-ala-1",
                    "agency_type": "health",
                    "due_on": _future(5),
                    "kind": "medical",
                }
            ],
        },
    ),
    Probe("get", "/v1/cases/{case_id}", "case", ("caseworker.ala", "head.ala", "intake.ala")),
    Probe(
        "post",
        "/v1/cases/{case_id}/assessments",
        "case",
        ("caseworker.ala",),
        body=lambda _i: {"outcome": "none", "consent": "given"},
    ),
    Probe(
        "post",
        "/v1/cases/{case_id}/close",
        "case",
        ("caseworker.ala",),
        body=lambda _i: {"reason": "check"},
    ),
    Probe(
        "post",
        "/v1/cases/{case_id}/home-visits",
        "case",
        ("caseworker.ala",),
        body=lambda _i: {"findings": "Existence check.", "visited_on": _future(0)},
    ),
    Probe(
        "post",
        "/v1/cases/{case_id}/worker",
        "case",
        ("head.ala",),
        body=lambda _i: {"worker": "caseworker.ala"},
    ),
    Probe(
        "post",
        "/v1/appeals/{appeal_id}/triage",
        "appeal",
        ("caseworker.ala",),
        body=lambda _i: {"kind": "consultation", "note": "Existence check."},
    ),
    Probe(
        "post",
        "/v1/appeals/{appeal_id}/follow-ups",
        "appeal",
        ("caseworker.ala", "head.ala"),
        body=lambda _i: {"kind": "information", "text": "Existence check."},
    ),
    Probe("get", "/v1/families/{family_id}", "intake_family", ("caseworker.ala", "intake.ala")),
    Probe(
        "post",
        "/v1/families/{family_id}/merges",
        "intake_family",
        ("intake.ala",),
        body=lambda _i: {"merged_family_id": MERGED_ELSEWHERE, "reason": "Existence check."},
    ),
    Probe("post", "/v1/family-merges/{merge_id}/undo", "merge", ("intake.ala", "head.ala")),
    Probe("post", "/v1/notices/{notice_id}/ack", "notice", ("police.ala",)),
    Probe("get", "/v1/plans/{plan_id}", "plan", ("caseworker.ala", "head.ala")),
    Probe(
        "post",
        "/v1/plans/{plan_id}/approve",
        "plan",
        ("commission.ala", "head.ala"),
        body=lambda _i: {"decision": "Protocol 1"},
    ),
    Probe("post", "/v1/plans/{plan_id}/submit", "plan", ("caseworker.ala",)),
    Probe(
        "post",
        "/v1/plans/{plan_id}/reviews",
        "plan",
        ("caseworker.ala", "head.ala"),
        body=lambda _i: {"kind": "interim"},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/reviews/conclude",
        "plan",
        ("caseworker.ala", "head.ala"),
        body=lambda _i: {"decision": "continue", "conclusion": "Existence check."},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/level-changes",
        "plan",
        ("caseworker.ala", "head.ala"),
        body=lambda _i: {"person": "mother", "from_level": "crisis", "to_level": "basic"},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/extend",
        "plan",
        ("commission.ala", "head.ala"),
        body=lambda _i: {"request_received_on": _future(0), "months": 12, "decision": "P-2"},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/close",
        "plan",
        ("commission.ala", "head.ala"),
        body=lambda _i: {"ground": "family_refused", "decision": "P-3"},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/monitoring/end",
        "plan",
        ("caseworker.ala", "head.ala"),
        body=lambda _i: {"outcome": "Existence check."},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/reopen",
        "plan",
        ("caseworker.ala",),
        body=lambda _i: {
            "reason": "Existence check.",
            "measures": [
                {
                    "kind": "pedagogical",
                    "agency_id": "edu-ala-1",
                    "agency_type": "education",
                    "title": "Tutoring",
                    "deadline": _future(30),
                }
            ],
        },
    ),
    Probe(
        "post",
        "/v1/measures/{measure_id}/assignee",
        "measure",
        ("education.ala",),
        body=lambda _i: {"assignee": "teacher.ala"},
    ),
    Probe(
        "post",
        "/v1/measures/{measure_id}/report",
        "measure",
        ("teacher.ala",),
        body=lambda _i: {"report": "Lessons given"},
    ),
    Probe(
        "post",
        "/v1/measures/{measure_id}/complete",
        "measure",
        ("caseworker.ala", "head.ala"),
        body=lambda _i: {"completed_on": _future(0)},
    ),
    Probe(
        "post",
        "/v1/measures/{measure_id}/return",
        "measure",
        ("caseworker.ala",),
        body=lambda _i: {"mode": "rework", "reason": "No report", "new_deadline": _future(10)},
    ),
    # --- the agency directory and measure routing (issue 14) ---
    Probe("get", "/v1/agencies/{agency_id}", "agency", ("caseworker.ala", "education.ala")),
    Probe(
        "post",
        "/v1/measures/{measure_id}/decline",
        "measure",
        ("education.ala",),
        body=lambda _i: {"reason": "no_capacity"},
    ),
    Probe(
        "post",
        "/v1/measures/{measure_id}/reroute",
        "measure",
        ("caseworker.ala",),
        body=lambda _i: {"agency_id": "edu-ala-1", "deadline": _future(10)},
    ),
    Probe(
        "post",
        "/v1/plans/{plan_id}/measures",
        "plan",
        ("caseworker.ala",),
        body=lambda _i: {
            "measure": {
                "kind": "pedagogical",
                "agency_id": "edu-ala-1",
                "agency_type": "education",
                "title": "Existence check",
                "deadline": _future(20),
            },
            "reason": "Existence check",
        },
    ),
    Probe(
        "patch",
        "/v1/measures/{measure_id}",
        "measure",
        ("caseworker.ala",),
        body=lambda _i: {"title": "Existence check", "reason": "Existence check"},
    ),
    Probe(
        "post",
        "/v1/measures/{measure_id}/cancel",
        "measure",
        ("caseworker.ala",),
        body=lambda _i: {"reason": "Existence check"},
    ),
    *(
        Probe(
            "post",
            f"/v1/registry/decisions/{{decision_id}}/{step}",
            "decision",
            (FOREIGN_OFFICE, "commission.ala"),
        )
        for step in ("receive", "enter", "remove", "send")
    ),
    Probe("get", "/v1/registry/sessions/{session_id}", "session", ("commission.ala",)),
    Probe(
        "post",
        "/v1/registry/changes/{change_id}/enter",
        "change",
        (FOREIGN_OFFICE, "commission.ala"),
    ),
    Probe(
        "get",
        "/v1/registry/families/{family_id}",
        "family",
        (FOREIGN_OFFICE, "caseworker.ala", "commission.ala"),
        query=lambda _i: {"purpose": "existence check"},
    ),
    Probe(
        "post",
        "/v1/registry/deregistrations",
        "family",
        ("commission.ala",),
        body=lambda i: {
            "family_id": i,
            "decided_on": _future(0),
            "number": "KDN-1",
            "vote": {"members_present": 5, "votes_for": 4, "votes_against": 0},
            "hearing": {
                "prevention_bodies_heard": True,
                "minor_opinion_heard": True,
                "parents_opinion_heard": True,
            },
            "grounds": "existence check",
        },
    ),
    # Information requests (REG-8): only their own agency ever reads one.
    Probe("get", "/v1/registry/inquiries/{inquiry_id}", "inquiry", (FOREIGN_OFFICE,)),
    Probe("post", "/v1/registry/inquiries/{inquiry_id}/answer", "inquiry", (FOREIGN_OFFICE,)),
    # Quarterly monitoring reports (MON-1): a territory's analysts and center head only.
    Probe(
        "get",
        "/v1/monitoring-reports/{report_id}",
        "monitoring_report",
        ("analyst.ala", "head.ala"),
    ),
    Probe(
        "post",
        "/v1/monitoring-reports/{report_id}/revisions",
        "monitoring_report",
        ("analyst.ala", "head.ala"),
        body=lambda _i: {"conclusion": "Existence check."},
    ),
    Probe(
        "post",
        "/v1/monitoring-reports/{report_id}/sign",
        "monitoring_report",
        ("head.ala",),
        body=lambda _i: {"version": 1},
    ),
    Probe(
        "get",
        "/v1/monitoring-reports/{report_id}/export.pdf",
        "monitoring_report",
        ("analyst.ala",),
    ),
    Probe(
        "get",
        "/v1/monitoring-reports/{report_id}/export.csv",
        "monitoring_report",
        ("analyst.ala",),
    ),
)
# A family id that names no record anywhere, for the merge probe's body.
MERGED_ELSEWHERE = str(uuid.uuid4())
# Routes whose path names the caller's own territory's record, never another's: a mobile group
# is looked up by year inside the caller's territory, so there is no foreign record to probe.
OWN_TERRITORY = {("get", "/v1/mobile-groups/{year}")}
# Routes that take an id in the body or the query instead of the path.
ID_IN_BODY_OR_QUERY = {
    ("post", "/v1/stays"),
    ("get", "/v1/stays"),
    ("post", "/v1/registry/deregistrations"),
}


def test_every_route_with_an_id_is_probed() -> None:
    document = create_app(GatewaySettings()).openapi()
    with_ids = {
        (method, path)
        for path, operations in document["paths"].items()
        for method in operations
        if path.startswith("/v1/") and "{" in path
    }
    probed = {(p.method, p.path) for p in PROBES}
    assert with_ids - OWN_TERRITORY <= probed, (
        f"routes without a probe: {sorted(with_ids - probed)}"
    )
    assert probed - with_ids == ID_IN_BODY_OR_QUERY


async def _ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


async def _records(suite: Suite) -> Ids:
    """One real record of each kind, in Astana (Irkutsk for the data bank)."""
    ids: Ids = {}
    async with suite.client("hotline.ast") as hotline:
        appeal = await _ok(
            await hotline.post(
                "/v1/appeals",
                json={
                    "channel": "hotline_111",
                    "summary": "Existence check",
                    "persons": [{"full_name": "Existence Check", "relation": "mother"}],
                },
            )
        )
    ids["appeal"] = appeal["id"]
    ids["case"] = appeal["case_id"]
    ids["intake_family"] = appeal["family_id"]
    async with suite.client("hotline.ast") as hotline:
        other_appeal = await _ok(
            await hotline.post(
                "/v1/appeals",
                json={
                    "channel": "hotline_111",
                    "summary": "Existence check, the same family again",
                    "persons": [{"full_name": "Existence Other", "relation": "mother"}],
                },
            )
        )
    async with suite.client("intake.ast") as intake:
        merge = await _ok(
            await intake.post(
                f"/v1/families/{appeal['family_id']}/merges",
                json={"merged_family_id": other_appeal["family_id"], "reason": "Same mother."},
            )
        )
    ids["merge"] = merge["merge"]["id"]
    async with suite.client("head.ast") as head:
        shelter = await _ok(
            await head.post(
                "/v1/shelters", json={"name": f"Existence {uuid.uuid4().hex[:6]}", "capacity": 5}
            )
        )
    ids["shelter"] = shelter["id"]
    async with suite.client("shelter.ast") as operator:
        stay = await _ok(
            await operator.post(
                "/v1/stays",
                json={
                    "shelter_id": shelter["id"],
                    "adult": _adult(),
                    "minors": [{"full_name": "Existence Minor", "birth_date": years_ago(5)}],
                    "referral": "self_application",
                },
            )
        )
    ids["stay"] = stay["id"]
    measure = {
        "kind": "pedagogical",
        "agency_id": "edu-ast-1",
        "agency_type": "education",
        "title": "Tutoring",
        "deadline": _future(30),
    }
    plan = {
        "case_id": str(uuid.uuid4()),
        "situation": "dls",
        "measures": [measure],
        "participants": [{"role": "family", "name": "Existence Check (mother)"}],
    }
    async with suite.client("caseworker.ast") as caseworker:
        draft = await _ok(await caseworker.post("/v1/plans", json=plan))
        approved = await _ok(await caseworker.post("/v1/plans", json=plan))
        # Only a submitted plan is approved (PLN-4).
        await _ok(await caseworker.post(f"/v1/plans/{approved['id']}/submit"))
    async with suite.client("head.ast") as head:
        approved = await _ok(
            await head.post(f"/v1/plans/{approved['id']}/approve", json={"decision": "P-1"})
        )
    ids["plan"] = draft["id"]  # a draft: approving it needs the center head (kz, DLS)
    ids["measure"] = approved["measures"][0]["id"]
    ids["agency"] = "edu-ast-1"  # the directory's Astana school (deploy/agencies/demo.yaml)
    async with suite.client("police.ast") as police:
        for _ in range(200):
            page = await _ok(await police.get("/v1/notices"))
            found = [n for n in page["items"] if n["subject"] == f"stay/{stay['id']}"]
            if found:
                break
            await asyncio.sleep(0.1)
    assert found, "no SHL-3 notice reached the police"
    ids["notice"] = found[0]["id"]
    today = utcnow().astimezone(IRK.zone).date()
    registration = {
        "decided_on": today.isoformat(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": {"members_present": 7, "votes_for": 5, "votes_against": 1},
        "hearing": {
            "prevention_bodies_heard": True,
            "minor_opinion_heard": True,
            "parents_opinion_heard": True,
        },
        "grounds": "Existence check",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Family support center of Irkutsk",
        "review_on": (today + timedelta(days=120)).isoformat(),
        "minors": [
            {
                "full_name": "Existence Check",
                "relation": "",
                "birth_date": years_ago(10),
                "birth_place": "Irkutsk",
                "registered_address": "Irkutsk",
                "actual_address": "Irkutsk",
                "work_or_study": "School",
            }
        ],
    }
    async with suite.client("commission.irk") as commission:
        recorded = await _ok(await commission.post("/v1/registry/decisions", json=registration))
    ids["decision"] = recorded["decision"]["id"]
    ids["family"] = recorded["family"]["id"]
    async with suite.client("commission.irk") as commission:
        opened = await _ok(await commission.post("/v1/registry/sessions", json=session_json()))
    ids["session"] = opened["id"]
    async with suite.client("commission.irk") as commission:
        other = await _ok(await commission.post("/v1/registry/decisions", json=registration))
    async with suite.client("registry.irk") as office:
        for step in ("receive", "enter"):
            url = f"/v1/registry/decisions/{other['decision']['id']}/{step}"
            await _ok(await office.post(url))
    async with suite.client("caseworker.irk") as caseworker:
        change = await _ok(
            await caseworker.post("/v1/registry/changes", json=change_json(other["family"]["id"]))
        )
    ids["change"] = change["id"]
    async with suite.client("police.irk") as police:
        inquiry = await _ok(await police.post("/v1/registry/inquiries", json=inquiry_json()))
    ids["inquiry"] = inquiry["id"]
    async with suite.client("analyst.ast") as analyst:
        report = await _ok(
            await analyst.post(
                "/v1/monitoring-reports",
                json={"quarter": _ended_quarter(), "conclusion": "Existence check."},
            )
        )
    ids["monitoring_report"] = report["id"]
    return ids


def _ended_quarter() -> str:
    """The quarter before the one the domain clock is in (MON-1 reports only ended ones)."""
    today = utcnow().astimezone(KZ.zone).date()
    number = (today.month - 1) // 3
    return f"{today.year - 1}-Q4" if number == 0 else f"{today.year}-Q{number}"


def _comparable(response: httpx.Response) -> tuple[int, Any]:
    try:
        body = response.json()
    except ValueError:
        return response.status_code, response.text
    if isinstance(body, dict):
        body.pop("instance", None)
    return response.status_code, body


async def _timed(client: httpx.AsyncClient, probe: Probe, record_id: str) -> httpx.Response:
    return await client.request(
        probe.method.upper(),
        probe.url(record_id),
        json=probe.body(record_id),
        params=probe.query(record_id) or None,
    )


async def test_a_foreign_record_answers_like_a_missing_one(suite: Suite) -> None:
    create_user(
        suite.keycloak,
        FOREIGN_OFFICE,
        roles=("agency-coordinator", "agency-assignee"),
        agency="reg-ala-1",
        agency_type="registry_office",
        territory="kz-ala",
    )
    suite.tokens[FOREIGN_OFFICE] = suite.keycloak.token(FOREIGN_OFFICE, PASSWORD)
    ids = await _records(suite)
    leaks: list[str] = []
    gaps: list[str] = []
    checked = 0
    for probe in PROBES:
        for caller in probe.callers:
            async with suite.client(caller) as client:
                real, missing = ids[probe.kind], str(uuid.uuid4())
                times: dict[str, list[float]] = {real: [], missing: []}
                answers: dict[str, httpx.Response] = {}
                for _ in range(TIMING_CALLS):
                    for record_id in (real, missing):
                        began = time.perf_counter()
                        answers[record_id] = await _timed(client, probe, record_id)
                        times[record_id].append(time.perf_counter() - began)
            checked += 1
            where = f"{probe.method.upper()} {probe.path} as {caller}"
            if _comparable(answers[real]) != _comparable(answers[missing]):
                leaks.append(
                    f"{where}: real {answers[real].status_code} {answers[real].text[:200]} / "
                    f"random {answers[missing].status_code} {answers[missing].text[:200]}"
                )
            assert answers[real].status_code < 500, (where, answers[real].text)
            gap = statistics.median(times[real]) - statistics.median(times[missing])
            if abs(gap) > GROSS_GAP_SECONDS:
                gaps.append(f"{where}: medians differ by {gap * 1000:.0f} ms")
    assert checked == sum(len(p.callers) for p in PROBES)
    assert not leaks, "\n".join(leaks)
    assert not gaps, "\n".join(gaps)
