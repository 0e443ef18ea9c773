"""Quarterly monitoring reports (MON-1) through a real gRPC channel to the plans service on a
real PostgreSQL, NATS and Keycloak, with the realm's users of Astana, Almaty (kz), Yugra
(ru-khm) and Bashkortostan (ru-ba).

The clock is pinned after the fourth quarter of 2026: its reports are due by the 10th of
January 2027 in kz and ru-khm (the profiles' `quarter_day`), a Sunday after the New Year
holidays, so by the end of Monday 11 January in both.
"""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import AsyncIterator
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import grpc
import pytest
from pypdf import PdfReader
from sqlmodel import col, func, select

from kamqor.clock import clock_at
from kamqor.obligations import Obligation
from kamqor.plans.v1 import monitoring_pb2 as pb
from kamqor.plans.v1 import monitoring_pb2_grpc
from kamqor.protoconv import dt
from kamqor.runtime import ServiceApp
from plans.models.monitoring import MonitoringReport
from tests.plans.test_service import details
from tests.support.clock import ASTANA
from tests.support.services import bearer, channel_to

Stub = monitoring_pb2_grpc.MonitoringServiceStub
YUGRA = ZoneInfo("Asia/Yekaterinburg")
# Tuesday 5 January 2027, 10:00 in Astana: the fourth quarter of 2026 has ended.
AFTER_Q4 = datetime(2027, 1, 5, 10, 0, tzinfo=ASTANA)
Q4_DUE_KZ = datetime.combine(date(2027, 1, 11), time.max, tzinfo=ASTANA)
USERS = (
    "analyst.ast",
    "head.ast",
    "caseworker.ast",
    "analyst.ala",
    "head.ala",
    "analyst.khm",
    "head.khm",
    "head.ba",
)


def snapshot(**extra: Any) -> str:
    """A snapshot as the gateway assembles it: sections keyed by rule, each with figures."""
    body: dict[str, Any] = {
        "quarter": "2026-Q4",
        "sections": {
            "MON-3": {
                "title": "Deadline compliance",
                "figures": [
                    {"series": "on_time_share", "label": "INT-3/primary", "value": 0.75},
                    {"series": "on_time_share", "label": "=HYPERLINK(1)", "value": None},
                ],
            },
            "MON-4": {
                "title": "Caseload per case worker",
                "figures": [{"series": "open_cases", "label": "caseworker.ast", "value": 7}],
            },
        },
        "missing": ["MON-2", "MON-5"],
    }
    body.update(extra)
    return json.dumps(body)


def create_request(**kw: Any) -> pb.CreateMonitoringReportRequest:
    values: dict[str, Any] = {
        "quarter": "2026-Q4",
        "snapshot_json": snapshot(),
        "conclusion": "The center met most terms.\nCaseload is within the recommendation.",
        "shortcomings": ["Two INT-3 assessments were late"],
        "proposals": ["Add a duty case worker on Mondays"],
        "idempotency_key": uuid.uuid4().hex,
    }
    values.update(kw)
    return pb.CreateMonitoringReportRequest(**values)


@pytest.fixture(scope="module")
async def stub(plans_app: ServiceApp) -> AsyncIterator[Stub]:
    async with channel_to(plans_app) as channel:
        yield monitoring_pb2_grpc.MonitoringServiceStub(channel)


async def mon1_rows(app: ServiceApp, center: str) -> list[Obligation]:
    async with app.wiring.uow() as session:  # type: ignore[union-attr]
        query = select(Obligation).where(
            Obligation.rule == "MON-1", col(Obligation.subject).startswith(f"monitoring/{center}/")
        )
        return list((await session.exec(query)).all())


async def report_count(app: ServiceApp) -> int:
    async with app.wiring.uow() as session:  # type: ignore[union-attr]
        return int((await session.exec(select(func.count()).select_from(MonitoringReport))).one())


