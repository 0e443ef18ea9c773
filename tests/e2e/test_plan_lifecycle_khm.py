"""A Yugra (ru-khm) plan's whole life through the gateway with real Keycloak tokens: the
application opens a case (intake), the plan is drafted with the family (PLN-3), submitted within a
working day and approved by the working group within 10 working days of the application (PLN-4),
its measures carried out by the agencies (PLN-5 … PLN-9), reviewed at 3 months with a level change
(PLN-13, PLN-14), closed on a listed ground by someone other than the case worker (PLN-10) with a
letter to the family (PLN-11, NTF-4), monitored (PLN-12) and reopened with a revised plan when the
situation worsens, the history whole; the MON-2 figures count it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from kamqor.clock import clock_at
from tests.e2e.harness import Suite, running_suite

pytestmark = pytest.mark.e2e

YEKT = ZoneInfo("Asia/Yekaterinburg")
# The person applied on Friday 29 January 2027; the center drafts the plan on Monday 1 February.
APPLIED = date(2027, 1, 29)
START = datetime(2027, 2, 1, 10, 0, tzinfo=YEKT)
FAMILY = [
    {"role": "family", "name": "Olga N. (mother)"},
    {"role": "psychologist", "name": "Irina S.", "organisation": "fc-khm-1"},
]


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def ok(resp: httpx.Response, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    return body


def day(offset: int) -> str:
    return (START.date() + timedelta(days=offset)).isoformat()


async def case_of_application(suite: Suite) -> dict[str, Any]:
    """The application is registered in the center's journal and opens the family's case."""
    async with suite.client("caseworker.khm") as worker:
        appeal = ok(
            await worker.post(
                "/v1/appeals",
                json={
                    "channel": "in_person",
                    "summary": "The mother asks for social accompaniment of the family",
                    "persons": [{"full_name": "Olga N.", "relation": "mother"}],
                },
                headers={"Idempotency-Key": "khm-e2e-application"},
            ),
            201,
        )
    assert appeal["case_id"], appeal
    return appeal


async def family_of(suite: Suite, plan_id: str) -> str:
    """Intake announces the case (CaseOpened); the plan learns its family from the event."""
    async with suite.client("caseworker.khm") as worker:
        for _ in range(100):
            plan = ok(await worker.get(f"/v1/plans/{plan_id}"))
            if plan["family_id"]:
                return str(plan["family_id"])
            await asyncio.sleep(0.2)
    raise AssertionError("the plan never learned its family from intake's CaseOpened")


async def test_ru_khm_plan_from_application_to_reopening(suite: Suite) -> None:
    """PLN-1, PLN-3, PLN-4, PLN-9, PLN-10, PLN-11, PLN-12, PLN-13, PLN-14 and MON-2 in ru-khm."""
    with clock_at(START):
        appeal = await case_of_application(suite)
        body = {
            "case_id": appeal["case_id"],
            "situation": "dls",
            "applied_on": APPLIED.isoformat(),
            "participants": FAMILY,
            "measures": [
                {
                    "kind": "pedagogical",
                    "agency_id": "edu-khm-1",
                    "agency_type": "education",
                    "title": "Tutoring in Russian twice a week",
                    "target": "son",
                    "deadline": day(40),
                },
                {
                    "kind": "family_participation",
                    "title": "The mother attends the parenting school",
                    "target": "mother",
                    "deadline": day(50),
                },
            ],
        }
        async with suite.client("caseworker.khm") as worker:
            draft = ok(await worker.post("/v1/plans", json=body), 201)
            # PLN-4/draft: to the working group within one working day; PLN-4/approve: 10
            # working days from the application, to the end of Friday 12 February (UTC+5).
            terms = {o["rule"]: o for o in draft["obligations"]}
            assert terms["PLN-4/approve"]["due_at"].startswith("2027-02-12T18:59:59")
            assert terms["PLN-4/draft"]["due_at"].startswith("2027-02-02T18:59:59")
            missing = await worker.post("/v1/plans", json={**body, "participants": []})
            assert missing.status_code == 422 and "participants" in missing.text
            ok(await worker.post(f"/v1/plans/{draft['id']}/submit"))
            refused = await worker.post(
                f"/v1/plans/{draft['id']}/approve", json={"decision": "mine"}
            )
            assert refused.status_code == 403
        assert await family_of(suite, draft["id"]) == appeal["family_id"]

    with clock_at(START + timedelta(days=2)):
        async with suite.client("head.khm") as head:
            plan = ok(
                await head.post(
                    f"/v1/plans/{draft['id']}/approve", json={"decision": "Working group No. 4"}
                )
            )
    assert plan["state"] == "approved"
    assert {o["rule"]: o["state"] for o in plan["obligations"]}["PLN-4/approve"] == "met"
    education = next(m for m in plan["measures"] if m["agency_id"] == "edu-khm-1")
    own = next(m for m in plan["measures"] if m["kind"] == "family_participation")

    # The agency carries out its measure; the center completes both (PLN-6, PLN-7, PLN-9).
    with clock_at(START + timedelta(days=10)):
        async with suite.client("education.khm") as coordinator:
            ok(
                await coordinator.post(
                    f"/v1/measures/{education['id']}/assignee", json={"assignee": "teacher.khm"}
                )
            )
        async with suite.client("teacher.khm") as teacher:
            ok(
                await teacher.post(
                    f"/v1/measures/{education['id']}/report", json={"report": "Eight lessons"}
                )
            )
        async with suite.client("caseworker.khm") as worker:
            for measure in (education, own):
                ok(
                    await worker.post(
                        f"/v1/measures/{measure['id']}/complete", json={"completed_on": day(10)}
                    )
                )

    # The interim review after three months, with the mother's level better (PLN-13, PLN-14).
    with clock_at(START + timedelta(days=91)):
        async with suite.client("caseworker.khm") as worker:
            ok(await worker.post(f"/v1/plans/{draft['id']}/reviews", json={"kind": "interim"}))
            ok(
                await worker.post(
                    f"/v1/plans/{draft['id']}/level-changes",
                    json={"person": "mother", "from_level": "crisis", "to_level": "basic"},
                )
            )
            plan = ok(
                await worker.post(
                    f"/v1/plans/{draft['id']}/reviews/conclude",
                    json={"decision": "close", "conclusion": "The goals are reached"},
                )
            )
    assert [o["state"] for o in plan["obligations"] if o["rule"] == "PLN-13/interim"] == ["met"]
    assert plan["level_changes"][0]["indicator"] == "crisis_to_basic"

    # Closure on "result achieved" by the working group, not the case worker (PLN-10).
    closure = {"ground": "result_achieved", "decision": "Working group No. 11"}
    with clock_at(START + timedelta(days=95)):
        async with suite.client("caseworker.khm") as worker:
            assert (
                await worker.post(f"/v1/plans/{draft['id']}/close", json=closure)
            ).status_code == 403
        async with suite.client("head.khm") as head:
            bad = await head.post(
                f"/v1/plans/{draft['id']}/close", json={**closure, "ground": "moved_away"}
            )
            assert bad.status_code == 422 and "ground" in bad.text
            plan = ok(await head.post(f"/v1/plans/{draft['id']}/close", json=closure))
    assert plan["state"] == "monitoring"
    assert plan["closure"]["ground"] == "result_achieved"

    # The letter to the family is written by notify from the closure (PLN-11, NTF-4).
    async with suite.client("head.khm") as head:
        for _ in range(100):
            notices = ok(await head.get("/v1/notices"))["items"]
            letters = [n for n in notices if n["rule"] == "NTF-4"]
            if letters:
                break
            await asyncio.sleep(0.2)
    assert letters, "no NTF-4 letter to the family"

    # Two months on the situation worsens: a revised plan takes over (PLN-12).
    with clock_at(START + timedelta(days=155)):
        async with suite.client("caseworker.khm") as worker:
            early = await worker.post(
                f"/v1/plans/{draft['id']}/monitoring/end", json={"outcome": "Stable"}
            )
            assert early.status_code == 409
            revised = ok(
                await worker.post(
                    f"/v1/plans/{draft['id']}/reopen",
                    json={
                        "reason": "The son stopped attending school again",
                        "measures": [
                            {
                                "kind": "pedagogical",
                                "agency_id": "edu-khm-1",
                                "agency_type": "education",
                                "title": "Attendance support",
                                "deadline": day(185),
                            }
                        ],
                    },
                    headers={"Idempotency-Key": "khm-e2e-reopen"},
                ),
                201,
            )
            old = ok(await worker.get(f"/v1/plans/{draft['id']}"))
            listed = ok(await worker.get("/v1/plans", params={"mine": "true"}))
    assert (revised["state"], revised["revises_plan_id"]) == ("draft", draft["id"])
    assert revised["case_id"] == appeal["case_id"]
    assert (old["state"], old["revised_by_plan_id"]) == ("reopened", revised["id"])
    assert [a["act"] for a in old["history"]] == [
        "submit",
        "approve",
        "open_review",
        "change_level",
        "conclude_review",
        "close",
        "reopen",
    ]
    assert {draft["id"], revised["id"]} <= {p["id"] for p in listed["items"]}

    async with suite.client("analyst.khm") as analyst:
        figures = ok(
            await analyst.get(
                "/v1/reports/plans", params={"from": "2027-01-01", "to": "2027-12-31"}
            )
        )
    assert figures["closures"]["result_achieved"] >= 1
    assert figures["level_changes"]["crisis_to_basic"] >= 1
    assert figures["plans_reopened"] >= 1
