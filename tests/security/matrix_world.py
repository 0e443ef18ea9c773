"""Who calls, and what they call about, for the access matrix (`access_matrix.csv`).

Personas: one realm user per persona (a realm role held alone, in an agency of a given type) and
per territory: Astana, Irkutsk and Yugra (the only profile that extends a plan, PLN-1), where the
records live, and Almaty, the other territory.
Records: made through the services' gRPC APIs by the people whose job it is, in the record's
home territory; a cell that is expected to change its record (approve, discharge, report, ...)
gets a fresh one of its own, every other cell of the route shares one.
"""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import grpc

from devstack.keycloak import KeycloakServer
from devstack.tokens import a_password_token
from kamqor.clock import clock_at, utcnow
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
from tests.plans.factories import in_days, measure_draft, participants, participation_measure
from tests.registry.factories import (
    change_request,
    ended_quarter,
    inquiry_request,
    registration_request,
    session_request,
)
from tests.registry.factories import today as irkutsk_today
from tests.security.conftest import realm_admin
from tests.support.factories import admit_request, appeal_request
from tests.support.services import bearer

PASSWORD = "matrix-check"
HOME = "kz-ast"
REGISTRY_HOME = "ru-irk"
OTHER = "kz-ala"
EXTENSION_HOME = "ru-khm"
TERRITORIES = (HOME, OTHER, REGISTRY_HOME, EXTENSION_HOME)
SUFFIX = {"kz-ast": "ast", "kz-ala": "ala", "ru-irk": "irk", "ru-khm": "khm"}
# A plan closed this long before the run is past PLN-12's minimum of monitoring (3 months).
CLOSED_BEFORE = timedelta(days=125)
# Tokens live 5 minutes (the realm's access token lifespan); fetch again well before.
TOKEN_MAX_AGE = 180.0


@dataclass(frozen=True)
class Persona:
    """A realm role held alone, by someone of an agency of one type (`role@agency_type`)."""

    role: str
    agency_type: str
    prefix: str  # of the agency's id: `edu` -> `edu-ast-1`

    @property
    def key(self) -> str:
        return f"{self.role}@{self.agency_type}"


PERSONAS: tuple[Persona, ...] = (
    Persona("hotline-operator", "hotline", "hot"),
    Persona("intake-operator", "family_center", "fc"),
    Persona("case-worker", "family_center", "fc"),
    Persona("center-head", "family_center", "fc"),
    Persona("shelter-operator", "family_center", "fc"),
    Persona("commission-member", "commission", "com"),
    Persona("agency-coordinator", "education", "edu"),
    Persona("agency-assignee", "education", "edu"),
    Persona("agency-coordinator", "police", "pol"),
    Persona("agency-assignee", "police", "pol"),
    Persona("agency-coordinator", "registry_office", "reg"),
    Persona("agency-assignee", "registry_office", "reg"),
    Persona("partner-system", "police", "pol"),
    Persona("analyst", "ministry", "min"),
    Persona("auditor", "ministry", "min"),
)
BY_KEY = {p.key: p for p in PERSONAS}


@dataclass(frozen=True)
class User:
    persona: Persona
    territory: str

    @property
    def agency(self) -> str:
        return f"{self.persona.prefix}-{SUFFIX[self.territory]}-1"

    @property
    def username(self) -> str:
        p = self.persona
        return f"matrix.{p.role}.{p.agency_type}.{SUFFIX[self.territory]}".replace("_", "-")


USERS: tuple[User, ...] = tuple(User(p, t) for t in TERRITORIES for p in PERSONAS)


def user(key: str, territory: str) -> User:
    return User(BY_KEY[key], territory)


def create_users(keycloak: KeycloakServer) -> None:
    """Every persona in every territory, through the realm's admin API (idempotent)."""
    admin = realm_admin(keycloak)
    roles = {p.role: admin.get_realm_role(p.role) for p in PERSONAS}
    for u in USERS:
        user_id = admin.create_user(
            {
                "username": u.username,
                "enabled": True,
                "email": f"{u.username}@matrix.invalid",
                "emailVerified": True,
                "firstName": "Matrix",
                "lastName": "Check",
                "attributes": {
                    "agency": [u.agency],
                    "agency_type": [u.persona.agency_type],
                    "territory": [u.territory],
                },
                "credentials": [{"type": "password", "value": PASSWORD, "temporary": False}],
            },
            exist_ok=True,
        )
        admin.assign_realm_roles(user_id, [roles[u.persona.role]])


