"""/v1/registry: the SDP data bank (REG-*), served by RegistryService.

Only where the territory's policy profile has the REG rules (Irkutsk); elsewhere the service
answers 409 `no-registry-rule`. Every read of a family names its purpose (REG-9).
"""

from __future__ import annotations

from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.schemas.common import Line
from gateway.schemas.registry import (
    Change,
    ChangeIn,
    Decision,
    DeregistrationIn,
    ExportFormat,
    Family,
    FamilyPage,
    FamilySearchIn,
    Inquiry,
    InquiryIn,
    InquiryPage,
    OfficeInbox,
    QuarterIn,
    QuarterReport,
    QuarterReportList,
    RegistrationIn,
    RegistrationRecorded,
    RegistryIndicators,
    ReviewIn,
    Session,
    SessionIn,
)
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.registry.v1 import registry_pb2_grpc

SERVICE = "registry"
# The same roles the service checks (registry.rules); it re-checks the agency type (a registry
# office) and the need to know on each family.
COMMISSION = ("commission-member",)
OFFICE = ("agency-coordinator", "agency-assignee")
# The responsible center's staff report changes; the service checks it is the family's.
REPORTERS = ("case-worker", "center-head")
SEARCHERS = ("commission-member", "case-worker", *OFFICE)
READERS = (*SEARCHERS, "auditor")
# Prevention bodies' staff ask (REG-8); the service checks the body type's lawful purposes.
REQUESTERS = OFFICE
MINISTRY = ("analyst",)
# Quarterly reports and the MON-5 figures: counts only (the service admits the registry office
# among the agency roles, no other body).
REPORT_READERS = ("analyst", "auditor", "commission-member", "center-head", *OFFICE)
PDF = "application/pdf"
CSV = "text/csv"
# Every inquiry route, reads included, is refused where the data bank does not exist.
NO_REGISTRY = (
    "`no-registry-rule`: the caller's territory's policy profile has no SDP data bank "
    "(REG-8 does not apply there)"
)


def _conflicts(*codes: int, when: str = NO_REGISTRY) -> dict[int | str, dict[str, Any]]:
    """`responses(*codes)` with the 409 saying when it happens."""
    found = responses(*codes)
    found[409] = {**found[409], "description": when}
    return found


router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1",
    tags=["registry"],
    responses=responses(401, 403, 503),
)

Purpose = Annotated[
    Line,
    Query(
        min_length=1,
        max_length=200,
        description="Why the data is read; written to the audit trail (REG-9).",
        examples=["check before a home visit"],
    ),
]


def _stub(clients: Clients) -> registry_pb2_grpc.RegistryServiceAsyncStub:
    return registry_pb2_grpc.RegistryServiceStub(clients.channel(SERVICE))