async def test_mon1_the_sweeper_opens_each_centers_quarter_once(plans_app: ServiceApp) -> None:
    """When a quarter ends, every center whose profile has MON-1 owes its report by the
    profile's day (kz, ru-irk, ru-khm: the 10th, moved to the next working day); Bashkortostan's
    profile has no such term. A second sweep opens nothing again."""
    now = datetime(2027, 1, 4, 9, 0, tzinfo=ASTANA)
    with clock_at(now):
        await plans_app.sweeper.sweep_once(now=now)
        await plans_app.sweeper.sweep_once(now=now)
    (ast,) = await mon1_rows(plans_app, "fc-ast-1")
    assert (ast.subject, ast.territory, ast.responsible_agency) == (
        "monitoring/fc-ast-1/2026-Q4",
        "kz-ast",
        "fc-ast-1",
    )
    assert ast.due_at == Q4_DUE_KZ
    assert ast.state == "open"
    (khm,) = await mon1_rows(plans_app, "fc-khm-1")
    assert khm.due_at == datetime.combine(date(2027, 1, 11), time.max, tzinfo=YUGRA)
    assert len(await mon1_rows(plans_app, "fc-irk-1")) == 1
    assert await mon1_rows(plans_app, "fc-ba-1") == []


async def test_mon1_written_signed_revised_and_signed_again(
    stub: Stub, tokens: dict[str, str], plans_app: ServiceApp
) -> None:
    """The analyst writes the report, the center head signs it off (the obligation is met on
    time); a revision is a new version while the signed one stays readable as it was."""
    with clock_at(AFTER_Q4):
        created = (
            await stub.CreateMonitoringReport(
                create_request(), metadata=bearer(tokens["analyst.ast"])
            )
        ).report
        assert (created.center_id, created.territory, created.quarter) == (
            "fc-ast-1",
            "kz-ast",
            "2026-Q4",
        )
        assert (created.version, created.latest_version, created.author) == (1, 1, "analyst.ast")
        assert json.loads(created.snapshot_json)["sections"]["MON-4"]["figures"][0]["value"] == 7
        (obligation,) = created.obligations
        assert (obligation.rule, obligation.state) == ("MON-1", "open")
        assert dt(obligation.due_at) == Q4_DUE_KZ

        signed = (
            await stub.SignMonitoringReport(
                pb.SignMonitoringReportRequest(report_id=created.id, version=1),
                metadata=bearer(tokens["head.ast"]),
            )
        ).report
        # The pinned clock runs on from its instant.
        assert signed.signed_by == "head.ast"
        assert AFTER_Q4 <= dt(signed.signed_at) < AFTER_Q4 + timedelta(minutes=5)
        (met,) = signed.obligations
        assert (met.state, met.on_time) == ("met", True)

        revised = (
            await stub.ReviseMonitoringReport(
                pb.ReviseMonitoringReportRequest(
                    report_id=created.id,
                    base_version=1,
                    snapshot_json=snapshot(),
                    conclusion="Revised after the ministry's remarks.",
                    shortcomings=[],
                    proposals=["Train two more case workers"],
                    idempotency_key=uuid.uuid4().hex,
                ),
                metadata=bearer(tokens["head.ast"]),
            )
        ).report
    assert (revised.version, revised.latest_version, revised.signed_by) == (2, 2, "")
    assert [(v.version, v.author, v.signed_by) for v in revised.versions] == [
        (1, "analyst.ast", "head.ast"),
        (2, "head.ast", ""),
    ]
    first = (
        await stub.GetMonitoringReport(
            pb.GetMonitoringReportRequest(report_id=created.id, version=1),
            metadata=bearer(tokens["analyst.ast"]),
        )
    ).report
    assert first.conclusion == created.conclusion and first.signed_by == "head.ast"
    assert list(first.shortcomings) == ["Two INT-3 assessments were late"]

    # The head wrote version 2: the head cannot sign it (four eyes), and an old version is stale.
    with pytest.raises(grpc.aio.AioRpcError) as own:
        await stub.SignMonitoringReport(
            pb.SignMonitoringReportRequest(report_id=created.id, version=2),
            metadata=bearer(tokens["head.ast"]),
        )
    assert own.value.code() == grpc.StatusCode.PERMISSION_DENIED
    with pytest.raises(grpc.aio.AioRpcError) as stale:
        await stub.SignMonitoringReport(
            pb.SignMonitoringReportRequest(report_id=created.id, version=1),
            metadata=bearer(tokens["head.ast"]),
        )
    assert stale.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(stale.value)[0] == "monitoring-report-version-stale"
    # The analyst may not sign at all; the list shows the report at its latest version.
    with pytest.raises(grpc.aio.AioRpcError) as analyst:
        await stub.SignMonitoringReport(
            pb.SignMonitoringReportRequest(report_id=created.id, version=2),
            metadata=bearer(tokens["analyst.ast"]),
        )
    assert analyst.value.code() == grpc.StatusCode.PERMISSION_DENIED
    listed = (
        await stub.ListMonitoringReports(
            pb.ListMonitoringReportsRequest(quarter="2026-Q4"),
            metadata=bearer(tokens["analyst.ast"]),
        )
    ).reports
    assert [(r.id, r.version, r.snapshot_json) for r in listed] == [(created.id, 2, "")]
    (row,) = await mon1_rows(plans_app, "fc-ast-1")
    assert row.met_at == dt(signed.signed_at)  # met once, by the first sign-off


