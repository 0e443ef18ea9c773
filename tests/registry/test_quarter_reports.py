"""Quarterly reports of the data bank (REG-7, MON-5): the registry office reports the families
and minors on record at the quarter's end by the 5th (the next working day after the January
holidays), the ministry sums the offices' reports by the 10th; both terms opened by the sweeper
when the quarter ends, once; counts from the bank as it stood at the quarter's last instant, not
as it stands when the report is made. Over real gRPC with the realm's ru-irk users, clocks
pinned."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from typing import Any

import grpc
import pytest
from sqlmodel import select

from kamqor.clock import clock_at
from kamqor.obligations import Obligation
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.runtime import ServiceApp
from tests.registry.chain import child, entered, irkutsk, removed
from tests.registry.test_reviews import Users
from tests.registry.test_service import details
from tests.support.clock import IRKUTSK

SUBJECT = "quarter/ru-irk/2026-Q4"


@pytest.fixture(scope="module")
def md(keycloak) -> Users:  # type: ignore[no-untyped-def]
    return Users(keycloak)


async def terms(app: ServiceApp) -> list[Obligation]:
    assert app.wiring is not None
    async with app.wiring.uow() as session:
        query = select(Obligation).where(Obligation.subject == SUBJECT)
        return sorted((await session.exec(query)).all(), key=lambda o: o.rule)


async def refused(call: Any, request: Any, user: str, md: Users) -> grpc.aio.AioRpcError:
    with pytest.raises(grpc.aio.AioRpcError) as err:
        await call(request, metadata=md(user))
    return err.value


async def test_reg7_mon5_reports_count_the_bank_as_it_stood_at_the_quarters_end(  # type: ignore[no-untyped-def]
    stub, md, registry_app
) -> None:
    # On record through the quarter's end: A (one minor turns 18 on 20 December) and B (removed
    # only in January); C removed in December; D entered in January.
    await entered(
        stub,
        md,
        date(2026, 11, 10),
        [
            child("Кузнецов Илья Андреевич", date(2016, 2, 1)),
            child("Кузнецова Дарья Андреевна", date(2008, 12, 20)),
        ],
    )
    b = await entered(stub, md, date(2026, 10, 5), [child("Орлов Глеб Павлович", date(2014, 6, 1))])
    c = await entered(stub, md, date(2026, 10, 6), [child("Зайцев Лев Олегович", date(2013, 1, 9))])
    await removed(stub, md, c.id, date(2026, 12, 15))

    # Not ended yet: refused, naming the quarter (REG-7).
    early: list[tuple[Any, Any, str]] = [
        (
            pb.SubmitOfficeReportRequest(quarter="2026-Q4"),
            stub.SubmitOfficeReport,
            "registry.irk",
        ),
        (
            pb.SubmitOfficeReportRequest(quarter="2026-Q5"),
            stub.SubmitOfficeReport,
            "registry.irk",
        ),
        (
            pb.ReportRegistryIndicatorsRequest(quarter="2026-Q4"),
            stub.ReportRegistryIndicators,
            "analyst.irk",
        ),
    ]
    with clock_at(irkutsk(date(2026, 12, 31), 23)):
        for request, call, user in early:
            err = await refused(call, request, user, md)
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert details(err)[1] == ["quarter"]

    # The quarter ends: the sweeper opens both terms, once however often it runs.
    for hour in (1, 2):
        await registry_app.sweeper.sweep_once(now=datetime(2027, 1, 1, hour, tzinfo=IRKUTSK))
    ministry_term, office_term = await terms(registry_app)
    assert (office_term.rule, ministry_term.rule) == ("REG-7/office", "REG-7/ministry")
    assert office_term.responsible_agency == "reg-irk-1"
    # By the 5th and the 10th; 1-8 January are holidays and 9-10 a weekend: both 11 January.
    for row in (office_term, ministry_term):
        assert row.state == "open"
        assert row.due_at.astimezone(IRKUTSK).date() == date(2027, 1, 11)

    await entered(stub, md, date(2027, 1, 11), [child("Новиков Марк Ильич", date(2017, 3, 3))])
    await removed(stub, md, b.id, date(2027, 1, 11))

    with clock_at(irkutsk(date(2027, 1, 11), 15)):
        err = await refused(
            stub.SubmitMinistrySummary,
            pb.SubmitMinistrySummaryRequest(quarter="2026-Q4"),
            "analyst.irk",
            md,
        )
        assert err.code() == grpc.StatusCode.FAILED_PRECONDITION
        assert details(err)[0] == "no-office-reports"
        for call, request, user in (
            (
                stub.SubmitOfficeReport,
                pb.SubmitOfficeReportRequest(quarter="2026-Q4"),
                "analyst.irk",
            ),
            (
                stub.SubmitMinistrySummary,
                pb.SubmitMinistrySummaryRequest(quarter="2026-Q4"),
                "registry.irk",
            ),
        ):
            assert (await refused(call, request, user, md)).code() == (
                grpc.StatusCode.PERMISSION_DENIED
            )

        office = (
            await stub.SubmitOfficeReport(
                pb.SubmitOfficeReportRequest(quarter="2026-Q4"), metadata=md("registry.irk")
            )
        ).report
        again = (
            await stub.SubmitOfficeReport(
                pb.SubmitOfficeReportRequest(quarter="2026-Q4"), metadata=md("registry.irk")
            )
        ).report
        indicators = await stub.ReportRegistryIndicators(
            pb.ReportRegistryIndicatorsRequest(quarter="2026-Q4"), metadata=md("analyst.irk")
        )
        summary = (
            await stub.SubmitMinistrySummary(
                pb.SubmitMinistrySummaryRequest(quarter="2026-Q4"), metadata=md("analyst.irk")
            )
        ).report

    assert again.id == office.id
    assert office.level == pb.REPORT_LEVEL_OFFICE and office.agency == "reg-irk-1"
    counts = (
        office.families_on_record,
        office.minors_on_record,
        office.families_registered,
        office.families_deregistered,
    )
    assert counts == (2, 2, 3, 1)
    assert office.as_of.ToDatetime().replace(tzinfo=None) == datetime(2026, 12, 31, 16, 0)
    (met,) = office.obligations
    assert (met.rule, met.state, met.on_time) == ("REG-7/office", "met", True)

    # MON-5: the same figures for the monitoring report.
    assert (indicators.families_on_record, indicators.minors_on_record) == (2, 2)
    assert indicators.territory == "ru-irk" and indicators.quarter == "2026-Q4"

    assert summary.level == pb.REPORT_LEVEL_MINISTRY and summary.office_reports == 1
    assert (summary.families_on_record, summary.minors_on_record) == (2, 2)
    (met,) = summary.obligations
    assert (met.rule, met.state, met.on_time) == ("REG-7/ministry", "met", True)
    assert met.responsible_agency == "min-irk-1"

    listed = await stub.ListQuarterReports(
        pb.ListQuarterReportsRequest(quarter="2026-Q4"), metadata=md("auditor.irk")
    )
    assert [r.id for r in listed.reports] == [office.id, summary.id]
    err = await refused(
        stub.ListQuarterReports,
        pb.ListQuarterReportsRequest(quarter="2026-Q4"),
        "caseworker.irk",
        md,
    )
    assert err.code() == grpc.StatusCode.PERMISSION_DENIED

    exported = await stub.ExportQuarterReports(
        pb.ExportQuarterReportsRequest(quarter="2026-Q4", format="csv"), metadata=md("analyst.irk")
    )
    assert exported.media_type.startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [(r["level"], r["families_on_record"], r["minors_on_record"]) for r in rows] == [
        ("office", "2", "2"),
        ("ministry", "2", "2"),
    ]
    printed = await stub.ExportQuarterReports(
        pb.ExportQuarterReportsRequest(quarter="2026-Q4", format="pdf"), metadata=md("analyst.irk")
    )
    assert printed.media_type == "application/pdf" and printed.content.startswith(b"%PDF")
    assert printed.filename == "reg7-ru-irk-2026-Q4.pdf"
    err = await refused(
        stub.ExportQuarterReports,
        pb.ExportQuarterReportsRequest(quarter="2026-Q4", format="xls"),
        "analyst.irk",
        md,
    )
    assert details(err)[1] == ["format"]


async def test_reg7_a_retried_submission_returns_the_first_report(stub, md) -> None:  # type: ignore[no-untyped-def]
    """A report is one per agency and quarter, so any retry returns the first; the
    Idempotency-Key the gateway forwards also refuses its reuse for another quarter, naming
    `idempotency_key`, and nothing is submitted twice."""
    calls: list[tuple[Any, type[Any], str]] = [
        (stub.SubmitOfficeReport, pb.SubmitOfficeReportRequest, "registry.irk"),
        (stub.SubmitMinistrySummary, pb.SubmitMinistrySummaryRequest, "analyst.irk"),
    ]
    with clock_at(irkutsk(date(2027, 1, 11), 15)):
        first: list[str] = []
        for call, message, user in calls:
            keyed = message(quarter="2026-Q3", idempotency_key=f"q3-{user}")
            report = (await call(keyed, metadata=md(user))).report
            assert report.quarter == "2026-Q3"
            assert (await call(keyed, metadata=md(user))).report.id == report.id
            # Without the key, or under a new one: still the quarter's one report.
            unkeyed = message(quarter="2026-Q3")
            assert (await call(unkeyed, metadata=md(user))).report.id == report.id
            fresh = message(quarter="2026-Q3", idempotency_key=f"q3-again-{user}")
            assert (await call(fresh, metadata=md(user))).report.id == report.id

            err = await refused(
                call, message(quarter="2026-Q2", idempotency_key=f"q3-{user}"), user, md
            )
            assert err.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert details(err) == ("idempotency-key-reused", ["idempotency_key"])
            first.append(report.id)

        listed = await stub.ListQuarterReports(
            pb.ListQuarterReportsRequest(quarter="2026-Q3"), metadata=md("auditor.irk")
        )
        assert [r.id for r in listed.reports] == first
        none = await stub.ListQuarterReports(
            pb.ListQuarterReportsRequest(quarter="2026-Q2"), metadata=md("auditor.irk")
        )
        assert list(none.reports) == []