@dataclass
class Tokens:
    keycloak: KeycloakServer
    fetched_at: float = 0.0
    tokens: dict[str, str] = field(default_factory=dict)

    async def refresh(self) -> None:
        if time.monotonic() - self.fetched_at < TOKEN_MAX_AGE:
            return
        got = await asyncio.gather(
            *(a_password_token(self.keycloak.base_url, u.username, PASSWORD) for u in USERS)
        )
        self.tokens = {u.username: t for u, t in zip(USERS, got, strict=True)}
        self.fetched_at = time.monotonic()

    def __call__(self, u: User) -> str:
        return self.tokens[u.username]


Stubs = dict[str, Any]


def stubs(channels: dict[str, grpc.aio.Channel]) -> Stubs:
    return {
        "intake": intake_pb2_grpc.IntakeServiceStub(channels["intake"]),
        "shelter": shelter_pb2_grpc.ShelterServiceStub(channels["shelter"]),
        "notify": notify_pb2_grpc.NotifyServiceStub(channels["notify"]),
        "plans": plans_pb2_grpc.PlansServiceStub(channels["plans"]),
        "registry": registry_pb2_grpc.RegistryServiceStub(channels["registry"]),
        "monitoring": monitoring_pb2_grpc.MonitoringServiceStub(channels["plans"]),
        "agencies": agencies_pb2_grpc.AgenciesServiceStub(channels["plans"]),
        "routing": agencies_pb2_grpc.MeasureRoutingServiceStub(channels["plans"]),
    }


def education_measure(territory: str, title: str = "Tutoring twice a week") -> Any:
    return measure_draft(
        agency_id=f"edu-{SUFFIX[territory]}-1", agency_type="education", title=title
    )


def _deregistration(family_id: str) -> registry_pb2.RecordDeregistrationRequest:
    registered = registration_request()
    return registry_pb2.RecordDeregistrationRequest(
        idempotency_key=uuid.uuid4().hex,
        family_id=family_id,
        decided_on=irkutsk_today().isoformat(),
        number=f"KDN-{uuid.uuid4().hex[:6]}",
        vote=registered.vote,
        hearing=registered.hearing,
        grounds="The situation improved",
    )


# The years of the mobile groups made as records (`matrix_routes` approves from 1950 on).
GROUP_YEARS = itertools.count(1930)
# MON-1: one report per center and quarter, so each report the matrix writes is of a quarter
# of its own, counted from the first one the service takes (2000-Q1).
_MONITORING_QUARTERS = itertools.count(0)


def next_quarter() -> str:
    n = next(_MONITORING_QUARTERS)
    return f"{2000 + n // 4}-Q{n % 4 + 1}"


