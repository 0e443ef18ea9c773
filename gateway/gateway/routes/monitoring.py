"""/v1/monitoring-reports: the center's quarterly monitoring reports (MON-1), kept by the plans
service's MonitoringService.

Writing a version, the gateway assembles the quarter's indicators first: it asks each indicator's
own route (MON-2 intake and plans, MON-3 deadlines and measures per agency, MON-4 caseload,
MON-6 shelter) with the caller's token, concurrently, and passes the answers as one snapshot of
sections keyed by indicator. An indicator no service reports yet is listed as `missing`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Annotated
from uuid import UUID

import grpc
from fastapi import APIRouter, Query, Response
from pydantic import BaseModel

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes import agencies, intake, plan_lifecycle, reports, shelter
from gateway.routes.params import IdempotencyKey, created
from gateway.schemas.agencies import MeasureReport
from gateway.schemas.intake import CaseloadReport, IntakeIndicators
from gateway.schemas.monitoring import (
    MAX_VERSION,
    QUARTER_PATTERN,
    Figure,
    MonitoringReport,
    MonitoringReportIn,
    MonitoringReportList,
    MonitoringRevisionIn,
    MonitoringSignIn,
    MonitoringSnapshot,
    Quarter,
    Section,
)
from gateway.schemas.plan_lifecycle import PlanIndicators
from gateway.schemas.reports import DeadlineReport
from gateway.schemas.shelter import ShelterIndicators
from kamqor.auth import Principal
from kamqor.clock import utcnow
from kamqor.plans.v1 import monitoring_pb2 as pb
from kamqor.plans.v1 import monitoring_pb2_grpc

NAME = "monitoring"
SERVICE = "plans"
# The same roles the service checks (plans.rules.monitoring); it re-checks, and decides who may
# sign which version.
AUTHORS = ("analyst", "center-head")
READERS = ("analyst", "center-head", "auditor")
SIGNERS = ("center-head",)
PATH = "/v1/monitoring-reports"
# Indicators of DOMAIN.md that no service reports yet: listed in each snapshot as missing.
NOT_REPORTED = ("MON-5",)

router = APIRouter(
    route_class=JSONRoute,
    prefix=PATH,
    tags=["monitoring"],
    responses=responses(401, 403, 503),
)


def _stub(clients: Clients) -> monitoring_pb2_grpc.MonitoringServiceAsyncStub:
    return monitoring_pb2_grpc.MonitoringServiceStub(clients.channel(SERVICE))


Fetch = Callable[[Principal, Clients, date, date], Awaitable[BaseModel]]


@dataclass(frozen=True)
class Source:
    """One indicator's route, and how its answer becomes figures."""

    key: str
    title: str
    operation: str
    fetch: Fetch
    figures: Callable[[BaseModel], list[Figure]]


def _fig(series: str, label: object, value: float | None) -> Figure:
    """A figure whose label fits the stored shape (1 to 200 characters): a row without a name
    (a level a profile does not set) is labelled with a dash."""
    return Figure(series=series, label=(str(label) or "—")[:200], value=value)


def _intake_figures(m: BaseModel) -> list[Figure]:
    assert isinstance(m, IntakeIndicators)
    return [
        _fig("families_accepted", "total", m.families_accepted),
        *(_fig("families_by_situation", k, v) for k, v in sorted(m.by_outcome.items())),
        *(_fig("families_by_channel", k, v) for k, v in sorted(m.by_channel.items())),
        *(_fig("persons_by_level", p.level, p.persons) for p in m.persons_accepted),
        *(
            _fig("level_changes", f"{c.from_level}→{c.to_level}", c.persons)
            for c in m.level_changes
        ),
    ]


def _plan_figures(m: BaseModel) -> list[Figure]:
    assert isinstance(m, PlanIndicators)
    return [
        *(_fig("level_changes", k, v) for k, v in sorted(m.level_changes.items())),
        *(_fig("closures_by_ground", k, v) for k, v in sorted(m.closures.items())),
        _fig("plans", "approved", m.plans_approved),
        _fig("plans", "closed", m.plans_closed),
        _fig("plans", "reopened", m.plans_reopened),
    ]


