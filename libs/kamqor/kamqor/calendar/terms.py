"""Term arithmetic, counted the way the law counts (pure functions).

Conventions, for every term below:

- Arithmetic happens in the territory's time zone: the event's local date decides which day is
  "the day of the event", whatever zone the caller's datetime is in. Datetimes must be aware.
- A term in days, working days or months starts on the day after the event (RF Civil Code
  art. 191, Kazakhstan's Civil Code likewise) and ends at the **end of its last day**,
  represented as 23:59:59.999999 local time, so `met_at <= due_at` is the on-time test and an
  act done at 00:00 of the next day is late.
- A last day that is not a working day moves to the next working day (RF Civil Code art. 193),
  for calendar-day, month and day-of-month terms too.
- A term in hours or minutes runs from the event's instant, in elapsed time, ignoring the
  calendar (SHL-3: written notice within 24 hours).
- A month term ends on the same day-of-month N months later, or on that month's last day when
  it has no such day (RF Civil Code art. 192): 31 January + 1 month -> 28/29 February.
- A `calendar_months` term is a cap on a continuous service, not a time for an act: it ends on
  the same day as a month term but is never moved off a non-working day (see `add_calendar_months`).
"""

from __future__ import annotations

import calendar as stdlib_calendar
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from kamqor.calendar.model import WorkingCalendar

TermKind = Literal[
    "working_days",
    "days",
    "hours",
    "minutes",
    "months",
    "calendar_months",
    "weeks_before_end",
    "day_of_next_month",
    "quarter_day",
]
TERM_KINDS: tuple[TermKind, ...] = (
    "working_days",
    "days",
    "hours",
    "minutes",
    "months",
    "calendar_months",
    "weeks_before_end",
    "day_of_next_month",
    "quarter_day",
)
# Kinds whose due time does not depend on the production calendar (never provisional).
CALENDAR_FREE_KINDS: frozenset[TermKind] = frozenset({"hours", "minutes", "calendar_months"})
# Kinds whose `amount` names a day of a month rather than a count.
DAY_OF_MONTH_KINDS: frozenset[TermKind] = frozenset({"day_of_next_month", "quarter_day"})


def local_date(at: datetime, zone: ZoneInfo) -> date:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"an aware datetime is required, got naive {at.isoformat()}")
    return at.astimezone(zone).date()


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone)


def _last_day(day: date, calendar: WorkingCalendar, zone: ZoneInfo) -> datetime:
    return end_of_day(calendar.next_working_day(day), zone)


def shift_months(day: date, months: int) -> date:
    """Same day-of-month `months` later (earlier when negative), clamped to the month's end."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = stdlib_calendar.monthrange(year, month + 1)[1]
    return date(year, month + 1, min(day.day, last))


def add_working_days(
    at: datetime, n: int, *, calendar: WorkingCalendar, zone: ZoneInfo
) -> datetime:
    """End of the n-th working day after the event's day (INT-3: 1 or 3 working days)."""
    return end_of_day(calendar.add_working_days(local_date(at, zone), n), zone)


def add_days(at: datetime, n: int, *, calendar: WorkingCalendar, zone: ZoneInfo) -> datetime:
    """End of the n-th calendar day after the event's day, moved off a non-working day."""
    return _last_day(local_date(at, zone) + timedelta(days=n), calendar, zone)


def add_months(at: datetime, n: int, *, calendar: WorkingCalendar, zone: ZoneInfo) -> datetime:
    """End of the same day-of-month n months later (clamped), moved off a non-working day."""
    return _last_day(shift_months(local_date(at, zone), n), calendar, zone)


def add_calendar_months(at: datetime, n: int, *, zone: ZoneInfo) -> datetime:
    """End of the same day-of-month n months later (clamped), whatever kind of day that is.

    For a limit on how long a service lasts (SHL-1: a shelter stay "up to one month"), not a
    time given to perform an act. RF Civil Code art. 193 and the Kazakh Civil Code's rule on a
    term ending on a non-working day protect whoever must act by the last day and cannot while
    offices are closed; a stay runs through holidays (the shelter works every day), so moving
    its end would only stretch the cap: an admission on 1 December would end on 5 January
    instead of 1 January.
    """
    return end_of_day(shift_months(local_date(at, zone), n), zone)


def add_hours(at: datetime, n: int, *, zone: ZoneInfo) -> datetime:
    """`at` plus n elapsed hours (computed in UTC, so a DST change cannot stretch it)."""
    local_date(at, zone)
    return (at.astimezone(UTC) + timedelta(hours=n)).astimezone(zone)


def add_minutes(at: datetime, n: int, *, zone: ZoneInfo) -> datetime:
    local_date(at, zone)
    return (at.astimezone(UTC) + timedelta(minutes=n)).astimezone(zone)


def weeks_before_end(
    end: datetime, n: int, *, calendar: WorkingCalendar, zone: ZoneInfo
) -> datetime:
    """End of the day n weeks before the term ending at `end` (PLN-13/final: 2 weeks before)."""
    return _last_day(local_date(end, zone) - timedelta(weeks=n), calendar, zone)


def day_of_next_month(
    at: datetime, day: int, *, calendar: WorkingCalendar, zone: ZoneInfo
) -> datetime:
    """End of day `day` of the month after the one `at` falls in (PLN-7: by the 5th)."""
    first = local_date(at, zone).replace(day=1)
    return _last_day(shift_months(first, 1).replace(day=day), calendar, zone)


def quarter_day(at: datetime, day: int, *, calendar: WorkingCalendar, zone: ZoneInfo) -> datetime:
    """End of day `day` of the month after the quarter `at` falls in (REG-7: by the 5th).

    `at` is any instant inside the reported quarter, e.g. its last day; not the next quarter's
    first instant.
    """
    local = local_date(at, zone)
    quarter_first = date(local.year, (local.month - 1) // 3 * 3 + 1, 1)
    return _last_day(shift_months(quarter_first, 3).replace(day=day), calendar, zone)


def compute(
    kind: TermKind, amount: int, at: datetime, *, calendar: WorkingCalendar, zone: ZoneInfo
) -> datetime:
    """The due instant of a term of `kind` and `amount` counted from `at`."""
    if kind == "working_days":
        return add_working_days(at, amount, calendar=calendar, zone=zone)
    if kind == "days":
        return add_days(at, amount, calendar=calendar, zone=zone)
    if kind == "months":
        return add_months(at, amount, calendar=calendar, zone=zone)
    if kind == "calendar_months":
        return add_calendar_months(at, amount, zone=zone)
    if kind == "hours":
        return add_hours(at, amount, zone=zone)
    if kind == "minutes":
        return add_minutes(at, amount, zone=zone)
    if kind == "weeks_before_end":
        return weeks_before_end(at, amount, calendar=calendar, zone=zone)
    if kind == "day_of_next_month":
        return day_of_next_month(at, amount, calendar=calendar, zone=zone)
    return quarter_day(at, amount, calendar=calendar, zone=zone)
