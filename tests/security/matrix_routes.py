"""The request each `/v1` route is called with in the access matrix, twice over: through the
gateway (HTTP) and straight to the owning service (gRPC), about the same record and with the
same token. Every request is valid, so the answer says who may do it, not what is malformed.

`ids` is the record the cell acts on (`matrix_world.Records`): `ids["id"]` its id.
"""

from __future__ import annotations

import itertools
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.intake.v1 import intake_pb2
from kamqor.notify.v1 import notify_pb2
from kamqor.plans.v1 import agencies_pb2, monitoring_pb2, plans_pb2
from kamqor.registry.v1 import registry_pb2
from kamqor.shelter.v1 import shelter_pb2
from tests.plans.factories import in_days, plan_request
from tests.registry.factories import (
    change_json,
    change_request,
    ended_quarter,
    inquiry_json,
    inquiry_request,
    registration_request,
    review_json,
    review_request,
    session_json,
    session_request,
)
from tests.security.matrix_world import (
    SUFFIX,
    _deregistration,
    education_measure,
    irkutsk_day,
    user,
)
from tests.support.factories import admit_request, appeal_request, years_ago

SERVICES = ("intake", "plans", "registry", "shelter", "notify")
PURPOSE = "access matrix check"


@dataclass(frozen=True)
class Http:
    method: str
    url: str
    json: Any = None
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Rpc:
    service: str  # whose stub (`matrix_world.stubs`); "deadlines:<service>" for the report
    method: str
    request: Message


@dataclass(frozen=True)
class Call:
    http: Http
    rpcs: tuple[Rpc, ...]


Builder = Callable[[dict[str, str], str], Call]


def _one(http: Http, service: str, method: str, request: Message) -> Call:
    return Call(http, (Rpc(service, method, request),))


def _receipt_json() -> dict[str, str]:
    return {"receipt_id": str(uuid.uuid4()), "notice_id": str(uuid.uuid4())}


def _adult() -> dict[str, Any]:
    return {"full_name": "Matrix Check", "birth_date": years_ago(30)}


def _registration_json(home_day: str) -> dict[str, Any]:
    def person(name: str, age: int, relation: str = "") -> dict[str, Any]:
        return {
            "full_name": name,
            "relation": relation,
            "birth_date": years_ago(age),
            "birth_place": "Irkutsk",
            "actual_address": "Irkutsk, Lenina St. 1, apt. 2",
        }

    return {
        "decided_on": home_day,
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": {"members_present": 7, "votes_for": 5, "votes_against": 1},
        "hearing": {
            "prevention_bodies_heard": True,
            "minor_opinion_heard": True,
            "parents_opinion_heard": True,
        },
        "grounds": "Neglect of the child's needs",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Family support center of Irkutsk",
        "review_on": irkutsk_day(120),
        "minors": [person("Matrix Pyotr", 10)],
        "relatives": [person("Matrix Maria", 35, "mother")],
    }


def _education_json(territory: str) -> dict[str, Any]:
    return {
        "kind": "pedagogical",
        "agency_id": f"edu-{SUFFIX[territory]}-1",
        "agency_type": "education",
        "title": "Tutoring twice a week",
        "deadline": in_days(30),
    }


def _plan_json(territory: str) -> dict[str, Any]:
    return {
        "case_id": str(uuid.uuid4()),
        "situation": "dls",
        "measures": [_education_json(territory)],
        # PLN-3: drafted with the family.
        "participants": [{"role": "family", "name": "Matrix Maria (mother)"}],
    }


def _teacher(territory: str) -> str:
    return user("agency-assignee@education", territory).username


def _plan_indicators(ids: dict[str, str], territory: str) -> Call:
    # As the deadline report: about Astana; "other" asks for a territory not its own (403).
    period = {"from": in_days(-30), "to": in_days(30), "territory": "kz-ast"}
    return _one(
        Http("GET", "/v1/reports/plans", params=period),
        "plans",
        "ReportPlanIndicators",
        plans_pb2.ReportPlanIndicatorsRequest(**period),
    )


def _plan_act(path: str, request: Callable[[str], Message], body: Any = None) -> Builder:
    """A POST to one of a plan's acts after drafting (issue 14), about the record's plan;
    `body` is the JSON body, or what makes it at call time (a date of the domain clock). The
    RPC is named by its request (`SubmitPlanRequest`: `SubmitPlan`)."""

    def build(ids: dict[str, str], territory: str) -> Call:
        rpc = request(ids["id"])
        return _one(
            Http("POST", f"/v1/plans/{ids['id']}/{path}", json=body() if callable(body) else body),
            "plans",
            rpc.DESCRIPTOR.name.removesuffix("Request"),
            rpc,
        )

    return build


def _reopen(ids: dict[str, str], territory: str) -> Call:
    return _one(
        Http(
            "POST",
            f"/v1/plans/{ids['id']}/reopen",
            json={"reason": PURPOSE, "measures": [_education_json(territory)]},
        ),
        "plans",
        "ReopenPlan",
        plans_pb2.ReopenPlanRequest(
            idempotency_key=uuid.uuid4().hex,
            plan_id=ids["id"],
            reason=PURPOSE,
            measures=[education_measure(territory)],
        ),
    )


