"""Individual work plan rules: pure functions, no I/O (PLN-1, PLN-2, PLN-4..PLN-9, PLN-15)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from kamqor.auth import AGENCY_TYPES
from kamqor.errors import Conflict, Invalid
from kamqor.profiles import Approvals, Deadline, Profile

# The plan's term (PLN-1) is an obligation of the center from approval: its due time is the
# latest end of support, computed from the profile (and support level where the profile says so).
TERM_RULE = "PLN-1"
SEND_RULE = "PLN-5"
DESIGNATE_RULE = "PLN-6"
CENTER_AGENCY_TYPE = "family_center"
MAX_MEASURES = 100
MAX_TITLE = 500
MAX_TARGET = 200
MAX_AGENCY = 100
MAX_TEXT = 4000
MAX_DECISION = 200
MAX_USERNAME = 100


class Situation(StrEnum):
    """Why the family is supported; it decides who approves the plan (PLN-4)."""

    DLS = "dls"
    SDP = "sdp"


class SupportLevel(StrEnum):
    """The assessment's support level (INT-6); some profiles derive the plan term from it."""

    ADAPTATION = "adaptation"
    BASIC = "basic"
    CRISIS = "crisis"
    EMERGENCY = "emergency"


class PlanState(StrEnum):
    """Where a plan is in its life; the transitions are in `plans.rules.lifecycle`."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    # Approved and in force ("active") until closed.
    APPROVED = "approved"
    UNDER_REVIEW = "under_review"
    # Closed; the family's situation is monitored (PLN-12).
    MONITORING = "monitoring"
    CLOSED = "closed"
    # Monitoring found the situation worse: a revised plan took over (PLN-12).
    REOPENED = "reopened"


class MeasureKind(StrEnum):
    """Kinds of state support, plus the family's own participation (PLN-2)."""

    MEDICAL = "medical"
    PSYCHOLOGICAL = "psychological"
    PEDAGOGICAL = "pedagogical"
    LEGAL = "legal"
    SOCIAL = "social"
    EMPLOYMENT = "employment"
    HOUSING = "housing"
    FAMILY_PARTICIPATION = "family_participation"


class MeasureState(StrEnum):
    DRAFT = "draft"
    SENT = "sent"
    ASSIGNED = "assigned"
    REPORTED = "reported"
    RETURNED = "returned"
    COMPLETED = "completed"
    # Declined by its agency; the center re-routes it (closed-loop referral, `rules.routing`).
    DECLINED = "declined"
    # Cancelled at a review (PLN-13).
    CANCELLED = "cancelled"


# Measures owed nothing more: done, or cancelled at a review (PLN-9, PLN-13).
FINISHED_MEASURE_STATES = frozenset({"completed", "cancelled"})


class ReturnMode(StrEnum):
    """The seed's two ways back: rework, or repeat execution (PLN-8)."""

    REWORK = "rework"
    REPEAT = "repeat"


# PLN-4: who approves is profile data (`approvals`); these are the realm roles that act for
# each approving body. The interagency working group sits at the center, and its decision is
# recorded by the center head; the commission's by a commission member.
APPROVER_ROLES: Mapping[str, tuple[str, ...]] = {
    "center": ("center-head",),
    "center_head": ("center-head",),
    "working_group": ("center-head",),
    "commission": ("commission-member",),
}
ANY_APPROVER_ROLE = tuple(sorted({r for roles in APPROVER_ROLES.values() for r in roles}))
# The bodies that extend a plan's term (PLN-1: Yugra's working group) act through these roles.
EXTENDER_ROLES = tuple(
    sorted({r for body in ("working_group", "center", "center_head") for r in APPROVER_ROLES[body]})
)
# Bodies of the plan's own center: their approver must belong to that center.
CENTER_APPROVERS = frozenset({"center", "center_head", "working_group"})
CENTER_ROLES = ("case-worker",)
PLAN_READERS = ("case-worker", "center-head", "commission-member")
AGENCY_ROLES = ("agency-coordinator", "agency-assignee")


@dataclass(frozen=True)
class MeasureIn:
    agency_id: str
    agency_type: str
    kind: MeasureKind
    title: str
    target: str
    deadline: date


