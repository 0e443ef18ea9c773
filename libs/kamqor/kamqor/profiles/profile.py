"""A policy profile at run time: terms, deadlines and approaching times for one jurisdiction.

Domain code asks the profile (`due`, `has_rule`, `plan_term`, ...) and never branches on a
jurisdiction's name. A profile has versions with effective dates; a deadline is computed with the
version, and the calendar revision, in force at the event's instant, and records both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from kamqor.calendar.data import get_calendar
from kamqor.calendar.model import WorkingCalendar
from kamqor.calendar.terms import CALENDAR_FREE_KINDS, TermKind, compute, local_date
from kamqor.clock import utcnow
from kamqor.profiles.errors import ProfileError, UnknownRule
from kamqor.profiles.model import (
    Approvals,
    CaseloadLimits,
    Lead,
    PlanTerm,
    ProfileData,
    Shelter,
    SupportLevel,
    Term,
)


@dataclass(frozen=True)
class Deadline:
    """A computed due time and everything needed to explain it later."""

    rule: str
    profile: str
    profile_version: str
    calendar_version: str
    due_at: datetime
    kind: TermKind
    amount: int


class ProfileVersion:
    """One version of a profile, as it applies from `effective_from` (local midnight)."""

    def __init__(self, data: ProfileData) -> None:
        self.data = data
        self.zone = ZoneInfo(data.zone)
        self.starts_at = datetime.combine(data.effective_from, time(), tzinfo=self.zone)

    def has_rule(self, key: str) -> bool:
        return key in self.data.terms or any(k.split("/")[0] == key for k in self.data.terms)

    def resolve(self, key: str) -> str:
        """The term key `key` names: itself, or for a bare rule id its primary (or only) term."""
        terms = self.data.terms
        if key in terms:
            return key
        keys = [k for k in terms if k.split("/")[0] == key]
        primary = [k for k in keys if terms[k].primary]
        if primary or len(keys) == 1:
            return (primary or keys)[0]
        if keys:
            raise UnknownRule(
                f"profile {self.data.name!r}: rule {key} has several terms "
                f"({', '.join(keys)}) and none is primary; name one"
            )
        raise UnknownRule(f"profile {self.data.name!r} has no term for rule {key!r}")

    def term(self, key: str) -> Term:
        return self.data.terms[self.resolve(key)]

    def calendar(self, at: datetime, *, data_on: date | None = None) -> WorkingCalendar:
        """The calendar as its data stood at `at`, or on `data_on` when given."""
        return get_calendar(self.data.calendar, on=data_on or local_date(at, self.zone))

    def due(self, key: str, at: datetime) -> Deadline:
        rule = self.resolve(key)
        term = self.data.terms[rule]
        return self.deadline(rule, term.kind, term.amount, at)

    def deadline(
        self, rule: str, kind: TermKind, amount: int, at: datetime, *, data_on: date | None = None
    ) -> Deadline:
        """A term of `kind` and `amount` counted from `at` in this version's calendar and zone,
        on the calendar data in force at `at`, or on `data_on`: a re-plan counts the same term
        on today's data, which knows the decrees published since (`kamqor.replanning`)."""
        calendar = self.calendar(at, data_on=data_on)
        due_at = compute(kind, amount, at, calendar=calendar, zone=self.zone)
        if kind in CALENDAR_FREE_KINDS:
            calendar_version = calendar.version
        else:
            span = sorted((local_date(at, self.zone), local_date(due_at, self.zone)))
            calendar_version = calendar.version_for(span[0], span[1])
        return Deadline(
            rule=rule,
            profile=self.data.name,
            profile_version=self.data.version,
            calendar_version=calendar_version,
            due_at=due_at,
            kind=kind,
            amount=amount,
        )

    def lead(self, key: str) -> Lead:
        # A due time the use case computed itself (a measure's own deadline, PLN-7) may name a
        # rule this profile sets no term for: the rule's or the default lead applies.
        rule = self.resolve(key) if self.has_rule(key) else key
        leads = self.data.approaching_lead
        for candidate in (rule, rule.split("/")[0]):
            if candidate in leads.rules:
                return leads.rules[candidate]
        term = self.data.terms.get(rule)
        return leads.default if term is None else leads.kinds.get(term.kind, leads.default)

    def approaching_at(self, key: str, at: datetime, due_at: datetime) -> datetime:
        moment = due_at - self.lead(key).before(due_at - at)
        # Never before the event itself, for terms that run forward from it.
        if at <= due_at:
            moment = max(moment, at)
        return moment.astimezone(self.zone)


