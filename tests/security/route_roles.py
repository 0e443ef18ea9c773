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

import itertools
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
from kamqor.plans.v1 import (
    agencies_pb2,
    agencies_pb2_grpc,
    monitoring_pb2,
    monitoring_pb2_grpc,
    plans_pb2,
    plans_pb2_grpc,
)
from kamqor.registry.v1 import registry_pb2, registry_pb2_grpc
from kamqor.shelter.v1 import shelter_pb2, shelter_pb2_grpc
from tests.plans.factories import in_days, plan_request
from tests.registry.factories import (
    change_request,
    ended_quarter,
    inquiry_request,
    registration_request,
    review_request,
    session_request,
)
from tests.support.factories import admit_request, appeal_request, resident

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


# Each approval is of a year of its own (a year's mobile group is approved once, INT-4).
_GROUP_YEARS = itertools.count(1900)


def _mobile_group(year: int) -> intake_pb2.ApproveMobileGroupRequest:
    return intake_pb2.ApproveMobileGroupRequest(
        year=year,
        approved_on=f"{year}-06-01",
        order_number="roles check",
        members=[
            intake_pb2.MobileGroupMember(agency_type=t, agency=f"{t}-ast", representative="R. C.")
            for t in ("education", "health", "police")
        ],
    )


def _at_center(service: str, method: str, request: Callable[[], Message]) -> Route:
    return Route(CENTER, (Call(service, STUBS[service], method, request),))


def _directory(method: str, request: Callable[[], Message]) -> Route:
    """The plans service's agency directory (a second gRPC service on its channel)."""
    return Route(CENTER, (Call("plans", agencies_pb2_grpc.AgenciesServiceStub, method, request),))


def _routing(method: str, request: Callable[[], Message]) -> Route:
    stub = agencies_pb2_grpc.MeasureRoutingServiceStub
    return Route(CENTER, (Call("plans", stub, method, request),))


def _on_plan(method: str, **fields: Any) -> Route:
    """One of a plan's acts after drafting (issue 14), on a plan that does not exist."""
    request = getattr(plans_pb2, f"{method}Request")
    return _at_center("plans", method, lambda: request(plan_id=_nowhere(), **fields))


def _at_office(method: str, request: Callable[[], Message]) -> Route:
    return Route(REGISTRY_OFFICE, (Call("registry", STUBS["registry"], method, request),))


def _monitoring(method: str, request: Callable[[], Message]) -> Route:
    """The plans service's monitoring reports (MON-1, a second gRPC service on its channel)."""
    stub = monitoring_pb2_grpc.MonitoringServiceStub
    return Route(CENTER, (Call("plans", stub, method, request),))


def _monitoring_report(**kw: Any) -> monitoring_pb2.CreateMonitoringReportRequest:
    return monitoring_pb2.CreateMonitoringReportRequest(
        quarter="2026-Q3", snapshot_json='{"sections": {}}', conclusion="roles check", **kw
    )


# The routes that take no bearer token: an agency's system signs the request instead (NTF-7,
# `notify.receipts`). No role is listed on them; every role's token alone is refused as
# unauthenticated (401 / UNAUTHENTICATED), by the gateway and by the service.
SIGNED: frozenset[tuple[str, str]] = frozenset({("post", "/v1/notices/receipts")})

