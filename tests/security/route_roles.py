"""One table: each `/v1` route, the gRPC call(s) it makes, and the principal it needs besides
its role. `test_route_roles.py` checks both sides of it against the roles the OpenAPI document
lists for the route: the gateway admits a role iff it is listed, and the owning service, called
over gRPC with a token holding only that role, answers PERMISSION_DENIED iff it is not.

Each call carries a well-formed request, about records that do not exist (a fresh UUID) where
it names one: an admitted role gets NOT_FOUND or a refusal on the data (a create route writes
its record, in the suite's own databases), and a role the service does not admit is refused
before anything is read.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc
from google.protobuf.message import Message

from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.deadlines.v1.deadlines_pb2_grpc import DeadlinesServiceStub
from kamqor.intake.v1 import intake_pb2, intake_pb2_grpc
from kamqor.notify.v1 import notify_pb2, notify_pb2_grpc
from kamqor.plans.v1 import plans_pb2, plans_pb2_grpc
from kamqor.registry.v1 import registry_pb2, registry_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc
from tests.plans.factories import in_days, plan_request
from tests.registry.factories import registration_request
from tests.support.factories import admit_request, appeal_request

Metadata = tuple[tuple[str, str], ...]
STUBS: dict[str, Callable[[grpc.aio.Channel], Any]] = {
    "intake": intake_pb2_grpc.IntakeServiceStub,
    "shelter": shelter_pb2_grpc.ShelterServiceStub,
    "notify": notify_pb2_grpc.NotifyServiceStub,
    "plans": plans_pb2_grpc.PlansServiceStub,
    "registry": registry_pb2_grpc.RegistryServiceStub,
}
SERVICES = tuple(STUBS)


@dataclass(frozen=True)
class Context:
    """Who the principal is besides its role: the agency it works for and its territory."""

    name: str
    agency: str
    agency_type: str
    territory: str


# A family center in Astana: where intake, shelter, plans and notices are served.
CENTER = Context("kz", "fc-ast-1", "family_center", "kz-ast")
# The registry office of Irkutsk: the data bank exists only under the ru-irk profile, and only
# a registry office's staff receive and enter decisions (an attribute, not a role).
REGISTRY_OFFICE = Context("irk", "reg-irk-1", "registry_office", "ru-irk")
CONTEXTS = (CENTER, REGISTRY_OFFICE)


@dataclass(frozen=True)
class Call:
    """One RPC of one service, with a fresh request each time it is made."""

    service: str
    stub: Callable[[grpc.aio.Channel], Any]
    method: str
    request: Callable[[], Message]

    def __call__(self, channel: grpc.aio.Channel, metadata: Metadata) -> Awaitable[Any]:
        rpc: Callable[..., Awaitable[Any]] = getattr(self.stub(channel), self.method)
        return rpc(self.request(), metadata=metadata)


@dataclass(frozen=True)
class Route:
    context: Context
    calls: tuple[Call, ...]


def _nowhere() -> str:
    return str(uuid.uuid4())


def _deregistration() -> registry_pb2.RecordDeregistrationRequest:
    registered = registration_request()
    return registry_pb2.RecordDeregistrationRequest(
        idempotency_key=uuid.uuid4().hex,
        family_id=_nowhere(),
        decided_on=registered.decided_on,
        number=f"KDN-{uuid.uuid4().hex[:6]}",
        vote=registered.vote,
        hearing=registered.hearing,
        grounds="The situation improved",
    )


def _at_center(service: str, method: str, request: Callable[[], Message]) -> Route:
    return Route(CENTER, (Call(service, STUBS[service], method, request),))


def _at_office(method: str, request: Callable[[], Message]) -> Route:
    return Route(REGISTRY_OFFICE, (Call("registry", STUBS["registry"], method, request),))


ROUTES: dict[tuple[str, str], Route] = {
    # --- intake ---
    ("post", "/v1/appeals"): _at_center("intake", "RegisterAppeal", appeal_request),
    ("get", "/v1/appeals"): _at_center("intake", "ListAppeals", intake_pb2.ListAppealsRequest),
    ("get", "/v1/appeals/{appeal_id}"): _at_center(
        "intake", "GetAppeal", lambda: intake_pb2.GetAppealRequest(appeal_id=_nowhere())
    ),
    # --- shelter ---
    ("get", "/v1/shelters"): _at_center("shelter", "ListShelters", shelter_pb2.ListSheltersRequest),
    ("post", "/v1/shelters"): _at_center(
        "shelter",
        "RegisterShelter",
        lambda: shelter_pb2.RegisterShelterRequest(name=f"Roles {_nowhere()}", capacity=1),
    ),
    ("post", "/v1/stays"): _at_center("shelter", "Admit", lambda: admit_request(_nowhere())),
    ("get", "/v1/stays"): _at_center(
        "shelter", "ListStays", lambda: shelter_pb2.ListStaysRequest(shelter_id=_nowhere())
    ),
    ("get", "/v1/stays/{stay_id}"): _at_center(
        "shelter", "GetStay", lambda: shelter_pb2.GetStayRequest(stay_id=_nowhere())
    ),
    ("post", "/v1/stays/{stay_id}/discharge"): _at_center(
        "shelter",
        "Discharge",
        lambda: shelter_pb2.DischargeRequest(stay_id=_nowhere(), reason="moved"),
    ),
    # --- notices and reminders ---
    ("get", "/v1/notices"): _at_center("notify", "ListNotices", notify_pb2.ListNoticesRequest),
    ("get", "/v1/notices/{notice_id}"): _at_center(
        "notify", "GetNotice", lambda: notify_pb2.GetNoticeRequest(notice_id=_nowhere())
    ),
    ("post", "/v1/notices/{notice_id}/ack"): _at_center(
        "notify",
        "AcknowledgeNotice",
        lambda: notify_pb2.AcknowledgeNoticeRequest(notice_id=_nowhere()),
    ),
    ("get", "/v1/reminders"): _at_center(
        "notify", "ListReminders", notify_pb2.ListRemindersRequest
    ),
    # --- monitoring: the report asks all five services ---
    ("get", "/v1/reports/deadlines"): Route(
        CENTER,
        tuple(
            Call(
                service,
                DeadlinesServiceStub,
                "ReportDeadlines",
                lambda: deadlines_pb2.ReportDeadlinesRequest(
                    from_date=in_days(-30), to_date=in_days(0)
                ),
            )
            for service in SERVICES
        ),
    ),
    # --- plans ---
    ("post", "/v1/plans"): _at_center("plans", "CreatePlan", plan_request),
    ("get", "/v1/plans/{plan_id}"): _at_center(
        "plans", "GetPlan", lambda: plans_pb2.GetPlanRequest(plan_id=_nowhere())
    ),
    ("post", "/v1/plans/{plan_id}/approve"): _at_center(
        "plans",
        "ApprovePlan",
        lambda: plans_pb2.ApprovePlanRequest(plan_id=_nowhere(), decision="protocol 1"),
    ),
    ("get", "/v1/measures"): _at_center("plans", "ListMyMeasures", plans_pb2.ListMyMeasuresRequest),
    ("post", "/v1/measures/{measure_id}/assignee"): _at_center(
        "plans",
        "DesignateAssignee",
        lambda: plans_pb2.DesignateAssigneeRequest(measure_id=_nowhere(), assignee="teacher.ast"),
    ),
    ("post", "/v1/measures/{measure_id}/report"): _at_center(
        "plans",
        "ReportMeasure",
        lambda: plans_pb2.ReportMeasureRequest(measure_id=_nowhere(), report="done"),
    ),
    ("post", "/v1/measures/{measure_id}/complete"): _at_center(
        "plans",
        "CompleteMeasure",
        lambda: plans_pb2.CompleteMeasureRequest(measure_id=_nowhere(), completed_on=in_days(0)),
    ),
    ("post", "/v1/measures/{measure_id}/return"): _at_center(
        "plans",
        "ReturnMeasure",
        lambda: plans_pb2.ReturnMeasureRequest(
            measure_id=_nowhere(),
            mode=plans_pb2.RETURN_MODE_REWORK,
            reason="no report",
            new_deadline=in_days(10),
        ),
    ),
    # --- the SDP data bank ---
    ("post", "/v1/registry/decisions"): _at_office(
        "RecordRegistrationDecision", registration_request
    ),
    ("post", "/v1/registry/deregistrations"): _at_office("RecordDeregistration", _deregistration),
    ("post", "/v1/registry/decisions/{decision_id}/receive"): _at_office(
        "ReceiveDecision", lambda: registry_pb2.ReceiveDecisionRequest(decision_id=_nowhere())
    ),
    ("post", "/v1/registry/decisions/{decision_id}/enter"): _at_office(
        "EnterFamily", lambda: registry_pb2.EnterFamilyRequest(decision_id=_nowhere())
    ),
    ("post", "/v1/registry/decisions/{decision_id}/remove"): _at_office(
        "RemoveFamily", lambda: registry_pb2.RemoveFamilyRequest(decision_id=_nowhere())
    ),
    ("post", "/v1/registry/families:search"): _at_office(
        "SearchFamilies",
        lambda: registry_pb2.SearchFamiliesRequest(name="Ivanov", purpose="roles check"),
    ),
    ("get", "/v1/registry/families/{family_id}"): _at_office(
        "GetFamily",
        lambda: registry_pb2.GetFamilyRequest(family_id=_nowhere(), purpose="roles check"),
    ),
}
