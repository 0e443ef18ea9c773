"""The OpenAPI document as a contract partners generate clients from (issue 10): unique schema
names, explicit stable operation ids, named enums, a `servers` entry, every status a route can
answer documented; what the schema allows the API accepts and the reverse (strict dates, opaque
page tokens); 405 with the right `Allow`."""

from __future__ import annotations

import types
import typing
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest
from pydantic import BaseModel

from gateway.app import create_app
from gateway.openapi import check_operation_ids, check_schema_names
from gateway.schemas import intake, plan_lifecycle, plans, registry, shelter
from gateway.schemas.common import (
    ISO_DATE_ONLY,
    PAGE_TOKEN_PATTERN,
    page_cursor,
    page_token_out,
)
from gateway.settings import GatewaySettings
from tests.gateway.conftest import Gateway, bearer
from tests.gateway.doubles import stay_body

PROBLEMS = "https://kamqor.dev/problems/"

# Stable: a client's function names follow these (`list_appeals`, `admit_to_shelter`); a rename
# breaks every partner's code, so it is a decision, made here.
OPERATIONS = {
    ("get", "/healthz"): "getLiveness",
    ("get", "/readyz"): "getReadiness",
    ("post", "/v1/appeals"): "registerAppeal",
    ("get", "/v1/appeals"): "listAppeals",
    ("get", "/v1/appeals/{appeal_id}"): "getAppeal",
    ("get", "/v1/families/{family_id}"): "getFamilyRecord",
    ("post", "/v1/families/{family_id}/merges"): "mergeFamilies",
    ("post", "/v1/family-merges/{merge_id}/undo"): "undoFamilyMerge",
    ("get", "/v1/cases/{case_id}"): "getCase",
    ("post", "/v1/cases/{case_id}/close"): "closeCase",
    ("post", "/v1/appeals/{appeal_id}/triage"): "recordTriage",
    ("post", "/v1/mobile-groups"): "approveMobileGroup",
    ("get", "/v1/mobile-groups/{year}"): "getMobileGroup",
    ("post", "/v1/cases/{case_id}/assessments"): "assessCase",
    ("post", "/v1/cases/{case_id}/worker"): "assignCaseWorker",
    ("get", "/v1/caseload"): "getCaseloadReport",
    ("post", "/v1/cases/{case_id}/home-visits"): "recordHomeVisit",
    ("post", "/v1/appeals/{appeal_id}/follow-ups"): "followUpAppeal",
    ("get", "/v1/reports/intake"): "getIntakeIndicators",
    ("get", "/v1/shelters"): "listShelters",
    ("post", "/v1/shelters"): "registerShelter",
    ("post", "/v1/stays"): "admitToShelter",
    ("get", "/v1/stays"): "listStays",
    ("get", "/v1/stays/{stay_id}"): "getStay",
    ("post", "/v1/stays/{stay_id}/discharge"): "dischargeStay",
    ("post", "/v1/stays/{stay_id}/extend"): "extendStay",
    ("post", "/v1/stays/{stay_id}/support"): "recordStaySupport",
    ("get", "/v1/shelters/{shelter_id}/beds"): "getBedBoard",
    ("post", "/v1/shelters/{shelter_id}/beds/{number}/service"): "setBedService",
    ("post", "/v1/holds"): "holdBeds",
    ("post", "/v1/refusals"): "recordRefusal",
    ("get", "/v1/refusals"): "listRefusals",
    ("get", "/v1/waitlist"): "listWaitlist",
    ("get", "/v1/reports/shelter"): "getShelterIndicators",
    ("get", "/v1/notices"): "listNotices",
    ("get", "/v1/notices/{notice_id}"): "getNotice",
    ("post", "/v1/notices/{notice_id}/ack"): "acknowledgeNotice",
    ("post", "/v1/notices/receipts"): "recordNoticeReceipt",
    ("get", "/v1/notices/{notice_id}/deliveries"): "listNoticeDeliveries",
    ("get", "/v1/notices/{notice_id}/letter"): "getNoticeLetter",
    ("post", "/v1/plans"): "createPlan",
    ("get", "/v1/plans/{plan_id}"): "getPlan",
    ("post", "/v1/plans/{plan_id}/approve"): "approvePlan",
    ("get", "/v1/plans"): "listPlans",
    ("post", "/v1/plans/{plan_id}/submit"): "submitPlan",
    ("post", "/v1/plans/{plan_id}/reviews"): "openReview",
    ("post", "/v1/plans/{plan_id}/reviews/conclude"): "concludeReview",
    ("post", "/v1/plans/{plan_id}/level-changes"): "changeSupportLevel",
    ("post", "/v1/plans/{plan_id}/extend"): "extendPlan",
    ("post", "/v1/plans/{plan_id}/close"): "closePlan",
    ("post", "/v1/plans/{plan_id}/monitoring/end"): "endMonitoring",
    ("post", "/v1/plans/{plan_id}/reopen"): "reopenPlan",
    ("get", "/v1/reports/plans"): "getPlanIndicators",
    ("get", "/v1/measures"): "listMyMeasures",
    ("post", "/v1/measures/{measure_id}/assignee"): "designateAssignee",
    ("post", "/v1/measures/{measure_id}/report"): "reportMeasure",
    ("post", "/v1/measures/{measure_id}/complete"): "completeMeasure",
    ("post", "/v1/measures/{measure_id}/return"): "returnMeasure",
    ("get", "/v1/agencies"): "listAgencies",
    ("get", "/v1/agencies/{agency_id}"): "getAgency",
    ("post", "/v1/measures/{measure_id}/decline"): "declineMeasure",
    ("post", "/v1/measures/{measure_id}/reroute"): "rerouteMeasure",
    ("post", "/v1/plans/{plan_id}/measures"): "addMeasure",
    ("patch", "/v1/measures/{measure_id}"): "amendMeasure",
    ("post", "/v1/measures/{measure_id}/cancel"): "cancelMeasure",
    ("get", "/v1/reports/measures"): "getMeasureIndicators",
    ("post", "/v1/registry/decisions"): "recordRegistrationDecision",
    ("post", "/v1/registry/deregistrations"): "recordDeregistration",
    ("post", "/v1/registry/reviews"): "recordReview",
    ("post", "/v1/registry/sessions"): "openSession",
    ("post", "/v1/registry/decisions/{decision_id}/send"): "sendDecision",
    ("get", "/v1/registry/inbox"): "listOfficeInbox",
    ("post", "/v1/registry/changes"): "reportChange",
    ("post", "/v1/registry/changes/{change_id}/enter"): "enterChange",
    ("get", "/v1/registry/sessions/{session_id}"): "getSession",
    ("post", "/v1/registry/decisions/{decision_id}/receive"): "receiveDecision",
    ("post", "/v1/registry/decisions/{decision_id}/enter"): "enterFamily",
    ("post", "/v1/registry/decisions/{decision_id}/remove"): "removeFamily",
    ("get", "/v1/registry/families/{family_id}"): "getFamily",
    ("post", "/v1/registry/families:search"): "searchFamilies",
    ("post", "/v1/registry/inquiries"): "createInquiry",
    ("get", "/v1/registry/inquiries"): "listOwnInquiries",
    ("get", "/v1/registry/inquiries-to-answer"): "listInquiriesToAnswer",
    ("get", "/v1/registry/inquiries/{inquiry_id}"): "getInquiry",
    ("post", "/v1/registry/inquiries/{inquiry_id}/answer"): "answerInquiry",
    ("post", "/v1/registry/quarterly-reports"): "submitOfficeReport",
    ("post", "/v1/registry/quarterly-summaries"): "submitMinistrySummary",
    ("get", "/v1/registry/quarterly-reports"): "listQuarterReports",
    ("get", "/v1/registry/quarterly-reports/export"): "exportQuarterReports",
    ("get", "/v1/reports/registry"): "getRegistryIndicators",
    ("get", "/v1/reminders"): "listReminders",
    ("get", "/v1/reports/deadlines"): "getDeadlineReport",
    ("post", "/v1/monitoring-reports"): "createMonitoringReport",
    ("get", "/v1/monitoring-reports"): "listMonitoringReports",
    ("get", "/v1/monitoring-reports/{report_id}"): "getMonitoringReport",
    ("post", "/v1/monitoring-reports/{report_id}/revisions"): "reviseMonitoringReport",
    ("post", "/v1/monitoring-reports/{report_id}/sign"): "signMonitoringReport",
    ("get", "/v1/monitoring-reports/{report_id}/export.pdf"): "exportMonitoringReportPdf",
    ("get", "/v1/monitoring-reports/{report_id}/export.csv"): "exportMonitoringReportCsv",
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(GatewaySettings()).openapi()


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in document["paths"].items():
        for method, operation in ops.items():
            yield method, path, operation


def walk(node: Any, where: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object under `node`, with where it is."""
    if isinstance(node, dict):
        yield where, node
        for key, value in node.items():
            yield from walk(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from walk(value, f"{where}/{i}")


# --- names ----------------------------------------------------------------------------------


def test_component_schemas_have_unique_names_and_titles(document: dict[str, Any]) -> None:
    check_schema_names(document)
    schemas = document["components"]["schemas"]
    titles = Counter(s.get("title", name) for name, s in schemas.items())
    assert [t for t, n in titles.items() if n > 1] == []
    # The two people of the API are two schemas with names of their own.
    assert {"AppealPerson", "AppealPersonIn", "Person", "PersonIn"} <= set(schemas)


def test_every_route_has_an_explicit_unique_operation_id(document: dict[str, Any]) -> None:
    check_operation_ids(create_app(GatewaySettings()))
    listed = {(m, p): op.get("operationId") for m, p, op in operations(document)}
    assert listed == OPERATIONS
    assert len(set(listed.values())) == len(listed)


def test_a_route_without_an_operation_id_is_caught() -> None:
    app = create_app(GatewaySettings())

    @app.get("/v1/unnamed")
    async def unnamed() -> None: ...

    with pytest.raises(ValueError, match="unnamed"):
        check_operation_ids(app)


def test_enums_are_named_components_one_per_concept(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    inline = [
        where
        for where, node in walk(document)
        if "enum" in node
        and not (where.startswith("/components/schemas/") and where.count("/") == 3)
    ]
    assert inline == [], "an enum outside components gets a generated name per use"
    named = {name: tuple(s["enum"]) for name, s in schemas.items() if "enum" in s}
    values = Counter(named.values())
    assert [v for v, n in values.items() if n > 1] == [], "one enum per concept"
    assert {"Channel", "Relation", "StayState", "NoticeState", "MeasureState"} <= set(named)
    assert {"DecisionKind", "DecisionState", "FamilyState", "DocumentKind"} <= set(named)


def test_servers_default_to_the_gateway_and_follow_settings() -> None:
    own = create_app(GatewaySettings(listen_host="127.0.0.1", listen_port=8123)).openapi()
    assert own["servers"][0]["url"] == "http://127.0.0.1:8123"
    public = GatewaySettings(public_url="https://api.kamqor.example/")
    assert create_app(public).openapi()["servers"][0]["url"] == "https://api.kamqor.example"
    assert GatewaySettings(listen_host="0.0.0.0").base_url() == "/"


# --- statuses -------------------------------------------------------------------------------


def test_every_status_a_route_can_answer_is_documented(document: dict[str, Any]) -> None:
    for method, path, op in operations(document):
        codes = set(op["responses"])
        where = f"{method.upper()} {path}"
        if path.startswith("/v1/"):
            assert {"401", "403", "503"} <= codes, where
        if method == "post":
            assert "413" in codes, f"{where}: a body over the limit"
        if "requestBody" in op:
            assert {"415", "422"} <= codes, f"{where}: media type, bad JSON, non-UTF-8"
        if op.get("parameters"):
            assert "422" in codes, f"{where}: a parameter out of its schema"
        if "{" in path and path.startswith("/v1/"):
            assert "404" in codes, where
        if any(p["name"] == "Idempotency-Key" for p in op.get("parameters", [])):
            assert {"409", "422"} <= codes, where
        for code, response in op["responses"].items():
            if code[0] in "45" and "content" in response:
                assert list(response["content"]) == ["application/problem+json"], (where, code)


@pytest.mark.parametrize(
    ("headers", "content", "status"),
    [
        ({"Content-Type": "application/json"}, b'{"adult": "\xff"}', 422),  # not UTF-8
        ({"Content-Type": "text/plain"}, b"{}", 415),
        ({"Content-Type": "application/json"}, b'{"a": 1, "a": 2}', 422),
        ({"Content-Type": "application/json"}, b"{" * 2, 422),
        ({"Content-Type": "application/json"}, b" " * (1024 * 1024 + 1), 413),
    ],
)
async def test_what_a_bad_body_gets_is_documented(
    gateway: Gateway, document: dict[str, Any], headers: dict[str, str], content: bytes, status: int
) -> None:
    response = await gateway.http.post(
        "/v1/stays", content=content, headers={**headers, **bearer("shelter-op")}
    )
    assert response.status_code == status, response.text
    assert str(status) in document["paths"]["/v1/stays"]["post"]["responses"]


# --- what the schema allows, the API accepts, and the reverse -------------------------------


@pytest.mark.parametrize(
    "value", [0, 1700000000, "0", "1700000000", "2016-02-11T00:00:00", "20160211", True, None]
)
async def test_a_birth_date_is_an_iso_date_string_only(gateway: Gateway, value: Any) -> None:
    body = stay_body()
    body["adult"]["birth_date"] = value
    response = await gateway.http.post("/v1/stays", json=body, headers=bearer("shelter-op"))
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["adult.birth_date"]
    assert gateway.services.recorder.calls == []


async def test_report_dates_are_iso_dates_and_to_comes_after_from(gateway: Gateway) -> None:
    async def errors(query: str) -> list[str]:
        response = await gateway.http.get(f"/v1/reports/deadlines?{query}", headers=bearer("head"))
        assert response.status_code == 422, response.text
        return [e["field"] for e in response.json()["errors"]]

    assert await errors("from=0&to=2026-02-01") == ["from"]
    assert await errors("from=2026-01-01&to=1769904000") == ["to"]
    assert await errors("from=2026-02-01&to=2026-01-01") == ["to"]
    doc = create_app(GatewaySettings()).openapi()["paths"]["/v1/reports/deadlines"]["get"]
    (to,) = [p for p in doc["parameters"] if p["name"] == "to"]
    assert to["schema"]["format"] == "date" and "after `from`" in to["description"]


def test_birth_dates_say_their_bounds_in_the_schema(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    for model in ("ResidentIn", "AppealPersonIn", "PersonIn"):
        prop = schemas[model]["properties"]["birth_date"]
        node = next(n for _, n in walk(prop) if n.get("format") == "date")
        assert (node["x-not-after"], node["x-not-before"]) == ("today", "120 years ago"), model
        assert "future" in prop["description"], model


def _request_models() -> list[type[BaseModel]]:
    return [
        value
        for module in (intake, plan_lifecycle, plans, registry, shelter)
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, BaseModel)
        and value.model_config.get("extra") == "forbid"
    ]


def _parts(hint: Any) -> list[tuple[Any, tuple[Any, ...]]]:
    """(type, its Annotated metadata) for each member of `X | Y | None`."""
    if isinstance(hint, types.UnionType) or typing.get_origin(hint) is typing.Union:
        return [part for arg in typing.get_args(hint) for part in _parts(arg)]
    if typing.get_origin(hint) is typing.Annotated:
        base, *meta = typing.get_args(hint)
        return [(base, tuple(meta))]
    return [(hint, ())]


def test_every_date_a_client_sends_is_strict() -> None:
    checked = 0
    for model in _request_models():
        for name, hint in typing.get_type_hints(model, include_extras=True).items():
            for base, meta in _parts(hint):
                if base is date:
                    assert ISO_DATE_ONLY in meta, f"{model.__name__}.{name} takes 0 as a date"
                    checked += 1
    assert checked >= 10


def test_page_tokens_are_opaque_and_round_trip() -> None:
    token = page_token_out("0196a3b4-1111-7222-8333-444455556666")
    assert token is not None and "0196" not in token
    assert page_cursor(token) == "0196a3b4-1111-7222-8333-444455556666"
    assert page_token_out("") is None


@pytest.mark.parametrize(
    "token",
    [
        "0196a3b4-1111-7222-8333-444455556666",  # a bare id: what the services use inside
        "abc",
        "a",
        "=",
        "a b",
        "é",
        "x" * 501,
        page_token_out("\x01bad"),
    ],
)
async def test_a_page_token_the_api_did_not_issue_is_a_422_naming_it(
    gateway: Gateway, token: str
) -> None:
    response = await gateway.http.get(
        "/v1/notices", params={"page_token": token}, headers=bearer("police")
    )
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["page_token"]
    assert gateway.services.recorder.calls == []


def test_page_tokens_are_documented_as_opaque(document: dict[str, Any]) -> None:
    listed = 0
    for _, _, op in operations(document):
        for param in op.get("parameters", []):
            if param["name"] == "page_token":
                (schema,) = [s for s in param["schema"]["anyOf"] if s.get("type") == "string"]
                assert schema["pattern"] == PAGE_TOKEN_PATTERN
                assert "Opaque" in param["description"]
                listed += 1
    # With the shelter's refusals and waiting list (issue 12), the plans and the agency directory
    # (issue 14), and the data bank's requests, the requester's and the office's (issue 15).
    assert listed == 12
    pages = [s for name, s in document["components"]["schemas"].items() if name.endswith("Page")]
    for page in pages:
        assert "Opaque" in page["properties"]["next_page_token"]["description"]


# --- 405 ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/appeals", "GET, POST"),
        ("PUT", "/v1/appeals", "GET, POST"),
        ("HEAD", "/v1/stays", "GET, POST"),
        ("PATCH", "/v1/stays/0196a3b4-1111-7222-8333-444455556666", "GET"),
        ("GET", "/v1/notices/0196a3b4-1111-7222-8333-444455556666/ack", "POST"),
        ("POST", "/healthz", "GET"),
    ],
)
async def test_405_names_every_allowed_method(
    gateway: Gateway, method: str, path: str, allow: str
) -> None:
    response = await gateway.http.request(method, path, headers=bearer("shelter-op"))
    assert response.status_code == 405
    assert response.headers["allow"] == allow
    assert response.headers["content-type"] == "application/problem+json"
    if method != "HEAD":
        assert response.json()["type"] == PROBLEMS + "method-not-allowed"
