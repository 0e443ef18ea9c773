"""The OpenAPI document is 3.1, lists every route with its roles, and problems as such."""

from __future__ import annotations

from typing import Any, get_args

import pytest

from gateway.app import create_app
from gateway.schemas import agencies, intake, notify, plan_lifecycle, plans, registry, shelter
from gateway.schemas.common import EnumMap
from gateway.settings import GatewaySettings

# The agency directory: the center drafting and routing measures, and the agencies (PLN-2).
DIRECTORY_READERS = {
    "case-worker",
    "center-head",
    "commission-member",
    "agency-coordinator",
    "agency-assignee",
}
ROUTES = {
    ("post", "/v1/appeals"): {"hotline-operator", "intake-operator", "case-worker"},
    ("post", "/v1/appeals/{appeal_id}/follow-ups"): {
        "hotline-operator",
        "intake-operator",
        "case-worker",
        "center-head",
    },
    ("get", "/v1/reports/intake"): {"analyst", "center-head"},
    ("get", "/v1/appeals"): {"hotline-operator", "intake-operator", "case-worker", "center-head"},
    ("get", "/v1/appeals/{appeal_id}"): {
        "hotline-operator",
        "intake-operator",
        "case-worker",
        "center-head",
    },
    ("get", "/v1/families/{family_id}"): {
        "hotline-operator",
        "intake-operator",
        "case-worker",
        "center-head",
    },
    ("post", "/v1/families/{family_id}/merges"): {"intake-operator", "center-head"},
    ("post", "/v1/family-merges/{merge_id}/undo"): {"intake-operator", "center-head"},
    ("get", "/v1/cases/{case_id}"): {
        "hotline-operator",
        "intake-operator",
        "case-worker",
        "center-head",
    },
    ("post", "/v1/cases/{case_id}/close"): {"case-worker", "center-head"},
    ("post", "/v1/appeals/{appeal_id}/triage"): {"intake-operator", "case-worker", "center-head"},
    ("post", "/v1/mobile-groups"): {"center-head"},
    ("post", "/v1/cases/{case_id}/assessments"): {"case-worker", "center-head"},
    ("post", "/v1/cases/{case_id}/worker"): {"center-head"},
    ("get", "/v1/caseload"): {"center-head", "analyst"},
    ("post", "/v1/cases/{case_id}/home-visits"): {"case-worker", "center-head"},
    ("get", "/v1/mobile-groups/{year}"): {
        "hotline-operator",
        "intake-operator",
        "case-worker",
        "center-head",
    },
    ("get", "/v1/shelters"): {"shelter-operator", "center-head", "case-worker"},
    ("post", "/v1/shelters"): {"center-head"},
    ("post", "/v1/stays"): {"shelter-operator"},
    ("get", "/v1/stays"): {"shelter-operator", "center-head", "case-worker"},
    ("get", "/v1/stays/{stay_id}"): {"shelter-operator", "center-head", "case-worker"},
    ("get", "/v1/reminders"): {
        "agency-coordinator",
        "agency-assignee",
        "case-worker",
        "center-head",
        "commission-member",
        "partner-system",
        "shelter-operator",
    },
    ("get", "/v1/reports/deadlines"): {"analyst", "center-head", "auditor"},
    ("post", "/v1/stays/{stay_id}/discharge"): {"shelter-operator"},
    ("post", "/v1/stays/{stay_id}/extend"): {"shelter-operator", "center-head"},
    ("post", "/v1/stays/{stay_id}/support"): {"shelter-operator"},
    ("get", "/v1/shelters/{shelter_id}/beds"): {"shelter-operator", "center-head", "case-worker"},
    ("post", "/v1/shelters/{shelter_id}/beds/{number}/service"): {"shelter-operator"},
    ("post", "/v1/holds"): {"shelter-operator"},
    ("post", "/v1/refusals"): {"shelter-operator"},
    ("get", "/v1/refusals"): {"shelter-operator", "center-head", "case-worker"},
    ("get", "/v1/waitlist"): {"shelter-operator", "center-head", "case-worker"},
    ("get", "/v1/reports/shelter"): {"analyst", "center-head", "auditor"},
    ("get", "/v1/notices"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
        "shelter-operator",
    },
    ("get", "/v1/notices/{notice_id}"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
        "shelter-operator",
    },
    # The receiving agency acknowledges; the sending center's head only reads.
    # Signed by the agency's system, no bearer token and no role (NTF-7, `notify.receipts`).
    ("post", "/v1/notices/receipts"): set(),
    ("post", "/v1/notices/{notice_id}/ack"): {
        "agency-coordinator",
        "agency-assignee",
        "partner-system",
    },
    ("get", "/v1/notices/{notice_id}/deliveries"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
        "shelter-operator",
    },
    ("get", "/v1/notices/{notice_id}/letter"): {
        "agency-coordinator",
        "agency-assignee",
        "center-head",
        "partner-system",
        "shelter-operator",
    },
    ("post", "/v1/plans"): {"case-worker"},
    ("get", "/v1/plans/{plan_id}"): {"case-worker", "center-head", "commission-member"},
    ("post", "/v1/plans/{plan_id}/approve"): {"center-head", "commission-member"},
    ("get", "/v1/plans"): {"case-worker", "center-head", "commission-member"},
    ("post", "/v1/plans/{plan_id}/submit"): {"case-worker"},
    ("post", "/v1/plans/{plan_id}/reviews"): {"case-worker", "center-head"},
    ("post", "/v1/plans/{plan_id}/reviews/conclude"): {"case-worker", "center-head"},
    ("post", "/v1/plans/{plan_id}/level-changes"): {"case-worker", "center-head"},
    ("post", "/v1/plans/{plan_id}/extend"): {"center-head"},
    ("post", "/v1/plans/{plan_id}/close"): {"center-head", "commission-member"},
    ("post", "/v1/plans/{plan_id}/monitoring/end"): {"case-worker", "center-head"},
    ("post", "/v1/plans/{plan_id}/reopen"): {"case-worker"},
    ("get", "/v1/reports/plans"): {"analyst", "center-head", "auditor"},
    ("get", "/v1/measures"): {"agency-coordinator", "agency-assignee"},
    ("post", "/v1/measures/{measure_id}/assignee"): {"agency-coordinator"},
    ("post", "/v1/measures/{measure_id}/report"): {"agency-assignee"},
    ("post", "/v1/measures/{measure_id}/complete"): {"case-worker"},
    ("post", "/v1/measures/{measure_id}/return"): {"case-worker"},
    ("get", "/v1/agencies"): DIRECTORY_READERS,
    ("get", "/v1/agencies/{agency_id}"): DIRECTORY_READERS,
    ("post", "/v1/measures/{measure_id}/decline"): {"agency-coordinator"},
    ("post", "/v1/measures/{measure_id}/reroute"): {"case-worker"},
    ("post", "/v1/plans/{plan_id}/measures"): {"case-worker"},
    ("patch", "/v1/measures/{measure_id}"): {"case-worker"},
    ("post", "/v1/measures/{measure_id}/cancel"): {"case-worker"},
    ("get", "/v1/reports/measures"): {"analyst", "center-head", "auditor"},
    ("post", "/v1/registry/decisions"): {"commission-member"},
    ("post", "/v1/registry/deregistrations"): {"commission-member"},
    ("post", "/v1/registry/reviews"): {"commission-member"},
    ("post", "/v1/registry/sessions"): {"commission-member"},
    ("post", "/v1/registry/decisions/{decision_id}/send"): {"commission-member"},
    ("get", "/v1/registry/inbox"): {"agency-coordinator", "agency-assignee"},
    ("post", "/v1/registry/changes"): {"case-worker", "center-head"},
    ("post", "/v1/registry/changes/{change_id}/enter"): {"agency-coordinator", "agency-assignee"},
    ("get", "/v1/registry/sessions/{session_id}"): {"commission-member"},
    ("post", "/v1/registry/decisions/{decision_id}/receive"): {
        "agency-coordinator",
        "agency-assignee",
    },
    ("post", "/v1/registry/decisions/{decision_id}/enter"): {
        "agency-coordinator",
        "agency-assignee",
    },
    ("post", "/v1/registry/decisions/{decision_id}/remove"): {
        "agency-coordinator",
        "agency-assignee",
    },
    ("post", "/v1/registry/families:search"): {
        "commission-member",
        "case-worker",
        "agency-coordinator",
        "agency-assignee",
    },
    ("get", "/v1/registry/families/{family_id}"): {
        "commission-member",
        "case-worker",
        "agency-coordinator",
        "agency-assignee",
        "auditor",
    },
    ("post", "/v1/registry/inquiries"): {"agency-coordinator", "agency-assignee"},
    ("get", "/v1/registry/inquiries"): {"agency-coordinator", "agency-assignee"},
    ("get", "/v1/registry/inquiries-to-answer"): {"agency-coordinator", "agency-assignee"},
    ("get", "/v1/registry/inquiries/{inquiry_id}"): {"agency-coordinator", "agency-assignee"},
    ("post", "/v1/registry/inquiries/{inquiry_id}/answer"): {
        "agency-coordinator",
        "agency-assignee",
    },
    ("post", "/v1/registry/quarterly-reports"): {"agency-coordinator", "agency-assignee"},
    ("post", "/v1/registry/quarterly-summaries"): {"analyst"},
    **{
        ("get", path): {
            "analyst",
            "auditor",
            "commission-member",
            "center-head",
            "agency-coordinator",
            "agency-assignee",
        }
        for path in (
            "/v1/registry/quarterly-reports",
            "/v1/registry/quarterly-reports/export",
            "/v1/reports/registry",
        )
    },
    ("post", "/v1/monitoring-reports"): {"analyst", "center-head"},
    ("get", "/v1/monitoring-reports"): {"analyst", "center-head", "auditor"},
    ("get", "/v1/monitoring-reports/{report_id}"): {"analyst", "center-head", "auditor"},
    ("post", "/v1/monitoring-reports/{report_id}/revisions"): {"analyst", "center-head"},
    ("post", "/v1/monitoring-reports/{report_id}/sign"): {"center-head"},
    ("get", "/v1/monitoring-reports/{report_id}/export.pdf"): {"analyst", "center-head", "auditor"},
    ("get", "/v1/monitoring-reports/{report_id}/export.csv"): {"analyst", "center-head", "auditor"},
}