ROUTES: dict[tuple[str, str], Route] = {
    # --- intake ---
    ("post", "/v1/appeals"): _at_center("intake", "RegisterAppeal", appeal_request),
    ("get", "/v1/appeals"): _at_center("intake", "ListAppeals", intake_pb2.ListAppealsRequest),
    ("get", "/v1/appeals/{appeal_id}"): _at_center(
        "intake", "GetAppeal", lambda: intake_pb2.GetAppealRequest(appeal_id=_nowhere())
    ),
    ("get", "/v1/families/{family_id}"): _at_center(
        "intake", "GetFamily", lambda: intake_pb2.GetFamilyRequest(family_id=_nowhere())
    ),
    ("post", "/v1/families/{family_id}/merges"): _at_center(
        "intake",
        "MergeFamilies",
        lambda: intake_pb2.MergeFamiliesRequest(
            kept_family_id=_nowhere(), merged_family_id=_nowhere(), reason="roles check"
        ),
    ),
    ("post", "/v1/family-merges/{merge_id}/undo"): _at_center(
        "intake", "UndoMerge", lambda: intake_pb2.UndoMergeRequest(merge_id=_nowhere())
    ),
    ("get", "/v1/cases/{case_id}"): _at_center(
        "intake", "GetCase", lambda: intake_pb2.GetCaseRequest(case_id=_nowhere())
    ),
    ("post", "/v1/cases/{case_id}/close"): _at_center(
        "intake",
        "CloseCase",
        lambda: intake_pb2.CloseCaseRequest(case_id=_nowhere(), reason="roles check"),
    ),
    ("post", "/v1/mobile-groups"): _at_center(
        "intake", "ApproveMobileGroup", lambda: _mobile_group(next(_GROUP_YEARS))
    ),
    ("get", "/v1/mobile-groups/{year}"): _at_center(
        "intake", "GetMobileGroup", lambda: intake_pb2.GetMobileGroupRequest(year=1899)
    ),
    ("post", "/v1/cases/{case_id}/worker"): _at_center(
        "intake",
        "AssignCaseWorker",
        lambda: intake_pb2.AssignCaseWorkerRequest(case_id=_nowhere(), worker="roles.check"),
    ),
    ("post", "/v1/cases/{case_id}/home-visits"): _at_center(
        "intake",
        "RecordHomeVisit",
        lambda: intake_pb2.RecordHomeVisitRequest(
            case_id=_nowhere(), visited_on="2026-01-05", findings="roles check"
        ),
    ),
    ("get", "/v1/caseload"): _at_center(
        "intake", "GetCaseloadReport", intake_pb2.GetCaseloadReportRequest
    ),
    ("post", "/v1/appeals/{appeal_id}/follow-ups"): _at_center(
        "intake",
        "FollowUpAppeal",
        lambda: intake_pb2.FollowUpAppealRequest(
            appeal_id=_nowhere(), kind=intake_pb2.FOLLOW_UP_KIND_INFORMATION, text="roles check"
        ),
    ),
    ("get", "/v1/reports/intake"): _at_center(
        "intake",
        "ReportIntakeIndicators",
        lambda: intake_pb2.ReportIntakeIndicatorsRequest(
            from_date="2026-01-01", to_date="2026-02-01"
        ),
    ),
    ("post", "/v1/cases/{case_id}/assessments"): _at_center(
        "intake",
        "AssessCase",
        lambda: intake_pb2.AssessCaseRequest(
            case_id=_nowhere(),
            outcome=intake_pb2.OUTCOME_NONE,
            consent=intake_pb2.CONSENT_NOT_REQUIRED,
        ),
    ),
    ("post", "/v1/appeals/{appeal_id}/triage"): _at_center(
        "intake",
        "RecordTriage",
        lambda: intake_pb2.RecordTriageRequest(
            appeal_id=_nowhere(), kind=intake_pb2.TRIAGE_KIND_CONSULTATION, note="roles check"
        ),
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
    ("post", "/v1/stays/{stay_id}/extend"): _at_center(
        "shelter",
        "ExtendStay",
        lambda: shelter_pb2.ExtendStayRequest(
            stay_id=_nowhere(), until="2099-01-01", decision_number="1", reason="roles check"
        ),
    ),
    ("post", "/v1/stays/{stay_id}/support"): _at_center(
        "shelter",
        "RecordSupport",
        lambda: shelter_pb2.RecordSupportRequest(
            stay_id=_nowhere(),
            case_id=_nowhere(),
            items=[
                shelter_pb2.SupportItem(
                    kind=shelter_pb2.SUPPORT_KIND_LEGAL,
                    agency_id="pol-ast-1",
                    agency_type="police",
                    due_on="2099-01-01",
                )
            ],
        ),
    ),
    ("get", "/v1/shelters/{shelter_id}/beds"): _at_center(
        "shelter", "GetBedBoard", lambda: shelter_pb2.GetBedBoardRequest(shelter_id=_nowhere())
    ),
    ("post", "/v1/shelters/{shelter_id}/beds/{number}/service"): _at_center(
        "shelter",
        "SetBedService",
        lambda: shelter_pb2.SetBedServiceRequest(
            shelter_id=_nowhere(), number=1, out_of_service=True, reason="roles check"
        ),
    ),
    ("post", "/v1/holds"): _at_center(
        "shelter", "HoldBeds", lambda: shelter_pb2.HoldBedsRequest(shelter_id=_nowhere(), beds=1)
    ),
    ("post", "/v1/refusals"): _at_center(
        "shelter",
        "RecordRefusal",
        lambda: shelter_pb2.RecordRefusalRequest(
            shelter_id=_nowhere(),
            adult=resident(),
            reason=shelter_pb2.REFUSAL_REASON_OTHER,
        ),
    ),
    ("get", "/v1/refusals"): _at_center(
        "shelter", "ListRefusals", lambda: shelter_pb2.ListRefusalsRequest(shelter_id=_nowhere())
    ),
    ("get", "/v1/waitlist"): _at_center(
        "shelter", "ListWaitlist", lambda: shelter_pb2.ListWaitlistRequest(shelter_id=_nowhere())
    ),
    # Shelter's indicators and notify's notice timeliness (MON-6), merged by the gateway.
    ("get", "/v1/reports/shelter"): Route(
        CENTER,
        (
            Call(
                "shelter",
                STUBS["shelter"],
                "ReportIndicators",
                lambda: shelter_pb2.ReportIndicatorsRequest(
                    from_date="2026-01-01", to_date="2026-02-01"
                ),
            ),
            Call(
                "notify",
                STUBS["notify"],
                "ReportNoticeIndicators",
                lambda: notify_pb2.ReportNoticeIndicatorsRequest(
                    from_date="2026-01-01", to_date="2026-02-01"
                ),
            ),
        ),
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
    ("get", "/v1/notices/{notice_id}/deliveries"): _at_center(
        "notify",
        "ListDeliveries",
        lambda: notify_pb2.ListDeliveriesRequest(notice_id=_nowhere()),
    ),
    ("get", "/v1/notices/{notice_id}/letter"): _at_center(
        "notify", "GetLetter", lambda: notify_pb2.GetLetterRequest(notice_id=_nowhere())
    ),
    ("post", "/v1/notices/receipts"): _at_center(
        "notify",
        "RecordReceipt",
        lambda: notify_pb2.RecordReceiptRequest(sender="kz-ast/police", body=b"{}"),
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
    # --- a plan's life after drafting (issue 14) ---
    ("get", "/v1/plans"): _at_center("plans", "ListPlans", plans_pb2.ListPlansRequest),
    ("post", "/v1/plans/{plan_id}/submit"): _on_plan("SubmitPlan"),
    ("post", "/v1/plans/{plan_id}/reviews"): _on_plan(
        "OpenReview", kind=plans_pb2.REVIEW_KIND_INTERIM
    ),
    ("post", "/v1/plans/{plan_id}/reviews/conclude"): _on_plan(
        "ConcludeReview", decision=plans_pb2.REVIEW_DECISION_CONTINUE, conclusion="roles check"
    ),
    ("post", "/v1/plans/{plan_id}/level-changes"): _on_plan(
        "ChangeSupportLevel",
        person="mother",
        from_level=plans_pb2.SUPPORT_LEVEL_CRISIS,
        to_level=plans_pb2.SUPPORT_LEVEL_BASIC,
    ),
    ("post", "/v1/plans/{plan_id}/extend"): _on_plan(
        "ExtendPlan", request_received_on="2026-01-05", months=12, decision="roles check"
    ),
    ("post", "/v1/plans/{plan_id}/close"): _on_plan(
        "ClosePlan", ground=plans_pb2.CLOSURE_GROUND_FAMILY_REFUSED, decision="roles check"
    ),
    ("post", "/v1/plans/{plan_id}/monitoring/end"): _on_plan(
        "EndMonitoring", outcome="roles check"
    ),
    ("post", "/v1/plans/{plan_id}/reopen"): _at_center(
        "plans",
        "ReopenPlan",
        lambda: plans_pb2.ReopenPlanRequest(
            idempotency_key=uuid.uuid4().hex,
            plan_id=_nowhere(),
            reason="roles check",
            measures=plan_request().measures[:1],
        ),
    ),
    ("get", "/v1/reports/plans"): _at_center(
        "plans",
        "ReportPlanIndicators",
        lambda: plans_pb2.ReportPlanIndicatorsRequest(**{"from": "2026-01-01", "to": "2026-02-01"}),
    ),
    # --- the SDP data bank ---
    ("post", "/v1/registry/decisions"): _at_office(
        "RecordRegistrationDecision", registration_request
    ),
    ("post", "/v1/registry/deregistrations"): _at_office("RecordDeregistration", _deregistration),
    ("post", "/v1/registry/reviews"): _at_office(
        "RecordReview", lambda: review_request(_nowhere())
    ),
    ("post", "/v1/registry/sessions"): _at_office("OpenSession", session_request),
    ("post", "/v1/registry/decisions/{decision_id}/send"): _at_office(
        "SendDecision", lambda: registry_pb2.SendDecisionRequest(decision_id=_nowhere())
    ),
    ("post", "/v1/registry/changes"): _at_office(
        "ReportChange", lambda: change_request(_nowhere())
    ),
    ("post", "/v1/registry/changes/{change_id}/enter"): _at_office(
        "EnterChange", lambda: registry_pb2.EnterChangeRequest(change_id=_nowhere())
    ),
    ("get", "/v1/registry/inbox"): _at_office(
        "ListOfficeInbox", registry_pb2.ListOfficeInboxRequest
    ),
    ("get", "/v1/registry/sessions/{session_id}"): _at_office(
        "GetSession", lambda: registry_pb2.GetSessionRequest(session_id=_nowhere())
    ),
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
    # --- the data bank's requests (REG-8) and quarterly reports (REG-7, MON-5) ---
    ("post", "/v1/registry/inquiries"): _at_office("CreateInquiry", inquiry_request),
    ("get", "/v1/registry/inquiries"): _at_office(
        "ListOwnInquiries", registry_pb2.ListOwnInquiriesRequest
    ),
    ("get", "/v1/registry/inquiries-to-answer"): _at_office(
        "ListInquiriesToAnswer", registry_pb2.ListInquiriesToAnswerRequest
    ),
    ("get", "/v1/registry/inquiries/{inquiry_id}"): _at_office(
        "GetInquiry", lambda: registry_pb2.GetInquiryRequest(inquiry_id=_nowhere())
    ),
    ("post", "/v1/registry/inquiries/{inquiry_id}/answer"): _at_office(
        "AnswerInquiry", lambda: registry_pb2.AnswerInquiryRequest(inquiry_id=_nowhere())
    ),
    ("post", "/v1/registry/quarterly-reports"): _at_office(
        "SubmitOfficeReport",
        lambda: registry_pb2.SubmitOfficeReportRequest(quarter=ended_quarter()),
    ),
    ("post", "/v1/registry/quarterly-summaries"): _at_office(
        "SubmitMinistrySummary",
        lambda: registry_pb2.SubmitMinistrySummaryRequest(quarter=ended_quarter()),
    ),
    ("get", "/v1/registry/quarterly-reports"): _at_office(
        "ListQuarterReports",
        lambda: registry_pb2.ListQuarterReportsRequest(quarter=ended_quarter()),
    ),
    ("get", "/v1/registry/quarterly-reports/export"): _at_office(
        "ExportQuarterReports",
        lambda: registry_pb2.ExportQuarterReportsRequest(quarter=ended_quarter(), format="csv"),
    ),
    ("get", "/v1/reports/registry"): _at_office(
        "ReportRegistryIndicators",
        lambda: registry_pb2.ReportRegistryIndicatorsRequest(quarter=ended_quarter()),
    ),
    # --- the agency directory and measure routing (plans, issue 14) ---
    ("get", "/v1/agencies"): _directory("ListAgencies", agencies_pb2.ListAgenciesRequest),
    ("get", "/v1/agencies/{agency_id}"): _directory(
        "GetAgency", lambda: agencies_pb2.GetAgencyRequest(agency_id="edu-ast-1")
    ),
    ("post", "/v1/measures/{measure_id}/decline"): _routing(
        "DeclineMeasure",
        lambda: agencies_pb2.DeclineMeasureRequest(
            measure_id=_nowhere(), reason=agencies_pb2.DECLINE_REASON_NO_CAPACITY
        ),
    ),
    ("post", "/v1/measures/{measure_id}/reroute"): _routing(
        "RerouteMeasure",
        lambda: agencies_pb2.RerouteMeasureRequest(
            measure_id=_nowhere(), agency_id="hlt-ast-1", deadline=in_days(10)
        ),
    ),
    ("post", "/v1/plans/{plan_id}/measures"): _routing(
        "AddMeasure",
        lambda: agencies_pb2.AddMeasureRequest(
            plan_id=_nowhere(), measure=plan_request().measures[0], reason="review"
        ),
    ),
    ("patch", "/v1/measures/{measure_id}"): _routing(
        "AmendMeasure",
        lambda: agencies_pb2.AmendMeasureRequest(
            measure_id=_nowhere(), deadline=in_days(20), reason="review"
        ),
    ),
    ("post", "/v1/measures/{measure_id}/cancel"): _routing(
        "CancelMeasure",
        lambda: agencies_pb2.CancelMeasureRequest(measure_id=_nowhere(), reason="review"),
    ),
    ("get", "/v1/reports/measures"): _routing(
        "MeasureIndicators",
        lambda: agencies_pb2.MeasureIndicatorsRequest(from_date=in_days(-30), to_date=in_days(1)),
    ),
    # --- quarterly monitoring reports (MON-1) ---
    ("post", "/v1/monitoring-reports"): _monitoring("CreateMonitoringReport", _monitoring_report),
    ("get", "/v1/monitoring-reports"): _monitoring(
        "ListMonitoringReports", monitoring_pb2.ListMonitoringReportsRequest
    ),
    ("get", "/v1/monitoring-reports/{report_id}"): _monitoring(
        "GetMonitoringReport",
        lambda: monitoring_pb2.GetMonitoringReportRequest(report_id=_nowhere()),
    ),
    ("post", "/v1/monitoring-reports/{report_id}/revisions"): _monitoring(
        "ReviseMonitoringReport",
        lambda: monitoring_pb2.ReviseMonitoringReportRequest(
            report_id=_nowhere(), snapshot_json='{"sections": {}}', conclusion="roles check"
        ),
    ),
    ("post", "/v1/monitoring-reports/{report_id}/sign"): _monitoring(
        "SignMonitoringReport",
        lambda: monitoring_pb2.SignMonitoringReportRequest(report_id=_nowhere(), version=1),
    ),
    ("get", "/v1/monitoring-reports/{report_id}/export.pdf"): _monitoring(
        "ExportMonitoringReport",
        lambda: monitoring_pb2.ExportMonitoringReportRequest(
            report_id=_nowhere(), format=monitoring_pb2.EXPORT_FORMAT_PDF
        ),
    ),
    ("get", "/v1/monitoring-reports/{report_id}/export.csv"): _monitoring(
        "ExportMonitoringReport",
        lambda: monitoring_pb2.ExportMonitoringReportRequest(
            report_id=_nowhere(), format=monitoring_pb2.EXPORT_FORMAT_CSV
        ),
    ),
}
