"""The servicer's half for requests (REG-8) and quarterly reports (REG-7, MON-5): proto to
domain and back, nothing else."""

from __future__ import annotations

from typing import Any

import grpc

from kamqor import idempotency, obligations
from kamqor.grpcserver import current_principal
from kamqor.protoconv import parse_date, ts
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.runtime import Wiring
from registry import service
from registry.rules.reports import ReportLevel

Ctx = grpc.aio.ServicerContext[Any, Any]

_INQUIRY_STATES = {"open": pb.INQUIRY_STATE_OPEN, "answered": pb.INQUIRY_STATE_ANSWERED}
_LEVELS = {
    ReportLevel.OFFICE: pb.REPORT_LEVEL_OFFICE,
    ReportLevel.MINISTRY: pb.REPORT_LEVEL_MINISTRY,
}


def _answer_pb(answer: dict[str, Any]) -> pb.InquiryAnswer:
    families = []
    for f in answer.get("families", []):
        members = []
        for m in f["members"]:
            doc = m.get("document")
            members.append(
                pb.Person(
                    full_name=m.get("full_name", ""),
                    relation=m.get("relation", ""),
                    birth_date=m.get("birth_date", ""),
                    birth_place=m.get("birth_place", ""),
                    registered_address=m.get("registered_address", ""),
                    actual_address=m.get("actual_address", ""),
                    document=None
                    if not doc or not doc.get("number")
                    else pb.IdentityDocument(
                        kind=pb.DocumentKind.Value(f"DOCUMENT_KIND_{doc['kind'].upper()}"),
                        series=doc["series"],
                        number=doc["number"],
                        issued_on=doc["issued_on"],
                    ),
                    disability=bool(m.get("disability", False)),
                    work_or_study=m.get("work_or_study", ""),
                )
            )
        families.append(
            pb.InquiryFamily(
                members=members,
                responsible_body=f.get("responsible_body", ""),
                grounds=f.get("grounds", ""),
            )
        )
    return pb.InquiryAnswer(
        on_record=bool(answer.get("on_record", False)),
        fields=list(answer.get("fields", [])),
        families=families,
    )


def _inquiry_pb(view: service.InquiryView) -> pb.Inquiry:
    i = view.inquiry
    msg = pb.Inquiry(
        id=i.id,
        territory=i.territory,
        requester_agency=i.requester_agency,
        requester_agency_type=i.requester_agency_type,
        requested_by=i.requested_by,
        purpose=i.purpose,
        reason=i.reason,
        state=_INQUIRY_STATES[i.state],
        received_at=ts(i.received_at),
        office_id=i.office_id,
        answered_by=i.answered_by,
        answered_at=ts(i.answered_at) if i.answered_at else None,
        obligations=[obligations.to_pb(o) for o in view.obligations],
    )
    if view.disclosed:
        msg.subject_full_name = i.subject_full_name
        msg.subject_birth_date = i.subject_birth_date.isoformat()
        if i.answer:
            msg.answer.CopyFrom(_answer_pb(i.answer))
    return msg


def _report_pb(view: service.ReportView) -> pb.QuarterReport:
    r = view.report
    return pb.QuarterReport(
        id=r.id,
        territory=r.territory,
        quarter=r.quarter,
        level=_LEVELS[ReportLevel(r.level)],
        agency=r.agency,
        families_on_record=r.families_on_record,
        minors_on_record=r.minors_on_record,
        families_registered=r.families_registered,
        families_deregistered=r.families_deregistered,
        office_reports=r.office_reports,
        as_of=ts(r.as_of),
        submitted_by=r.submitted_by,
        submitted_at=ts(r.submitted_at),
        obligations=[obligations.to_pb(o) for o in view.obligations],
    )