# Each approval is of a year of its own (a year's mobile group is approved once, INT-4); the
# years of the records the GET cells read start at 1930 (`matrix_world`).
_GROUP_YEARS = itertools.count(1950)
_GROUP_TYPES = ("education", "health", "police")


def _mobile_group_json(year: int) -> dict[str, Any]:
    members = [
        {"agency_type": t, "agency": f"{t}-m", "representative": "R. M."} for t in _GROUP_TYPES
    ]
    return {
        "year": year,
        "approved_on": f"{year}-06-01",
        "order_number": "matrix check",
        "members": members,
    }


def _mobile_group_pb(year: int) -> intake_pb2.ApproveMobileGroupRequest:
    body = _mobile_group_json(year)
    return intake_pb2.ApproveMobileGroupRequest(
        year=year,
        approved_on=body["approved_on"],
        order_number=body["order_number"],
        members=[intake_pb2.MobileGroupMember(**m) for m in body["members"]],
    )


def _appeals_post(ids: dict[str, str], territory: str) -> Call:
    body = {
        "channel": "in_person",
        "summary": "Matrix check appeal",
        "persons": [{"full_name": "Matrix Check", "relation": "applicant"}],
        "threat_to_life": False,
    }
    return _one(
        Http("POST", "/v1/appeals", json=body), "intake", "RegisterAppeal", appeal_request()
    )


def _shelters_post(ids: dict[str, str], territory: str) -> Call:
    name = f"Matrix shelter {uuid.uuid4().hex[:8]}"
    return _one(
        Http("POST", "/v1/shelters", json={"name": name, "capacity": 5}),
        "shelter",
        "RegisterShelter",
        shelter_pb2.RegisterShelterRequest(
            idempotency_key=uuid.uuid4().hex, name=f"{name} rpc", capacity=5
        ),
    )


def _report(ids: dict[str, str], territory: str) -> Call:
    # Always about the record's home territory (Astana): "other" asks for a territory not its own.
    period = {"from_date": in_days(-30), "to_date": in_days(30), "territory": "kz-ast"}
    return Call(
        Http(
            "GET",
            "/v1/reports/deadlines",
            params={"from": period["from_date"], "to": period["to_date"], "territory": "kz-ast"},
        ),
        tuple(
            Rpc(f"deadlines:{s}", "ReportDeadlines", deadlines_pb2.ReportDeadlinesRequest(**period))
            for s in SERVICES
        ),
    )


# Each call takes the next bed of the (10,000-bed) matrix shelter out of service: a bed goes out
# of service once.
_BED_NUMBERS = itertools.count(1)


def _bed_service(ids: dict[str, str], territory: str) -> Call:
    number = next(_BED_NUMBERS)
    body = {"out_of_service": True, "reason": PURPOSE}
    return _one(
        Http("POST", f"/v1/shelters/{ids['id']}/beds/{number}/service", json=body),
        "shelter",
        "SetBedService",
        shelter_pb2.SetBedServiceRequest(
            shelter_id=ids["id"], number=next(_BED_NUMBERS), out_of_service=True, reason=PURPOSE
        ),
    )


def _shelter_report(ids: dict[str, str], territory: str) -> Call:
    # As the deadline report: about Astana; "other" asks for a territory not its own (403).
    period = {"from_date": in_days(-30), "to_date": in_days(30), "territory": "kz-ast"}
    # The gateway asks shelter and notify (MON-6 notice timeliness) alike.
    return Call(
        Http(
            "GET",
            "/v1/reports/shelter",
            params={"from": period["from_date"], "to": period["to_date"], "territory": "kz-ast"},
        ),
        (
            Rpc("shelter", "ReportIndicators", shelter_pb2.ReportIndicatorsRequest(**period)),
            Rpc(
                "notify",
                "ReportNoticeIndicators",
                notify_pb2.ReportNoticeIndicatorsRequest(**period),
            ),
        ),
    )


# SHL-4: the case whose plan gets the measures (plans drafts one when the case has none).
SUPPORT_CASE = str(uuid.uuid4())


def _support_item_json(*, proto: bool = False) -> dict[str, Any]:
    return {
        "kind": shelter_pb2.SUPPORT_KIND_LEGAL if proto else "legal",
        "agency_id": "pol-ast-1",
        "agency_type": "police",
        "due_on": in_days(5),
    }


def _family_search(ids: dict[str, str], territory: str) -> Call:
    name = ids.get("name", "Matrix")
    return _one(
        Http("POST", "/v1/registry/families:search", json={"name": name, "purpose": PURPOSE}),
        "registry",
        "SearchFamilies",
        registry_pb2.SearchFamiliesRequest(name=name, purpose=PURPOSE),
    )


def _deregistration_json(family_id: str) -> dict[str, Any]:
    return {
        "family_id": family_id,
        "decided_on": irkutsk_day(),
        "number": f"KDN-{uuid.uuid4().hex[:6]}",
        "vote": {"members_present": 5, "votes_for": 3, "votes_against": 0},
        "hearing": {
            "prevention_bodies_heard": True,
            "minor_opinion_heard": True,
            "parents_opinion_heard": True,
        },
        "grounds": "The situation improved",
    }


