"""MON-1 through the gateway on the whole suite (five services, real PostgreSQL, NATS JetStream
and Keycloak): the analyst writes the center's report of the fourth quarter of 2026, the gateway
assembles the quarter's indicators from each service with the analyst's token, the center head
signs it off (the obligation met on time), a revision keeps the signed version readable, and
the PDF and CSV files; bad input named by field; other territories and roles refused.

The clock is pinned on Tuesday 5 January 2027 in Astana: the report is due by the 10th, a
Sunday, so by the end of Monday 11 January (18:59:59 UTC).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from kamqor.clock import clock_at
from tests.e2e.harness import Suite, running_suite
from tests.support.clock import ASTANA

pytestmark = pytest.mark.e2e

AFTER_Q4 = datetime(2027, 1, 5, 10, 0, tzinfo=ASTANA)
SECTIONS = {"MON-2/intake", "MON-2/plans", "MON-3", "MON-3/measures", "MON-4", "MON-6"}


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def body(**kw: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "quarter": "2026-Q4",
        "conclusion": "The center met most terms.\nCaseload is within the recommendation.",
        "shortcomings": ["Two primary assessments (INT-3) were late"],
        "proposals": ["A duty case worker on Mondays"],
    }
    values.update(kw)
    return values


def key() -> dict[str, str]:
    return {"Idempotency-Key": uuid.uuid4().hex}


async def test_mon1_written_with_the_quarters_indicators_signed_and_revised(suite: Suite) -> None:
    with clock_at(AFTER_Q4):
        headers = key()
        async with suite.client("analyst.ast") as analyst:
            resp = await analyst.post("/v1/monitoring-reports", json=body(), headers=headers)
            assert resp.status_code == 201, resp.text
            report = resp.json()
            again = await analyst.post("/v1/monitoring-reports", json=body(), headers=headers)
        assert again.status_code == 201 and again.json()["id"] == report["id"]
        assert resp.headers["Location"] == f"/v1/monitoring-reports/{report['id']}"
        assert (report["center_id"], report["territory"], report["quarter"]) == (
            "fc-ast-1",
            "kz-ast",
            "2026-Q4",
        )
        assert (report["version"], report["signed"], report["author"]) == (1, False, "analyst.ast")
        snapshot = report["snapshot"]
        assert (snapshot["from"], snapshot["to"]) == ("2026-10-01", "2027-01-01")
        # Every indicator is either assembled from its own route or listed as missing.
        assert set(snapshot["sections"]) | set(snapshot["missing"]) == SECTIONS | {"MON-5"}
        assert {"MON-3", "MON-4", "MON-6"} <= set(snapshot["sections"])
        assert "MON-5" in snapshot["missing"]
        deadlines = snapshot["sections"]["MON-3"]
        assert deadlines["source"] == "getDeadlineReport"
        assert deadlines["data"]["from"] == "2026-10-01" and deadlines["data"]["to"] == "2027-01-01"
        (obligation,) = report["obligations"]
        assert (obligation["rule"], obligation["state"]) == ("MON-1", "open")
        assert obligation["due_at"] == "2027-01-11T18:59:59.999999Z"

        async with suite.client("head.ast") as head:
            resp = await head.post(
                f"/v1/monitoring-reports/{report['id']}/sign", json={"version": 1}
            )
            assert resp.status_code == 200, resp.text
            signed = resp.json()
            twice = await head.post(
                f"/v1/monitoring-reports/{report['id']}/sign", json={"version": 1}
            )
        assert signed["signed"] and signed["signed_by"] == "head.ast"
        assert (signed["obligations"][0]["state"], signed["obligations"][0]["on_time"]) == (
            "met",
            True,
        )
        assert twice.status_code == 409
        assert twice.json()["type"].endswith("/monitoring-report-signed")

        async with suite.client("analyst.ast") as analyst:
            resp = await analyst.post(
                f"/v1/monitoring-reports/{report['id']}/revisions",
                json={"base_version": 1, "conclusion": "Revised.", "proposals": []},
                headers=key(),
            )
            assert resp.status_code == 201, resp.text
            revised = resp.json()
            stale = await analyst.post(
                f"/v1/monitoring-reports/{report['id']}/revisions",
                json={"base_version": 1, "conclusion": "From the old one."},
                headers=key(),
            )
            first = (
                await analyst.get(f"/v1/monitoring-reports/{report['id']}", params={"version": 1})
            ).json()
            listed = (
                await analyst.get("/v1/monitoring-reports", params={"quarter": "2026-Q4"})
            ).json()
            pdf = await analyst.get(f"/v1/monitoring-reports/{report['id']}/export.pdf")
            csv = await analyst.get(
                f"/v1/monitoring-reports/{report['id']}/export.csv", params={"version": 1}
            )
    assert (revised["version"], revised["latest_version"], revised["signed"]) == (2, 2, False)
    assert [v["signed_by"] for v in revised["versions"]] == ["head.ast", None]
    assert stale.status_code == 409
    assert stale.json()["type"].endswith("/monitoring-report-version-stale")
    assert first["signed"] and first["conclusion"] == report["conclusion"]
    assert [(r["id"], r["version"], r["snapshot"]) for r in listed["items"]] == [
        (report["id"], 2, None)
    ]
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.headers["cache-control"] == "no-store"
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    rows = csv.content.decode("utf-8-sig").splitlines()
    assert rows[0] == "section,title,series,label,value"
    assert any(r.startswith("MON-3,") for r in rows[1:])
    assert 'filename="monitoring-fc-ast-1-2026-Q4-v1.csv"' in csv.headers["content-disposition"]


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quarter": "2026-Q5"}, "quarter"),
        ({"quarter": "2027-Q1"}, "quarter"),  # not ended on 5 January 2027
        # Quarters the gateway once turned into dates before the service saw them (a 500).
        ({"quarter": "0000-Q1"}, "quarter"),
        ({"quarter": "9999-Q4"}, "quarter"),
        ({"conclusion": ""}, "conclusion"),
        ({"shortcomings": ["Late", ""]}, "shortcomings[1]"),
        ({"center_id": "fc-ala-1"}, "center_id"),
        ({"signed": True}, "signed"),
    ],
)
async def test_mon1_bad_input_names_the_field(
    suite: Suite, change: dict[str, Any], field: str
) -> None:
    with clock_at(AFTER_Q4):
        async with suite.client("head.ast") as head:
            resp = await head.post(
                "/v1/monitoring-reports",
                json=body(**{"quarter": "2026-Q3", **change}),
                headers=key(),
            )
            listed = await head.get("/v1/monitoring-reports", params={"quarter": "2026-Q3"})
    assert resp.status_code == 422, resp.text
    assert [e["field"] for e in resp.json()["errors"]] == [field]
    assert listed.json()["items"] == []  # nothing written


async def test_mon1_who_may_do_what(suite: Suite) -> None:
    """The head cannot sign a version they wrote (four eyes); case workers neither write nor
    read reports; another territory's analyst sees none of them."""
    with clock_at(AFTER_Q4):
        async with suite.client("head.ast") as head:
            resp = await head.post(
                "/v1/monitoring-reports", json=body(quarter="2026-Q2"), headers=key()
            )
            assert resp.status_code == 201, resp.text
            own = resp.json()
            mine = await head.post(f"/v1/monitoring-reports/{own['id']}/sign", json={"version": 1})
        async with suite.client("caseworker.ast") as worker:
            written = await worker.post(
                "/v1/monitoring-reports", json=body(quarter="2026-Q1"), headers=key()
            )
            read = await worker.get("/v1/monitoring-reports")
        async with suite.client("analyst.ala") as other:
            hidden = await other.get(f"/v1/monitoring-reports/{own['id']}")
            theirs = await other.get("/v1/monitoring-reports")
    assert mine.status_code == 403
    assert (written.status_code, read.status_code) == (403, 403)
    assert hidden.status_code == 404
    assert all(r["territory"] == "kz-ala" for r in theirs.json()["items"])


async def test_mon1_a_version_beyond_the_services_numbers_is_named(suite: Suite) -> None:
    """Version numbers are int32 to the service: a larger one is a 422 naming `version`, not a
    failed conversion (once a 500 on every route taking one)."""
    report_id, huge = uuid.uuid4(), 2**31
    path = f"/v1/monitoring-reports/{report_id}"
    with clock_at(AFTER_Q4):
        async with suite.client("head.ast") as head:
            answers = {
                "get": await head.get(path, params={"version": huge}),
                "export": await head.get(f"{path}/export.csv", params={"version": huge}),
                "sign": await head.post(f"{path}/sign", json={"version": huge}),
                "revise": await head.post(
                    f"{path}/revisions",
                    json={"base_version": huge, "conclusion": "Revised."},
                    headers=key(),
                ),
            }
    fields = {
        name: (resp.status_code, [e["field"] for e in resp.json()["errors"]])
        for name, resp in answers.items()
    }
    assert fields == {
        "get": (422, ["version"]),
        "export": (422, ["version"]),
        "sign": (422, ["version"]),
        "revise": (422, ["base_version"]),
    }
