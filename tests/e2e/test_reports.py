"""MON-3 through the gateway: the deadline report fans out to the five services and merges
their rows. After the hotline registers an appeal whose primary assessment comes the same day
(INT-3) and the written notice of an admission with minors is delivered (SHL-3, NTF-7), the
analyst sees SHL-3 and INT-3 met on time for the center. Also a reminder through
the reminders route (NTF-7) and bad periods (422)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest
from sqlmodel import select

from kamqor.clock import utcnow
from kamqor.obligations import Obligation
from kamqor.profiles import get_profile
from tests.e2e.harness import Suite, running_suite
from tests.e2e.test_scenario import family, new_shelter, wait_for_notices
from tests.support.factories import years_ago

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def today() -> date:
    return utcnow().astimezone(get_profile("kz").zone).date()


def row(report: dict[str, Any], rule: str, agency: str) -> dict[str, Any]:
    found = [r for r in report["rows"] if r["rule"] == rule and r["responsible_agency"] == agency]
    assert len(found) == 1, report["rows"]
    return found[0]


async def test_mon3_report_through_the_gateway(suite: Suite) -> None:
    """MON-3 over INT-3 (appeal) and SHL-3 (notice delivered, NTF-7)."""
    async with suite.client("hotline.ast") as hotline:
        resp = await hotline.post(
            "/v1/appeals",
            json={
                "channel": "hotline_111",
                "summary": "A neighbour reports children left alone for days",
                "persons": [
                    {"full_name": "Child One", "relation": "child", "birth_date": years_ago(6)}
                ],
                "threat_to_life": False,
                "domestic_violence": False,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert resp.status_code == 201, resp.text
    appeal = resp.json()
    async with suite.client("caseworker.ast") as worker:
        resp = await worker.post(
            f"/v1/appeals/{appeal['id']}/triage",
            json={"kind": "primary_assessment", "in_dls": True, "note": "Needs assessment next."},
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert resp.status_code == 200, resp.text

    shelter_id = await new_shelter(suite)
    async with suite.client("shelter.ast") as operator:
        resp = await operator.post("/v1/stays", json={**family(), "shelter_id": shelter_id})
    assert resp.status_code == 201, resp.text
    stay = resp.json()
    async with suite.client("police.ast") as police:
        (notice,) = await wait_for_notices(police, f"stay/{stay['id']}")
        resp = await police.post(f"/v1/notices/{notice['id']}/ack")
        assert resp.status_code == 200, resp.text
        # SHL-3 is met when the notice is delivered (here: the registered letter), not on the
        # acknowledgement: wait for notify's delivery worker to register it.
        for _ in range(100):
            delivered = (await police.get(f"/v1/notices/{notice['id']}")).json()["delivered_at"]
            if delivered:
                break
            await asyncio.sleep(0.1)
        assert delivered, "the police notice was never delivered"

    period = {"from": today().isoformat(), "to": (today() + timedelta(days=40)).isoformat()}
    async with suite.client("analyst.ast") as analyst:
        resp = await analyst.get("/v1/reports/deadlines", params=period)
    assert resp.status_code == 200, resp.text
    report = resp.json()
    assert (report["from"], report["to"], report["territory"]) == (
        period["from"],
        period["to"],
        "kz-ast",
    )
    keys = [(r["rule"], r["responsible_agency"]) for r in report["rows"]]
    assert keys == sorted(keys)

    shl3 = row(report, "SHL-3", "fc-ast-1")  # delivered within 24 h (the police one at least)
    assert shl3["met_on_time"] >= 1 and shl3["met_late"] == 0 and shl3["open_overdue"] == 0
    assert shl3["on_time_share"] == 1.0
    int3 = row(report, "INT-3/primary", "fc-ast-1")  # assessed the day it was registered
    assert (int3["total"], int3["met_on_time"], int3["open_not_due"]) == (1, 1, 0)
    assert int3["on_time_share"] == 1.0
    shl1 = row(report, "SHL-1", "fc-ast-1")  # the stay's month runs
    assert shl1["open_not_due"] >= 1

    by_rule = {t["rule"]: t for t in report["by_rule"]}
    assert by_rule["SHL-3"]["met_on_time"] == shl3["met_on_time"]
    (center,) = [t for t in report["by_agency"] if t["responsible_agency"] == "fc-ast-1"]
    center_rows = [r for r in report["rows"] if r["responsible_agency"] == "fc-ast-1"]
    assert center["total"] == sum(r["total"] for r in center_rows)
    assert report["total"]["total"] == sum(r["total"] for r in report["rows"])

    # The other territory's analyst sees none of it; a hotline operator may not ask at all.
    async with suite.client("analyst.ala") as other, suite.client("hotline.ast") as hotline:
        resp = await other.get("/v1/reports/deadlines", params=period)
        assert resp.status_code == 200, resp.text
        assert all(r["responsible_agency"] != "fc-ast-1" for r in resp.json()["rows"])
        resp = await other.get("/v1/reports/deadlines", params={**period, "territory": "kz-ast"})
        assert resp.status_code == 403, resp.text
        assert (await hotline.get("/v1/reports/deadlines", params=period)).status_code == 403


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"from": "2026-03-01", "to": "2026-03-01"}, "to"),
        ({"from": "2026-03-02", "to": "2026-03-01"}, "to"),
        ({"from": "2025-01-01", "to": "2026-01-03"}, "to"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "from"),
        ({"to": "2026-03-01"}, "from"),
    ],
)
async def test_mon3_bad_period_is_a_422_naming_the_field(
    suite: Suite, params: dict[str, str], field: str
) -> None:
    async with suite.client("analyst.ast") as analyst:
        resp = await analyst.get("/v1/reports/deadlines", params=params)
    assert resp.status_code == 422, resp.text
    assert resp.headers["content-type"].startswith("application/problem+json")
    assert [e["field"] for e in resp.json()["errors"]] == [field]


async def test_ntf7_reminders_route(suite: Suite) -> None:
    """NTF-7: an appeal's INT-3/primary term reaches its approaching time (the intake sweeper
    run at that instant), and the center's case worker finds the reminder through the gateway."""
    async with suite.client("hotline.ast") as hotline:
        resp = await hotline.post(
            "/v1/appeals",
            json={
                "channel": "hotline_111",
                "summary": "A teacher reports a pupil sleeping in the stairwell",
                "persons": [
                    {"full_name": "Child One", "relation": "child", "birth_date": years_ago(9)}
                ],
                "threat_to_life": False,
                "domestic_violence": False,
            },
            headers={"Idempotency-Key": uuid.uuid4().hex},
        )
    assert resp.status_code == 201, resp.text
    subject = f"appeal/{resp.json()['id']}"
    intake = suite.apps["intake"]
    assert intake.wiring is not None
    async with intake.wiring.uow() as session:
        (term,) = (
            await session.exec(select(Obligation).where(Obligation.subject == subject))
        ).all()
    assert term.rule == "INT-3/primary"
    assert await intake.sweeper.sweep_once(now=term.approaching_at) >= 1

    async with suite.client("caseworker.ast") as worker, suite.client("analyst.ast") as analyst:
        found: list[dict[str, Any]] = []
        for _ in range(100):
            resp = await worker.get("/v1/reminders", params={"kind": "reminder"})
            assert resp.status_code == 200, resp.text
            assert set(resp.json()) == {"items", "next_page_token"}
            found = [r for r in resp.json()["items"] if r["subject"] == subject]
            if found:
                break
            await asyncio.sleep(0.1)
        assert len(found) == 1, "no reminder reached the case worker"
        (reminder,) = found
        assert (reminder["kind"], reminder["rule"], reminder["obligation_id"]) == (
            "reminder",
            "INT-3/primary",
            term.id,
        )
        assert (reminder["producer"], reminder["recipient_agency"]) == ("intake", "fc-ast-1")
        assert (await analyst.get("/v1/reminders")).status_code == 403
        assert (await worker.get("/v1/reminders", params={"kind": "late"})).status_code == 422