@dataclass
class Records:
    """Makes the records the cells act on, as the people whose job it is."""

    stub: Stubs
    tokens: Tokens
    shared: dict[str, dict[str, str]] = field(default_factory=dict)

    def _md(self, key: str, territory: str) -> Any:
        return bearer(self.tokens(user(key, territory)))

    # --- Astana ---------------------------------------------------------------------------
    async def shelter(self) -> dict[str, str]:
        reply = await self.stub["shelter"].RegisterShelter(
            shelter_pb2.RegisterShelterRequest(
                idempotency_key=uuid.uuid4().hex,
                name=f"Matrix shelter {uuid.uuid4().hex[:8]}",
                capacity=10_000,
            ),
            metadata=self._md("center-head@family_center", HOME),
        )
        return {"id": reply.shelter.id}

    async def appeal(self) -> dict[str, str]:
        reply = await self.stub["intake"].RegisterAppeal(
            appeal_request(), metadata=self._md("intake-operator@family_center", HOME)
        )
        return {"id": reply.appeal.id}

    async def _family(self) -> str:
        """A new family of Astana: an appeal about people no other appeal names."""
        person = intake_pb2.Person(
            full_name=f"Matrix {uuid.uuid4().hex[:8]}", relation=intake_pb2.RELATION_APPLICANT
        )
        reply = await self.stub["intake"].RegisterAppeal(
            appeal_request(persons=[person]),
            metadata=self._md("intake-operator@family_center", HOME),
        )
        return str(reply.appeal.family_id)

    async def intake_family(self) -> dict[str, str]:
        return {"id": await self._family()}

    async def family_pair(self) -> dict[str, str]:
        """Two records of one family, to merge."""
        return {"id": await self._family(), "other": await self._family()}

    async def family_merge(self) -> dict[str, str]:
        pair = await self.family_pair()
        reply = await self.stub["intake"].MergeFamilies(
            intake_pb2.MergeFamiliesRequest(
                kept_family_id=pair["id"], merged_family_id=pair["other"], reason="matrix check"
            ),
            metadata=self._md("intake-operator@family_center", HOME),
        )
        return {"id": reply.merge.id}

    async def mobile_group(self) -> dict[str, str]:
        """Astana's mobile group of a year of its own (INT-4)."""
        year = next(GROUP_YEARS)
        reply = await self.stub["intake"].ApproveMobileGroup(
            intake_pb2.ApproveMobileGroupRequest(
                year=year,
                approved_on=f"{year}-06-01",
                order_number="matrix record",
                members=[
                    intake_pb2.MobileGroupMember(agency_type=t, agency=f"{t}-w", representative="W")
                    for t in ("education", "health", "police")
                ],
            ),
            metadata=self._md("center-head@family_center", HOME),
        )
        return {"id": reply.group.id, "year": str(year)}

    async def case(self) -> dict[str, str]:
        """The case a new family's appeal opens."""
        person = intake_pb2.Person(
            full_name=f"Matrix {uuid.uuid4().hex[:8]}", relation=intake_pb2.RELATION_APPLICANT
        )
        reply = await self.stub["intake"].RegisterAppeal(
            appeal_request(persons=[person]),
            metadata=self._md("intake-operator@family_center", HOME),
        )
        return {"id": reply.appeal.case_id}

    async def stay(self) -> dict[str, str]:
        shelter = self.shared.get("shelter") or await self.get("shelter")
        reply = await self.stub["shelter"].Admit(
            admit_request(shelter["id"], minors=2),
            metadata=self._md("shelter-operator@family_center", HOME),
        )
        return {"id": reply.stay.id}

    async def notice(self) -> dict[str, str]:
        """The SHL-3 notice to the police of an admission with minors (made by notify)."""
        stay = await self.stay()
        request = notify_pb2.ListNoticesRequest(subjects=[f"stay/{stay['id']}"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply = await self.stub["notify"].ListNotices(
                request, metadata=self._md("agency-coordinator@police", HOME)
            )
            if reply.notices:
                return {"id": reply.notices[0].id}
            await asyncio.sleep(0.2)
        raise AssertionError("no SHL-3 notice to the police within 30 s")

    async def letter(self) -> dict[str, str]:
        """A police notice whose written letter notify's delivery worker has registered."""
        notice = await self.notice()
        request = notify_pb2.GetLetterRequest(notice_id=notice["id"])
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                await self.stub["notify"].GetLetter(
                    request, metadata=self._md("agency-coordinator@police", HOME)
                )
                return notice
            except grpc.aio.AioRpcError as err:
                if err.code() != grpc.StatusCode.NOT_FOUND:
                    raise
            await asyncio.sleep(0.2)
        raise AssertionError("the SHL-3 letter to the police was not registered within 30 s")

    async def _plan(self, territory: str, **kw: Any) -> str:
        """A draft, drafted with the family (PLN-3) by the territory's case worker."""
        measures = kw.pop("measures", None) or [
            education_measure(territory),
            participation_measure(),
        ]
        reply = await self.stub["plans"].CreatePlan(
            plans_pb2.CreatePlanRequest(
                idempotency_key=uuid.uuid4().hex,
                case_id=str(uuid.uuid4()),
                measures=measures,
                participants=participants(),
                **kw,
            ),
            metadata=self._md("case-worker@family_center", territory),
        )
        return str(reply.plan.id)

    async def _submitted_plan(self, territory: str, **kw: Any) -> str:
        """A draft its case worker submitted: only a submitted plan is approved (PLN-4)."""
        plan_id = await self._plan(territory, **kw)
        await self.stub["plans"].SubmitPlan(
            plans_pb2.SubmitPlanRequest(plan_id=plan_id),
            metadata=self._md("case-worker@family_center", territory),
        )
        return plan_id

    async def draft_plan(self) -> dict[str, str]:
        return {"id": await self._plan(HOME, situation=plans_pb2.SITUATION_DLS)}

    async def dls_plan(self) -> dict[str, str]:
        """Astana's submitted DLS plan, for its center head to approve."""
        return {"id": await self._submitted_plan(HOME, situation=plans_pb2.SITUATION_DLS)}

    async def _sdp_plan(self) -> str:
        return await self._submitted_plan(
            REGISTRY_HOME,
            situation=plans_pb2.SITUATION_SDP,
            support_level=plans_pb2.SUPPORT_LEVEL_CRISIS,
            measures=[education_measure(REGISTRY_HOME)],
        )

    async def sdp_plan_irk(self) -> dict[str, str]:
        """Irkutsk's submitted SDP plan, for its commission to approve."""
        return {"id": await self._sdp_plan()}

    async def plan(self) -> dict[str, str]:
        return {"id": await self._approved_plan()}

    async def _approved_plan(self) -> str:
        plan_id = await self._submitted_plan(HOME, situation=plans_pb2.SITUATION_DLS)
        await self.stub["plans"].ApprovePlan(
            plans_pb2.ApprovePlanRequest(plan_id=plan_id, decision="Matrix protocol"),
            metadata=self._md("center-head@family_center", HOME),
        )
        return plan_id

    async def approved_sdp_plan(self) -> dict[str, str]:
        """Irkutsk's SDP plan in force: its commission approved it and closes it (PLN-10)."""
        plan_id = await self._sdp_plan()
        await self.stub["plans"].ApprovePlan(
            plans_pb2.ApprovePlanRequest(plan_id=plan_id, decision="Matrix protocol"),
            metadata=self._md("commission-member@commission", REGISTRY_HOME),
        )
        return {"id": plan_id}

    async def extensible_plan(self) -> dict[str, str]:
        """Yugra's plan in force, approved by the working group (its center head) on an
        application of today (PLN-4): the one kind of plan that is extended (PLN-1)."""
        plan_id = await self._submitted_plan(
            EXTENSION_HOME, situation=plans_pb2.SITUATION_DLS, applied_on=in_days(0)
        )
        await self.stub["plans"].ApprovePlan(
            plans_pb2.ApprovePlanRequest(plan_id=plan_id, decision="Working group protocol"),
            metadata=self._md("center-head@family_center", EXTENSION_HOME),
        )
        return {"id": plan_id}

    async def reviewed_plan(self) -> dict[str, str]:
        """Astana's plan in force under its interim review (PLN-13)."""
        plan_id = await self._approved_plan()
        await self.stub["plans"].OpenReview(
            plans_pb2.OpenReviewRequest(plan_id=plan_id, kind=plans_pb2.REVIEW_KIND_INTERIM),
            metadata=self._md("case-worker@family_center", HOME),
        )
        return {"id": plan_id}

    async def monitored_plan(self) -> dict[str, str]:
        """Astana's plan its center head closed `CLOSED_BEFORE` ago (the services read the
        domain clock of this process): monitored since, past PLN-12's minimum, so it may end
        or reopen now."""
        with clock_at(utcnow() - CLOSED_BEFORE):
            plan_id = await self._approved_plan()
            await self.stub["plans"].ClosePlan(
                plans_pb2.ClosePlanRequest(
                    plan_id=plan_id,
                    ground=plans_pb2.CLOSURE_GROUND_FAMILY_REFUSED,
                    decision="Matrix protocol",
                ),
                metadata=self._md("center-head@family_center", HOME),
            )
        return {"id": plan_id}

    async def sent_measure(self) -> dict[str, str]:
        plan_id = await self._approved_plan()
        reply = await self.stub["plans"].GetPlan(
            plans_pb2.GetPlanRequest(plan_id=plan_id),
            metadata=self._md("case-worker@family_center", HOME),
        )
        edu = next(m for m in reply.plan.measures if m.agency_type == "education")
        return {"id": edu.id}

    async def assigned_measure(self) -> dict[str, str]:
        measure = await self.sent_measure()
        await self.stub["plans"].DesignateAssignee(
            plans_pb2.DesignateAssigneeRequest(
                measure_id=measure["id"],
                assignee=user("agency-assignee@education", HOME).username,
            ),
            metadata=self._md("agency-coordinator@education", HOME),
        )
        return measure

    async def reported_measure(self) -> dict[str, str]:
        measure = await self.assigned_measure()
        await self.stub["plans"].ReportMeasure(
            plans_pb2.ReportMeasureRequest(measure_id=measure["id"], report="Lessons given"),
            metadata=self._md("agency-assignee@education", HOME),
        )
        return measure

    # --- the agency directory and measure routing (issue 14) ---------------------------------
    async def agency(self) -> dict[str, str]:
        """Astana's school, as the directory lists it."""
        return {"id": f"edu-{SUFFIX[HOME]}-1"}

    async def declined_measure(self) -> dict[str, str]:
        """A measure its school declined: the center re-routes it."""
        measure = await self.sent_measure()
        await self.stub["routing"].DeclineMeasure(
            agencies_pb2.DeclineMeasureRequest(
                measure_id=measure["id"], reason=agencies_pb2.DECLINE_REASON_NO_CAPACITY
            ),
            metadata=self._md("agency-coordinator@education", HOME),
        )
        return measure

    async def reviewed_measure(self) -> dict[str, str]:
        """The school's measure of a plan under review: it may be amended or cancelled."""
        plan = await self.reviewed_plan()
        reply = await self.stub["plans"].GetPlan(
            plans_pb2.GetPlanRequest(plan_id=plan["id"]),
            metadata=self._md("case-worker@family_center", HOME),
        )
        return {"id": next(m.id for m in reply.plan.measures if m.agency_type == "education")}

    # --- Irkutsk: the data bank ----------------------------------------------------------
    def _office(self) -> Any:
        return self._md("agency-coordinator@registry_office", REGISTRY_HOME)

    async def decision(self, surname: str = "") -> dict[str, str]:
        request = registration_request()
        if surname:
            for person in (*request.minors, *request.relatives):
                person.full_name = f"{surname} {person.full_name}"
        reply = await self.stub["registry"].RecordRegistrationDecision(
            request, metadata=self._md("commission-member@commission", REGISTRY_HOME)
        )
        return {"id": reply.decision.id, "family": reply.family.id}

    async def received_registration(self) -> dict[str, str]:
        decision = await self.decision()
        await self.stub["registry"].ReceiveDecision(
            registry_pb2.ReceiveDecisionRequest(decision_id=decision["id"]),
            metadata=self._office(),
        )
        return decision

    async def family(self, surname: str = "") -> dict[str, str]:
        surname = surname or f"Matrix{uuid.uuid4().hex[:8]}"
        decision = await self.decision(surname)
        for step in ("ReceiveDecision", "EnterFamily"):
            request = (
                registry_pb2.ReceiveDecisionRequest
                if step == "ReceiveDecision"
                else registry_pb2.EnterFamilyRequest
            )
            await getattr(self.stub["registry"], step)(
                request(decision_id=decision["id"]), metadata=self._office()
            )
        return {"id": decision["family"], "name": surname}

    async def received_deregistration(self) -> dict[str, str]:
        family = await self.family()
        reply = await self.stub["registry"].RecordDeregistration(
            _deregistration(family["id"]),
            metadata=self._md("commission-member@commission", REGISTRY_HOME),
        )
        await self.stub["registry"].ReceiveDecision(
            registry_pb2.ReceiveDecisionRequest(decision_id=reply.decision.id),
            metadata=self._office(),
        )
        return {"id": reply.decision.id, "family": family["id"]}

    async def reported_change(self) -> dict[str, str]:
        family = await self.family()
        reply = await self.stub["registry"].ReportChange(
            change_request(family["id"]),
            metadata=self._md("case-worker@family_center", REGISTRY_HOME),
        )
        return {"id": reply.change.id}

    async def commission_session(self) -> dict[str, str]:
        reply = await self.stub["registry"].OpenSession(
            session_request(),
            metadata=self._md("commission-member@commission", REGISTRY_HOME),
        )
        return {"id": reply.session.id}

    async def removed_family(self) -> dict[str, str]:
        deregistration = await self.received_deregistration()
        await self.stub["registry"].RemoveFamily(
            registry_pb2.RemoveFamilyRequest(decision_id=deregistration["id"]),
            metadata=self._office(),
        )
        return {"id": deregistration["family"]}

    async def open_inquiry(self) -> dict[str, str]:
        """A police request to Irkutsk's data bank, not yet answered (REG-8)."""
        reply = await self.stub["registry"].CreateInquiry(
            inquiry_request(), metadata=self._md("agency-coordinator@police", REGISTRY_HOME)
        )
        return {"id": reply.inquiry.id}

    async def inquiry(self) -> dict[str, str]:
        asked = await self.open_inquiry()
        await self.stub["registry"].AnswerInquiry(
            registry_pb2.AnswerInquiryRequest(inquiry_id=asked["id"]), metadata=self._office()
        )
        return asked

    async def reported_quarter(self) -> dict[str, str]:
        """The registry office's report of the last ended quarter is in (REG-7)."""
        await self.stub["registry"].SubmitOfficeReport(
            registry_pb2.SubmitOfficeReportRequest(quarter=ended_quarter()),
            metadata=self._office(),
        )
        return {"quarter": ended_quarter()}

    async def monitoring_quarter(self) -> dict[str, str]:
        """An ended quarter no report of the matrix is of yet (MON-1: one per center and
        quarter), so the cell that writes it succeeds."""
        return {"quarter": next_quarter()}

    async def monitoring_report(self) -> dict[str, str]:
        """A center's quarterly report (MON-1), written by the territory's analyst: the center
        head may sign it off (four eyes)."""
        reply = await self.stub["monitoring"].CreateMonitoringReport(
            monitoring_pb2.CreateMonitoringReportRequest(
                quarter=next_quarter(), snapshot_json='{"sections": {}}', conclusion="Matrix."
            ),
            metadata=self._md("analyst@ministry", HOME),
        )
        return {"id": reply.report.id}

    # --- the records by their names in the table ------------------------------------------
    async def none(self) -> dict[str, str]:
        return {}

    def maker(self, record: str) -> Callable[[], Awaitable[dict[str, str]]]:
        return {
            "-": self.none,
            "shelter": self.shelter,
            "appeal": self.appeal,
            "intake-family": self.intake_family,
            "family-pair": self.family_pair,
            "family-merge": self.family_merge,
            "case": self.case,
            "mobile-group": self.mobile_group,
            "stay": self.stay,
            "notice": self.notice,
            "letter": self.letter,
            "plan": self.plan,
            "draft-plan": self.draft_plan,
            "dls-plan": self.dls_plan,
            "sdp-plan": self.sdp_plan_irk,
            "approved-sdp-plan": self.approved_sdp_plan,
            "extensible-plan": self.extensible_plan,
            "reviewed-plan": self.reviewed_plan,
            "monitored-plan": self.monitored_plan,
            "sent-measure": self.sent_measure,
            "assigned-measure": self.assigned_measure,
            "reported-measure": self.reported_measure,
            "agency": self.agency,
            "declined-measure": self.declined_measure,
            "reviewed-measure": self.reviewed_measure,
            "decision": self.decision,
            "received-registration": self.received_registration,
            "received-deregistration": self.received_deregistration,
            "family": self.family,
            "removed-family": self.removed_family,
            "session": self.commission_session,
            "change": self.reported_change,
            "inquiry": self.inquiry,
            "open-inquiry": self.open_inquiry,
            "reported-quarter": self.reported_quarter,
            "monitoring-report": self.monitoring_report,
            "monitoring-quarter": self.monitoring_quarter,
        }[record]

    async def get(self, record: str) -> dict[str, str]:
        """The record every cell of a route shares."""
        if record not in self.shared:
            self.shared[record] = await self.maker(record)()
        return self.shared[record]

    async def fresh(self, record: str) -> dict[str, str]:
        return await self.maker(record)()


# Where each record lives; the other territory is always Almaty.
RECORD_HOME = {
    "sdp-plan": REGISTRY_HOME,
    "approved-sdp-plan": REGISTRY_HOME,
    "extensible-plan": EXTENSION_HOME,
    "decision": REGISTRY_HOME,
    "received-registration": REGISTRY_HOME,
    "received-deregistration": REGISTRY_HOME,
    "family": REGISTRY_HOME,
    "removed-family": REGISTRY_HOME,
    "inquiry": REGISTRY_HOME,
    "open-inquiry": REGISTRY_HOME,
    "reported-quarter": REGISTRY_HOME,
}


def days_from_today(days: int) -> str:
    return in_days(days)


def irkutsk_day(days: int = 0) -> str:
    return (irkutsk_today() + timedelta(days=days)).isoformat()
