"""/v1/appeals: the electronic journal (INT-2); /v1/families: the families appeals are about
and the merges of their records; served by IntakeService."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Path, Query, Response

from gateway.auth import CurrentPrincipal, require_roles
from gateway.bodies import JSONRoute
from gateway.grpc_clients import Clients, GrpcClients
from gateway.openapi import responses
from gateway.routes.params import IdempotencyKey, PageSize, PageToken, created
from gateway.routes.reports import check_period
from gateway.schemas.common import IsoDate, Line
from gateway.schemas.intake import (
    APPEAL_ORDERS,
    CHANNELS,
    Appeal,
    AppealIn,
    AppealOrder,
    AppealPage,
    AssessmentIn,
    Case,
    CaseCloseIn,
    CaseloadReport,
    CaseWorkerAssigned,
    CaseWorkerIn,
    Channel,
    FamilyMerge,
    FamilyMergeIn,
    FamilyMergeResult,
    FamilyRecord,
    HomeVisitIn,
    IntakeIndicators,
    JournalFollowUp,
    JournalFollowUpIn,
    JournalFollowUpResult,
    MobileGroup,
    MobileGroupIn,
    TriageIn,
)
from kamqor.intake.v1 import intake_pb2 as pb
from kamqor.intake.v1 import intake_pb2_grpc

SERVICE = "intake"
REGISTRARS = ("hotline-operator", "intake-operator", "case-worker")
READERS = ("hotline-operator", "intake-operator", "case-worker", "center-head")
MERGERS = ("intake-operator", "center-head")
CLOSERS = ("case-worker", "center-head")
TRIAGERS = ("intake-operator", "case-worker", "center-head")
GROUP_APPROVERS = ("center-head",)
ASSESSORS = ("case-worker", "center-head")
ASSIGNERS = ("center-head",)
VISITORS = ("case-worker", "center-head")
CASELOAD_READERS = ("center-head", "analyst")
FOLLOWERS = READERS
INDICATOR_READERS = ("analyst", "center-head")
APPEALS = "/v1/appeals"

router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1",
    responses=responses(401, 403, 503),
)


def _stub(clients: Clients) -> intake_pb2_grpc.IntakeServiceAsyncStub:
    return intake_pb2_grpc.IntakeServiceStub(clients.channel(SERVICE))


@router.post(
    "/appeals",
    operation_id="registerAppeal",
    tags=["appeals"],
    status_code=201,
    summary="Register an appeal in the journal",
    dependencies=[require_roles(*REGISTRARS)],
    responses=created("Appeal") | responses(422),
)
async def register_appeal(
    body: AppealIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> Appeal:
    """Writes a journal entry before anything else happens (INT-2) and opens its triage
    obligations with due times (INT-3). A retry with the same `Idempotency-Key` returns the
    first entry."""
    reply = await _stub(clients).RegisterAppeal(
        body.to_proto(idempotency_key), **clients.options(principal)
    )
    appeal = Appeal.from_proto(reply.appeal)
    response.headers["Location"] = f"{APPEALS}/{appeal.id}"
    return appeal


@router.get(
    "/appeals/{appeal_id}",
    operation_id="getAppeal",
    tags=["appeals"],
    summary="One journal entry",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_appeal(appeal_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Appeal:
    """A journal entry of the caller's territory."""
    reply = await _stub(clients).GetAppeal(
        pb.GetAppealRequest(appeal_id=str(appeal_id)), **clients.options(principal)
    )
    return Appeal.from_proto(reply.appeal)