def _monitoring_create(ids: dict[str, str], territory: str) -> Call:
    """The report of the record's quarter: a fresh one for each cell that writes it (one report
    per center and quarter)."""
    return _one(
        Http(
            "POST",
            "/v1/monitoring-reports",
            json={"quarter": ids["quarter"], "conclusion": PURPOSE},
        ),
        "monitoring",
        "CreateMonitoringReport",
        monitoring_pb2.CreateMonitoringReportRequest(
            quarter=ids["quarter"], snapshot_json=_NO_FIGURES, conclusion=PURPOSE
        ),
    )


_NO_FIGURES = '{"sections": {}}'


def _monitoring_export(kind: str, form: monitoring_pb2.ExportFormat.ValueType) -> Builder:
    def build(ids: dict[str, str], territory: str) -> Call:
        return _one(
            Http("GET", f"/v1/monitoring-reports/{ids['id']}/export.{kind}"),
            "monitoring",
            "ExportMonitoringReport",
            monitoring_pb2.ExportMonitoringReportRequest(report_id=ids["id"], format=form),
        )

    return build


ROUTES: dict[tuple[str, str], Builder] = {
    # --- intake ---
    ("post", "/v1/appeals"): _appeals_post,
    ("get", "/v1/appeals"): lambda ids, t: _one(
        Http("GET", "/v1/appeals"), "intake", "ListAppeals", intake_pb2.ListAppealsRequest()
    ),
    ("get", "/v1/appeals/{appeal_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/appeals/{ids['id']}"),
        "intake",
        "GetAppeal",
        intake_pb2.GetAppealRequest(appeal_id=ids["id"]),
    ),
    ("get", "/v1/families/{family_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/families/{ids['id']}"),
        "intake",
        "GetFamily",
        intake_pb2.GetFamilyRequest(family_id=ids["id"]),
    ),
    ("post", "/v1/families/{family_id}/merges"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/families/{ids['id']}/merges",
            json={"merged_family_id": ids["other"], "reason": PURPOSE},
        ),
        "intake",
        "MergeFamilies",
        intake_pb2.MergeFamiliesRequest(
            kept_family_id=ids["id"], merged_family_id=ids["other"], reason=PURPOSE
        ),
    ),
    ("post", "/v1/family-merges/{merge_id}/undo"): lambda ids, t: _one(
        Http("POST", f"/v1/family-merges/{ids['id']}/undo"),
        "intake",
        "UndoMerge",
        intake_pb2.UndoMergeRequest(merge_id=ids["id"]),
    ),
    ("get", "/v1/cases/{case_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/cases/{ids['id']}"),
        "intake",
        "GetCase",
        intake_pb2.GetCaseRequest(case_id=ids["id"]),
    ),
    ("post", "/v1/cases/{case_id}/close"): lambda ids, t: _one(
        Http("POST", f"/v1/cases/{ids['id']}/close", json={"reason": PURPOSE}),
        "intake",
        "CloseCase",
        intake_pb2.CloseCaseRequest(case_id=ids["id"], reason=PURPOSE),
    ),
    # An assessment may follow another: the shared open case serves every cell.
    ("post", "/v1/cases/{case_id}/assessments"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/cases/{ids['id']}/assessments",
            json={"outcome": "none", "consent": "not_required", "notes": PURPOSE},
        ),
        "intake",
        "AssessCase",
        intake_pb2.AssessCaseRequest(
            case_id=ids["id"],
            outcome=intake_pb2.OUTCOME_NONE,
            consent=intake_pb2.CONSENT_NOT_REQUIRED,
            notes=PURPOSE,
        ),
    ),
    ("post", "/v1/cases/{case_id}/worker"): lambda ids, t: _one(
        Http("POST", f"/v1/cases/{ids['id']}/worker", json={"worker": "matrix.worker"}),
        "intake",
        "AssignCaseWorker",
        intake_pb2.AssignCaseWorkerRequest(case_id=ids["id"], worker="matrix.worker"),
    ),
    # The visit is of the day the matrix runs: the case was opened that day too.
    ("post", "/v1/cases/{case_id}/home-visits"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/cases/{ids['id']}/home-visits",
            json={"visited_on": in_days(0), "findings": PURPOSE},
        ),
        "intake",
        "RecordHomeVisit",
        intake_pb2.RecordHomeVisitRequest(
            case_id=ids["id"], visited_on=in_days(0), findings=PURPOSE
        ),
    ),
    ("get", "/v1/caseload"): lambda ids, t: _one(
        Http("GET", "/v1/caseload"),
        "intake",
        "GetCaseloadReport",
        intake_pb2.GetCaseloadReportRequest(),
    ),
    ("post", "/v1/mobile-groups"): lambda ids, t: _one(
        Http("POST", "/v1/mobile-groups", json=_mobile_group_json(next(_GROUP_YEARS))),
        "intake",
        "ApproveMobileGroup",
        _mobile_group_pb(next(_GROUP_YEARS)),
    ),
    ("get", "/v1/mobile-groups/{year}"): lambda ids, t: _one(
        Http("GET", f"/v1/mobile-groups/{ids['year']}"),
        "intake",
        "GetMobileGroup",
        intake_pb2.GetMobileGroupRequest(year=int(ids["year"])),
    ),
    # A consultation may follow an entry any number of times: the shared record serves all.
    ("post", "/v1/appeals/{appeal_id}/triage"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/appeals/{ids['id']}/triage",
            json={"kind": "consultation", "note": PURPOSE},
        ),
        "intake",
        "RecordTriage",
        intake_pb2.RecordTriageRequest(
            appeal_id=ids["id"], kind=intake_pb2.TRIAGE_KIND_CONSULTATION, note=PURPOSE
        ),
    ),
    ("post", "/v1/appeals/{appeal_id}/follow-ups"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/appeals/{ids['id']}/follow-ups",
            json={"kind": "information", "text": PURPOSE},
        ),
        "intake",
        "FollowUpAppeal",
        intake_pb2.FollowUpAppealRequest(
            appeal_id=ids["id"], kind=intake_pb2.FOLLOW_UP_KIND_INFORMATION, text=PURPOSE
        ),
    ),
    ("get", "/v1/reports/intake"): lambda ids, t: _one(
        # As the deadline report: about Astana; "other" asks for a territory not its own (403).
        Http(
            "GET",
            "/v1/reports/intake",
            params={"from": in_days(-30), "to": in_days(30), "territory": "kz-ast"},
        ),
        "intake",
        "ReportIntakeIndicators",
        intake_pb2.ReportIntakeIndicatorsRequest(
            from_date=in_days(-30), to_date=in_days(30), territory="kz-ast"
        ),
    ),
    # --- shelter ---
    ("get", "/v1/shelters"): lambda ids, t: _one(
        Http("GET", "/v1/shelters"), "shelter", "ListShelters", shelter_pb2.ListSheltersRequest()
    ),
    ("post", "/v1/shelters"): _shelters_post,
    ("post", "/v1/stays"): lambda ids, t: _one(
        Http(
            "POST",
            "/v1/stays",
            json={"shelter_id": ids["id"], "adult": _adult(), "referral": "self_application"},
        ),
        "shelter",
        "Admit",
        admit_request(ids["id"], minors=0),
    ),
    ("get", "/v1/stays"): lambda ids, t: _one(
        Http("GET", "/v1/stays", params={"shelter_id": ids["id"]}),
        "shelter",
        "ListStays",
        shelter_pb2.ListStaysRequest(shelter_id=ids["id"]),
    ),
    ("get", "/v1/stays/{stay_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/stays/{ids['id']}"),
        "shelter",
        "GetStay",
        shelter_pb2.GetStayRequest(stay_id=ids["id"]),
    ),
    ("post", "/v1/stays/{stay_id}/discharge"): lambda ids, t: _one(
        Http("POST", f"/v1/stays/{ids['id']}/discharge", json={"reason": "moved out"}),
        "shelter",
        "Discharge",
        shelter_pb2.DischargeRequest(stay_id=ids["id"], reason="moved out"),
    ),
    ("post", "/v1/stays/{stay_id}/extend"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/stays/{ids['id']}/extend",
            json={"until": in_days(90), "decision_number": "M-1", "reason": PURPOSE},
        ),
        "shelter",
        "ExtendStay",
        shelter_pb2.ExtendStayRequest(
            stay_id=ids["id"], until=in_days(90), decision_number="M-1", reason=PURPOSE
        ),
    ),
    ("post", "/v1/stays/{stay_id}/support"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/stays/{ids['id']}/support",
            json={"case_id": SUPPORT_CASE, "items": [_support_item_json()]},
        ),
        "shelter",
        "RecordSupport",
        shelter_pb2.RecordSupportRequest(
            stay_id=ids["id"],
            case_id=SUPPORT_CASE,
            items=[shelter_pb2.SupportItem(**_support_item_json(proto=True))],
        ),
    ),
    ("get", "/v1/shelters/{shelter_id}/beds"): lambda ids, t: _one(
        Http("GET", f"/v1/shelters/{ids['id']}/beds"),
        "shelter",
        "GetBedBoard",
        shelter_pb2.GetBedBoardRequest(shelter_id=ids["id"]),
    ),
    ("post", "/v1/shelters/{shelter_id}/beds/{number}/service"): _bed_service,
    ("post", "/v1/holds"): lambda ids, t: _one(
        Http("POST", "/v1/holds", json={"shelter_id": ids["id"], "beds": 1}),
        "shelter",
        "HoldBeds",
        shelter_pb2.HoldBedsRequest(shelter_id=ids["id"], beds=1),
    ),
    ("post", "/v1/refusals"): lambda ids, t: _one(
        Http(
            "POST",
            "/v1/refusals",
            json={"shelter_id": ids["id"], "adult": _adult(), "reason": "not_eligible"},
        ),
        "shelter",
        "RecordRefusal",
        shelter_pb2.RecordRefusalRequest(
            shelter_id=ids["id"],
            adult=shelter_pb2.Resident(**_adult()),
            reason=shelter_pb2.REFUSAL_REASON_NOT_ELIGIBLE,
        ),
    ),
    ("get", "/v1/refusals"): lambda ids, t: _one(
        Http("GET", "/v1/refusals", params={"shelter_id": ids["id"]}),
        "shelter",
        "ListRefusals",
        shelter_pb2.ListRefusalsRequest(shelter_id=ids["id"]),
    ),
    ("get", "/v1/waitlist"): lambda ids, t: _one(
        Http("GET", "/v1/waitlist", params={"shelter_id": ids["id"]}),
        "shelter",
        "ListWaitlist",
        shelter_pb2.ListWaitlistRequest(shelter_id=ids["id"]),
    ),
    ("get", "/v1/reports/shelter"): _shelter_report,
    # --- notices and reminders ---
    ("get", "/v1/notices"): lambda ids, t: _one(
        Http("GET", "/v1/notices"), "notify", "ListNotices", notify_pb2.ListNoticesRequest()
    ),
    ("get", "/v1/notices/{notice_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/notices/{ids['id']}"),
        "notify",
        "GetNotice",
        notify_pb2.GetNoticeRequest(notice_id=ids["id"]),
    ),
    ("post", "/v1/notices/{notice_id}/ack"): lambda ids, t: _one(
        Http("POST", f"/v1/notices/{ids['id']}/ack"),
        "notify",
        "AcknowledgeNotice",
        notify_pb2.AcknowledgeNoticeRequest(notice_id=ids["id"]),
    ),
    ("get", "/v1/notices/{notice_id}/deliveries"): lambda ids, t: _one(
        Http("GET", f"/v1/notices/{ids['id']}/deliveries"),
        "notify",
        "ListDeliveries",
        notify_pb2.ListDeliveriesRequest(notice_id=ids["id"]),
    ),
    ("get", "/v1/notices/{notice_id}/letter"): lambda ids, t: _one(
        Http("GET", f"/v1/notices/{ids['id']}/letter"),
        "notify",
        "GetLetter",
        notify_pb2.GetLetterRequest(notice_id=ids["id"]),
    ),
    # Signed by an agency's system, not a bearer token (`notify.receipts`): a persona's token
    # alone is refused as unauthenticated, by the gateway and by notify alike.
    ("post", "/v1/notices/receipts"): lambda ids, t: _one(
        Http("POST", "/v1/notices/receipts", json=_receipt_json()),
        "notify",
        "RecordReceipt",
        notify_pb2.RecordReceiptRequest(
            sender="kz-ast/police", body=json.dumps(_receipt_json()).encode()
        ),
    ),
    ("get", "/v1/reminders"): lambda ids, t: _one(
        Http("GET", "/v1/reminders"), "notify", "ListReminders", notify_pb2.ListRemindersRequest()
    ),
    ("get", "/v1/reports/deadlines"): _report,
    # --- plans ---
    ("post", "/v1/plans"): lambda ids, t: _one(
        Http("POST", "/v1/plans", json=_plan_json(t)),
        "plans",
        "CreatePlan",
        plan_request(measures=[education_measure(t)]),
    ),
    ("get", "/v1/plans/{plan_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/plans/{ids['id']}"),
        "plans",
        "GetPlan",
        plans_pb2.GetPlanRequest(plan_id=ids["id"]),
    ),
    ("post", "/v1/plans/{plan_id}/approve"): lambda ids, t: _one(
        Http("POST", f"/v1/plans/{ids['id']}/approve", json={"decision": "Protocol 1"}),
        "plans",
        "ApprovePlan",
        plans_pb2.ApprovePlanRequest(plan_id=ids["id"], decision="Protocol 1"),
    ),
    ("get", "/v1/measures"): lambda ids, t: _one(
        Http("GET", "/v1/measures"), "plans", "ListMyMeasures", plans_pb2.ListMyMeasuresRequest()
    ),
    # The assignee is one of the school's people in the directory (PLN-6, deploy/agencies).
    ("post", "/v1/measures/{measure_id}/assignee"): lambda ids, t: _one(
        Http("POST", f"/v1/measures/{ids['id']}/assignee", json={"assignee": _teacher(t)}),
        "plans",
        "DesignateAssignee",
        plans_pb2.DesignateAssigneeRequest(measure_id=ids["id"], assignee=_teacher(t)),
    ),
    ("post", "/v1/measures/{measure_id}/report"): lambda ids, t: _one(
        Http("POST", f"/v1/measures/{ids['id']}/report", json={"report": "Lessons given"}),
        "plans",
        "ReportMeasure",
        plans_pb2.ReportMeasureRequest(measure_id=ids["id"], report="Lessons given"),
    ),
    ("post", "/v1/measures/{measure_id}/complete"): lambda ids, t: _one(
        Http("POST", f"/v1/measures/{ids['id']}/complete", json={"completed_on": in_days(0)}),
        "plans",
        "CompleteMeasure",
        plans_pb2.CompleteMeasureRequest(measure_id=ids["id"], completed_on=in_days(0)),
    ),
    ("post", "/v1/measures/{measure_id}/return"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/measures/{ids['id']}/return",
            json={"mode": "rework", "reason": "No report", "new_deadline": in_days(10)},
        ),
        "plans",
        "ReturnMeasure",
        plans_pb2.ReturnMeasureRequest(
            measure_id=ids["id"],
            mode=plans_pb2.RETURN_MODE_REWORK,
            reason="No report",
            new_deadline=in_days(10),
        ),
    ),
    # --- a plan's life after drafting (issue 14) ---
    ("get", "/v1/plans"): lambda ids, t: _one(
        Http("GET", "/v1/plans"), "plans", "ListPlans", plans_pb2.ListPlansRequest()
    ),
    ("post", "/v1/plans/{plan_id}/submit"): _plan_act(
        "submit", lambda i: plans_pb2.SubmitPlanRequest(plan_id=i)
    ),
    ("post", "/v1/plans/{plan_id}/reviews"): _plan_act(
        "reviews",
        lambda i: plans_pb2.OpenReviewRequest(plan_id=i, kind=plans_pb2.REVIEW_KIND_INTERIM),
        {"kind": "interim"},
    ),
    ("post", "/v1/plans/{plan_id}/reviews/conclude"): _plan_act(
        "reviews/conclude",
        lambda i: plans_pb2.ConcludeReviewRequest(
            plan_id=i, decision=plans_pb2.REVIEW_DECISION_CONTINUE, conclusion=PURPOSE
        ),
        {"decision": "continue", "conclusion": PURPOSE},
    ),
    # The level is kept: every cell records a change on the shared plan in force.
    ("post", "/v1/plans/{plan_id}/level-changes"): _plan_act(
        "level-changes",
        lambda i: plans_pb2.ChangeSupportLevelRequest(
            plan_id=i,
            person="mother",
            from_level=plans_pb2.SUPPORT_LEVEL_CRISIS,
            to_level=plans_pb2.SUPPORT_LEVEL_BASIC,
        ),
        {"person": "mother", "from_level": "crisis", "to_level": "basic"},
    ),
    # The request is of today; the whole term becomes a year from approval (Yugra's limit).
    ("post", "/v1/plans/{plan_id}/extend"): _plan_act(
        "extend",
        lambda i: plans_pb2.ExtendPlanRequest(
            plan_id=i, request_received_on=in_days(0), months=12, decision=PURPOSE
        ),
        lambda: {"request_received_on": in_days(0), "months": 12, "decision": PURPOSE},
    ),
    ("post", "/v1/plans/{plan_id}/close"): _plan_act(
        "close",
        lambda i: plans_pb2.ClosePlanRequest(
            plan_id=i, ground=plans_pb2.CLOSURE_GROUND_FAMILY_REFUSED, decision=PURPOSE
        ),
        {"ground": "family_refused", "decision": PURPOSE},
    ),
    ("post", "/v1/plans/{plan_id}/monitoring/end"): _plan_act(
        "monitoring/end",
        lambda i: plans_pb2.EndMonitoringRequest(plan_id=i, outcome=PURPOSE),
        {"outcome": PURPOSE},
    ),
    ("post", "/v1/plans/{plan_id}/reopen"): _reopen,
    ("get", "/v1/reports/plans"): _plan_indicators,
    # --- the agency directory and measure routing (issue 14) ---
    ("get", "/v1/agencies"): lambda ids, t: _one(
        Http("GET", "/v1/agencies"), "agencies", "ListAgencies", agencies_pb2.ListAgenciesRequest()
    ),
    ("get", "/v1/agencies/{agency_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/agencies/{ids['id']}"),
        "agencies",
        "GetAgency",
        agencies_pb2.GetAgencyRequest(agency_id=ids["id"]),
    ),
    ("post", "/v1/measures/{measure_id}/decline"): lambda ids, t: _one(
        Http("POST", f"/v1/measures/{ids['id']}/decline", json={"reason": "no_capacity"}),
        "routing",
        "DeclineMeasure",
        agencies_pb2.DeclineMeasureRequest(
            measure_id=ids["id"], reason=agencies_pb2.DECLINE_REASON_NO_CAPACITY
        ),
    ),
    # The school declined; the center takes the measure on itself (its social pedagogues).
    ("post", "/v1/measures/{measure_id}/reroute"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/measures/{ids['id']}/reroute",
            json={"agency_id": f"fc-{SUFFIX[t]}-1", "deadline": in_days(20)},
        ),
        "routing",
        "RerouteMeasure",
        agencies_pb2.RerouteMeasureRequest(
            measure_id=ids["id"], agency_id=f"fc-{SUFFIX[t]}-1", deadline=in_days(20)
        ),
    ),
    ("post", "/v1/plans/{plan_id}/measures"): lambda ids, t: _one(
        Http(
            "POST",
            f"/v1/plans/{ids['id']}/measures",
            json={"measure": _education_json(t), "reason": "Interim review"},
        ),
        "routing",
        "AddMeasure",
        agencies_pb2.AddMeasureRequest(
            plan_id=ids["id"], measure=education_measure(t), reason="Interim review"
        ),
    ),
    ("patch", "/v1/measures/{measure_id}"): lambda ids, t: _one(
        Http(
            "PATCH",
            f"/v1/measures/{ids['id']}",
            json={"title": "Tutoring three times a week", "reason": "Interim review"},
        ),
        "routing",
        "AmendMeasure",
        agencies_pb2.AmendMeasureRequest(
            measure_id=ids["id"], title="Tutoring three times a week", reason="Interim review"
        ),
    ),
    ("post", "/v1/measures/{measure_id}/cancel"): lambda ids, t: _one(
        Http("POST", f"/v1/measures/{ids['id']}/cancel", json={"reason": "Interim review"}),
        "routing",
        "CancelMeasure",
        agencies_pb2.CancelMeasureRequest(measure_id=ids["id"], reason="Interim review"),
    ),
    # The caller's own territory's aggregates: "other" reads Almaty's, its own.
    ("get", "/v1/reports/measures"): lambda ids, t: _one(
        Http("GET", "/v1/reports/measures", params={"from": in_days(-30), "to": in_days(30)}),
        "routing",
        "MeasureIndicators",
        agencies_pb2.MeasureIndicatorsRequest(from_date=in_days(-30), to_date=in_days(30)),
    ),
    # --- the SDP data bank ---
    ("post", "/v1/registry/decisions"): lambda ids, t: _one(
        Http("POST", "/v1/registry/decisions", json=_registration_json(irkutsk_day())),
        "registry",
        "RecordRegistrationDecision",
        registration_request(),
    ),
    ("post", "/v1/registry/deregistrations"): lambda ids, t: _one(
        Http("POST", "/v1/registry/deregistrations", json=_deregistration_json(ids["id"])),
        "registry",
        "RecordDeregistration",
        _deregistration(ids["id"]),
    ),
    ("post", "/v1/registry/reviews"): lambda ids, t: _one(
        Http("POST", "/v1/registry/reviews", json=review_json(ids["id"])),
        "registry",
        "RecordReview",
        review_request(ids["id"]),
    ),
    ("post", "/v1/registry/sessions"): lambda ids, t: _one(
        Http("POST", "/v1/registry/sessions", json=session_json()),
        "registry",
        "OpenSession",
        session_request(),
    ),
    ("get", "/v1/registry/sessions/{session_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/registry/sessions/{ids['id']}"),
        "registry",
        "GetSession",
        registry_pb2.GetSessionRequest(session_id=ids["id"]),
    ),
    ("post", "/v1/registry/decisions/{decision_id}/send"): lambda ids, t: _one(
        Http("POST", f"/v1/registry/decisions/{ids['id']}/send"),
        "registry",
        "SendDecision",
        registry_pb2.SendDecisionRequest(decision_id=ids["id"]),
    ),
    ("post", "/v1/registry/changes"): lambda ids, t: _one(
        Http("POST", "/v1/registry/changes", json=change_json(ids["id"])),
        "registry",
        "ReportChange",
        change_request(ids["id"]),
    ),
    ("post", "/v1/registry/changes/{change_id}/enter"): lambda ids, t: _one(
        Http("POST", f"/v1/registry/changes/{ids['id']}/enter"),
        "registry",
        "EnterChange",
        registry_pb2.EnterChangeRequest(change_id=ids["id"]),
    ),
    ("get", "/v1/registry/inbox"): lambda ids, t: _one(
        Http("GET", "/v1/registry/inbox"),
        "registry",
        "ListOfficeInbox",
        registry_pb2.ListOfficeInboxRequest(),
    ),
    ("post", "/v1/registry/decisions/{decision_id}/receive"): lambda ids, t: _one(
        Http("POST", f"/v1/registry/decisions/{ids['id']}/receive"),
        "registry",
        "ReceiveDecision",
        registry_pb2.ReceiveDecisionRequest(decision_id=ids["id"]),
    ),
    ("post", "/v1/registry/decisions/{decision_id}/enter"): lambda ids, t: _one(
        Http("POST", f"/v1/registry/decisions/{ids['id']}/enter"),
        "registry",
        "EnterFamily",
        registry_pb2.EnterFamilyRequest(decision_id=ids["id"]),
    ),
    ("post", "/v1/registry/decisions/{decision_id}/remove"): lambda ids, t: _one(
        Http("POST", f"/v1/registry/decisions/{ids['id']}/remove"),
        "registry",
        "RemoveFamily",
        registry_pb2.RemoveFamilyRequest(decision_id=ids["id"]),
    ),
    ("post", "/v1/registry/families:search"): _family_search,
    ("get", "/v1/registry/families/{family_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/registry/families/{ids['id']}", params={"purpose": PURPOSE}),
        "registry",
        "GetFamily",
        registry_pb2.GetFamilyRequest(family_id=ids["id"], purpose=PURPOSE),
    ),
    # --- the data bank's requests (REG-8) and quarterly reports (REG-7, MON-5) ---
    ("post", "/v1/registry/inquiries"): lambda ids, t: _one(
        Http("POST", "/v1/registry/inquiries", json=inquiry_json()),
        "registry",
        "CreateInquiry",
        inquiry_request(),
    ),
    ("get", "/v1/registry/inquiries"): lambda ids, t: _one(
        Http("GET", "/v1/registry/inquiries"),
        "registry",
        "ListOwnInquiries",
        registry_pb2.ListOwnInquiriesRequest(),
    ),
    ("get", "/v1/registry/inquiries-to-answer"): lambda ids, t: _one(
        Http("GET", "/v1/registry/inquiries-to-answer"),
        "registry",
        "ListInquiriesToAnswer",
        registry_pb2.ListInquiriesToAnswerRequest(),
    ),
    ("get", "/v1/registry/inquiries/{inquiry_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/registry/inquiries/{ids['id']}"),
        "registry",
        "GetInquiry",
        registry_pb2.GetInquiryRequest(inquiry_id=ids["id"]),
    ),
    ("post", "/v1/registry/inquiries/{inquiry_id}/answer"): lambda ids, t: _one(
        Http("POST", f"/v1/registry/inquiries/{ids['id']}/answer"),
        "registry",
        "AnswerInquiry",
        registry_pb2.AnswerInquiryRequest(inquiry_id=ids["id"]),
    ),
    ("post", "/v1/registry/quarterly-reports"): lambda ids, t: _one(
        Http("POST", "/v1/registry/quarterly-reports", json={"quarter": ended_quarter()}),
        "registry",
        "SubmitOfficeReport",
        registry_pb2.SubmitOfficeReportRequest(quarter=ended_quarter()),
    ),
    ("post", "/v1/registry/quarterly-summaries"): lambda ids, t: _one(
        Http("POST", "/v1/registry/quarterly-summaries", json={"quarter": ids["quarter"]}),
        "registry",
        "SubmitMinistrySummary",
        registry_pb2.SubmitMinistrySummaryRequest(quarter=ids["quarter"]),
    ),
    ("get", "/v1/registry/quarterly-reports"): lambda ids, t: _one(
        Http("GET", "/v1/registry/quarterly-reports", params={"quarter": ended_quarter()}),
        "registry",
        "ListQuarterReports",
        registry_pb2.ListQuarterReportsRequest(quarter=ended_quarter()),
    ),
    ("get", "/v1/registry/quarterly-reports/export"): lambda ids, t: _one(
        Http(
            "GET",
            "/v1/registry/quarterly-reports/export",
            params={"quarter": ended_quarter(), "format": "csv"},
        ),
        "registry",
        "ExportQuarterReports",
        registry_pb2.ExportQuarterReportsRequest(quarter=ended_quarter(), format="csv"),
    ),
    ("get", "/v1/reports/registry"): lambda ids, t: _one(
        Http("GET", "/v1/reports/registry", params={"quarter": ended_quarter()}),
        "registry",
        "ReportRegistryIndicators",
        registry_pb2.ReportRegistryIndicatorsRequest(quarter=ended_quarter()),
    ),
    # --- quarterly monitoring reports (MON-1) ---
    ("post", "/v1/monitoring-reports"): _monitoring_create,
    ("get", "/v1/monitoring-reports"): lambda ids, t: _one(
        Http("GET", "/v1/monitoring-reports"),
        "monitoring",
        "ListMonitoringReports",
        monitoring_pb2.ListMonitoringReportsRequest(),
    ),
    ("get", "/v1/monitoring-reports/{report_id}"): lambda ids, t: _one(
        Http("GET", f"/v1/monitoring-reports/{ids['id']}"),
        "monitoring",
        "GetMonitoringReport",
        monitoring_pb2.GetMonitoringReportRequest(report_id=ids["id"]),
    ),
    ("post", "/v1/monitoring-reports/{report_id}/revisions"): lambda ids, t: _one(
        Http("POST", f"/v1/monitoring-reports/{ids['id']}/revisions", json={"conclusion": PURPOSE}),
        "monitoring",
        "ReviseMonitoringReport",
        monitoring_pb2.ReviseMonitoringReportRequest(
            report_id=ids["id"], snapshot_json=_NO_FIGURES, conclusion=PURPOSE
        ),
    ),
    ("post", "/v1/monitoring-reports/{report_id}/sign"): lambda ids, t: _one(
        Http("POST", f"/v1/monitoring-reports/{ids['id']}/sign", json={"version": 1}),
        "monitoring",
        "SignMonitoringReport",
        monitoring_pb2.SignMonitoringReportRequest(report_id=ids["id"], version=1),
    ),
    ("get", "/v1/monitoring-reports/{report_id}/export.pdf"): _monitoring_export(
        "pdf", monitoring_pb2.EXPORT_FORMAT_PDF
    ),
    ("get", "/v1/monitoring-reports/{report_id}/export.csv"): _monitoring_export(
        "csv", monitoring_pb2.EXPORT_FORMAT_CSV
    ),
}

