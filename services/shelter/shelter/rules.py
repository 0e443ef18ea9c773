"""Crisis shelter rules: pure functions, no I/O (SHL-1, SHL-3, SHL-5, SHL-6)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from kamqor.errors import Conflict, Invalid

ADULT_AGE = 18
STAY_RULE = "SHL-1"
MAX_NAME = 200
MAX_MINORS = 20


class StayState(StrEnum):
    ACTIVE = "active"
    DISCHARGED = "discharged"


class Referral(StrEnum):
    """Who sent the person (SHL-2)."""

    SELF_APPLICATION = "self_application"
    EMPLOYMENT_AND_SOCIAL_PROGRAMMES = "employment_and_social_programmes"
    HEALTH = "health"
    POLICE = "police"


@dataclass(frozen=True)
class ResidentIn:
    full_name: str
    birth_date: date


def age_on(birth: date, day: date) -> int:
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def check_name(value: str, *, field: str) -> str:
    value = value.strip()
    if not value:
        raise Invalid(field, "is required")
    if len(value) > MAX_NAME:
        raise Invalid(field, f"at most {MAX_NAME} characters")
    return value


def check_residents(adult: ResidentIn, minors: list[ResidentIn], *, on: date) -> None:
    """The adult is of age; everyone admitted 'together with them' is a minor (SHL-3)."""
    if adult.birth_date > on:
        raise Invalid("adult.birth_date", "is in the future")
    if age_on(adult.birth_date, on) < ADULT_AGE:
        raise Invalid("adult.birth_date", "the admitted adult must be 18 or older")
    if len(minors) > MAX_MINORS:
        raise Invalid("minors", f"at most {MAX_MINORS}")
    for i, minor in enumerate(minors):
        if minor.birth_date > on:
            raise Invalid(f"minors[{i}].birth_date", "is in the future")
        if age_on(minor.birth_date, on) >= ADULT_AGE:
            raise Invalid(f"minors[{i}].birth_date", "a minor must be under 18")


def check_capacity(*, capacity: int, occupied: int, incoming: int) -> None:
    """A placement never exceeds the shelter's capacity (SHL-6)."""
    if occupied + incoming > capacity:
        raise Conflict(
            f"the shelter has {capacity - occupied} free beds, {incoming} needed (SHL-6)",
            code="shelter-full",
        )


def check_capacity_value(capacity: int) -> int:
    if capacity <= 0 or capacity > 10_000:
        raise Invalid("capacity", "must be between 1 and 10000")
    return capacity


def needs_written_notice(minors: int) -> bool:
    """Police and guardianship are told in writing within 24 hours when minors come (SHL-3)."""
    return minors > 0


def bed_days(admitted_at: datetime, ended_at: datetime, persons: int) -> int:
    """Bed-days for budget reporting (SHL-5): each started day counts, per person."""
    days = max(1, (ended_at.date() - admitted_at.date()).days)
    return days * persons


def check_discharge(state: str) -> None:
    if state != StayState.ACTIVE:
        raise Conflict("the stay has already ended", code="stay-ended")
