"""The life of a plan as a state machine: which act moves it from which state to which, and the
rules each act checks (PLN-1, PLN-3, PLN-4, PLN-10 … PLN-14). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from kamqor.errors import Conflict, Forbidden, Invalid
from kamqor.profiles import Profile
from plans.rules import MAX_TEXT, PlanState, SupportLevel, check_text

INTERIM_RULE = "PLN-13/interim"
FINAL_RULE = "PLN-13/final"
DRAFT_RULE = "PLN-4/draft"
APPROVE_RULE = "PLN-4/approve"
MONITORING_RULE = "PLN-12"
# PLN-12: "3 to 6 months" of monitoring after closure; the profile's PLN-12 term (Kazakhstan)
# sets the bounds, elsewhere the rule's own figures apply without an obligation.
MONITORING_MIN_MONTHS = 3
MONITORING_MAX_MONTHS = 6
MAX_PARTICIPANTS = 30
MAX_NAME = 200


class Act(StrEnum):
    SUBMIT = "submit"
    APPROVE = "approve"
    OPEN_REVIEW = "open_review"
    CONCLUDE_REVIEW = "conclude_review"
    EXTEND = "extend"
    CLOSE = "close"
    END_MONITORING = "end_monitoring"
    REOPEN = "reopen"
    CHANGE_LEVEL = "change_level"


S = PlanState
IN_FORCE = frozenset({S.APPROVED, S.UNDER_REVIEW})
# From which states each act may start, and the state it leaves (None: the state is kept).
TRANSITIONS: Mapping[Act, tuple[frozenset[PlanState], PlanState | None]] = {
    Act.SUBMIT: (frozenset({S.DRAFT}), S.SUBMITTED),
    Act.APPROVE: (frozenset({S.SUBMITTED}), S.APPROVED),
    Act.OPEN_REVIEW: (frozenset({S.APPROVED}), S.UNDER_REVIEW),
    Act.CONCLUDE_REVIEW: (frozenset({S.UNDER_REVIEW}), S.APPROVED),
    Act.EXTEND: (IN_FORCE, None),
    Act.CHANGE_LEVEL: (IN_FORCE, None),
    Act.CLOSE: (IN_FORCE, S.MONITORING),
    Act.END_MONITORING: (frozenset({S.MONITORING}), S.CLOSED),
    Act.REOPEN: (frozenset({S.MONITORING}), S.REOPENED),
}


def transition(state: str, act: Act) -> PlanState:
    """The state after `act`, or a Conflict naming the state the plan is in."""
    sources, target = TRANSITIONS[act]
    current = PlanState(state)
    if current not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise Conflict(
            f"a {current.value} plan cannot {act.value.replace('_', ' ')} "
            f"(only a plan that is {allowed})",
            code="plan-state",
        )
    return target or current


def check_amendable(state: str) -> None:
    """Measures are added, changed or cancelled at a review (PLN-13), not behind the approval."""
    if state != PlanState.UNDER_REVIEW:
        raise Conflict(
            f"a {state} plan cannot be amended: measures change at a review (PLN-13)",
            code="plan-state",
        )


def check_four_eyes(actor: str, *, others: Sequence[str], act: str) -> None:
    """Whoever drafted or submitted a plan cannot approve it; the case worker cannot close it."""
    if actor in {o for o in others if o}:
        raise Forbidden(f"{act}: someone other than the plan's author must decide (four eyes)")


# PLN-3: who drafts the plan with the family.
class ParticipantRole(StrEnum):
    FAMILY = "family"
    LAWYER = "lawyer"
    PSYCHOLOGIST = "psychologist"
    SOCIAL_PEDAGOGUE = "social_pedagogue"
    MEDICAL_WORKER = "medical_worker"
    SOCIAL_WORKER = "social_worker"
    POLICE = "police"
    NGO = "ngo"


@dataclass(frozen=True)
class Participant:
    role: ParticipantRole
    name: str
    organisation: str


def check_participants(participants: Sequence[Participant]) -> list[Participant]:
    """The plan is drafted with the family (PLN-3): at least one family member takes part; the
    specialists are those the case needs."""
    if len(participants) > MAX_PARTICIPANTS:
        raise Invalid("participants", f"at most {MAX_PARTICIPANTS}")
    out = [
        Participant(
            role=p.role,
            name=check_text(p.name, field=f"participants[{i}].name", limit=MAX_NAME),
            organisation=check_text(
                p.organisation,
                field=f"participants[{i}].organisation",
                limit=MAX_NAME,
                required=False,
            ),
        )
        for i, p in enumerate(participants)
    ]
    if not any(p.role == ParticipantRole.FAMILY for p in out):
        raise Invalid("participants", "the plan is drafted with the family: name a member (PLN-3)")
    return out


# PLN-10: the grounds every profile has; a profile adds its own (`plan_closure_grounds`).
class Ground(StrEnum):
    RESULT_ACHIEVED = "result_achieved"
    FAMILY_REFUSED = "family_refused"
    FAMILY_NONCOMPLIANCE = "family_noncompliance"
    OTHER_CONFIRMED = "other_confirmed"
    RESULT_IMPOSSIBLE = "result_impossible"


COMMON_GROUNDS = (
    Ground.RESULT_ACHIEVED,
    Ground.FAMILY_REFUSED,
    Ground.FAMILY_NONCOMPLIANCE,
    Ground.OTHER_CONFIRMED,
)


def grounds(profile: Profile) -> tuple[str, ...]:
    extra = tuple(profile.current.data.plan_closure_grounds)
    return tuple(g.value for g in COMMON_GROUNDS) + extra


def check_closure(
    *, ground: str, explanation: str, open_measures: int, profile: Profile
) -> tuple[Ground, str]:
    """Closure only on a ground of the list (PLN-10); "result achieved" only when every measure
    is completed; "other" grounds must be explained (confirmed individual grounds)."""
    allowed = grounds(profile)
    if ground not in allowed:
        raise Invalid("ground", f"must be one of {list(allowed)} (PLN-10)")
    chosen = Ground(ground)
    explanation = check_text(
        explanation,
        field="explanation",
        limit=MAX_TEXT,
        required=chosen in (Ground.OTHER_CONFIRMED, Ground.RESULT_IMPOSSIBLE),
    )
    if chosen == Ground.RESULT_ACHIEVED and open_measures:
        raise Conflict(
            f"the result is achieved when all measures are completed; {open_measures} are not "
            "(PLN-10)",
            code="measures-open",
        )
    return chosen, explanation


# PLN-14: the four directions the regulation counts (seed 002, indicators 2.1-2.4).
DIRECTIONS: Mapping[tuple[str, str], tuple[str, str]] = {
    (SupportLevel.BASIC, SupportLevel.CRISIS): ("worse", "basic_to_crisis"),
    (SupportLevel.ADAPTATION, SupportLevel.CRISIS): ("worse", "adaptation_to_crisis"),
    (SupportLevel.CRISIS, SupportLevel.BASIC): ("better", "crisis_to_basic"),
    (SupportLevel.ADAPTATION, SupportLevel.BASIC): ("better", "adaptation_to_basic"),
}


def direction(from_level: SupportLevel, to_level: SupportLevel) -> tuple[str, str]:
    """(worse|better|other, indicator key or "") of a support-level change (PLN-14). Changes the
    regulation does not count (e.g. to the emergency level) are recorded as "other"."""
    if from_level == to_level:
        raise Invalid("to_level", "is the person's level already")
    return DIRECTIONS.get((from_level, to_level), ("other", ""))


class ReviewKind(StrEnum):
    INTERIM = "interim"
    FINAL = "final"


class ReviewDecision(StrEnum):
    """The final review decides to continue or to close (PLN-13); extension is Yugra's third way
    (PLN-1), decided apart on the person's written request."""

    CONTINUE = "continue"
    EXTEND = "extend"
    CLOSE = "close"


def review_rule(kind: ReviewKind) -> str:
    return INTERIM_RULE if kind == ReviewKind.INTERIM else FINAL_RULE


def check_extension(
    profile: Profile,
    *,
    approved_at: datetime,
    current_end: datetime,
    new_end: datetime,
    request_received_on: date,
    today: date,
) -> None:
    """PLN-1 (Yugra): extendable on the person's written request, by the working group, to at
    most the profile's limit counted from approval."""
    plan = profile.current.data.plan_term
    if plan.extension_max_months is None:
        raise Conflict(
            f"plans are not extended in the {profile.name} profile (PLN-1)", code="no-extension"
        )
    if request_received_on > today:
        raise Invalid("request_received_on", "is in the future")
    if new_end <= current_end:
        raise Invalid("months", "the extension must move the term's end later")
    limit = profile.at(approved_at).deadline(
        "PLN-1", "months", plan.extension_max_months, approved_at
    )
    if new_end > limit.due_at:
        raise Invalid(
            "months",
            f"the term may be extended to at most {plan.extension_max_months} months from "
            f"approval, until {limit.due_at.date().isoformat()} (PLN-1)",
        )
