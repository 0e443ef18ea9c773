"""A plan's life after drafting: submission, reviews, level changes, extension, closure,
monitoring and reopening (PLN-1, PLN-3, PLN-4, PLN-10 … PLN-14), and the MON-2 figures."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field
from typing_extensions import TypeAliasType

from gateway.schemas.common import (
    NEXT_PAGE_TOKEN_DESCRIPTION,
    EnumMap,
    FreeText,
    IsoDate,
    Line,
    Obligation,
    at,
    input_config,
    page_token_out,
    when,
)
from kamqor.plans.v1 import plans_pb2 as pb

Situation = TypeAliasType("Situation", Literal["dls", "sdp"])
SupportLevel = TypeAliasType("SupportLevel", Literal["adaptation", "basic", "crisis", "emergency"])
PlanState = TypeAliasType(
    "PlanState",
    Literal["draft", "submitted", "approved", "under_review", "monitoring", "closed", "reopened"],
)
ParticipantRole = TypeAliasType(
    "ParticipantRole",
    Literal[
        "family",
        "lawyer",
        "psychologist",
        "social_pedagogue",
        "medical_worker",
        "social_worker",
        "police",
        "ngo",
    ],
)
SupportLevelDirection = TypeAliasType("SupportLevelDirection", Literal["worse", "better", "other"])
ReviewKind = TypeAliasType("ReviewKind", Literal["interim", "final"])
ReviewDecision = TypeAliasType("ReviewDecision", Literal["continue", "extend", "close"])
ClosureGround = TypeAliasType(
    "ClosureGround",
    Literal[
        "result_achieved",
        "family_refused",
        "family_noncompliance",
        "other_confirmed",
        "result_impossible",
    ],
)
SUPPORT_LEVELS = EnumMap[pb.SupportLevel.ValueType, SupportLevel](pb.SupportLevel, "SUPPORT_LEVEL_")
PLAN_STATES = EnumMap[pb.PlanState.ValueType, PlanState](pb.PlanState, "PLAN_STATE_")
ROLES = EnumMap[pb.ParticipantRole.ValueType, ParticipantRole](
    pb.ParticipantRole, "PARTICIPANT_ROLE_"
)
REVIEW_KINDS = EnumMap[pb.ReviewKind.ValueType, ReviewKind](pb.ReviewKind, "REVIEW_KIND_")
DECISIONS = EnumMap[pb.ReviewDecision.ValueType, ReviewDecision](
    pb.ReviewDecision, "REVIEW_DECISION_"
)
GROUNDS = EnumMap[pb.ClosureGround.ValueType, ClosureGround](pb.ClosureGround, "CLOSURE_GROUND_")


# --- requests -------------------------------------------------------------------------------


class ParticipantIn(BaseModel):
    """One person who drafted the plan with the family (PLN-3)."""

    model_config = input_config({"role": "family", "name": "Aigerim S. (mother)"})

    role: ParticipantRole
    name: Line = Field(min_length=1, max_length=200)
    organisation: Line = Field(default="", max_length=200)

    def to_proto(self) -> pb.Participant:
        return pb.Participant(
            role=ROLES.to_proto(self.role), name=self.name, organisation=self.organisation
        )


class PlanReviewIn(BaseModel):
    model_config = input_config({"kind": "interim"})

    kind: ReviewKind = Field(description="The interim (3 months) or final review (PLN-13).")


class ReviewConclusionIn(BaseModel):
    model_config = input_config(
        {"decision": "continue", "conclusion": "School attendance restored; keep the tutoring"}
    )

    decision: ReviewDecision
    conclusion: FreeText = Field(
        min_length=1,
        max_length=4000,
        description="The findings (Irkutsk: the control report of the home visit).",
    )


class SupportLevelChangeIn(BaseModel):
    model_config = input_config(
        {"person": "mother", "from_level": "crisis", "to_level": "basic", "reason": "Employed"}
    )

    person: Line = Field(min_length=1, max_length=200, description="Who in the family.")
    from_level: SupportLevel
    to_level: SupportLevel
    reason: FreeText = Field(default="", max_length=4000)

    def to_proto(self, plan_id: UUID) -> pb.ChangeSupportLevelRequest:
        return pb.ChangeSupportLevelRequest(
            plan_id=str(plan_id),
            person=self.person,
            from_level=SUPPORT_LEVELS.to_proto(self.from_level),
            to_level=SUPPORT_LEVELS.to_proto(self.to_level),
            reason=self.reason,
        )


class PlanExtensionIn(BaseModel):
    model_config = input_config(
        {"request_received_on": "2026-05-20", "months": 12, "decision": "Working group No. 9"}
    )

    request_received_on: IsoDate = Field(description="The person's written request (PLN-1).")
    months: int = Field(
        ge=1, le=60, description="The whole new term in months from approval, within the limit."
    )
    decision: Line = Field(min_length=1, max_length=200)


class ClosureIn(BaseModel):
    model_config = input_config(
        {"ground": "result_achieved", "decision": "Working group protocol 30"}
    )

    ground: ClosureGround = Field(description="A ground of PLN-10 the profile lists.")
    explanation: FreeText = Field(
        default="",
        max_length=4000,
        description="Required for other confirmed grounds and where the result is impossible.",
    )
    decision: Line = Field(min_length=1, max_length=200)


class MonitoringEndIn(BaseModel):
    model_config = input_config({"outcome": "The situation stayed stable for four months"})

    outcome: FreeText = Field(min_length=1, max_length=4000)


# --- responses ------------------------------------------------------------------------------


class Participant(BaseModel):
    role: ParticipantRole
    name: str
    organisation: str | None

    @classmethod
    def from_proto(cls, msg: pb.Participant) -> Participant:
        return cls(
            role=ROLES.from_proto(msg.role), name=msg.name, organisation=msg.organisation or None
        )


class Review(BaseModel):
    id: UUID
    kind: ReviewKind
    opened_at: datetime
    opened_by: str
    concluded_at: datetime | None
    concluded_by: str | None
    decision: ReviewDecision | None
    conclusion: str | None

    @classmethod
    def from_proto(cls, msg: pb.Review) -> Review:
        return cls(
            id=msg.id,
            kind=REVIEW_KINDS.from_proto(msg.kind),
            opened_at=at(msg, "opened_at"),
            opened_by=msg.opened_by,
            concluded_at=when(msg, "concluded_at"),
            concluded_by=msg.concluded_by or None,
            decision=DECISIONS.from_proto(msg.decision) if msg.decision else None,
            conclusion=msg.conclusion or None,
        )


class SupportLevelChange(BaseModel):
    id: UUID
    person: str
    from_level: SupportLevel
    to_level: SupportLevel
    direction: SupportLevelDirection
    indicator: str | None = Field(description="The counted direction (PLN-14), if counted.")
    reason: str | None
    at: datetime
    by: str

    @classmethod
    def from_proto(cls, msg: pb.LevelChange) -> SupportLevelChange:
        return cls(
            id=msg.id,
            person=msg.person,
            from_level=SUPPORT_LEVELS.from_proto(msg.from_level),
            to_level=SUPPORT_LEVELS.from_proto(msg.to_level),
            direction=msg.direction,
            indicator=msg.indicator or None,
            reason=msg.reason or None,
            at=at(msg, "at"),
            by=msg.by,
        )


class Closure(BaseModel):
    ground: ClosureGround
    explanation: str | None
    decision: str
    closed_by: str
    closed_at: datetime
    monitoring_from: datetime | None = Field(description="Monitoring may end from here (PLN-12).")
    monitoring_until: datetime | None
    monitoring_ended_at: datetime | None
    monitoring_outcome: str | None

    @classmethod
    def from_proto(cls, msg: pb.Closure) -> Closure:
        return cls(
            ground=GROUNDS.from_proto(msg.ground),
            explanation=msg.explanation or None,
            decision=msg.decision,
            closed_by=msg.closed_by,
            closed_at=at(msg, "closed_at"),
            monitoring_from=when(msg, "monitoring_from"),
            monitoring_until=when(msg, "monitoring_until"),
            monitoring_ended_at=when(msg, "monitoring_ended_at"),
            monitoring_outcome=msg.monitoring_outcome or None,
        )


class PlanAct(BaseModel):
    act: str
    from_state: PlanState
    to_state: PlanState
    at: datetime
    by: str
    reason: str | None

    @classmethod
    def from_proto(cls, msg: pb.PlanAct) -> PlanAct:
        return cls(
            act=msg.act,
            from_state=PLAN_STATES.from_proto(msg.from_state),
            to_state=PLAN_STATES.from_proto(msg.to_state),
            at=at(msg, "at"),
            by=msg.by,
            reason=msg.reason or None,
        )


class PlanSummary(BaseModel):
    """One row of a list of plans; no personal data."""

    id: UUID
    case_id: UUID | None
    situation: Situation
    state: PlanState
    created_by: str
    created_at: datetime
    term_ends_at: datetime
    measures: int
    open_measures: int
    next_due: Obligation | None = Field(
        description="The earliest open obligation of the plan or its measures."
    )

    @classmethod
    def from_proto(cls, msg: pb.PlanSummary) -> PlanSummary:
        return cls(
            id=msg.id,
            case_id=msg.case_id or None,
            situation="dls" if msg.situation == pb.SITUATION_DLS else "sdp",
            state=PLAN_STATES.from_proto(msg.state),
            created_by=msg.created_by,
            created_at=at(msg, "created_at"),
            term_ends_at=at(msg, "term_ends_at"),
            measures=msg.measures,
            open_measures=msg.open_measures,
            next_due=Obligation.from_proto(msg.next_due) if msg.HasField("next_due") else None,
        )


class PlanPage(BaseModel):
    items: list[PlanSummary]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListPlansResponse) -> PlanPage:
        return cls(
            items=[PlanSummary.from_proto(p) for p in msg.plans],
            next_page_token=page_token_out(msg.next_page_token),
        )


class PlanIndicators(BaseModel):
    """MON-2 figures of the plans: level changes by direction, closures by ground."""

    territory: str
    from_: date = Field(alias="from")
    to: date
    level_changes: dict[str, int] = Field(
        description="basic_to_crisis, adaptation_to_crisis, crisis_to_basic, "
        "adaptation_to_basic, and the worse/better/other totals (PLN-14)."
    )
    closures: dict[str, int] = Field(description="Plans closed per ground (PLN-10).")
    plans_approved: int
    plans_closed: int
    plans_reopened: int

    model_config = {"populate_by_name": True}

    @classmethod
    def from_proto(
        cls, msg: pb.ReportPlanIndicatorsResponse, *, territory: str, from_: date, to: date
    ) -> PlanIndicators:
        return cls(
            territory=territory,
            from_=from_,
            to=to,
            level_changes={c.key: c.count for c in msg.level_changes},
            closures={c.key: c.count for c in msg.closures},
            plans_approved=msg.plans_approved,
            plans_closed=msg.plans_closed,
            plans_reopened=msg.plans_reopened,
        )