@router.get(
    "/appeals",
    operation_id="listAppeals",
    tags=["appeals"],
    summary="Page through the journal",
    dependencies=[require_roles(*READERS)],
    responses=responses(422),
)
async def list_appeals(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    page_size: PageSize = None,
    page_token: PageToken = None,
    channel: Annotated[Channel | None, Query(description="Only appeals by this channel.")] = None,
    threat_to_life: Annotated[
        bool | None, Query(description="Only appeals with (true) or without (false) one.")
    ] = None,
    registered_from: Annotated[
        IsoDate | None,
        Query(description="Only appeals registered on or after this day, in local time."),
    ] = None,
    registered_to: Annotated[
        IsoDate | None,
        Query(description="Only appeals registered on or before this day, in local time."),
    ] = None,
    order: Annotated[
        AppealOrder,
        Query(description="`newest_first`, `oldest_first`, or by `journal_number`."),
    ] = "newest_first",
    family_id: Annotated[
        UUID | None,
        Query(description="Only appeals about this family, the records merged into it included."),
    ] = None,
    case_id: Annotated[
        UUID | None, Query(description="Only appeals that opened or joined this case.")
    ] = None,
) -> AppealPage:
    """The journal of the caller's territory: every given filter applies, to all pages; days are
    the territory's local days. A `page_token` continues the order it was issued under (another
    `order` is a 422 naming `page_token`)."""
    request = pb.ListAppealsRequest(
        page_size=page_size or 0,
        page_token=page_token or "",
        channel=CHANNELS.to_proto(channel) if channel else pb.CHANNEL_UNSPECIFIED,
        registered_from=registered_from.isoformat() if registered_from else "",
        registered_to=registered_to.isoformat() if registered_to else "",
        order=APPEAL_ORDERS.to_proto(order),
        family_id=str(family_id) if family_id else "",
        case_id=str(case_id) if case_id else "",
    )
    if threat_to_life is not None:
        request.threat_to_life = threat_to_life
    reply = await _stub(clients).ListAppeals(request, **clients.options(principal))
    return AppealPage.from_proto(reply)