def _deadline_figures(m: BaseModel) -> list[Figure]:
    assert isinstance(m, DeadlineReport)
    return [
        *(_fig("on_time_share_by_rule", r.rule, r.on_time_share) for r in m.by_rule),
        *(
            _fig("on_time_share_by_agency", a.responsible_agency, a.on_time_share)
            for a in m.by_agency
        ),
        _fig("obligations", "total", m.total.total),
        _fig("obligations", "met_on_time", m.total.met_on_time),
        _fig("obligations", "met_late", m.total.met_late),
        _fig("obligations", "open_overdue", m.total.open_overdue),
    ]


def _measure_figures(m: BaseModel) -> list[Figure]:
    assert isinstance(m, MeasureReport)
    return [
        *(_fig("measures_reported_on_time", a.agency_name, a.reported_on_time) for a in m.agencies),
        *(_fig("measures_reported_late", a.agency_name, a.reported_late) for a in m.agencies),
        *(_fig("measures_declined", a.agency_name, a.declined) for a in m.agencies),
    ]


def _caseload_figures(m: BaseModel) -> list[Figure]:
    assert isinstance(m, CaseloadReport)
    cases: dict[str, int] = {}
    for row in m.rows:
        cases[row.worker] = cases.get(row.worker, 0) + row.cases
    over = sorted({row.worker for row in m.rows if row.over})
    return [
        *(_fig("open_cases", worker, n) for worker, n in sorted(cases.items())),
        *(_fig("over_recommendation", worker, 1) for worker in over),
    ]


def _shelter_figures(m: BaseModel) -> list[Figure]:
    assert isinstance(m, ShelterIndicators)
    return [
        *(_fig("bed_days", s.shelter_name, s.bed_days) for s in m.bed_days),
        _fig("admissions", "total", m.admissions),
        _fig("admissions", "with_minors", m.admissions_with_minors),
        _fig("admissions", "minors_admitted", m.minors_admitted),
        *(_fig("stays_by_length", b.length, b.stays) for b in m.stays_by_length),
        *(_fig("refusals_by_reason", r.reason, r.refusals) for r in m.refusals),
        *(
            _fig("notices_on_time", f"{n.recipient_agency_type} {n.rule}", n.delivered_on_time)
            for n in m.notices
        ),
        *(
            _fig("notices_late", f"{n.recipient_agency_type} {n.rule}", n.delivered_late)
            for n in m.notices
        ),
    ]


# Each indicator's own route function, called as the route itself would be: the same checks,
# the same conversion, the same answer a client of that route gets.
SOURCES = (
    Source(
        "MON-2/intake",
        "Families accepted for support, level changes at assessment",
        "getIntakeIndicators",
        lambda p, c, f, t: intake.intake_indicators(p, c, f, t, None),
        _intake_figures,
    ),
    Source(
        "MON-2/plans",
        "Level changes by direction, families closed by ground",
        "getPlanIndicators",
        lambda p, c, f, t: plan_lifecycle.plan_indicators(p, c, f, t, None),
        _plan_figures,
    ),
    Source(
        "MON-3",
        "Compliance with interagency deadlines",
        "getDeadlineReport",
        lambda p, c, f, t: reports.report_deadlines(p, c, f, t, None),
        _deadline_figures,
    ),
    Source(
        "MON-3/measures",
        "Measures per agency: reported on time or late, declined",
        "getMeasureIndicators",
        lambda p, c, f, t: agencies.report_measures(p, c, f, t),
        _measure_figures,
    ),
    Source(
        "MON-4",
        "Caseload per case worker (at assembly)",
        "getCaseloadReport",
        lambda p, c, f, t: intake.get_caseload_report(p, c),
        _caseload_figures,
    ),
    Source(
        "MON-6",
        "Shelter: bed-days, admissions, stays, refusals, notice timeliness",
        "getShelterIndicators",
        lambda p, c, f, t: shelter.shelter_indicators(p, c, f, t, None),
        _shelter_figures,
    ),
)


