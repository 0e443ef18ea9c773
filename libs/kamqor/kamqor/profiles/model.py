"""The shape of a policy profile file (`profiles/data/<name>.yaml`), as pydantic models.

One `ProfileData` is one version of a profile with everything resolved; the file holds the
first version at the top level and later versions as `amendments` (patches, see `loader.py`).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PositiveInt, field_validator, model_validator

from kamqor.calendar.terms import DAY_OF_MONTH_KINDS, TermKind

Approver = Literal["center", "center_head", "working_group", "commission"]
RULE_KEY = r"^[A-Z]{3}-\d+(/[a-z][a-z0-9-]*)?$"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Term(_Strict):
    """A legal term. `amount` is a count, or for day-of-month kinds the day (PLN-7: 5)."""

    kind: TermKind
    amount: PositiveInt
    # A floor for ranges such as PLN-12 "3 to 6 months": `amount` is the deadline.
    min_amount: PositiveInt | None = None
    # Which term a bare rule id (`INT-3`) means when the rule sets several.
    primary: bool = False
    # The clause the term comes from, or why it is a convention: shown when a deadline is explained.
    source: str = Field(min_length=1)
    # A term the jurisdiction's regulation does not set (DOMAIN.md's Terms index does not bind this
    # profile to it), kept as the region's own practice, never as law; `source` says whose.
    local_practice: bool = False

    @model_validator(mode="after")
    def _coherent(self) -> Term:
        if self.kind in DAY_OF_MONTH_KINDS and self.amount > 28:
            raise ValueError("amount: a day of the month must be <= 28, which every month has")
        if self.min_amount is not None and self.min_amount > self.amount:
            raise ValueError("min_amount: must be <= amount")
        return self


class Lead(_Strict):
    """How long before the due time an obligation counts as approaching: exactly one field."""

    fraction: float | None = Field(default=None, gt=0, lt=1)
    hours: PositiveInt | None = None
    days: PositiveInt | None = None

    @model_validator(mode="after")
    def _one(self) -> Lead:
        if sum(v is not None for v in (self.fraction, self.hours, self.days)) != 1:
            raise ValueError("give exactly one of fraction, hours, days")
        return self

    def before(self, span: timedelta) -> timedelta:
        """The lead for a term whose whole span, event to due time, is `span`."""
        if self.fraction is not None:
            return max(span, timedelta(0)) * self.fraction
        if self.hours is not None:
            return timedelta(hours=self.hours)
        return timedelta(days=self.days or 0)


class ApproachingLead(_Strict):
    """Precedence: `rules` (full key, then bare rule id), then `kinds`, then `default`."""

    default: Lead
    kinds: dict[TermKind, Lead] = {}
    rules: dict[str, Lead] = {}


class Sign(_Strict):
    code: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    ru: str
    en: str


class SupportLevel(_Strict):
    """INT-6: a support level, the longest support it allows, and the signs that call for it."""

    code: str = Field(pattern=r"^[a-z][a-z_]*$")
    ru: str
    en: str
    max_months: PositiveInt
    signs: list[Sign] = Field(min_length=1)


class CaseloadLimits(_Strict):
    """INT-9: the recommended most families per case worker at each support level. A
    recommendation, not a prohibition: assigning past it is allowed, warned about and recorded
    with who decided (MON-4 counts it); no approval is asked for."""

    per_level: dict[str, PositiveInt] = {}

    def limit_for(self, level: str) -> int | None:
        return self.per_level.get(level)


class PlanTerm(_Strict):
    """PLN-1: how long a plan may run."""

    max_months: PositiveInt | None
    # Irkutsk: the plan runs as long as its support level allows (INT-6).
    by_support_level: bool = False
    # Yugra: extendable on the person's written request, by the working group's decision.
    extension_max_months: PositiveInt | None = None
    extension_approved_by: Approver | None = None
    # Bashkortostan: the commission sets each programme's term.
    set_by: Approver | None = None
    source: str = Field(min_length=1)


class Approvals(_Strict):
    """PLN-4 and REG-2: who approves what; None where the profile has no such track."""

    plan_dls: Approver
    plan_sdp: Approver | None = None
    plan_extension: Approver | None = None
    registry_decisions: Approver | None = None


class Shelter(_Strict):
    """SHL-*: whether the center runs crisis stays, and the terms and notices that go with them."""

    stays: bool
    stay_term: str | None = Field(default=None, pattern=RULE_KEY)
    minors_notice_term: str | None = Field(default=None, pattern=RULE_KEY)
    notify: list[str] = []
    notice_in_writing: bool = False
    child_placement_via: str | None = None


class Notices(_Strict):
    """NTF-7: an undelivered or unacknowledged notice escalates to the center head
    `escalate_before` its due time (a fraction of the span from creation to due time, or hours);
    a delivered notice still unacknowledged after `acknowledgement_reminder_hours` reminds the
    sending center, per recipient."""

    escalate_before: Lead = Lead(fraction=0.25)
    acknowledgement_reminder_hours: PositiveInt = 4

    @model_validator(mode="after")
    def _escalates_before_due(self) -> Notices:
        if self.escalate_before.days is not None and self.escalate_before.days > 30:
            raise ValueError("escalate_before: at most 30 days before the due time")
        return self


class ProfileData(_Strict):
    name: str = Field(pattern=r"^[a-z]{2}(-[a-z]{2,3})?$")
    title: str
    version: str = Field(min_length=1, max_length=40)
    effective_from: date
    calendar: str
    zone: str
    # Checked against tzdata at load: an old tzdata (Kazakhstan moved to +05 on 2024-03-01)
    # must stop start-up, not skew every deadline by an hour.
    utc_offset: str = Field(pattern=r"^[+-]\d\d:\d\d$")
    terms: dict[str, Term] = Field(min_length=1)
    approaching_lead: ApproachingLead
    plan_term: PlanTerm
    # INT-6: the level is set for each person supported, from these levels' signs.
    support_levels: list[SupportLevel] = []
    # INT-6: the level every member of a family in an SDP is supported at, where the regulation
    # fixes one (Irkutsk: emergency, seed 002 p. 4); a code of `support_levels`.
    sdp_support_level: str | None = None
    # INT-5: a DLS case proceeds on consent and, where set, a support contract (Irkutsk).
    support_contract_required: bool = False
    caseload_limits: CaseloadLimits = CaseloadLimits()
    approvals: Approvals
    # PLN-10: grounds for ending a plan beyond the four every regulation names (Yugra: the result
    # is impossible, by the working group's decision).
    plan_closure_grounds: list[str] = []
    shelter: Shelter
    notices: Notices = Notices()

    @field_validator("zone")
    @classmethod
    def _zone_exists(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r} (is tzdata installed?)") from None
        return value
