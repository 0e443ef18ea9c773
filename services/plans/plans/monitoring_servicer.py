"""gRPC servicer of the monitoring reports (MON-1): proto to domain and back, nothing else."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import grpc
from google.protobuf.message import Message

from kamqor import idempotency, obligations
from kamqor.errors import Invalid
from kamqor.grpcserver import current_principal
from kamqor.plans.v1 import monitoring_pb2 as pb
from kamqor.plans.v1 import monitoring_pb2_grpc
from kamqor.protoconv import ts
from kamqor.runtime import Wiring
from plans.service import monitoring as service

Ctx = grpc.aio.ServicerContext[Any, Any]

# Prose that may keep line breaks and tabs; every other string field is one line (kamqor.inputs).
FREE_TEXT = tuple(
    message.DESCRIPTOR.fields_by_name[name]
    for message in (pb.CreateMonitoringReportRequest, pb.ReviseMonitoringReportRequest)
    for name in ("conclusion", "shortcomings", "proposals")
)
_FORMATS = {
    pb.EXPORT_FORMAT_PDF: service.ExportFormat.PDF,
    pb.EXPORT_FORMAT_CSV: service.ExportFormat.CSV,
}


def _digest(request: Message) -> str:
    """The request's fingerprint without its snapshot: a retry carries the figures as the
    gateway assembled them again, a moment later, and is still the same request."""
    canonical = type(request)()
    canonical.CopyFrom(request)
    canonical.ClearField("snapshot_json")
    return idempotency.request_digest(canonical)


def _report_pb(view: service.ReportView, *, snapshot: bool = True) -> pb.MonitoringReport:
    r, v = view.report, view.version
    return pb.MonitoringReport(
        id=r.id,
        center_id=r.center_id,
        territory=r.territory,
        quarter=r.quarter,
        version=v.version,
        latest_version=r.latest_version,
        snapshot_json=json.dumps(v.snapshot, ensure_ascii=False) if snapshot else "",
        conclusion=v.conclusion,
        shortcomings=v.shortcomings,
        proposals=v.proposals,
        author=v.author,
        created_at=ts(v.created_at),
        signed_by=v.signed_by,
        signed_at=ts(v.signed_at),
        versions=[
            pb.MonitoringReportVersion(
                version=h.version,
                author=h.author,
                created_at=ts(h.created_at),
                signed_by=h.signed_by,
                signed_at=ts(h.signed_at),
            )
            for h in view.history
        ],
        obligations=[obligations.to_pb(o) for o in view.obligations],
    )


class MonitoringServicer(monitoring_pb2_grpc.MonitoringServiceServicer):
    def __init__(self, wiring: Wiring) -> None:
        self._w = wiring

    async def CreateMonitoringReport(
        self, request: pb.CreateMonitoringReportRequest, context: Ctx
    ) -> pb.CreateMonitoringReportResponse:
        async with self._w.transaction() as session:
            view = await service.create_monitoring_report(
                session,
                principal=current_principal(),
                center_id=request.center_id,
                quarter=request.quarter,
                snapshot_json=request.snapshot_json,
                conclusion=request.conclusion,
                shortcomings=list(request.shortcomings),
                proposals=list(request.proposals),
                idempotency_key=request.idempotency_key,
                request_digest=_digest(request),
            )
        return pb.CreateMonitoringReportResponse(report=_report_pb(view))

    async def ListMonitoringReports(
        self, request: pb.ListMonitoringReportsRequest, context: Ctx
    ) -> pb.ListMonitoringReportsResponse:
        async with self._w.transaction() as session:
            views = await service.list_monitoring_reports(
                session, principal=current_principal(), quarter=request.quarter
            )
        return pb.ListMonitoringReportsResponse(
            reports=[_report_pb(v, snapshot=False) for v in views]
        )

    async def GetMonitoringReport(
        self, request: pb.GetMonitoringReportRequest, context: Ctx
    ) -> pb.GetMonitoringReportResponse:
        async with self._w.transaction() as session:
            view = await service.get_monitoring_report(
                session,
                principal=current_principal(),
                report_id=request.report_id,
                version=request.version,
            )
        return pb.GetMonitoringReportResponse(report=_report_pb(view))

    async def ReviseMonitoringReport(
        self, request: pb.ReviseMonitoringReportRequest, context: Ctx
    ) -> pb.ReviseMonitoringReportResponse:
        async with self._w.transaction() as session:
            view = await service.revise_monitoring_report(
                session,
                principal=current_principal(),
                report_id=request.report_id,
                base_version=request.base_version,
                snapshot_json=request.snapshot_json,
                conclusion=request.conclusion,
                shortcomings=list(request.shortcomings),
                proposals=list(request.proposals),
                idempotency_key=request.idempotency_key,
                request_digest=_digest(request),
            )
        return pb.ReviseMonitoringReportResponse(report=_report_pb(view))

    async def SignMonitoringReport(
        self, request: pb.SignMonitoringReportRequest, context: Ctx
    ) -> pb.SignMonitoringReportResponse:
        async with self._w.transaction() as session:
            view = await service.sign_monitoring_report(
                session,
                principal=current_principal(),
                report_id=request.report_id,
                version=request.version,
            )
        return pb.SignMonitoringReportResponse(report=_report_pb(view))

    async def ExportMonitoringReport(
        self, request: pb.ExportMonitoringReportRequest, context: Ctx
    ) -> pb.ExportMonitoringReportResponse:
        form = _FORMATS.get(request.format)
        if form is None:
            raise Invalid("format", "must be one of ['csv', 'pdf']")
        async with self._w.transaction() as session:
            view = await service.get_monitoring_report(
                session,
                principal=current_principal(),
                report_id=request.report_id,
                version=request.version,
            )
        export = await asyncio.to_thread(service.render, view, form)
        return pb.ExportMonitoringReportResponse(
            content=export.content, media_type=export.media_type, filename=export.filename
        )