async def assemble(principal: Principal, clients: Clients, quarter: str) -> MonitoringSnapshot:
    """The quarter's indicators in the caller's territory, each from its own route. A service
    that does not serve its indicator yet (UNIMPLEMENTED) leaves it missing; any other failure
    fails the request (a report is not written on half the figures)."""
    year, number = int(quarter[:4]), int(quarter[-1])
    first = date(year, 3 * number - 2, 1)
    after = date(year + 1, 1, 1) if number == 4 else date(year, 3 * number + 1, 1)

    async def one(source: Source) -> Section | None:
        try:
            model = await source.fetch(principal, clients, first, after)
        except grpc.aio.AioRpcError as exc:
            if exc.code() == grpc.StatusCode.UNIMPLEMENTED:
                return None
            raise
        return Section(
            title=source.title,
            source=source.operation,
            figures=source.figures(model),
            data=model.model_dump(mode="json", by_alias=True),
        )

    found = await asyncio.gather(*(one(s) for s in SOURCES))
    sections = {s.key: section for s, section in zip(SOURCES, found, strict=True) if section}
    missing = [s.key for s, section in zip(SOURCES, found, strict=True) if section is None]
    return MonitoringSnapshot(
        quarter=quarter,
        territory=principal.territory,
        from_=first,
        to=after,
        assembled_at=utcnow(),
        sections=sections,
        missing=[*missing, *NOT_REPORTED],
    )


