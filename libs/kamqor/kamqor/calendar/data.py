"""Calendar data files (`calendar/data/<id>.yaml`) and the calendars built from them.

A calendar is the `holidays` package's country calendar (weekends, public holidays, the
government's transfers it knows) overlaid with our own data: transfers it misses or gets wrong,
and a region's own non-working days. The data has revisions with effective dates: the base
document, then `amendments`, each applying from its `effective_from`. `get_calendar(id, on=day)`
applies the revisions in force on that day, so a deadline computed once can be explained later
by the version it records.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any

import holidays
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kamqor.calendar.errors import CalendarError
from kamqor.calendar.model import WorkingCalendar, five_day_week
from kamqor.calendar.yamlfile import display_path, read_mapping, validate
from kamqor.clock import utcnow

DATA = Path(str(resources.files("kamqor.calendar").joinpath("data")))
# Part of every calendar version: the package supplies the base, so its release is data too.
HOLIDAYS_VERSION = metadata.version("holidays")


class Years(BaseModel):
    model_config = ConfigDict(extra="forbid")
    first: int = Field(ge=2000)
    last: int = Field(le=2100)


class Revision(BaseModel):
    """One act's worth of changes. Reasons (the decree) are the values, so they are never lost."""

    model_config = ConfigDict(extra="forbid")
    version: str = Field(min_length=1, max_length=20)
    effective_from: date
    source: str = ""
    days_off: dict[date, str] = {}
    working_days: dict[date, str] = {}
    # A region's own holidays: when one falls on a day off, the next working day is off instead.
    regional_holidays: dict[date, str] = {}


class CalendarFile(Revision):
    id: str = Field(pattern=r"^[a-z]{2}(-[a-z]{2,3})?$")
    title: str
    base: str | None = Field(default=None, description="`holidays` country code")
    extends: str | None = None
    years: Years
    provisional_years: list[int] = []
    amendments: list[Revision] = []

    @model_validator(mode="after")
    def _one_parent(self) -> CalendarFile:
        if (self.base is None) == (self.extends is None):
            raise ValueError("exactly one of `base` (a holidays country) or `extends` is required")
        return self


def _check_dates(cal: CalendarFile, path: Path) -> None:
    revisions: list[tuple[str, Revision]] = [("", cal)]
    revisions += [(f"amendments[{i}].", r) for i, r in enumerate(cal.amendments)]
    for prefix, rev in revisions:
        for key in ("days_off", "working_days", "regional_holidays"):
            for day in getattr(rev, key):
                if not cal.years.first <= day.year <= cal.years.last:
                    raise CalendarError(
                        f"{display_path(path)}: {prefix}{key}.{day.isoformat()}: outside years "
                        f"{cal.years.first}-{cal.years.last}"
                    )


def load_calendar_file(path: Path) -> CalendarFile:
    raw: dict[str, Any] = read_mapping(path, CalendarError)
    cal = validate(CalendarFile, raw, path, CalendarError)
    if path.stem != cal.id:
        raise CalendarError(f"{display_path(path)}: id: {cal.id!r} does not match the file name")
    _check_dates(cal, path)
    return cal


@cache
def _file(calendar_id: str) -> CalendarFile:
    path = DATA / f"{calendar_id}.yaml"
    if not path.is_file():
        known = ", ".join(sorted(p.stem for p in DATA.glob("*.yaml")))
        raise CalendarError(f"unknown calendar {calendar_id!r} (known: {known})")
    return load_calendar_file(path)


def _chain(cal: CalendarFile) -> list[CalendarFile]:
    """The file and its ancestors, root first (cycles are refused)."""
    chain = [cal]
    while chain[0].extends is not None:
        parent = _file(chain[0].extends)
        if parent in chain:
            raise CalendarError(f"calendar {cal.id!r}: `extends` forms a cycle")
        chain.insert(0, parent)
    return chain


def _base_overrides(country: str, first: int, last: int) -> dict[date, bool]:
    try:
        hol = holidays.country_holidays(country, years=range(first, last + 1))
    except NotImplementedError:
        raise CalendarError(f"holidays has no country {country!r}") from None
    out: dict[date, bool] = {}
    day, end = date(first, 1, 1), date(last, 12, 31)
    while day <= end:
        working = bool(hol.is_working_day(day))
        if working != five_day_week(day):
            out[day] = working
        day += timedelta(days=1)
    return out


def build(cal: CalendarFile, on: date) -> WorkingCalendar:
    """The calendar as its data stood on `on` (revisions with `effective_from` <= `on`)."""
    chain = _chain(cal)
    root = chain[0]
    if root.base is None:
        raise CalendarError(f"calendar {root.id!r}: neither `base` nor `extends`")
    overrides = _base_overrides(root.base, cal.years.first, cal.years.last)
    regional: dict[date, str] = {}
    version_parts: list[str] = []
    for file in chain:
        applied = [r for r in [file, *file.amendments] if r.effective_from <= on]
        if not applied:
            raise CalendarError(
                f"calendar {file.id!r} has no data in force on {on.isoformat()} "
                f"(earliest effective_from {file.effective_from.isoformat()})"
            )
        for rev in applied:
            overrides.update(dict.fromkeys(rev.days_off, False))
            overrides.update(dict.fromkeys(rev.working_days, True))
            regional.update(rev.regional_holidays)
        version_parts.insert(0, f"{file.id}:{applied[-1].version}")
    last_day = date(cal.years.last, 12, 31)
    for day in sorted(regional):
        # Observed like a federal holiday: a regional holiday on a day off moves to the next
        # working day (Bashkortostan: 2025-03-30, a Sunday, was observed on Monday 2025-03-31).
        while not overrides.get(day, five_day_week(day)):
            day += timedelta(days=1)
            if day > last_day:
                raise CalendarError(f"calendar {cal.id!r}: a regional holiday leaves the years")
        overrides[day] = False
    version = "+".join([*version_parts, f"holidays:{HOLIDAYS_VERSION}"])
    return WorkingCalendar(
        id=cal.id,
        version=version,
        first_year=cal.years.first,
        last_year=cal.years.last,
        overrides=overrides,
        provisional_years=frozenset(y for f in chain for y in f.provisional_years),
    )


@cache
def _built(calendar_id: str, latest_revision: date) -> WorkingCalendar:
    return build(_file(calendar_id), latest_revision)


def get_calendar(calendar_id: str, *, on: date | None = None) -> WorkingCalendar:
    """The calendar `calendar_id` as in force on `on` (default: today, UTC). Cached."""
    cal = _file(calendar_id)
    day = on if on is not None else utcnow().date()
    # Cache per set of revisions in force, not per day: every day between two acts is one entry.
    in_force = [r.effective_from for f in _chain(cal) for r in [f, *f.amendments]]
    latest = max((d for d in in_force if d <= day), default=day)
    return _built(calendar_id, latest)


def calendar_ids() -> list[str]:
    return sorted(p.stem for p in DATA.glob("*.yaml"))