async def test_mon1_a_retry_is_the_same_report_and_a_second_one_is_refused(
    stub: Stub, tokens: dict[str, str], plans_app: ServiceApp
) -> None:
    """A retry with the same key returns the first report even though the gateway assembled
    the figures again; the same key with other words is refused; a second report of the same
    center and quarter is a revision, not a new report."""
    first = create_request()
    with clock_at(AFTER_Q4):
        made = await stub.CreateMonitoringReport(first, metadata=bearer(tokens["analyst.ala"]))
        again = create_request(
            idempotency_key=first.idempotency_key, snapshot_json=snapshot(assembled="later")
        )
        retried = await stub.CreateMonitoringReport(again, metadata=bearer(tokens["analyst.ala"]))
        assert (retried.report.id, retried.report.version) == (made.report.id, 1)
        with pytest.raises(grpc.aio.AioRpcError) as reused:
            await stub.CreateMonitoringReport(
                create_request(idempotency_key=first.idempotency_key, conclusion="Other words"),
                metadata=bearer(tokens["analyst.ala"]),
            )
        assert reused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert details(reused.value)[0] == "idempotency-key-reused"
        with pytest.raises(grpc.aio.AioRpcError) as second:
            await stub.CreateMonitoringReport(create_request(), metadata=bearer(tokens["head.ala"]))
    assert second.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert details(second.value)[0] == "monitoring-report-exists"
    # Another territory's analyst sees no such report.
    with pytest.raises(grpc.aio.AioRpcError) as other:
        await stub.GetMonitoringReport(
            pb.GetMonitoringReportRequest(report_id=made.report.id),
            metadata=bearer(tokens["analyst.ast"]),
        )
    assert other.value.code() == grpc.StatusCode.NOT_FOUND


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"quarter": "2027-Q1"}, "quarter"),  # still running
        ({"quarter": "2026-Q5"}, "quarter"),
        # A quarter whose next one has no date (year 10000), and non-ASCII digits (2026 in
        # Arabic-Indic), once a 500 or a report of another spelling.
        ({"quarter": "9999-Q4"}, "quarter"),
        ({"quarter": "\u0662\u0660\u0662\u0666-Q3"}, "quarter"),
        ({"conclusion": "   "}, "conclusion"),
        ({"shortcomings": ["Late terms", " "]}, "shortcomings[1]"),
        ({"snapshot_json": "not json"}, "snapshot_json"),
        ({"snapshot_json": json.dumps({"sections": {"MON-3": {"title": "x"}}})}, None),
        ({"center_id": "fc-ala-1"}, "center_id"),
    ],
)
async def test_mon1_bad_input_names_the_field_and_writes_nothing(
    stub: Stub,
    tokens: dict[str, str],
    plans_app: ServiceApp,
    change: dict[str, Any],
    field: str | None,
) -> None:
    before = await report_count(plans_app)
    with clock_at(AFTER_Q4), pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateMonitoringReport(
            create_request(**{"quarter": "2026-Q3", **change}), metadata=bearer(tokens["head.ast"])
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    fields = details(err.value)[1]
    assert fields == [field or "snapshot_json.sections.MON-3"]
    assert await report_count(plans_app) == before


async def test_mon1_only_the_centers_writers(stub: Stub, tokens: dict[str, str]) -> None:
    with clock_at(AFTER_Q4), pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.CreateMonitoringReport(
            create_request(quarter="2026-Q2"), metadata=bearer(tokens["caseworker.ast"])
        )
    assert err.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_mon1_yugra_working_group_review_and_bashkortostan_without_the_term(
    stub: Stub, tokens: dict[str, str]
) -> None:
    """ru-khm: the working group's quarterly review is due like kz's; ru-ba's profile has no
    MON-1 term, so its center may keep a report but owes none."""
    with clock_at(AFTER_Q4):
        khm = (
            await stub.CreateMonitoringReport(
                create_request(), metadata=bearer(tokens["analyst.khm"])
            )
        ).report
        signed = (
            await stub.SignMonitoringReport(
                pb.SignMonitoringReportRequest(report_id=khm.id, version=1),
                metadata=bearer(tokens["head.khm"]),
            )
        ).report
        ba = (
            await stub.CreateMonitoringReport(create_request(), metadata=bearer(tokens["head.ba"]))
        ).report
    assert khm.center_id == "fc-khm-1"
    (met,) = signed.obligations
    assert (met.state, met.on_time) == ("met", True)
    assert dt(met.due_at) == datetime.combine(date(2027, 1, 11), time.max, tzinfo=YUGRA)
    assert ba.center_id == "fc-ba-1" and list(ba.obligations) == []


async def test_mon1_exports_pdf_and_csv(stub: Stub, tokens: dict[str, str]) -> None:
    with clock_at(AFTER_Q4):
        made = (
            await stub.CreateMonitoringReport(
                create_request(quarter="2026-Q1", conclusion="Итоги квартала: қызмет көрсетілді"),
                metadata=bearer(tokens["analyst.ast"]),
            )
        ).report
    csv_file = await stub.ExportMonitoringReport(
        pb.ExportMonitoringReportRequest(report_id=made.id, format=pb.EXPORT_FORMAT_CSV),
        metadata=bearer(tokens["head.ast"]),
    )
    assert csv_file.media_type == "text/csv; charset=utf-8"
    assert csv_file.filename == "monitoring-fc-ast-1-2026-Q1-v1.csv"
    lines = csv_file.content.decode("utf-8-sig").splitlines()
    assert lines == [
        "section,title,series,label,value",
        "MON-3,Deadline compliance,on_time_share,INT-3/primary,0.75",
        "MON-3,Deadline compliance,on_time_share,'=HYPERLINK(1),",  # never a formula
        "MON-4,Caseload per case worker,open_cases,caseworker.ast,7",
    ]
    pdf_file = await stub.ExportMonitoringReport(
        pb.ExportMonitoringReportRequest(report_id=made.id, version=1, format=pb.EXPORT_FORMAT_PDF),
        metadata=bearer(tokens["analyst.ast"]),
    )
    assert pdf_file.media_type == "application/pdf"
    text = "".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf_file.content)).pages)
    assert "Итоги квартала: қызмет көрсетілді" in text
    assert "Two INT-3 assessments were late" in text and "caseworker.ast" in text
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await stub.ExportMonitoringReport(
            pb.ExportMonitoringReportRequest(report_id=made.id),
            metadata=bearer(tokens["analyst.ast"]),
        )
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value)[1] == ["format"]
