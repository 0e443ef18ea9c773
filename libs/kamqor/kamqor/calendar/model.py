"""A production calendar: which dates are working days, over a fixed range of years.

Built once from data (see `data.py`), then answers by bisecting a sorted list of working days, so
adding N working days costs O(log n) and never loops past the known years.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

from kamqor.calendar.errors import CalendarRangeError


def five_day_week(day: date) -> bool:
    """Monday to Friday: what a day is unless the calendar's data says otherwise."""
    return day.weekday() < 5


@dataclass(frozen=True)
class WorkingCalendar:
    """Working days of one jurisdiction for `first_year`..`last_year` inclusive.

    `overrides` maps a date to whether it is a working day where that differs from the plain
    five-day week (holidays, transferred days off, working Saturdays).
    """

    id: str
    version: str
    first_year: int
    last_year: int
    overrides: Mapping[date, bool]
    # Years whose data is not yet confirmed by an official act (see the data file's notes).
    provisional_years: frozenset[int] = frozenset()
    _working: tuple[date, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        days: list[date] = []
        day = date(self.first_year, 1, 1)
        end = date(self.last_year, 12, 31)
        while day <= end:
            if self.overrides.get(day, five_day_week(day)):
                days.append(day)
            day += timedelta(days=1)
        object.__setattr__(self, "_working", tuple(days))

    @property
    def first_day(self) -> date:
        return date(self.first_year, 1, 1)

    @property
    def last_day(self) -> date:
        return date(self.last_year, 12, 31)

    def check(self, day: date) -> date:
        """Return `day`, or raise `CalendarRangeError` when the calendar has no data for it."""
        if not self.first_day <= day <= self.last_day:
            raise CalendarRangeError(
                f"calendar {self.id!r} (version {self.version}) covers "
                f"{self.first_year}-{self.last_year}; {day.isoformat()} is outside it"
            )
        return day

    def is_provisional(self, first: date, last: date) -> bool:
        """Whether any year from `first` to `last` has no confirmed data yet."""
        return any(year in self.provisional_years for year in range(first.year, last.year + 1))

    def version_for(self, first: date, last: date) -> str:
        """The version a computation over `first`..`last` records: provisional when it reaches a
        year with no confirmed data (re-planned once that year's data arrives)."""
        if not self.is_provisional(first, last):
            return self.version
        years = sorted(y for y in self.provisional_years if first.year <= y <= last.year)
        span = str(years[0]) if len(years) == 1 else f"{years[0]}-{years[-1]}"
        return f"{self.version}+provisional:{span}"

    def is_working_day(self, day: date) -> bool:
        self.check(day)
        return self.overrides.get(day, five_day_week(day))

    def working_days_between(self, start: date, end: date) -> int:
        """Working days from `start` to `end`, both included (0 when `end` precedes `start`)."""
        self.check(start)
        self.check(end)
        if end < start:
            return 0
        return bisect_right(self._working, end) - bisect_left(self._working, start)

    def add_working_days(self, day: date, n: int) -> date:
        """The n-th working day after `day` (before it when n < 0); `day` itself when n == 0."""
        self.check(day)
        if n == 0:
            return day
        if n > 0:
            index = bisect_right(self._working, day) + n - 1
        else:
            index = bisect_left(self._working, day) + n
        if not 0 <= index < len(self._working):
            raise CalendarRangeError(
                f"calendar {self.id!r} (version {self.version}) covers "
                f"{self.first_year}-{self.last_year}; {n:+d} working days from "
                f"{day.isoformat()} leave it"
            )
        return self._working[index]

    def next_working_day(self, day: date) -> date:
        """`day` when it is a working day, else the first working day after it."""
        return day if self.is_working_day(day) else self.add_working_days(day, 1)