class Profile:
    """All versions of one profile; attributes without an instant describe the one in force now."""

    def __init__(self, versions: list[ProfileData]) -> None:
        if not versions:
            raise ProfileError("a profile needs at least one version")
        self.versions = [ProfileVersion(v) for v in versions]
        self.name = versions[0].name

    def __repr__(self) -> str:
        return f"Profile({self.name!r}, version={self.version!r})"

    def at(self, instant: datetime) -> ProfileVersion:
        """The version in force at `instant` (an aware datetime)."""
        local_date(instant, self.versions[0].zone)
        in_force = [v for v in self.versions if v.starts_at <= instant]
        if not in_force:
            raise ProfileError(
                f"profile {self.name!r} has no version in force at {instant.isoformat()} "
                f"(first from {self.versions[0].starts_at.isoformat()})"
            )
        return in_force[-1]

    @property
    def current(self) -> ProfileVersion:
        return self.at(utcnow())

    @property
    def zone(self) -> ZoneInfo:
        return self.current.zone

    @property
    def version(self) -> str:
        return self.current.data.version

    @property
    def calendar(self) -> WorkingCalendar:
        return get_calendar(self.current.data.calendar)

    @property
    def plan_term(self) -> PlanTerm:
        return self.current.data.plan_term

    @property
    def support_levels(self) -> list[SupportLevel]:
        return self.current.data.support_levels

    @property
    def caseload_limits(self) -> CaseloadLimits:
        return self.current.data.caseload_limits

    @property
    def sdp_support_level(self) -> str | None:
        return self.current.data.sdp_support_level

    @property
    def support_contract_required(self) -> bool:
        return self.current.data.support_contract_required

    @property
    def approvals(self) -> Approvals:
        return self.current.data.approvals

    @property
    def shelter(self) -> Shelter:
        return self.current.data.shelter

    @property
    def terms(self) -> dict[str, Term]:
        return self.current.data.terms

    def has_rule(self, key: str) -> bool:
        """Whether the profile now has a term for this rule id (`SHL-3`) or key (`INT-3/threat`)."""
        return self.current.has_rule(key)

    def term(self, key: str, at: datetime | None = None) -> Term:
        return (self.at(at) if at is not None else self.current).term(key)

    def due(self, key: str, at: datetime) -> Deadline:
        """The deadline of rule `key` for an event at `at`; `due_at` is in the profile's zone."""
        return self.at(at).due(key, at)

    def approaching_at(self, key: str, at: datetime, due_at: datetime) -> datetime:
        """When an obligation arising at `at` and due at `due_at` counts as approaching."""
        return self.at(at).approaching_at(key, at, due_at)

    def plan_end(self, approved_at: datetime, support_level: str | None = None) -> Deadline:
        """PLN-1: when a plan approved at `approved_at` must end (by level, where so)."""
        version = self.at(approved_at)
        deadline = version.due("PLN-1", approved_at)
        plan = version.data.plan_term
        if not (plan.by_support_level and support_level is not None):
            return deadline
        levels = {level.code: level for level in version.data.support_levels}
        if support_level not in levels:
            raise UnknownRule(f"profile {self.name!r} has no support level {support_level!r}")
        return version.deadline("PLN-1", "months", levels[support_level].max_months, approved_at)
