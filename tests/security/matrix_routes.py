"""The request each `/v1` route is called with in the access matrix, twice over: through the
gateway (HTTP) and straight to the owning service (gRPC), about the same record and with the
same token. Every request is valid, so the answer says who may do it, not what is malformed.

`ids` is the record the cell acts on (`matrix_world.Records`): `ids["id"]` its id.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.intake.v1 import intake_pb2
from kamqor.notify.v1 import notify_pb2
from kamqor.plans.v1 import plans_pb2
from kamqor.registry.v1 import registry_pb2
from kamqor.shelter.v1 import shelter_pb2
from tests.plans.factories import in_days, plan_request
from tests.registry.factories import registration_request
from tests.security.matrix_world import SUFFIX, _deregistration, education_measure, irkutsk_day
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


def _plan_json(territory: str) -> dict[str, Any]:
    return {
        "case_id": str(uuid.uuid4()),
        "situation": "dls",
        "measures": [
            {
                "kind": "pedagogical",
                "agency_id": f"edu-{SUFFIX[territory]}-1",
                "agency_type": "education",
                "title": "Tutoring twice a week",
                "deadline": in_days(30),
            }
        ],
    }


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
    ("post", "/v1/measures/{measure_id}/assignee"): lambda ids, t: _one(
        Http("POST", f"/v1/measures/{ids['id']}/assignee", json={"assignee": "teacher.matrix"}),
        "plans",
        "DesignateAssignee",
        plans_pb2.DesignateAssigneeRequest(measure_id=ids["id"], assignee="teacher.matrix"),
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
}

# Routes whose success changes the record so that a second success is impossible: each cell
# expected to succeed gets a fresh record (per channel).
CONSUMING = frozenset(
    {
        ("post", "/v1/stays/{stay_id}/discharge"),
        ("post", "/v1/plans/{plan_id}/approve"),
        ("post", "/v1/measures/{measure_id}/report"),
        ("post", "/v1/measures/{measure_id}/complete"),
        ("post", "/v1/registry/deregistrations"),
        ("post", "/v1/registry/decisions/{decision_id}/receive"),
        ("post", "/v1/registry/decisions/{decision_id}/enter"),
        ("post", "/v1/registry/decisions/{decision_id}/remove"),
    }
)
