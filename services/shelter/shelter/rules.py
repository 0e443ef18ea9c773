"""Crisis shelter rules: pure functions, no I/O (SHL-1, SHL-3, SHL-5, SHL-6)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from kamqor.errors import Conflict, Invalid
from kamqor.inputs import check_birth_date

ADULT_AGE = 18
# SHL-1, seed 001 ("временное проживание ... до одного месяца"): the stay lasts up to one
# calendar month and ends at the end of the same day-of-month a month after admission (clamped to
# the month's last day; RF Civil Code art. 192, Kazakh Civil Code likewise). It is a cap on a
# continuous service, not a time given to perform an act, so the rule that moves the last day of
# a term off a non-working day (RF Civil Code art. 193, and the Kazakh Civil Code's rule on a term
# ending on a non-working day) does not stretch it: an admission on 1 December ends on 1 January,
# not on 5 January after the New Year holidays. The profile's term kind `calendar_months` computes
# exactly this, and the stay's `latest_end_at` shown to the operator is that obligation's due time.
STAY_RULE = "SHL-1"
MAX_NAME = 200
MAX_MINORS = 20


class StayState(StrEnum):
    ACTIVE = "active"
    DISCHARGED = "discharged"


class BedState(StrEnum):
    FREE = "free"
    OCCUPIED = "occupied"
    HELD = "held"
    OUT_OF_SERVICE = "out_of_service"


@dataclass(frozen=True)
class Occupancy:
    """A shelter's beds by state (the bed board's counts, SHL-6)."""

    capacity: int
    occupied: int = 0
    held: int = 0
    out_of_service: int = 0

    @property
    def free(self) -> int:
        """What an admission can take now: a held bed is kept for its expected arrival and a
        bed out of service takes nobody, so neither is free."""
        return max(0, self.capacity - self.occupied - self.held - self.out_of_service)


class HoldState(StrEnum):
    ACTIVE = "active"
    USED = "used"
    EXPIRED = "expired"


class WaitlistState(StrEnum):
    WAITING = "waiting"
    OFFERED = "offered"
    ADMITTED = "admitted"
    LAPSED = "lapsed"


class RefusalReason(StrEnum):
    """Why a person was not admitted (SHL-6)."""

    SHELTER_FULL = "shelter_full"
    NOT_ELIGIBLE = "not_eligible"
    NEEDS_OTHER_CARE = "needs_other_care"
    DECLINED = "declined"
    OTHER = "other"


# A hold keeps beds for an expected arrival (police on the way, a waiting list offer) long
# enough to arrive the same day, not long enough to lose beds to a no-show for days.
DEFAULT_HOLD = timedelta(hours=4)
MAX_HOLD = timedelta(days=3)
MAX_DOCUMENT = 100
MAX_PLACE = 300
# Stays by length (MON-6): a week, two, the month of SHL-1, past it.
LENGTH_BUCKETS = ((0, 7, "0-7"), (8, 14, "8-14"), (15, 31, "15-31"), (32, None, "32+"))


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


def name_key(name: str) -> str:
    """A shelter's name as its center's shelters are told apart: case, width and spacing
    ignored ("Crisis  Unit" is "crisis unit"); unique per center."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().split())


def check_residents(adult: ResidentIn, minors: list[ResidentIn], *, on: date) -> None:
    """The adult is of age; everyone admitted 'together with them' is a minor (SHL-3); every
    birth date is a living person's (`kamqor.inputs`)."""
    check_birth_date(adult.birth_date, field="adult.birth_date", today=on)
    if age_on(adult.birth_date, on) < ADULT_AGE:
        raise Invalid("adult.birth_date", "the admitted adult must be 18 or older")
    if len(minors) > MAX_MINORS:
        raise Invalid("minors", f"at most {MAX_MINORS}")
    for i, minor in enumerate(minors):
        check_birth_date(minor.birth_date, field=f"minors[{i}].birth_date", today=on)
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


def bed_days(admitted_at: datetime, ended_at: datetime, persons: int, zone: ZoneInfo) -> int:
    """Bed-days for budget reporting (SHL-5): each started day counts, per person, by the
    territory's local dates (a 03:00 admission in Astana is that day's, not the UTC day before)."""
    days = max(1, (ended_at.astimezone(zone).date() - admitted_at.astimezone(zone).date()).days)
    return days * persons


def days_left(latest_end_at: datetime, now: datetime, zone: ZoneInfo) -> int:
    """Whole days from today to the stay's last day (SHL-1), both in the territory's local
    time: 0 on the last day, negative past it."""
    return (latest_end_at.astimezone(zone).date() - now.astimezone(zone).date()).days


def check_discharge(state: str) -> None:
    if state != StayState.ACTIVE:
        raise Conflict("the stay has already ended", code="stay-ended")


def check_referral(referral: Referral, document: str) -> str:
    """The referring document's number (SHL-2): a referral by the employment and social
    programmes authority, a health authority or the police is made in writing, so its number is
    required; an own application has none."""
    document = document.strip()
    if len(document) > MAX_DOCUMENT:
        raise Invalid("referral_document", f"at most {MAX_DOCUMENT} characters")
    if referral == Referral.SELF_APPLICATION:
        if document:
            raise Invalid("referral_document", "an own application has no referring document")
    elif not document:
        raise Invalid("referral_document", "a referral carries the referring document's number")
    return document


def check_place(value: str, *, field: str, required: bool = False) -> str:
    value = value.strip()
    if required and not value:
        raise Invalid(field, "is required")
    if len(value) > MAX_PLACE:
        raise Invalid(field, f"at most {MAX_PLACE} characters")
    return value


def hold_length(minutes: int) -> timedelta:
    if minutes == 0:
        return DEFAULT_HOLD
    if minutes < 0 or timedelta(minutes=minutes) > MAX_HOLD:
        raise Invalid("minutes", f"must be between 1 and {int(MAX_HOLD.total_seconds() // 60)}")
    return timedelta(minutes=minutes)


def check_bed_choice(bed_ids: list[str], persons: int) -> None:
    if bed_ids and len(bed_ids) != persons:
        raise Invalid("bed_ids", f"one bed per person: {persons} needed, {len(bed_ids)} given")
    if len(set(bed_ids)) != len(bed_ids):
        raise Invalid("bed_ids", "a bed is named twice")


def check_extension(
    *, current_end: datetime, until: date, zone: ZoneInfo, decision_number: str, reason: str
) -> datetime:
    """A stay kept past its cap needs a recorded decision (SHL-1): its number and why. The new
    last instant is the end of `until` in the territory's local time."""
    if not decision_number.strip():
        raise Invalid("decision_number", "a stay past its cap needs a recorded decision (SHL-1)")
    if not reason.strip():
        raise Invalid("reason", "is required: why the stay goes past its cap (SHL-1)")
    if len(decision_number) > MAX_DOCUMENT:
        raise Invalid("decision_number", f"at most {MAX_DOCUMENT} characters")
    new_end = datetime.combine(until, time.max, tzinfo=zone)
    if new_end <= current_end:
        raise Invalid("until", "must be after the stay's current last day")
    return new_end


def bed_days_through(admitted_on: date, ended_on: date) -> date:
    """The last local date a stay ended on `ended_on` counts as a bed-day: each night spent,
    and at least the admission's day (`bed_days`)."""
    return max(admitted_on, ended_on - timedelta(days=1))


def length_bucket(days: int) -> str:
    for low, high, label in LENGTH_BUCKETS:
        if days >= low and (high is None or days <= high):
            return label
    return LENGTH_BUCKETS[-1][2]
