"""Irkutsk's data bank requests and reports through the gateway, with the realm's ru-irk users
and real tokens: a police request with its lawful purpose answered by the registry office and
read back by the police alone (REG-8, REG-9); the office's quarterly report, the ministry's
summary, their CSV and PDF, and the MON-5 figures (REG-7, MON-5)."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from datetime import date, timedelta
from typing import Any

import pytest

from kamqor.clock import clock_at
from tests.e2e.harness import Suite, running_suite
from tests.registry.chain import irkutsk

pytestmark = pytest.mark.e2e

ENTERED = date(2026, 9, 15)  # a Tuesday of the third quarter
CHILD = {
    "full_name": "Gromov Ivan Petrovich",
    "birth_date": "2016-05-05",
    "birth_place": "Irkutsk",
    "actual_address": "Irkutsk, Lenina St. 1, apt. 2",
    "document": {"kind": "birth_certificate", "series": "II-ST", "number": "445566"},
    "work_or_study": "School No. 5",
}


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def ok(resp: Any, status: int = 200) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    body: dict[str, Any] = resp.json()
    return body


def fields(resp: Any) -> list[str]:
    return [e["field"] for e in resp.json()["errors"]]


async def test_reg8_reg7_mon5_requests_and_reports_through_the_gateway(suite: Suite) -> None:
    with clock_at(irkutsk(ENTERED)):
        async with suite.client("commission.irk") as commission:
            registration = {
                "decided_on": ENTERED.isoformat(),
                "number": f"KDN-{uuid.uuid4().hex[:6]}",
                "vote": {"members_present": 7, "votes_for": 5, "votes_against": 1},
                "hearing": {
                    "prevention_bodies_heard": True,
                    "minor_opinion_heard": True,
                    "parents_opinion_heard": True,
                },
                "grounds": "Neglect of the child's needs",
                "responsible_agency_id": "fc-irk-1",
                "responsible_body": "Family support center of Irkutsk",
                "review_on": (ENTERED + timedelta(days=150)).isoformat(),
                "minors": [CHILD],
            }
            recorded = ok(await commission.post("/v1/registry/decisions", json=registration), 201)
        decision_id = recorded["decision"]["id"]
        async with suite.client("registry.irk") as office:
            ok(await office.post(f"/v1/registry/decisions/{decision_id}/receive"))
            ok(await office.post(f"/v1/registry/decisions/{decision_id}/enter"))

    # REG-8: the police ask with their lawful purpose; a retry with the key is the same request.
    ask = {
        "purpose": "juvenile_prevention",
        "reason": "individual preventive work",
        "subject_full_name": CHILD["full_name"],
        "subject_birth_date": CHILD["birth_date"],
    }
    key = {"Idempotency-Key": uuid.uuid4().hex}
    async with suite.client("police.irk") as police:
        created = ok(await police.post("/v1/registry/inquiries", json=ask, headers=key), 201)
        again = ok(await police.post("/v1/registry/inquiries", json=ask, headers=key), 201)
        assert again["id"] == created["id"]
        assert created["subject_full_name"] is None and created["answer"] is None
        assert [o["rule"] for o in created["obligations"]] == ["REG-8"]
        wrong = await police.post(
            "/v1/registry/inquiries", json=ask | {"purpose": "education_support"}
        )
        assert wrong.status_code == 422 and fields(wrong) == ["purpose"]
    async with suite.client("registry.irk") as office:
        waiting = ok(await office.get("/v1/registry/inquiries-to-answer"))["items"]
        assert created["id"] in [i["id"] for i in waiting]
        answered = ok(await office.post(f"/v1/registry/inquiries/{created['id']}/answer"))
        assert answered["state"] == "answered" and answered["answer"] is None
        again_resp = await office.post(f"/v1/registry/inquiries/{created['id']}/answer")
        assert again_resp.status_code == 409
    async with suite.client("police.irk") as police:
        read = ok(await police.get(f"/v1/registry/inquiries/{created['id']}"))
        mine = ok(await police.get("/v1/registry/inquiries"))["items"]
    assert created["id"] in [i["id"] for i in mine]
    assert read["answer"]["on_record"] is True
    (member,) = read["answer"]["families"][0]["members"]
    assert member["document"]["number"] == "445566" and member["work_or_study"] == ""
    async with suite.client("education.irk") as school:
        resp = await school.get(f"/v1/registry/inquiries/{created['id']}")
        assert resp.status_code == 404

    # REG-7: the suite's clock is in November: the third quarter has ended, the fourth has not.
    async with suite.client("registry.irk") as office:
        early = await office.post("/v1/registry/quarterly-reports", json={"quarter": "2026-Q4"})
        assert early.status_code == 422 and fields(early) == ["quarter"]
        keyed = {"Idempotency-Key": "q3-office"}
        report = ok(
            await office.post(
                "/v1/registry/quarterly-reports", json={"quarter": "2026-Q3"}, headers=keyed
            ),
            201,
        )
        # A retry returns the first report; the key with another quarter is refused.
        again = ok(
            await office.post(
                "/v1/registry/quarterly-reports", json={"quarter": "2026-Q3"}, headers=keyed
            ),
            201,
        )
        assert again["id"] == report["id"]
        reused = await office.post(
            "/v1/registry/quarterly-reports", json={"quarter": "2026-Q2"}, headers=keyed
        )
        assert reused.status_code == 422
        assert reused.json()["type"].endswith("/idempotency-key-reused")
    assert (report["level"], report["families_on_record"], report["minors_on_record"]) == (
        "office",
        1,
        1,
    )
    async with suite.client("analyst.irk") as analyst:
        summary = ok(
            await analyst.post(
                "/v1/registry/quarterly-summaries",
                json={"quarter": "2026-Q3"},
                headers={"Idempotency-Key": "q3-summary"},
            ),
            201,
        )
        twice = await analyst.post(
            "/v1/registry/quarterly-summaries",
            json={"quarter": "2026-Q3"},
            headers={"Idempotency-Key": "q3-summary"},
        )
        assert ok(twice, 201)["id"] == summary["id"]
        assert (summary["level"], summary["office_reports"]) == ("ministry", 1)
        listed = ok(
            await analyst.get("/v1/registry/quarterly-reports", params={"quarter": "2026-Q3"})
        )
        assert [r["id"] for r in listed["items"]] == [report["id"], summary["id"]]
        as_csv = await analyst.get(
            "/v1/registry/quarterly-reports/export", params={"quarter": "2026-Q3"}
        )
        assert as_csv.status_code == 200 and as_csv.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(as_csv.content.decode("utf-8-sig"))))
        assert [(r["level"], r["families_on_record"]) for r in rows] == [
            ("office", "1"),
            ("ministry", "1"),
        ]
        as_pdf = await analyst.get(
            "/v1/registry/quarterly-reports/export",
            params={"quarter": "2026-Q3", "format": "pdf"},
        )
        assert as_pdf.headers["content-type"] == "application/pdf"
        assert as_pdf.content.startswith(b"%PDF")
        # MON-5: the figures the monitoring report reads.
        figures = ok(await analyst.get("/v1/reports/registry", params={"quarter": "2026-Q3"}))
        assert (figures["families_on_record"], figures["minors_on_record"]) == (1, 1)
        bad = await analyst.get("/v1/reports/registry", params={"quarter": "2026-Q9"})
        assert bad.status_code == 422