@pytest.fixture(scope="module")
def document() -> dict[str, Any]:
    return create_app(GatewaySettings()).openapi()


def test_version_is_3_1(document: dict[str, Any]) -> None:
    assert document["openapi"].startswith("3.1")


def test_routes_and_roles(document: dict[str, Any]) -> None:
    listed = {
        (method, path): set(op.get("x-required-roles", []))
        for path, ops in document["paths"].items()
        if path.startswith("/v1/")
        for method, op in ops.items()
    }
    assert listed == ROUTES
    assert {"/healthz", "/readyz"} <= set(document["paths"])


def test_errors_are_documented_as_problems(document: dict[str, Any]) -> None:
    responses = document["paths"]["/v1/stays"]["post"]["responses"]
    assert set(responses) >= {"201", "401", "403", "409", "422"}
    assert list(responses["409"]["content"]) == ["application/problem+json"]
    assert "Location" in responses["201"]["headers"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


def test_bearer_scheme(document: dict[str, Any]) -> None:
    schemes = document["components"]["securitySchemes"]
    assert schemes == {
        "keycloak": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A Keycloak access token of the `kamqor` realm.",
        }
    }


@pytest.mark.parametrize(
    ("literal", "mapping"),
    [
        (intake.Channel, intake.CHANNELS),
        (intake.Relation, intake.RELATIONS),
        (intake.AppealOrder, intake.APPEAL_ORDERS),
        (intake.IdentityDocumentKind, intake.IDENTITY_DOCUMENT_KINDS),
        (intake.MatchedBy, intake.MATCHED_BY),
        (intake.CaseState, intake.CASE_STATES),
        (intake.TriageKind, intake.TRIAGE_KINDS),
        (intake.Outcome, intake.OUTCOMES),
        (intake.Consent, intake.CONSENTS),
        (shelter.StayOrder, shelter.STAY_ORDERS),
        (notify.NoticeOrder, notify.NOTICE_ORDERS),
        (plans.MeasureOrder, plans.MEASURE_ORDERS),
        (shelter.Referral, shelter.REFERRALS),
        (shelter.StayState, shelter.STAY_STATES),
        (notify.NoticeState, notify.NOTICE_STATES),
        (plans.Situation, plans.SITUATIONS),
        (plan_lifecycle.SupportLevel, plan_lifecycle.SUPPORT_LEVELS),
        (plan_lifecycle.PlanState, plan_lifecycle.PLAN_STATES),
        (plans.MeasureKind, plans.MEASURE_KINDS),
        (agencies.DeclineReason, agencies.DECLINE_REASONS),
        (plans.MeasureState, plans.MEASURE_STATES),
        (plans.ReturnMode, plans.RETURN_MODES),
        (plan_lifecycle.ParticipantRole, plan_lifecycle.ROLES),
        (plan_lifecycle.ReviewKind, plan_lifecycle.REVIEW_KINDS),
        (plan_lifecycle.ReviewDecision, plan_lifecycle.DECISIONS),
        (plan_lifecycle.ClosureGround, plan_lifecycle.GROUNDS),
        (registry.DecisionKind, registry.DECISION_KINDS),
        (registry.DecisionState, registry.DECISION_STATES),
        (registry.FamilyState, registry.FAMILY_STATES),
        (registry.DocumentKind, registry.DOCUMENT_KINDS),
        (registry.InquiryState, registry.INQUIRY_STATES),
        (registry.ReportLevel, registry.REPORT_LEVELS),
    ],
)
def test_api_enums_match_the_protos(literal: object, mapping: EnumMap[Any, Any]) -> None:
    # The enums are named (`TypeAliasType`): their members are those of the alias's value.
    assert set(get_args(getattr(literal, "__value__", literal))) == mapping.names()