@router.post(
    "",
    operation_id="createMonitoringReport",
    status_code=201,
    summary="Write a center's quarterly monitoring report (MON-1)",
    dependencies=[require_roles(*AUTHORS)],
    responses=created("MonitoringReport") | responses(409, 422),
)
async def create_report(
    body: MonitoringReportIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MonitoringReport:
    """Version 1 of the report of an ended quarter (422 naming `quarter` otherwise): the
    quarter's indicators (MON-2 … MON-6) assembled now, with the conclusion, the shortcomings
    found and the proposals to remove them. One report per center and quarter (409
    `monitoring-report-exists`: revise it). A retry with the same `Idempotency-Key` returns the
    first report."""
    snapshot = await assemble(principal, clients, body.quarter)
    reply = await _stub(clients).CreateMonitoringReport(
        body.to_proto(snapshot, idempotency_key), **clients.options(principal)
    )
    report = MonitoringReport.from_proto(reply.report)
    response.headers["Location"] = f"{PATH}/{report.id}"
    return report


@router.get(
    "",
    operation_id="listMonitoringReports",
    summary="The territory's monitoring reports",
    dependencies=[require_roles(*READERS)],
    responses=responses(422),
)
async def list_reports(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    quarter: Annotated[
        Quarter | None, Query(pattern=QUARTER_PATTERN, description="YYYY-Qn; all by default.")
    ] = None,
) -> MonitoringReportList:
    """Each at its latest version, newest quarter first, without the indicators."""
    reply = await _stub(clients).ListMonitoringReports(
        pb.ListMonitoringReportsRequest(quarter=quarter or ""), **clients.options(principal)
    )
    return MonitoringReportList(items=[MonitoringReport.from_proto(r) for r in reply.reports])


Version = Annotated[
    int | None,
    Query(ge=1, le=MAX_VERSION, description="The version to read; the latest by default."),
]


@router.get(
    "/{report_id}",
    operation_id="getMonitoringReport",
    summary="One monitoring report at one version",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_report(
    report_id: UUID,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    version: Version = None,
) -> MonitoringReport:
    """With its indicators and every version's line; earlier versions stay readable as they
    were written and signed."""
    reply = await _stub(clients).GetMonitoringReport(
        pb.GetMonitoringReportRequest(report_id=str(report_id), version=version or 0),
        **clients.options(principal),
    )
    return MonitoringReport.from_proto(reply.report)


@router.post(
    "/{report_id}/revisions",
    operation_id="reviseMonitoringReport",
    status_code=201,
    summary="Revise a monitoring report into a new version",
    dependencies=[require_roles(*AUTHORS)],
    responses=created("MonitoringReport version") | responses(404, 409, 422),
)
async def revise_report(
    report_id: UUID,
    body: MonitoringRevisionIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> MonitoringReport:
    """A new version with the indicators assembled again; a signed version is never changed,
    only revised this way. A retry with the same `Idempotency-Key` returns the first result."""
    current = await _stub(clients).GetMonitoringReport(
        pb.GetMonitoringReportRequest(report_id=str(report_id)), **clients.options(principal)
    )
    snapshot = await assemble(principal, clients, current.report.quarter)
    reply = await _stub(clients).ReviseMonitoringReport(
        body.to_proto(str(report_id), snapshot, idempotency_key), **clients.options(principal)
    )
    report = MonitoringReport.from_proto(reply.report)
    response.headers["Location"] = f"{PATH}/{report.id}?version={report.version}"
    return report


@router.post(
    "/{report_id}/sign",
    operation_id="signMonitoringReport",
    summary="Sign off the latest version (center head)",
    dependencies=[require_roles(*SIGNERS)],
    responses=responses(404, 409, 422),
)
async def sign_report(
    report_id: UUID, body: MonitoringSignIn, principal: CurrentPrincipal, clients: GrpcClients
) -> MonitoringReport:
    """The head of the report's center signs off the latest version, one they did not write
    (four eyes: 403 otherwise); the version is frozen and the quarter's MON-1 obligation met.
    An older version or one already signed is a 409."""
    reply = await _stub(clients).SignMonitoringReport(
        pb.SignMonitoringReportRequest(report_id=str(report_id), version=body.version),
        **clients.options(principal),
    )
    return MonitoringReport.from_proto(reply.report)


async def _export(
    report_id: UUID,
    version: int | None,
    form: pb.ExportFormat.ValueType,
    principal: Principal,
    clients: Clients,
) -> Response:
    reply = await _stub(clients).ExportMonitoringReport(
        pb.ExportMonitoringReportRequest(
            report_id=str(report_id), version=version or 0, format=form
        ),
        **clients.options(principal),
    )
    return Response(
        content=reply.content,
        media_type=reply.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{reply.filename}"',
            "Cache-Control": "no-store",
        },
    )


def _file(media_type: str, what: str) -> dict[int | str, dict[str, object]]:
    return {
        200: {
            "description": what,
            "content": {media_type: {"schema": {"type": "string", "format": "binary"}}},
        },
        **responses(404, 422),
    }


@router.get(
    "/{report_id}/export.pdf",
    operation_id="exportMonitoringReportPdf",
    summary="One version as a PDF document",
    dependencies=[require_roles(*READERS)],
    response_class=Response,
    responses=_file("application/pdf", "The report as printed, with its sign-off."),
)
async def export_pdf(
    report_id: UUID, principal: CurrentPrincipal, clients: GrpcClients, version: Version = None
) -> Response:
    """Conclusion, shortcomings, proposals and every indicator's figures; the read is audited."""
    return await _export(report_id, version, pb.EXPORT_FORMAT_PDF, principal, clients)


@router.get(
    "/{report_id}/export.csv",
    operation_id="exportMonitoringReportCsv",
    summary="One version's figures as CSV",
    dependencies=[require_roles(*READERS)],
    response_class=Response,
    responses=_file("text/csv", "section, title, series, label, value; UTF-8 with a BOM."),
)
async def export_csv(
    report_id: UUID, principal: CurrentPrincipal, clients: GrpcClients, version: Version = None
) -> Response:
    """One row per figure; a text cell a spreadsheet would run as a formula is quoted."""
    return await _export(report_id, version, pb.EXPORT_FORMAT_CSV, principal, clients)