def approver_for(situation: Situation, approvals: Approvals) -> str:
    """The body that approves plans of this situation in the profile (PLN-4)."""
    approver = approvals.plan_dls if situation == Situation.DLS else approvals.plan_sdp
    if approver is None:
        raise Conflict(
            f"this territory's policy profile has no {situation.value.upper()} plans: "
            "no body approves them (PLN-4)",
            code="no-approver",
        )
    return approver


def approver_roles(approver: str) -> tuple[str, ...]:
    return APPROVER_ROLES[approver]


def plan_term(profile: Profile, *, at: datetime, support_level: SupportLevel | None) -> Deadline:
    """The latest end of a plan starting at `at`: the profile's plan term, or where the profile
    says so the support level's longest support (PLN-1, INT-6)."""
    levels = {level.code for level in profile.support_levels}
    if profile.plan_term.by_support_level and support_level is None:
        raise Invalid(
            "support_level", "is required here: the plan term follows the support level (PLN-1)"
        )
    if support_level is not None and levels and support_level.value not in levels:
        raise Invalid("support_level", f"must be one of {sorted(levels)}")
    level = support_level.value if support_level is not None and levels else None
    return profile.plan_end(at, level)


def approved_term(
    profile: Profile, *, at: datetime, support_level: SupportLevel | None, term_months: int
) -> Deadline:
    """The term from approval (PLN-1): set by the approving body where the profile says so
    (Bashkortostan: the commission, seed 004), within the profile's ceiling; fixed elsewhere."""
    ceiling = profile.plan_term.max_months
    if profile.plan_term.set_by is None:
        if term_months:
            raise Invalid("term_months", "the profile fixes the plan term: leave it out (PLN-1)")
        return plan_term(profile, at=at, support_level=support_level)
    if term_months <= 0:
        raise Invalid(
            "term_months", f"is required: the {profile.plan_term.set_by} sets the term (PLN-1)"
        )
    if ceiling is not None and term_months > ceiling:
        raise Invalid("term_months", f"at most {ceiling} months (PLN-1)")
    return profile.at(at).deadline(TERM_RULE, "months", term_months, at)


def plan_term_end(
    profile: Profile, *, at: datetime, support_level: SupportLevel | None
) -> datetime:
    """When a plan starting at `at` must end at the latest (PLN-1); see `plan_term`."""
    return plan_term(profile, at=at, support_level=support_level).due_at


def check_text(value: str, *, field: str, limit: int, required: bool = True) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(field, "is required")
    if len(value) > limit:
        raise Invalid(field, f"at most {limit} characters")
    return value


def check_measures(
    drafts: Sequence[MeasureIn], *, center_id: str, today: date, term_ends_on: date
) -> list[MeasureIn]:
    """Every measure has an agency, a kind and a deadline within the plan term (PLN-1, PLN-2).

    The family's own participation is followed up by the center itself, so its agency is the
    center (PLN-2 lists those measures apart from the agencies' state support).
    """
    if not drafts:
        raise Invalid("measures", "a plan needs at least one measure (PLN-2)")
    if len(drafts) > MAX_MEASURES:
        raise Invalid("measures", f"at most {MAX_MEASURES}")
    out: list[MeasureIn] = []
    for i, m in enumerate(drafts):
        field = f"measures[{i}]"
        agency_id, agency_type = m.agency_id.strip(), m.agency_type.strip()
        if m.kind == MeasureKind.FAMILY_PARTICIPATION:
            if agency_id and agency_id != center_id:
                raise Invalid(
                    f"{field}.agency_id",
                    "the family's own participation is followed up by the center (PLN-2)",
                )
            agency_id, agency_type = center_id, CENTER_AGENCY_TYPE
        else:
            agency_id = check_text(agency_id, field=f"{field}.agency_id", limit=MAX_AGENCY)
            # The directory knows the agency's type (`plans.service.agencies`); a given one
            # must at least be a type.
            if agency_type and agency_type not in AGENCY_TYPES:
                raise Invalid(f"{field}.agency_type", f"must be one of {sorted(AGENCY_TYPES)}")
        if m.deadline < today:
            raise Invalid(f"{field}.deadline", "is in the past")
        if m.deadline > term_ends_on:
            raise Invalid(
                f"{field}.deadline",
                f"must be within the plan term, on or before {term_ends_on.isoformat()} (PLN-1)",
            )
        out.append(
            MeasureIn(
                agency_id=agency_id,
                agency_type=agency_type,
                kind=m.kind,
                title=check_text(m.title, field=f"{field}.title", limit=MAX_TITLE),
                target=check_text(
                    m.target, field=f"{field}.target", limit=MAX_TARGET, required=False
                ),
                deadline=m.deadline,
            )
        )
    return out


