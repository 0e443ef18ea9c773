"""/v1/registry through a real gRPC channel to a fake RegistryService: conversion,
Idempotency-Key, roles, validation that names the field, problems from the service's errors."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
import httpx
import pytest

from gateway.schemas.common import page_token_out
from kamqor.deadlines.v1 import deadlines_pb2
from kamqor.errors import Conflict, Forbidden, Invalid, NotFound
from kamqor.registry.v1 import registry_pb2 as pb
from kamqor.registry.v1 import registry_pb2_grpc
from tests.gateway.conftest import bearer
from tests.gateway.doubles import NOW, Ctx, Recorder, principal, ts
from tests.gateway.one_service import Api, gateway_before

TYPE = "https://kamqor.dev/problems/"
PRINCIPALS = {
    "commission": principal("commission-member", token="commission"),
    "office": principal("agency-coordinator", "agency-assignee", token="office"),
    "caseworker": principal("case-worker", token="caseworker"),
    "auditor": principal("auditor", token="auditor"),
    "head": principal("center-head", token="head"),
    "analyst": principal("analyst", token="analyst"),
}
FAMILY_ID = str(uuid.uuid4())
DECISION_ID = str(uuid.uuid4())
SEARCH = "/v1/registry/families:search"


def decision_pb(**kw: Any) -> pb.Decision:
    values: dict[str, Any] = {
        "id": DECISION_ID,
        "family_id": FAMILY_ID,
        "territory": "ru-irk",
        "kind": pb.DECISION_KIND_REGISTRATION,
        "commission_id": "com-irk-1",
        "decided_on": "2026-03-02",
        "number": "KDN-41",
        "vote": pb.Vote(members_present=7, votes_for=5, votes_against=1),
        "hearing": pb.Hearing(
            prevention_bodies_heard=True, minor_opinion_heard=True, parents_opinion_heard=True
        ),
        "grounds": "Neglect",
        "state": pb.DECISION_STATE_RECORDED,
        "recorded_by": "commission",
        "recorded_at": ts(NOW),
        "obligations": [
            deadlines_pb2.Obligation(
                id=str(uuid.uuid4()),
                rule="REG-4/send",
                responsible_agency="com-irk-1",
                due_at=ts(NOW + timedelta(days=9)),
                state="open",
            )
        ],
    }
    values.update(kw)
    return pb.Decision(**values)


def person_pb(**kw: Any) -> pb.Person:
    values: dict[str, Any] = {
        "full_name": "Ivanov Pyotr",
        "birth_date": "2016-02-11",
        "birth_place": "Irkutsk",
        "actual_address": "Irkutsk, Lenina 1",
    }
    values.update(kw)
    return pb.Person(**values)


def family_pb(**kw: Any) -> pb.Family:
    values: dict[str, Any] = {
        "id": FAMILY_ID,
        "territory": "ru-irk",
        "state": pb.FAMILY_STATE_REGISTERED,
        "minors": [
            person_pb(
                document=pb.IdentityDocument(
                    kind=pb.DOCUMENT_KIND_BIRTH_CERTIFICATE, number="654321"
                )
            )
        ],
        "relatives": [person_pb(full_name="Ivanova Maria", relation="mother")],
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Family center of Irkutsk",
        "review_on": "2026-07-01",
        "registered_at": ts(NOW),
        "decisions": [decision_pb(state=pb.DECISION_STATE_ENTERED, entered_at=ts(NOW))],
    }
    values.update(kw)
    return pb.Family(**values)


class FakeRegistry(registry_pb2_grpc.RegistryServiceServicer):
    def __init__(self, recorder: Recorder) -> None:
        self.rec = recorder

    async def RecordRegistrationDecision(
        self, request: pb.RecordRegistrationDecisionRequest, context: Ctx
    ) -> Any:
        await self.rec.record("RecordRegistrationDecision", request, context)
        decision = decision_pb(number=request.number, vote=request.vote, hearing=request.hearing)
        family = family_pb(
            state=pb.FAMILY_STATE_PENDING,
            minors=request.minors,
            relatives=request.relatives,
            registered_at=None,
            decisions=[decision],
        )
        return pb.RecordRegistrationDecisionResponse(decision=decision, family=family)

    async def ReceiveDecision(self, request: pb.ReceiveDecisionRequest, context: Ctx) -> Any:
        await self.rec.record("ReceiveDecision", request, context)
        decision = decision_pb(
            id=request.decision_id,
            state=pb.DECISION_STATE_RECEIVED,
            office_id="reg-irk-1",
            received_at=ts(NOW),
        )
        return pb.ReceiveDecisionResponse(decision=decision)

    async def EnterFamily(self, request: pb.EnterFamilyRequest, context: Ctx) -> Any:
        await self.rec.record("EnterFamily", request, context)
        return pb.EnterFamilyResponse(family=family_pb())

    async def GetFamily(self, request: pb.GetFamilyRequest, context: Ctx) -> Any:
        await self.rec.record("GetFamily", request, context)
        return pb.GetFamilyResponse(family=family_pb(id=request.family_id))

    async def RecordDeregistration(
        self, request: pb.RecordDeregistrationRequest, context: Ctx
    ) -> Any:
        await self.rec.record("RecordDeregistration", request, context)
        decision = decision_pb(
            id=str(uuid.uuid4()),
            family_id=request.family_id,
            kind=pb.DECISION_KIND_DEREGISTRATION,
            number=request.number,
        )
        return pb.RecordDeregistrationResponse(decision=decision)

    async def RemoveFamily(self, request: pb.RemoveFamilyRequest, context: Ctx) -> Any:
        await self.rec.record("RemoveFamily", request, context)
        decision = decision_pb(
            id=request.decision_id,
            kind=pb.DECISION_KIND_DEREGISTRATION,
            state=pb.DECISION_STATE_ENTERED,
            entered_at=ts(NOW),
        )
        return pb.RemoveFamilyResponse(decision=decision)

    async def SearchFamilies(self, request: pb.SearchFamiliesRequest, context: Ctx) -> Any:
        await self.rec.record("SearchFamilies", request, context)
        hit = pb.FamilySummary(
            id=FAMILY_ID,
            members=[person_pb()],
            responsible_body="Family center of Irkutsk",
            review_on="2026-07-01",
            registered_at=ts(NOW),
        )
        return pb.SearchFamiliesResponse(families=[hit], next_page_token="f2")


@pytest.fixture
async def api() -> AsyncIterator[Api]:
    def add_fake(server: grpc.aio.Server, recorder: Recorder) -> None:
        registry_pb2_grpc.add_RegistryServiceServicer_to_server(FakeRegistry(recorder), server)

    async with gateway_before("registry", add_fake, PRINCIPALS) as api:
        yield api


def person(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "full_name": "Ivanov Pyotr Sergeevich",
        "birth_date": "2016-02-11",
        "birth_place": "Irkutsk",
        "registered_address": "Irkutsk, Lenina 1-2",
        "actual_address": "Irkutsk, Lenina 1-2",
        "document": {
            "kind": "birth_certificate",
            "series": "III-ST",
            "number": "654321",
            "issued_on": "2016-02-20",
        },
        "work_or_study": "School No. 5",
    }
    body.update(kw)
    return body


HEARD = {
    "prevention_bodies_heard": True,
    "minor_opinion_heard": True,
    "parents_opinion_heard": True,
}


def registration_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "decided_on": "2026-03-02",
        "number": "KDN-41",
        "vote": {"members_present": 7, "votes_for": 5, "votes_against": 1},
        "hearing": HEARD,
        "grounds": "Neglect of the child's needs",
        "responsible_agency_id": "fc-irk-1",
        "responsible_body": "Family center of Irkutsk",
        "review_on": "2026-07-01",
        "minors": [person()],
        "relatives": [
            person(full_name="Ivanova Maria", relation="mother", document=None, disability=True)
        ],
    }
    body.update(kw)
    return body


def deregistration_body(**kw: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "family_id": FAMILY_ID,
        "decided_on": "2026-06-01",
        "number": "KDN-107",
        "vote": {"members_present": 5, "votes_for": 3, "votes_against": 0},
        "hearing": HEARD,
        "grounds": "The situation improved",
    }
    body.update(kw)
    return body


def fields(response: httpx.Response) -> list[str]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"] == TYPE + "invalid"
    return [e["field"] for e in response.json()["errors"]]


# --- happy paths: the right RPC with the right fields ----------------------------------------


async def test_record_registration_decision(api: Api) -> None:
    body = registration_body()
    response = await api.http.post(
        "/v1/registry/decisions",
        json=body,
        headers={**bearer("commission"), "Idempotency-Key": "d-1"},
    )
    assert response.status_code == 201, response.text
    assert response.headers["location"] == f"/v1/registry/families/{FAMILY_ID}"
    recorded = response.json()
    decision, family = recorded["decision"], recorded["family"]
    assert (decision["kind"], decision["state"], decision["office_id"]) == (
        "registration",
        "recorded",
        None,
    )
    assert decision["vote"] == body["vote"]
    # What the session recorded besides (REG-2): no reason the minor was not heard, no documents.
    assert decision["hearing"] == HEARD | {"minor_not_heard_reason": "", "documents_reviewed": []}
    assert decision["obligations"][0]["rule"] == "REG-4/send"
    assert (family["state"], family["registered_at"]) == ("pending", None)
    assert family["minors"][0]["document"] == body["minors"][0]["document"]
    assert family["relatives"][0]["document"] is None
    assert family["relatives"][0]["disability"] is True

    method, request, metadata = api.only_call()
    assert method == "RecordRegistrationDecision"
    assert (request.idempotency_key, request.decided_on, request.review_on) == (
        "d-1",
        "2026-03-02",
        "2026-07-01",
    )
    assert (request.vote.members_present, request.vote.votes_for, request.vote.votes_against) == (
        7,
        5,
        1,
    )
    assert request.hearing.minor_opinion_heard is True
    assert (request.responsible_agency_id, request.number) == ("fc-irk-1", "KDN-41")
    [minor], [mother] = request.minors, request.relatives
    assert minor.document.kind == pb.DOCUMENT_KIND_BIRTH_CERTIFICATE
    assert (minor.document.series, minor.document.issued_on) == ("III-ST", "2016-02-20")
    assert (mother.relation, mother.HasField("document"), mother.disability) == (
        "mother",
        False,
        True,
    )
    assert metadata["authorization"] == "Bearer commission"


async def test_record_deregistration(api: Api) -> None:
    response = await api.http.post(
        "/v1/registry/deregistrations",
        json=deregistration_body(),
        headers={**bearer("commission"), "Idempotency-Key": "dr-1"},
    )
    assert response.status_code == 201, response.text
    assert (response.json()["kind"], response.json()["family_id"]) == ("deregistration", FAMILY_ID)
    method, request, _ = api.only_call()
    assert method == "RecordDeregistration"
    assert (request.idempotency_key, request.family_id, request.decided_on) == (
        "dr-1",
        FAMILY_ID,
        "2026-06-01",
    )
    assert request.vote.votes_for == 3 and request.hearing.parents_opinion_heard


@pytest.mark.parametrize(
    ("action", "rpc"),
    [("receive", "ReceiveDecision"), ("enter", "EnterFamily"), ("remove", "RemoveFamily")],
)
async def test_office_actions_name_the_decision(api: Api, action: str, rpc: str) -> None:
    response = await api.http.post(
        f"/v1/registry/decisions/{DECISION_ID}/{action}", headers=bearer("office")
    )
    assert response.status_code == 200, response.text
    method, request, _ = api.only_call()
    assert (method, request.decision_id) == (rpc, DECISION_ID)


async def test_receive_maps_the_decision(api: Api) -> None:
    response = await api.http.post(
        f"/v1/registry/decisions/{DECISION_ID}/receive", headers=bearer("office")
    )
    decision = response.json()
    assert (decision["state"], decision["office_id"]) == ("received", "reg-irk-1")
    assert decision["received_at"] == "2026-03-02T09:30:00Z" and decision["entered_at"] is None


async def test_enter_returns_the_registered_family(api: Api) -> None:
    response = await api.http.post(
        f"/v1/registry/decisions/{DECISION_ID}/enter", headers=bearer("office")
    )
    family = response.json()
    assert (family["id"], family["state"]) == (FAMILY_ID, "registered")
    assert family["minors"][0]["document"]["kind"] == "birth_certificate"
    assert family["decisions"][0]["state"] == "entered"


async def test_get_family_forwards_the_purpose(api: Api) -> None:
    family_id = str(uuid.uuid4())
    response = await api.http.get(
        f"/v1/registry/families/{family_id}",
        params={"purpose": "check before a home visit"},
        headers=bearer("caseworker"),
    )
    assert (response.status_code, response.json()["id"]) == (200, family_id)
    method, request, _ = api.only_call()
    assert (method, request.family_id, request.purpose) == (
        "GetFamily",
        family_id,
        "check before a home visit",
    )


async def test_search_families(api: Api) -> None:
    response = await api.http.post(
        "/v1/registry/families:search",
        json={
            "name": "иванов",
            "birth_date": "2016-02-11",
            "purpose": "home visit",
            "page_size": 20,
            "page_token": page_token_out("f1"),
        },
        headers=bearer("caseworker"),
    )
    assert response.status_code == 200, response.text
    page = response.json()
    assert page["next_page_token"] == page_token_out("f2")
    assert [f["id"] for f in page["items"]] == [FAMILY_ID]
    assert page["items"][0]["members"][0]["document"] is None
    method, request, _ = api.only_call()
    assert method == "SearchFamilies"
    assert (request.name, request.birth_date, request.purpose) == (
        "иванов",
        "2016-02-11",
        "home visit",
    )
    assert (request.page_size, request.page_token) == (20, "f1")


async def test_search_by_birth_date_only(api: Api) -> None:
    response = await api.http.post(
        "/v1/registry/families:search",
        json={"birth_date": "2016-02-11", "purpose": "visit"},
        headers=bearer("commission"),
    )
    assert response.status_code == 200, response.text
    _, request, _ = api.only_call()
    assert (request.name, request.page_size, request.page_token) == ("", 0, "")


async def test_the_search_takes_no_personal_data_in_the_url(api: Api) -> None:
    """Names and birth dates stay out of URLs (access logs, proxies): no `GET` form is left."""
    response = await api.http.get(
        "/v1/registry/families?name=ivanov&purpose=visit", headers=bearer("caseworker")
    )
    assert response.status_code in (404, 405)
    assert api.recorder.calls == []


# --- roles -----------------------------------------------------------------------------------

ROUTES: list[tuple[str, str, dict[str, Any] | None]] = [
    ("POST", "/v1/registry/decisions", registration_body()),
    ("POST", "/v1/registry/deregistrations", deregistration_body()),
    ("POST", f"/v1/registry/decisions/{DECISION_ID}/receive", None),
    ("POST", f"/v1/registry/decisions/{DECISION_ID}/enter", None),
    ("POST", f"/v1/registry/decisions/{DECISION_ID}/remove", None),
    ("GET", f"/v1/registry/families/{FAMILY_ID}?purpose=audit", None),
    ("POST", "/v1/registry/families:search", {"name": "ivanov", "purpose": "visit"}),
]
ALLOWED = {
    "/v1/registry/decisions": {"commission"},
    "/v1/registry/deregistrations": {"commission"},
    f"/v1/registry/decisions/{DECISION_ID}/receive": {"office"},
    f"/v1/registry/decisions/{DECISION_ID}/enter": {"office"},
    f"/v1/registry/decisions/{DECISION_ID}/remove": {"office"},
    f"/v1/registry/families/{FAMILY_ID}?purpose=audit": {
        "commission",
        "office",
        "caseworker",
        "auditor",
    },
    "/v1/registry/families:search": {"commission", "office", "caseworker"},
}


@pytest.mark.parametrize(("method", "path", "body"), ROUTES, ids=[r[1] for r in ROUTES])
@pytest.mark.parametrize("token", sorted(PRINCIPALS))
async def test_route_roles(
    api: Api, token: str, method: str, path: str, body: dict[str, Any] | None
) -> None:
    response = await api.http.request(method, path, json=body, headers=bearer(token))
    if token in ALLOWED[path]:
        assert response.status_code in (200, 201), response.text
        assert len(api.recorder.calls) == 1
    else:
        assert response.status_code == 403, response.text
        assert response.json()["type"] == TYPE + "forbidden"
        assert api.recorder.calls == []


# --- validation at the edge ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (registration_body(decided_on="02.03.2026"), ["decided_on"]),
        (registration_body(minors=[]), ["minors"]),
        (
            registration_body(vote={"members_present": 0, "votes_for": 5, "votes_against": -1}),
            ["vote.members_present", "vote.votes_against"],
        ),
        (
            registration_body(vote={"members_present": "7", "votes_for": 5, "votes_against": 1}),
            ["vote.members_present"],
        ),
        (
            registration_body(hearing={**HEARD, "minor_opinion_heard": "yes"}),
            ["hearing.minor_opinion_heard"],
        ),
        (
            registration_body(
                hearing={"prevention_bodies_heard": True, "minor_opinion_heard": True}
            ),
            ["hearing.parents_opinion_heard"],
        ),
        (registration_body(minors=[person(birth_date=None)]), ["minors[0].birth_date"]),
        (
            registration_body(minors=[person(document={"kind": "visa", "number": "1"})]),
            ["minors[0].document.kind"],
        ),
        (
            registration_body(relatives=[person(), person(full_name="")]),
            ["relatives[1].full_name"],
        ),
        (registration_body(responsible_agency_id=""), ["responsible_agency_id"]),
        (registration_body(reviewed_on="2026-07-01"), ["reviewed_on"]),
    ],
)
async def test_registration_fields_are_named(
    api: Api, body: dict[str, Any], expected: list[str]
) -> None:
    response = await api.http.post(
        "/v1/registry/decisions", json=body, headers=bearer("commission")
    )
    assert fields(response) == expected
    assert api.recorder.calls == []


@pytest.mark.parametrize(
    ("token", "method", "path", "body", "expected"),
    [
        (
            "commission",
            "POST",
            "/v1/registry/deregistrations",
            deregistration_body(family_id="f-1"),
            ["family_id"],
        ),
        ("office", "POST", "/v1/registry/decisions/abc/receive", None, ["decision_id"]),
        ("caseworker", "GET", f"/v1/registry/families/{FAMILY_ID}", None, ["purpose"]),
        ("caseworker", "GET", f"/v1/registry/families/{FAMILY_ID}?purpose=", None, ["purpose"]),
        ("caseworker", "POST", SEARCH, {"name": "ivanov"}, ["purpose"]),
        ("caseworker", "POST", SEARCH, {"name": "iv", "purpose": "visit"}, ["name"]),
        ("caseworker", "POST", SEARCH, {"birth_date": "2016", "purpose": "v"}, ["birth_date"]),
        ("caseworker", "POST", SEARCH, {"name": "ivanov", "purpose": "v", "x": 1}, ["x"]),
    ],
)
async def test_other_fields_are_named(
    api: Api,
    token: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
    expected: list[str],
) -> None:
    response = await api.http.request(method, path, json=body, headers=bearer(token))
    assert fields(response) == expected
    assert api.recorder.calls == []


async def test_validation_problem_does_not_echo_personal_data(api: Api) -> None:
    secret = "Ivanov Secret-Surname"
    body = registration_body(minors=[person(full_name=secret, birth_date="not a date")])
    response = await api.http.post(
        "/v1/registry/decisions", json=body, headers=bearer("commission")
    )
    assert fields(response) == ["minors[0].birth_date"]
    assert secret not in response.text


# --- the service's errors as problems --------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "reason"),
    [
        (
            Conflict("not decided: 3 of 7 members present voted for (REG-2)", code="no-majority"),
            409,
            "no-majority",
        ),
        (
            Conflict("profile 'kz' has no SDP data bank", code="no-registry-rule"),
            409,
            "no-registry-rule",
        ),
        (Forbidden("no need to know the data bank (REG-9)"), 403, "forbidden"),
        (NotFound("family not found"), 404, "not-found"),
    ],
)
async def test_service_errors_become_problems(
    api: Api, error: Exception, status: int, reason: str
) -> None:
    api.recorder.fail_with = error
    response = await api.http.post(
        "/v1/registry/decisions", json=registration_body(), headers=bearer("commission")
    )
    assert response.status_code == status
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert (problem["type"], problem["detail"]) == (TYPE + reason, str(error))
    assert problem["instance"] == "/v1/registry/decisions"


async def test_service_validation_names_the_field(api: Api) -> None:
    api.recorder.fail_with = Invalid(
        "minors[0].birth_date", "a minor must be under 18 on the decision date"
    )
    response = await api.http.post(
        "/v1/registry/decisions", json=registration_body(), headers=bearer("commission")
    )
    assert response.status_code == 422
    assert response.json()["errors"] == [
        {
            "field": "minors[0].birth_date",
            "message": "a minor must be under 18 on the decision date",
        }
    ]


async def test_registry_service_down_is_503(api: Api) -> None:
    clients = api.app.state.clients
    clients._channels["registry"] = clients.channel("intake")  # the closed port
    response = await api.http.post(
        SEARCH, json={"name": "ivanov", "purpose": "visit"}, headers=bearer("caseworker")
    )
    assert response.status_code == 503
    assert response.json()["type"] == TYPE + "service-unavailable"
