"""Measure routing rules: pure functions, no I/O. A measure goes only to an active agency of the
plan's territory competent for its kind (PLN-2, seed 003 4.2); its deadline is an obligation
(PLN-7); an agency may decline it with a reason from the list and the center re-routes it with a
new clock (closed-loop referral); at a review it may be added, changed or cancelled (PLN-13)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from enum import StrEnum
from typing import Protocol

from kamqor.errors import Conflict, Invalid
from plans.rules import MAX_TEXT, MeasureKind, MeasureState, check_text

# The measure's own deadline as an obligation of its agency (PLN-7): due at the end of the
# deadline day in the territory's zone, met by the report.
DEADLINE_RULE = "PLN-7"
# Sent or at work at the agency: what it may still decline.
DECLINABLE = (MeasureState.SENT, MeasureState.ASSIGNED)
# Finished one way or the other: nothing to amend or cancel any more.
FINISHED = (MeasureState.COMPLETED, MeasureState.CANCELLED)


class DeclineReason(StrEnum):
    NOT_COMPETENT = "not_competent"
    PERSON_UNREACHABLE = "person_unreachable"
    NO_CAPACITY = "no_capacity"
    OTHER = "other"


class ChangeAction(StrEnum):
    ADDED = "added"
    AMENDED = "amended"
    CANCELLED = "cancelled"
    DECLINED = "declined"
    REROUTED = "rerouted"


class DirectoryEntry(Protocol):
    """What the rules read of an agency of the directory."""

    @property
    def id(self) -> str: ...
    @property
    def territory(self) -> str: ...
    @property
    def agency_type(self) -> str: ...
    @property
    def competences(self) -> list[str]: ...
    @property
    def users(self) -> list[str]: ...
    @property
    def active(self) -> bool: ...


def check_routable(
    agency: DirectoryEntry | None,
    *,
    kind: MeasureKind,
    territory: str,
    given_type: str,
    field: str,
) -> str:
    """The agency of a measure exists in the plan's territory, is active and competent for the
    measure's kind (PLN-2); the directory says its type, and a given type must agree.

    `field` is the measure's path (`measures[0]`), empty when the request is about one measure;
    returns the agency's type."""
    agency_field, type_field = _path(field, "agency_id"), _path(field, "agency_type")
    if agency is None or agency.territory != territory:
        raise Invalid(agency_field, "no such agency in the plan's territory (PLN-2)")
    if not agency.active:
        raise Invalid(agency_field, "the agency is no longer in the directory")
    if kind.value not in agency.competences:
        raise Invalid(
            agency_field,
            f"the agency is not competent for {kind.value} measures; it carries out "
            f"{', '.join(sorted(agency.competences)) or 'none'} (PLN-2)",
        )
    given_type = given_type.strip()
    if given_type and given_type != agency.agency_type:
        raise Invalid(type_field, f"the agency is of type {agency.agency_type}, not {given_type}")
    return agency.agency_type


def _path(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if prefix else name


def check_member(agency: DirectoryEntry | None, assignee: str) -> None:
    """The responsible person is one of the agency's people (PLN-6, issue 14)."""
    if agency is None or assignee not in agency.users:
        raise Invalid("assignee", "is not a person of the measure's agency")


def check_decline(state: str, *, reason: DeclineReason, comment: str) -> str:
    """An agency declines what it was sent and has not reported on; "other" needs a comment.
    Returns the cleaned comment."""
    if state not in DECLINABLE:
        raise Conflict(f"a {state} measure cannot be declined", code="measure-state")
    return check_text(
        comment, field="comment", limit=MAX_TEXT, required=reason == DeclineReason.OTHER
    )


def check_reroute(state: str, *, current_agency: str, new_agency: str) -> None:
    """Only a declined measure is re-routed, and to another agency than the one that declined."""
    if state != MeasureState.DECLINED:
        raise Conflict(
            f"a {state} measure is not re-routed: only a declined one", code="measure-state"
        )
    if new_agency == current_agency:
        raise Invalid("agency_id", "the agency declined this measure; choose another one")


def check_deadline(deadline: date, *, today: date, term_ends_on: date, field: str) -> None:
    """A new clock: after today and within the plan term (PLN-1, PLN-8)."""
    if deadline <= today:
        raise Invalid(field, "must be after today")
    if deadline > term_ends_on:
        raise Invalid(
            field, f"must be within the plan term, on or before {term_ends_on.isoformat()} (PLN-1)"
        )


def check_changeable(state: str) -> None:
    """A finished measure is history; it is neither amended nor cancelled (PLN-13)."""
    if state in FINISHED:
        raise Conflict(f"a {state} measure cannot be changed", code="measure-state")


def changed_fields(before: dict[str, str], after: dict[str, str]) -> Sequence[str]:
    """The names of the fields an amendment really changes; an amendment must change one."""
    changed = [k for k in after if before.get(k) != after[k]]
    if not changed:
        raise Invalid("deadline", "give a new deadline, title or target (PLN-13)")
    return changed