def check_approvable(state: str, measures: int) -> None:
    if state != PlanState.SUBMITTED:
        if state == PlanState.DRAFT:
            raise Conflict("the plan is not submitted for approval yet (PLN-4)", code="plan-state")
        raise Conflict("the plan is already approved", code="plan-approved")
    if measures == 0:
        raise Conflict("a plan without measures cannot be approved (PLN-2)", code="no-measures")


def is_sent_to_agency(agency_id: str, center_id: str) -> bool:
    """After approval a measure goes to its agency (PLN-5), unless the center carries it itself."""
    return agency_id != center_id


def state_after_approval(agency_id: str, center_id: str) -> MeasureState:
    """Sent measures wait for a responsible person (PLN-6); the center's own are assigned."""
    if is_sent_to_agency(agency_id, center_id):
        return MeasureState.SENT
    return MeasureState.ASSIGNED


def check_designation(state: str) -> bool:
    """A responsible person is designated once sent, or replaced while work goes on (PLN-6).

    Returns True when this is the first designation, which meets the PLN-6 term.
    """
    if state == MeasureState.SENT:
        return True
    if state in (MeasureState.ASSIGNED, MeasureState.RETURNED):
        return False
    raise Conflict(
        f"a responsible person cannot be designated for a {state} measure (PLN-6)",
        code="measure-state",
    )


def check_report(state: str, *, assignee: str, reporter: str) -> None:
    """The designated responsible person reports execution (PLN-7)."""
    if state == MeasureState.SENT:
        raise Conflict("no responsible person is designated yet (PLN-6)", code="no-assignee")
    if state not in (MeasureState.ASSIGNED, MeasureState.RETURNED):
        raise Conflict(f"a {state} measure cannot be reported on (PLN-7)", code="measure-state")
    if reporter != assignee:
        raise Conflict(
            "only the designated responsible person reports on the measure (PLN-7)",
            code="not-assignee",
        )


def on_time(at: datetime, deadline: date, zone: ZoneInfo) -> bool:
    """Done by the deadline: any time on the deadline day, in the jurisdiction's zone (PLN-7)."""
    return at.astimezone(zone).date() <= deadline


def check_completion(
    state: str, *, sent_to_agency: bool, completed_on: date, today: date, started_on: date
) -> None:
    """Completed when fully done (PLN-9): after the agency's report, or for the center's own
    measures whenever the center sees them done; the date is neither future nor before the start.
    """
    if state == MeasureState.COMPLETED:
        raise Conflict("the measure is already completed", code="measure-completed")
    allowed = (
        (MeasureState.REPORTED,)
        if sent_to_agency
        else (MeasureState.ASSIGNED, MeasureState.REPORTED, MeasureState.RETURNED)
    )
    if state not in allowed:
        raise Conflict(
            f"a {state} measure cannot be completed: the agency reports first (PLN-7, PLN-9)",
            code="measure-state",
        )
    if completed_on > today:
        raise Invalid("completed_on", "is in the future")
    if completed_on < started_on:
        raise Invalid("completed_on", "is before the measure was sent")


def check_return(
    state: str, *, reason: str, new_deadline: date, today: date, term_ends_on: date
) -> str:
    """Not done, or done badly: back for rework or repeat execution with a reason and a new
    deadline within the plan term (PLN-8, PLN-1). Returns the cleaned reason."""
    if state not in (MeasureState.ASSIGNED, MeasureState.REPORTED, MeasureState.RETURNED):
        raise Conflict(f"a {state} measure cannot be returned (PLN-8)", code="measure-state")
    reason = check_text(reason, field="reason", limit=MAX_TEXT)
    if new_deadline <= today:
        raise Invalid("new_deadline", "must be after today (PLN-8)")
    if new_deadline > term_ends_on:
        raise Invalid(
            "new_deadline",
            f"must be within the plan term, on or before {term_ends_on.isoformat()} (PLN-1)",
        )
    return reason
