"""Individual work plans (PLN-1, PLN-4) and the measures agencies carry out (PLN-2, PLN-5..9)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, Field, ValidationInfo, field_validator
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
    parse_date,
    when,
)
from gateway.schemas.plan_lifecycle import (
    PLAN_STATES,
    SUPPORT_LEVELS,
    Closure,
    Participant,
    ParticipantIn,
    PlanAct,
    PlanState,
    Review,
    Situation,
    SupportLevel,
    SupportLevelChange,
)
from gateway.schemas.routing import AgencyContact, DeclineReason, MeasureChange
from kamqor.plans.v1 import plans_pb2 as pb

MeasureKind = TypeAliasType(
    "MeasureKind",
    Literal[
        "medical",
        "psychological",
        "pedagogical",
        "legal",
        "social",
        "employment",
        "housing",
        "family_participation",
    ],
)
MeasureState = TypeAliasType(
    "MeasureState",
    Literal[
        "draft", "sent", "assigned", "reported", "returned", "completed", "declined", "cancelled"
    ],
)
ReturnMode = TypeAliasType("ReturnMode", Literal["rework", "repeat"])
AgencyType = TypeAliasType(
    "AgencyType",
    Literal[
        "family_center",
        "education",
        "health",
        "employment",
        "social_protection",
        "police",
        "guardianship",
        "commission",
        "housing",
        "youth_policy",
        "culture_sport",
        "ngo",
        "ministry",
        "registry_office",
        "hotline",
    ],
)
SITUATIONS = EnumMap[pb.Situation.ValueType, Situation](pb.Situation, "SITUATION_")
MEASURE_KINDS = EnumMap[pb.MeasureKind.ValueType, MeasureKind](pb.MeasureKind, "MEASURE_KIND_")
MEASURE_STATES = EnumMap[pb.MeasureState.ValueType, MeasureState](pb.MeasureState, "MEASURE_STATE_")
MeasureOrder = TypeAliasType("MeasureOrder", Literal["deadline", "latest_sent"])
MEASURE_ORDERS = EnumMap[pb.MeasureOrder.ValueType, MeasureOrder](pb.MeasureOrder, "MEASURE_ORDER_")
RETURN_MODES = EnumMap[pb.ReturnMode.ValueType, ReturnMode](pb.ReturnMode, "RETURN_MODE_")
OWN_PARTICIPATION: MeasureKind = "family_participation"


# --- requests -------------------------------------------------------------------------------


class MeasureDraftIn(BaseModel):
    """One measure of a draft plan: an agency, a kind and a deadline (PLN-2)."""

    model_config = input_config()

    kind: MeasureKind
    # `validate_default`: a missing agency is reported on the field itself.
    agency_id: Line | None = Field(
        default=None,
        validate_default=True,
        min_length=1,
        max_length=100,
        examples=["edu-ast-1"],
        description="The agency that carries it out; omit for the family's own participation "
        "(the center follows it up).",
    )
    agency_type: AgencyType | None = Field(
        default=None,
        validate_default=True,
        description="Omit for the family's own participation.",
    )
    title: Line = Field(min_length=1, max_length=500)
    target: Line = Field(
        default="", max_length=200, description="Whom it targets; empty for the whole family."
    )
    deadline: IsoDate = Field(description="Within the plan term (PLN-1).")

    @field_validator("agency_id", "agency_type", mode="after")
    @classmethod
    def _agency_unless_own_participation(
        cls, value: str | None, info: ValidationInfo
    ) -> str | None:
        kind = info.data.get("kind")
        if value is None and kind is not None and kind != OWN_PARTICIPATION:
            raise ValueError(f"is required unless kind is {OWN_PARTICIPATION} (PLN-2)")
        return value

    def to_proto(self) -> pb.MeasureDraft:
        return pb.MeasureDraft(
            agency_id=self.agency_id or "",
            agency_type=self.agency_type or "",
            kind=MEASURE_KINDS.to_proto(self.kind),
            title=self.title,
            target=self.target,
            deadline=self.deadline.isoformat(),
        )


class PlanIn(BaseModel):
    """A draft plan for one family with its measures (PLN-1, PLN-2)."""

    model_config = input_config(
        {
            "case_id": "01963b9e-8a4f-7c2d-9b1e-3f4a5b6c7d8e",
            "situation": "dls",
            "measures": [
                {
                    "kind": "pedagogical",
                    "agency_id": "edu-ast-1",
                    "agency_type": "education",
                    "title": "Tutoring in mathematics twice a week",
                    "target": "eldest child",
                    "deadline": "2026-06-30",
                },
                {
                    "kind": "family_participation",
                    "title": "The mother attends the parenting course",
                    "target": "mother",
                    "deadline": "2026-07-15",
                },
            ],
        }
    )

    case_id: UUID | None = Field(default=None, description="The intake case, when there is one.")
    situation: Situation = Field(description="Decides who approves the plan (PLN-4).")
    support_level: SupportLevel | None = Field(
        default=None,
        description="The assessment's level (INT-6); required where the profile derives the "
        "plan term from it (Irkutsk).",
    )
    measures: list[MeasureDraftIn] = Field(min_length=1, max_length=100)
    participants: list[ParticipantIn] = Field(
        min_length=1,
        max_length=30,
        description="Who drafted it with the family (PLN-3): at least one family member.",
    )
    applied_on: IsoDate | None = Field(
        default=None,
        description="The person's application; required where approval is due 10 working "
        "days after it (PLN-4, Yugra).",
    )

    def to_proto(self, idempotency_key: str | None) -> pb.CreatePlanRequest:
        return pb.CreatePlanRequest(
            idempotency_key=idempotency_key or "",
            case_id=str(self.case_id) if self.case_id else "",
            situation=SITUATIONS.to_proto(self.situation),
            support_level=SUPPORT_LEVELS.to_proto(self.support_level)
            if self.support_level
            else pb.SUPPORT_LEVEL_UNSPECIFIED,
            measures=[m.to_proto() for m in self.measures],
            participants=[p.to_proto() for p in self.participants],
            applied_on=self.applied_on.isoformat() if self.applied_on else "",
        )


class ReopenIn(BaseModel):
    """The revised plan that resumes support when monitoring finds the situation worse
    (PLN-12)."""

    model_config = input_config(
        {
            "reason": "The father's drinking resumed; the children missed school",
            "measures": [
                {
                    "kind": "psychological",
                    "agency_id": "hlt-ast-1",
                    "agency_type": "health",
                    "title": "Addiction counselling",
                    "deadline": "2027-06-30",
                }
            ],
        }
    )

    reason: FreeText = Field(min_length=1, max_length=4000)
    measures: list[MeasureDraftIn] = Field(min_length=1, max_length=100)
    support_level: SupportLevel | None = None

    def to_proto(self, plan_id: UUID, idempotency_key: str | None) -> pb.ReopenPlanRequest:
        return pb.ReopenPlanRequest(
            idempotency_key=idempotency_key or "",
            plan_id=str(plan_id),
            reason=self.reason,
            measures=[m.to_proto() for m in self.measures],
            support_level=SUPPORT_LEVELS.to_proto(self.support_level)
            if self.support_level
            else pb.SUPPORT_LEVEL_UNSPECIFIED,
        )


class ApprovalIn(BaseModel):
    model_config = input_config({"decision": "Working group protocol 12 of 2026-03-02"})

    decision: Line = Field(
        min_length=1, max_length=200, description="The approving body's decision (PLN-4)."
    )
    term_months: int | None = Field(
        default=None,
        ge=1,
        le=60,
        description="The plan's term in months where the approving body sets it (PLN-1, "
        "Bashkortostan: the commission, required there); left out elsewhere.",
    )


class AssigneeIn(BaseModel):
    model_config = input_config({"assignee": "teacher.ast"})

    assignee: Line = Field(
        min_length=1, max_length=100, description="Username of a person of the caller's agency."
    )


class ReportIn(BaseModel):
    model_config = input_config({"report": "Eight lessons given; grades up from 3 to 4"})

    report: FreeText = Field(min_length=1, max_length=4000)


class CompletionIn(BaseModel):
    model_config = input_config({"completed_on": "2026-04-10"})

    completed_on: IsoDate = Field(description="Not in the future (PLN-9).")


class ReturnIn(BaseModel):
    model_config = input_config(
        {"mode": "rework", "reason": "No report from the school", "new_deadline": "2026-05-15"}
    )

    mode: ReturnMode
    reason: FreeText = Field(min_length=1, max_length=4000)
    new_deadline: IsoDate = Field(description="After today and within the plan term (PLN-8).")

    def to_proto(self, measure_id: UUID) -> pb.ReturnMeasureRequest:
        return pb.ReturnMeasureRequest(
            measure_id=str(measure_id),
            mode=RETURN_MODES.to_proto(self.mode),
            reason=self.reason,
            new_deadline=self.new_deadline.isoformat(),
        )


# --- responses ------------------------------------------------------------------------------


class Measure(BaseModel):
    """One measure of a plan; its title and target may name family members (REG-9)."""

    id: UUID
    plan_id: UUID
    case_id: UUID | None
    territory: str
    center_id: str
    agency_id: str
    agency_type: str
    kind: MeasureKind
    title: str
    target: str
    deadline: date = Field(description="Moved by a return (PLN-8).")
    state: MeasureState
    sent_at: datetime | None
    assignee: str | None = Field(description="The agency's responsible person (PLN-6).")
    assigned_at: datetime | None
    reported_at: datetime | None
    report: str | None
    reported_on_time: bool | None = Field(description="By the deadline (PLN-7); null until then.")
    return_reason: str | None
    return_mode: ReturnMode | None
    returns: int
    completed_on: date | None
    obligations: list[Obligation]
    agency_name: str | None = Field(description="The responsible organisation (seed 003 4.2).")
    agency_contact: AgencyContact | None
    decline_reason: DeclineReason | None = Field(description="Set while `declined`.")
    decline_comment: str | None
    changes: list[MeasureChange] = Field(
        description="Every routing and amendment, oldest first (PLN-13)."
    )

    @classmethod
    def from_proto(cls, msg: pb.Measure) -> Measure:
        reported_at = when(msg, "reported_at")
        return cls(
            id=msg.id,
            plan_id=msg.plan_id,
            case_id=msg.case_id or None,
            territory=msg.territory,
            center_id=msg.center_id,
            agency_id=msg.agency_id,
            agency_type=msg.agency_type,
            kind=MEASURE_KINDS.from_proto(msg.kind),
            title=msg.title,
            target=msg.target,
            deadline=msg.deadline,
            state=MEASURE_STATES.from_proto(msg.state),
            sent_at=when(msg, "sent_at"),
            assignee=msg.assignee or None,
            assigned_at=when(msg, "assigned_at"),
            reported_at=reported_at,
            report=msg.report or None,
            reported_on_time=msg.reported_on_time if reported_at is not None else None,
            return_reason=msg.return_reason or None,
            return_mode=RETURN_MODES.from_proto(msg.return_mode) if msg.return_mode else None,
            returns=msg.returns,
            completed_on=parse_date(msg.completed_on),
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
            agency_name=msg.agency_name or None,
            agency_contact=AgencyContact.from_proto(msg.agency_contact)
            if msg.HasField("agency_contact")
            else None,
            decline_reason=msg.decline_reason or None,
            decline_comment=msg.decline_comment or None,
            changes=[MeasureChange.from_proto(c) for c in msg.changes],
        )


class Plan(BaseModel):
    """The individual work plan of one family with all its measures (PLN-1)."""

    id: UUID
    center_id: str
    territory: str
    case_id: UUID | None
    situation: Situation
    support_level: SupportLevel | None
    state: PlanState
    created_by: str
    created_at: datetime
    approved_by: str | None
    approved_at: datetime | None
    approval_decision: str | None
    term_ends_at: datetime = Field(description="The latest end of the plan (PLN-1).")
    measures: list[Measure]
    family_id: UUID | None = Field(description="The case's family, once intake announced it.")
    applied_on: date | None
    submitted_by: str | None
    submitted_at: datetime | None
    participants: list[Participant] = Field(description="Who drafted it with the family (PLN-3).")
    reviews: list[Review] = Field(description="Interim and final reviews (PLN-13).")
    level_changes: list[SupportLevelChange] = Field(description="Support-level changes (PLN-14).")
    closure: Closure | None = Field(description="The closure and the monitoring after it.")
    revises_plan_id: UUID | None
    revised_by_plan_id: UUID | None
    history: list[PlanAct] = Field(description="Every act of the plan's life, oldest first.")
    obligations: list[Obligation] = Field(
        description="The plan's own terms (PLN-1, PLN-4, PLN-12, PLN-13)."
    )

    @classmethod
    def from_proto(cls, msg: pb.Plan) -> Plan:
        return cls(
            id=msg.id,
            center_id=msg.center_id,
            territory=msg.territory,
            case_id=msg.case_id or None,
            situation=SITUATIONS.from_proto(msg.situation),
            support_level=SUPPORT_LEVELS.from_proto(msg.support_level)
            if msg.support_level
            else None,
            state=PLAN_STATES.from_proto(msg.state),
            created_by=msg.created_by,
            created_at=at(msg, "created_at"),
            approved_by=msg.approved_by or None,
            approved_at=when(msg, "approved_at"),
            approval_decision=msg.approval_decision or None,
            term_ends_at=at(msg, "term_ends_at"),
            measures=[Measure.from_proto(m) for m in msg.measures],
            family_id=msg.family_id or None,
            applied_on=parse_date(msg.applied_on),
            submitted_by=msg.submitted_by or None,
            submitted_at=when(msg, "submitted_at"),
            participants=[Participant.from_proto(p) for p in msg.participants],
            reviews=[Review.from_proto(r) for r in msg.reviews],
            level_changes=[SupportLevelChange.from_proto(c) for c in msg.level_changes],
            closure=Closure.from_proto(msg.closure) if msg.HasField("closure") else None,
            revises_plan_id=msg.revises_plan_id or None,
            revised_by_plan_id=msg.revised_by_plan_id or None,
            history=[PlanAct.from_proto(a) for a in msg.history],
            obligations=[Obligation.from_proto(o) for o in msg.obligations],
        )


class MeasurePage(BaseModel):
    """One page of the measures sent to the caller's agency (PLN-15)."""

    items: list[Measure]
    next_page_token: str | None = Field(description=NEXT_PAGE_TOKEN_DESCRIPTION)

    @classmethod
    def from_proto(cls, msg: pb.ListMyMeasuresResponse) -> MeasurePage:
        return cls(
            items=[Measure.from_proto(m) for m in msg.measures],
            next_page_token=page_token_out(msg.next_page_token),
        )