@router.get(
    "/families/{family_id}",
    operation_id="getFamilyRecord",
    tags=["families"],
    summary="A family with its members and appeals",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_family(
    family_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> FamilyRecord:
    """A family of the caller's territory with every record merged into it; a merged record
    answers with the family it went into."""
    reply = await _stub(clients).GetFamily(
        pb.GetFamilyRequest(family_id=str(family_id)), **clients.options(principal)
    )
    return FamilyRecord.from_proto(reply.family)


@router.post(
    "/families/{family_id}/merges",
    operation_id="mergeFamilies",
    tags=["families"],
    summary="Merge another record of the same family into this one",
    dependencies=[require_roles(*MERGERS)],
    responses=responses(404, 409, 422),
)
async def merge_families(
    family_id: UUID, body: FamilyMergeIn, principal: CurrentPrincipal, clients: GrpcClients
) -> FamilyMergeResult:
    """An audited action that rewrites nothing: the merged record points at this family from
    now on, and `undoFamilyMerge` separates them again. Two records already one family: 409."""
    reply = await _stub(clients).MergeFamilies(
        pb.MergeFamiliesRequest(
            kept_family_id=str(family_id),
            merged_family_id=str(body.merged_family_id),
            reason=body.reason,
        ),
        **clients.options(principal),
    )
    return FamilyMergeResult(
        merge=FamilyMerge.from_proto(reply.merge), family=FamilyRecord.from_proto(reply.family)
    )


@router.post(
    "/family-merges/{merge_id}/undo",
    operation_id="undoFamilyMerge",
    tags=["families"],
    summary="Separate two merged records of a family again",
    dependencies=[require_roles(*MERGERS)],
    responses=responses(404, 409, 422),
)
async def undo_family_merge(
    merge_id: UUID, principal: CurrentPrincipal, clients: GrpcClients
) -> FamilyMerge:
    """The merge stays on record, marked undone; undone already: 409."""
    reply = await _stub(clients).UndoMerge(
        pb.UndoMergeRequest(merge_id=str(merge_id)), **clients.options(principal)
    )
    return FamilyMerge.from_proto(reply.merge)


@router.get(
    "/cases/{case_id}",
    operation_id="getCase",
    tags=["cases"],
    summary="One case with its family and appeals",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_case(case_id: UUID, principal: CurrentPrincipal, clients: GrpcClients) -> Case:
    """A case of the caller's territory: what an appeal opened or joined."""
    reply = await _stub(clients).GetCase(
        pb.GetCaseRequest(case_id=str(case_id)), **clients.options(principal)
    )
    return Case.from_proto(reply.case)


@router.post(
    "/cases/{case_id}/close",
    operation_id="closeCase",
    tags=["cases"],
    summary="Close an open case, saying why",
    dependencies=[require_roles(*CLOSERS)],
    responses=responses(404, 409, 422),
)
async def close_case(
    case_id: UUID, body: CaseCloseIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Case:
    """The family's next appeal opens a new case. Closed already: 409."""
    reply = await _stub(clients).CloseCase(
        pb.CloseCaseRequest(case_id=str(case_id), reason=body.reason),
        **clients.options(principal),
    )
    return Case.from_proto(reply.case)


@router.post(
    "/appeals/{appeal_id}/triage",
    operation_id="recordTriage",
    tags=["appeals"],
    summary="Record a triage action on a journal entry",
    dependencies=[require_roles(*TRIAGERS)],
    responses=responses(404, 409, 422),
)
async def record_triage(
    appeal_id: UUID,
    body: TriageIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Appeal:
    """Consultation, redirection to the competent organisation (a notice follows, NTF-5), the
    primary assessment (immediate measures under a threat, INT-4) or the redirection of a
    domestic-violence victim for identification (INT-7): each meets its term where the
    territory's profile sets one. The primary assessment and the identification redirection
    are done once (409 again), and nothing is recorded on an appeal whose case is closed (409)."""
    reply = await _stub(clients).RecordTriage(
        body.to_proto(appeal_id, idempotency_key), **clients.options(principal)
    )
    return Appeal.from_proto(reply.appeal)


@router.post(
    "/mobile-groups",
    operation_id="approveMobileGroup",
    tags=["mobile groups"],
    status_code=201,
    summary="Approve the territory's mobile group for a calendar year",
    dependencies=[require_roles(*GROUP_APPROVERS)],
    responses=created("MobileGroup") | responses(409, 422),
)
async def approve_mobile_group(
    body: MobileGroupIn, principal: CurrentPrincipal, clients: GrpcClients, response: Response
) -> MobileGroup:
    """INT-4: the composition a threat to life or health engages that year; a year is approved
    once (409 again)."""
    reply = await _stub(clients).ApproveMobileGroup(body.to_proto(), **clients.options(principal))
    group = MobileGroup.from_proto(reply.group)
    response.headers["Location"] = f"/v1/mobile-groups/{group.year}"
    return group


@router.get(
    "/mobile-groups/{year}",
    operation_id="getMobileGroup",
    tags=["mobile groups"],
    summary="The territory's mobile group of a year",
    dependencies=[require_roles(*READERS)],
    responses=responses(404, 422),
)
async def get_mobile_group(
    year: Annotated[int, Path(ge=1900, le=9999)], principal: CurrentPrincipal, clients: GrpcClients
) -> MobileGroup:
    """The caller's territory's group; none approved for the year: 404."""
    reply = await _stub(clients).GetMobileGroup(
        pb.GetMobileGroupRequest(year=year), **clients.options(principal)
    )
    return MobileGroup.from_proto(reply.group)


@router.post(
    "/cases/{case_id}/assessments",
    operation_id="assessCase",
    tags=["cases"],
    summary="Assess an open case",
    dependencies=[require_roles(*ASSESSORS)],
    responses=responses(404, 409, 422),
)
async def assess_case(
    case_id: UUID,
    body: AssessmentIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    idempotency_key: IdempotencyKey = None,
) -> Case:
    """INT-5: a DLS proceeds on consent (with a support contract where the profile requires
    one), a refusal is recorded, an SDP proceeds on the commission's resolution. INT-6: where
    the profile has support levels, each person supported gets one with the signs found from
    its catalogue (an SDP family in Irkutsk: emergency). When support follows, plans get the
    needs assessment. A closed case: 409."""
    reply = await _stub(clients).AssessCase(
        body.to_proto(case_id, idempotency_key), **clients.options(principal)
    )
    return Case.from_proto(reply.case)


@router.post(
    "/cases/{case_id}/worker",
    operation_id="assignCaseWorker",
    tags=["cases"],
    summary="Make a case worker responsible for the case",
    dependencies=[require_roles(*ASSIGNERS)],
    responses=responses(404, 409, 422),
)
async def assign_case_worker(
    case_id: UUID, body: CaseWorkerIn, principal: CurrentPrincipal, clients: GrpcClients
) -> CaseWorkerAssigned:
    """INT-9: one responsible worker per case, replacing the one before. Past the profile's
    recommended caseload the assignment is made with a `warning`, recorded with who decided."""
    reply = await _stub(clients).AssignCaseWorker(
        pb.AssignCaseWorkerRequest(case_id=str(case_id), worker=body.worker),
        **clients.options(principal),
    )
    return CaseWorkerAssigned(case=Case.from_proto(reply.case), warning=reply.warning or None)


@router.get(
    "/caseload",
    operation_id="getCaseloadReport",
    tags=["cases"],
    summary="Open cases per case worker against the recommendation",
    dependencies=[require_roles(*CASELOAD_READERS)],
)
async def get_caseload_report(principal: CurrentPrincipal, clients: GrpcClients) -> CaseloadReport:
    """MON-4 for the caller's territory: by worker and support level; names no family."""
    reply = await _stub(clients).GetCaseloadReport(
        pb.GetCaseloadReportRequest(), **clients.options(principal)
    )
    return CaseloadReport.from_proto(reply)


@router.post(
    "/cases/{case_id}/home-visits",
    operation_id="recordHomeVisit",
    tags=["cases"],
    summary="Record a home inspection report",
    dependencies=[require_roles(*VISITORS)],
    responses=responses(404, 409, 422),
)
async def record_home_visit(
    case_id: UUID, body: HomeVisitIn, principal: CurrentPrincipal, clients: GrpcClients
) -> Case:
    """INT-8: the case worker's visit to the family's home, into the open case's file."""
    reply = await _stub(clients).RecordHomeVisit(
        pb.RecordHomeVisitRequest(
            case_id=str(case_id), visited_on=body.visited_on.isoformat(), findings=body.findings
        ),
        **clients.options(principal),
    )
    return Case.from_proto(reply.case)


@router.post(
    "/appeals/{appeal_id}/follow-ups",
    operation_id="followUpAppeal",
    tags=["appeals"],
    status_code=201,
    summary="Write a later journal entry about an appeal: information or a correction",
    dependencies=[require_roles(*FOLLOWERS)],
    responses=created("JournalFollowUpResult") | responses(404, 422),
)
async def follow_up_appeal(
    appeal_id: UUID,
    body: JournalFollowUpIn,
    principal: CurrentPrincipal,
    clients: GrpcClients,
    response: Response,
    idempotency_key: IdempotencyKey = None,
) -> JournalFollowUpResult:
    """INT-2: the journal is a legal register, so an entry is never edited: further
    information, or a correction of its `summary` or `channel` with the reason, is a new entry
    numbered in the center's journal, referring to the appeal, with who and when; the appeal
    keeps what was registered and shows both (`follow_ups`, `*_in_force`). A retry with the
    same `Idempotency-Key` writes nothing twice."""
    reply = await _stub(clients).FollowUpAppeal(
        body.to_proto(appeal_id, idempotency_key), **clients.options(principal)
    )
    response.headers["Location"] = f"{APPEALS}/{appeal_id}"
    return JournalFollowUpResult(
        follow_up=JournalFollowUp.from_proto(reply.follow_up),
        appeal=Appeal.from_proto(reply.appeal),
    )


@router.get(
    "/reports/intake",
    operation_id="getIntakeIndicators",
    tags=["reports"],
    summary="Families accepted for support and level changes of a period (MON-2)",
    dependencies=[require_roles(*INDICATOR_READERS)],
    responses=responses(422),
)
async def intake_indicators(
    principal: CurrentPrincipal,
    clients: GrpcClients,
    from_: Annotated[IsoDate, Query(alias="from", description="First day (inclusive).")],
    to: Annotated[
        IsoDate, Query(description="Day after the period (exclusive), at most 366 days on.")
    ],
    territory: Annotated[
        Line | None, Query(max_length=50, description="The caller's own (the default).")
    ] = None,
) -> IntakeIndicators:
    """MON-2, first half. A family is **accepted for support** on the local day its case gets
    its first assessment after which support follows (INT-5: a DLS on the person's consent, an
    SDP on the commission's resolution); a refusal, a risk of DLS or no DLS accepts nobody, and
    a later assessment does not accept the same case again. Counted by the channel of the
    appeal that opened the case (as corrected in the journal), the situation and the family's
    support level at acceptance (its members' most intensive, INT-6); with the persons accepted
    per level and the level changes later assessments recorded (worse: to a more intensive
    level). Aggregates only: no person or family is named."""
    check_period(from_, to)
    reply = await _stub(clients).ReportIntakeIndicators(
        pb.ReportIntakeIndicatorsRequest(
            from_date=from_.isoformat(), to_date=to.isoformat(), territory=territory or ""
        ),
        **clients.options(principal),
    )
    return IntakeIndicators.from_proto(reply, from_=from_, to=to)