@router.post(
    "/registry/decisions",
    operation_id="recordRegistrationDecision",
    status_code=201,
    summary="Record a commission's registration decision",
    dependencies=[require_roles(*COMMISSION)],
    responses=created("Pending family") | responses(409, 422),
)
async def record_registration_decision(
    body: RegistrationIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> RegistrationRecorded:
    """Taken by a majority of the members present after hearing the prevention bodies, the minor
    and the parents (REG-2; no majority is a 409 `no-majority`), with the family's data (REG-1)
    and a repeat review within 6 months (REG-3); the commission then has 7 working days to send
    it to the registry office (REG-4). `Location` names the pending family."""
    reply = await _stub(clients).RecordRegistrationDecision(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    recorded = RegistrationRecorded.from_proto(reply)
    response.headers["Location"] = f"{router.prefix}/registry/families/{recorded.family.id}"
    return recorded


@router.post(
    "/registry/deregistrations",
    operation_id="recordDeregistration",
    status_code=201,
    summary="Record a commission's deregistration decision",
    dependencies=[require_roles(*COMMISSION)],
    responses=responses(404, 409, 422),
)
async def record_deregistration(
    body: DeregistrationIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Decision:
    """Decided like a registration (REG-2); sent to the registry office within 7 working days
    (REG-6)."""
    reply = await _stub(clients).RecordDeregistration(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Decision.from_proto(reply.decision)


@router.post(
    "/registry/reviews",
    operation_id="recordReview",
    status_code=201,
    summary="Record a commission's repeat review of a family on record",
    dependencies=[require_roles(*COMMISSION)],
    responses=responses(404, 409, 422),
)
async def record_review(
    body: ReviewIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Decision:
    """Decided like a registration (REG-2), with the documents studied recorded. `keep` meets
    the family's repeat review and schedules the next, at most 6 months after the session
    (REG-3); `deregister` is a deregistration due at the registry office within 7 working days
    (REG-6). A family not on record is a 409 `not-registered`."""
    reply = await _stub(clients).RecordReview(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Decision.from_proto(reply.decision)


@router.post(
    "/registry/sessions",
    operation_id="openSession",
    status_code=201,
    summary="Record a session of the caller's commission",
    dependencies=[require_roles(*COMMISSION)],
    responses=created("Session") | responses(409, 422),
)
async def open_session(
    body: SessionIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Session:
    """With the members present; without a quorum (at least half of the commission's members)
    a 409 `no-quorum`. Decisions then name the session and carry every member's ballot (REG-2).
    `Location` names the session."""
    reply = await _stub(clients).OpenSession(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    opened = Session.from_proto(reply.session)
    response.headers["Location"] = f"{router.prefix}/registry/sessions/{opened.id}"
    return opened


@router.get(
    "/registry/sessions/{session_id}",
    operation_id="getSession",
    summary="A session of the commission with its agenda",
    dependencies=[require_roles(*COMMISSION)],
    responses=responses(404, 409, 422),
)
async def get_session(
    session_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Session:
    """The members present, the quorum and the families decided on (REG-2)."""
    reply = await _stub(clients).GetSession(
        pb.GetSessionRequest(session_id=str(session_id)), **clients.options(principal)
    )
    return Session.from_proto(reply.session)


@router.post(
    "/registry/decisions/{decision_id}/send",
    operation_id="sendDecision",
    summary="Record that the commission's secretary sent a decision to the registry office",
    dependencies=[require_roles(*COMMISSION)],
    responses=responses(404, 409, 422),
)
async def send_decision(
    decision_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Decision:
    """Meets the commission's 7-working-day term (REG-4, REG-6) and notifies the registry
    office of the territory (NTF-6). Sent once: again is a 409 `decision-sent`."""
    reply = await _stub(clients).SendDecision(
        pb.SendDecisionRequest(decision_id=str(decision_id)), **clients.options(principal)
    )
    return Decision.from_proto(reply.decision)


@router.get(
    "/registry/inbox",
    operation_id="listOfficeInbox",
    summary="What waits for the caller's registry office",
    dependencies=[require_roles(*OFFICE)],
    responses=responses(409, 422),
)
async def list_office_inbox(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> OfficeInbox:
    """Decisions sent and not yet received, received and not yet entered, with their clocks
    (REG-4, REG-6). Registry office staff only; no personal data (read a family with its
    purpose)."""
    reply = await _stub(clients).ListOfficeInbox(
        pb.ListOfficeInboxRequest(page_size=page_size or 0, page_token=page_token or ""),
        **clients.options(principal),
    )
    return OfficeInbox.from_proto(reply)


@router.post(
    "/registry/changes",
    operation_id="reportChange",
    status_code=201,
    summary="Report a change in a registered family's data",
    dependencies=[require_roles(*REPORTERS)],
    responses=responses(404, 409, 422),
)
async def report_change(
    body: ChangeIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Change:
    """By the body responsible for the family's preventive work, within 7 working days of the
    change; the registry office enters it within 3 working days (REG-5). A family no longer on
    record is a 409 `not-registered`."""
    reply = await _stub(clients).ReportChange(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Change.from_proto(reply.change)


@router.post(
    "/registry/changes/{change_id}/enter",
    operation_id="enterChange",
    summary="Enter a reported change into the bank",
    dependencies=[require_roles(*OFFICE)],
    responses=responses(404, 409, 422),
)
async def enter_change(
    change_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Change:
    """Each field takes its new value; the old one stays in the family's history (REG-5).
    Registry office staff only."""
    reply = await _stub(clients).EnterChange(
        pb.EnterChangeRequest(change_id=str(change_id)), **clients.options(principal)
    )
    return Change.from_proto(reply.change)


@router.post(
    "/registry/decisions/{decision_id}/receive",
    operation_id="receiveDecision",
    summary="Record the registry office's receipt of a decision",
    dependencies=[require_roles(*OFFICE)],
    responses=responses(404, 409, 422),
)
async def receive_decision(
    decision_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Decision:
    """Meets the commission's 7-working-day term and starts the office's 3-working-day term
    to enter it (REG-4, REG-6). Registry office staff only."""
    reply = await _stub(clients).ReceiveDecision(
        pb.ReceiveDecisionRequest(decision_id=str(decision_id)), **clients.options(principal)
    )
    return Decision.from_proto(reply.decision)


@router.post(
    "/registry/decisions/{decision_id}/enter",
    operation_id="enterFamily",
    summary="Enter a received registration into the bank",
    dependencies=[require_roles(*OFFICE)],
    responses=responses(404, 409, 422),
)
async def enter_family(
    decision_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Family:
    """The family is registered and from then on found by searches (REG-4)."""
    reply = await _stub(clients).EnterFamily(
        pb.EnterFamilyRequest(decision_id=str(decision_id)), **clients.options(principal)
    )
    return Family.from_proto(reply.family)


@router.post(
    "/registry/decisions/{decision_id}/remove",
    operation_id="removeFamily",
    summary="Remove a family from the bank on a received deregistration",
    dependencies=[require_roles(*OFFICE)],
    responses=responses(404, 409, 422),
)
async def remove_family(
    decision_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Decision:
    """From then on the family is out of every search and listing, kept for auditors (REG-6)."""
    reply = await _stub(clients).RemoveFamily(
        pb.RemoveFamilyRequest(decision_id=str(decision_id)), **clients.options(principal)
    )
    return Decision.from_proto(reply.decision)


@router.get(
    "/registry/families/{family_id}",
    operation_id="getFamily",
    summary="One family's record, on need to know",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 409, 422),
)
async def get_family(
    family_id: UUID, purpose: Purpose, principal: CurrentPrincipal, clients: GrpcClients
) -> Family:
    """A family of the caller's territory, for the commission, the registry office, case
    workers and the responsible body; a removed family only for auditors (REG-6, REG-9)."""
    reply = await _stub(clients).GetFamily(
        pb.GetFamilyRequest(family_id=str(family_id), purpose=purpose),
        **clients.options(principal),
    )
    return Family.from_proto(reply.family)


@router.post(
    "/registry/families:search",
    operation_id="searchFamilies",
    summary="Search registered families by a member's name or birth date",
    dependencies=[require_roles(*SEARCHERS)],
    responses=responses(409, 422),
)
async def search_families(
    search: FamilySearchIn, principal: CurrentPrincipal, clients: GrpcClients
) -> FamilyPage:
    """Registered families of the caller's territory; families not yet entered or removed
    never appear (REG-4, REG-6); each hit is audited with the purpose (REG-9). A `POST` with a
    body, never a query string: names and birth dates stay out of URLs and access logs. Changes
    nothing (safe to retry)."""
    reply = await _stub(clients).SearchFamilies(search.to_proto(), **clients.options(principal))
    return FamilyPage.from_proto(reply)


@router.post(
    "/registry/inquiries",
    operation_id="createInquiry",
    status_code=201,
    summary="Request information from the data bank with a lawful purpose",
    dependencies=[require_roles(*REQUESTERS)],
    responses=_conflicts(409, 422),
)
async def create_inquiry(
    body: InquiryIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Inquiry:
    """A prevention body asks about a person (name and birth date in the body, never the URL)
    with a lawful purpose of its own body type, or a 422 naming `purpose`; the registry office
    answers within 10 working days of receipt (REG-8, NTF-6). The person and the answer are
    read back with `getInquiry` only."""
    reply = await _stub(clients).CreateInquiry(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    return Inquiry.from_proto(reply.inquiry)


@router.get(
    "/registry/inquiries",
    operation_id="listOwnInquiries",
    summary="The caller agency's information requests",
    dependencies=[require_roles(*REQUESTERS)],
    responses=_conflicts(409, 422),
)
async def list_own_inquiries(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> InquiryPage:
    """Newest first, with their clocks; without the person asked about or the answer."""
    reply = await _stub(clients).ListOwnInquiries(
        pb.ListOwnInquiriesRequest(page_size=page_size or 0, page_token=page_token or ""),
        **clients.options(principal),
    )
    return InquiryPage.from_proto(reply)


@router.get(
    "/registry/inquiries-to-answer",
    operation_id="listInquiriesToAnswer",
    summary="The information requests waiting for the caller's registry office",
    dependencies=[require_roles(*OFFICE)],
    responses=_conflicts(409, 422),
)
async def list_inquiries_to_answer(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
) -> InquiryPage:
    """Open requests of the territory, oldest first, each with its REG-8 clock; no personal
    data. Registry office staff only."""
    reply = await _stub(clients).ListInquiriesToAnswer(
        pb.ListInquiriesToAnswerRequest(page_size=page_size or 0, page_token=page_token or ""),
        **clients.options(principal),
    )
    return InquiryPage.from_proto(reply)


@router.get(
    "/registry/inquiries/{inquiry_id}",
    operation_id="getInquiry",
    summary="One of the caller agency's requests, with its answer",
    dependencies=[require_roles(*REQUESTERS)],
    responses=_conflicts(404, 409, 422),
)
async def get_inquiry(
    inquiry_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Inquiry:
    """The answer goes only to the body that asked: to anyone else the request does not exist
    (404). Only the fields the purpose allows (REG-8); the read is audited (REG-9)."""
    reply = await _stub(clients).GetInquiry(
        pb.GetInquiryRequest(inquiry_id=str(inquiry_id)), **clients.options(principal)
    )
    return Inquiry.from_proto(reply.inquiry)


@router.post(
    "/registry/inquiries/{inquiry_id}/answer",
    operation_id="answerInquiry",
    summary="Answer a request from the data bank",
    dependencies=[require_roles(*OFFICE)],
    responses=_conflicts(
        404, 409, 422, when=f"{NO_REGISTRY}; `inquiry-answered`: it is answered already"
    ),
)
async def answer_inquiry(
    inquiry_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> Inquiry:
    """The answer is composed from the bank with only the fields the request's purpose allows,
    kept for the requester; the REG-8 term is met. Answered once: again is a 409
    `inquiry-answered`. Registry office staff only."""
    reply = await _stub(clients).AnswerInquiry(
        pb.AnswerInquiryRequest(inquiry_id=str(inquiry_id)), **clients.options(principal)
    )
    return Inquiry.from_proto(reply.inquiry)


@router.post(
    "/registry/quarterly-reports",
    operation_id="submitOfficeReport",
    status_code=201,
    summary="Submit the registry office's quarterly report",
    dependencies=[require_roles(*OFFICE)],
    responses=responses(409, 422),
)
async def submit_office_report(
    body: QuarterIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> QuarterReport:
    """Families and minors on record at the quarter's end, counted from the bank as it stood
    then; due by the 5th of the next month (REG-7/office). Once per quarter: a retry returns the
    first report. Registry office staff only."""
    reply = await _stub(clients).SubmitOfficeReport(
        pb.SubmitOfficeReportRequest(quarter=body.quarter, idempotency_key=idempotency_key or ""),
        **clients.options(principal),
    )
    return QuarterReport.from_proto(reply.report)


@router.post(
    "/registry/quarterly-summaries",
    operation_id="submitMinistrySummary",
    status_code=201,
    summary="Submit the ministry's summary of the offices' quarterly reports",
    dependencies=[require_roles(*MINISTRY)],
    responses=responses(409, 422),
)
async def submit_ministry_summary(
    body: QuarterIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> QuarterReport:
    """The sum of the offices' reports, due by the 10th (REG-7/ministry); a 409
    `no-office-reports` while none is in. The ministry's analysts only."""
    reply = await _stub(clients).SubmitMinistrySummary(
        pb.SubmitMinistrySummaryRequest(
            quarter=body.quarter, idempotency_key=idempotency_key or ""
        ),
        **clients.options(principal),
    )
    return QuarterReport.from_proto(reply.report)


Quarter = Annotated[str, Query(pattern=r"^\d{4}-Q[1-4]$", description="A quarter, e.g. 2026-Q4.")]


@router.get(
    "/registry/quarterly-reports",
    operation_id="listQuarterReports",
    summary="The quarterly reports of the caller's territory",
    dependencies=[require_roles(*REPORT_READERS)],
    responses=responses(409, 422),
)
async def list_quarter_reports(
    quarter: Quarter, principal: CurrentPrincipal, clients: GrpcClients
) -> QuarterReportList:
    """The offices' reports of the quarter, then the ministry's summary (REG-7)."""
    reply = await _stub(clients).ListQuarterReports(
        pb.ListQuarterReportsRequest(quarter=quarter), **clients.options(principal)
    )
    return QuarterReportList(items=[QuarterReport.from_proto(r) for r in reply.reports])


@router.get(
    "/registry/quarterly-reports/export",
    operation_id="exportQuarterReports",
    summary="The quarterly reports as CSV or PDF",
    dependencies=[require_roles(*REPORT_READERS)],
    response_class=Response,
    responses={
        200: {
            "description": "The quarter's reports: counts only, no person named.",
            "content": {
                CSV: {"schema": {"type": "string"}},
                PDF: {"schema": {"type": "string", "format": "binary"}},
            },
        },
        **responses(409, 422),
    },
)
async def export_quarter_reports(
    quarter: Quarter,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    format: Annotated[ExportFormat, Query(description="csv or pdf.")] = "csv",
) -> Response:
    """The offices' reports and the ministry's summary of the quarter (REG-7), to file or
    print."""
    reply = await _stub(clients).ExportQuarterReports(
        pb.ExportQuarterReportsRequest(quarter=quarter, format=format),
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


@router.get(
    "/reports/registry",
    operation_id="getRegistryIndicators",
    tags=["reports"],
    summary="Families and minors on record at a quarter's end (MON-5)",
    dependencies=[require_roles(*REPORT_READERS)],
    responses=responses(409, 422),
)
async def registry_indicators(
    quarter: Quarter,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    territory: Annotated[
        Line | None,
        Query(max_length=50, description="The caller's own territory (the default)."),
    ] = None,
) -> RegistryIndicators:
    """Counted from the bank as it stood at the quarter's last local instant (REG-7), for an
    ended quarter only (a 422 naming `quarter` otherwise). Aggregates only: no person is named;
    where the territory has no data bank, a 409 `no-registry-rule`."""
    reply = await _stub(clients).ReportRegistryIndicators(
        pb.ReportRegistryIndicatorsRequest(quarter=quarter, territory=territory or ""),
        **clients.options(principal),
    )
    return RegistryIndicators.from_proto(reply)