class ReportingServicer:
    """Mixed into `RegistryServicer`."""

    _w: Wiring

    async def CreateInquiry(
        self, request: pb.CreateInquiryRequest, context: Ctx
    ) -> pb.CreateInquiryResponse:
        birth = parse_date(request.subject_birth_date, field="subject_birth_date")
        assert birth is not None
        async with self._w.transaction() as session:
            view = await service.create_inquiry(
                session,
                principal=current_principal(),
                purpose=request.purpose,
                reason=request.reason,
                subject_full_name=request.subject_full_name,
                subject_birth_date=birth,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.CreateInquiryResponse(inquiry=_inquiry_pb(view))

    async def ListInquiriesToAnswer(
        self, request: pb.ListInquiriesToAnswerRequest, context: Ctx
    ) -> pb.ListInquiriesToAnswerResponse:
        async with self._w.transaction() as session:
            views, token = await service.list_to_answer(
                session,
                principal=current_principal(),
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListInquiriesToAnswerResponse(
            inquiries=[_inquiry_pb(v) for v in views], next_page_token=token
        )

    async def AnswerInquiry(
        self, request: pb.AnswerInquiryRequest, context: Ctx
    ) -> pb.AnswerInquiryResponse:
        async with self._w.transaction() as session:
            view = await service.answer_inquiry(
                session, principal=current_principal(), inquiry_id=request.inquiry_id
            )
        return pb.AnswerInquiryResponse(inquiry=_inquiry_pb(view))

    async def ListOwnInquiries(
        self, request: pb.ListOwnInquiriesRequest, context: Ctx
    ) -> pb.ListOwnInquiriesResponse:
        async with self._w.transaction() as session:
            views, token = await service.list_own(
                session,
                principal=current_principal(),
                page_size=request.page_size,
                page_token=request.page_token,
            )
        return pb.ListOwnInquiriesResponse(
            inquiries=[_inquiry_pb(v) for v in views], next_page_token=token
        )

    async def GetInquiry(
        self, request: pb.GetInquiryRequest, context: Ctx
    ) -> pb.GetInquiryResponse:
        async with self._w.transaction() as session:
            view = await service.get_inquiry(
                session, principal=current_principal(), inquiry_id=request.inquiry_id
            )
        return pb.GetInquiryResponse(inquiry=_inquiry_pb(view))

    async def SubmitOfficeReport(
        self, request: pb.SubmitOfficeReportRequest, context: Ctx
    ) -> pb.SubmitOfficeReportResponse:
        async with self._w.transaction() as session:
            view = await service.submit_office_report(
                session,
                principal=current_principal(),
                quarter=request.quarter,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.SubmitOfficeReportResponse(report=_report_pb(view))

    async def SubmitMinistrySummary(
        self, request: pb.SubmitMinistrySummaryRequest, context: Ctx
    ) -> pb.SubmitMinistrySummaryResponse:
        async with self._w.transaction() as session:
            view = await service.submit_ministry_summary(
                session,
                principal=current_principal(),
                quarter=request.quarter,
                idempotency_key=request.idempotency_key,
                request_digest=idempotency.request_digest(request),
            )
        return pb.SubmitMinistrySummaryResponse(report=_report_pb(view))

    async def ListQuarterReports(
        self, request: pb.ListQuarterReportsRequest, context: Ctx
    ) -> pb.ListQuarterReportsResponse:
        async with self._w.transaction() as session:
            views = await service.list_reports(
                session, principal=current_principal(), quarter=request.quarter
            )
        return pb.ListQuarterReportsResponse(reports=[_report_pb(v) for v in views])

    async def ExportQuarterReports(
        self, request: pb.ExportQuarterReportsRequest, context: Ctx
    ) -> pb.ExportQuarterReportsResponse:
        async with self._w.transaction() as session:
            out = await service.export_reports(
                session,
                principal=current_principal(),
                quarter=request.quarter,
                format=request.format,
            )
        return pb.ExportQuarterReportsResponse(
            content=out.content, media_type=out.media_type, filename=out.filename
        )

    async def ReportRegistryIndicators(
        self, request: pb.ReportRegistryIndicatorsRequest, context: Ctx
    ) -> pb.ReportRegistryIndicatorsResponse:
        async with self._w.transaction() as session:
            found = await service.indicators(
                session,
                principal=current_principal(),
                quarter=request.quarter,
                territory=request.territory,
            )
        return pb.ReportRegistryIndicatorsResponse(
            territory=found.territory,
            quarter=str(found.quarter),
            as_of=ts(found.as_of),
            families_on_record=found.families,
            minors_on_record=found.minors,
        )
