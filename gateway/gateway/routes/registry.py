"""/v1/registry: the SDP data bank (REG-*), served by RegistryService.

Only where the territory's policy profile has the REG rules (Irkutsk); elsewhere the service
answers 409 `no-registry-rule`. Every read of a family names its purpose (REG-9).
"""

from __future__ import annotations

from typing import Annotated
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
    Family,
    FamilyPage,
    FamilySearchIn,
    OfficeInbox,
    RegistrationIn,
    RegistrationRecorded,
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

router = APIRouter(
    route_class=JSONRoute,
    prefix="/v1/registry",
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
    "/decisions",
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
    response.headers["Location"] = f"{router.prefix}/families/{recorded.family.id}"
    return recorded


@router.post(
    "/deregistrations",
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
    "/reviews",
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
    "/sessions",
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
    response.headers["Location"] = f"{router.prefix}/sessions/{opened.id}"
    return opened


@router.get(
    "/sessions/{session_id}",
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
    "/decisions/{decision_id}/send",
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
    "/inbox",
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
    "/changes",
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
    "/changes/{change_id}/enter",
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
    "/decisions/{decision_id}/receive",
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
    "/decisions/{decision_id}/enter",
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
    "/decisions/{decision_id}/remove",
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
    "/families/{family_id}",
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
    "/families:search",
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