# Routes whose success changes the record so that a second success is impossible: each cell
# expected to succeed gets a fresh record (per channel).
CONSUMING = frozenset(
    {
        ("post", "/v1/monitoring-reports"),
        ("post", "/v1/stays/{stay_id}/discharge"),
        ("post", "/v1/stays/{stay_id}/extend"),
        ("post", "/v1/families/{family_id}/merges"),
        ("post", "/v1/family-merges/{merge_id}/undo"),
        ("post", "/v1/cases/{case_id}/close"),
        ("post", "/v1/plans/{plan_id}/approve"),
        ("post", "/v1/plans/{plan_id}/submit"),
        ("post", "/v1/plans/{plan_id}/reviews"),
        ("post", "/v1/plans/{plan_id}/reviews/conclude"),
        ("post", "/v1/plans/{plan_id}/extend"),
        ("post", "/v1/plans/{plan_id}/close"),
        ("post", "/v1/plans/{plan_id}/monitoring/end"),
        ("post", "/v1/plans/{plan_id}/reopen"),
        ("post", "/v1/measures/{measure_id}/report"),
        ("post", "/v1/measures/{measure_id}/complete"),
        ("post", "/v1/registry/deregistrations"),
        ("post", "/v1/registry/decisions/{decision_id}/send"),
        ("post", "/v1/registry/changes/{change_id}/enter"),
        ("post", "/v1/registry/decisions/{decision_id}/receive"),
        ("post", "/v1/registry/decisions/{decision_id}/enter"),
        ("post", "/v1/registry/decisions/{decision_id}/remove"),
        ("post", "/v1/registry/inquiries/{inquiry_id}/answer"),
        ("post", "/v1/monitoring-reports/{report_id}/sign"),
        # A declined, re-routed or cancelled measure is not declined, re-routed or cancelled again.
        ("post", "/v1/measures/{measure_id}/decline"),
        ("post", "/v1/measures/{measure_id}/reroute"),
        ("post", "/v1/measures/{measure_id}/cancel"),
        # The same change twice changes nothing, which is refused (PLN-13).
        ("patch", "/v1/measures/{measure_id}"),
    }
)
