"""Calendar data files (`calendar/data/<id>.yaml`) and the calendars built from them.

A calendar is the `holidays` package's country calendar (weekends, public holidays, the
government's transfers it knows) overlaid with our own data: transfers it misses or gets wrong,
and a region's own non-working days. The data has revisions with effective dates: the base
document, then `amendments`, each applying from its `effective_from`. `get_calendar(id, on=day)`
applies the revisions in force on that day, so a deadline computed once can be explained later
by the version it records.

Years past the published data (no decree yet) are never refused: for `PROVISIONAL_YEARS_AHEAD`
years after `years.last` the calendar is derived from the law as the file's `provisional` block
describes (the fixed holidays, the rule that moves a holiday off a weekend, movable religious
holidays as estimated). Those years, and any the file lists in `provisional_years`, are
provisional: a deadline that reaches into them records a provisional calendar version, and once
the decree's year is added to the data file the open obligations computed provisionally are
re-planned (`kamqor.replanning`).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from datetime import date, timedelta
from functools import cache
from importlib import metadata, resources
from pathlib import Path
from typing import Any, Literal, cast

import holidays
from holidays.registry import COUNTRIES
from pydantic import BaseModel, ConfigDict, Field, model_validator

from kamqor.calendar.errors import CalendarError
from kamqor.calendar.model import WorkingCalendar, five_day_week
from kamqor.calendar.yamlfile import display_path, read_mapping, validate
from kamqor.clock import utcnow

DATA = Path(str(resources.files("kamqor.calendar").joinpath("data")))
# A folder of calendar files that take precedence over the packaged ones: a decree's year can be
# put in force by operations (a ConfigMap) before the next release carries it.
DIR_VARIABLE = "KAMQOR_CALENDAR_DIR"
# Part of every calendar version: the package supplies the base, so its release is data too.
HOLIDAYS_VERSION = metadata.version("holidays")
# How far past its published years a calendar answers provisionally: past any plan or review
# term the profiles set (at most a year), with room for a late decree.
PROVISIONAL_YEARS_AHEAD = 10


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


class Provisional(BaseModel):
    """How a year with no published decree is derived from the law (see the module docstring)."""

    model_config = ConfigDict(extra="forbid")
    source: str = Field(min_length=1)
    # A holiday on a day off makes the next working day a day off (RF Labour Code art. 112
    # part 1), for bases whose `holidays` country does not apply that rule to future years.
    move_weekend_holidays: bool = False
    # Holidays ("MM-DD") that rule does not move: RF 1-8 January, whose weekend days the
    # Government moves by its yearly decree (art. 112 part 5), unknown until it is published.
    not_moved: list[str] = []
    # A region's own holidays on fixed dates ("MM-DD": name) and movable ones as estimated by the
    # `holidays` package's lunar calendar, observed like the published ones.
    regional_fixed: dict[str, str] = {}
    regional_estimated: list[Literal["eid_al_fitr", "eid_al_adha"]] = []


class CalendarFile(Revision):
    id: str = Field(pattern=r"^[a-z]{2}(-[a-z]{2,3})?$")
    title: str
    base: str | None = Field(default=None, description="`holidays` country code")
    extends: str | None = None
    years: Years
    provisional_years: list[int] = []
    provisional: Provisional | None = None
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


def _folders() -> list[Path]:
    extra = os.environ.get(DIR_VARIABLE)
    return [Path(extra), DATA] if extra else [DATA]


@cache
def _file(calendar_id: str) -> CalendarFile:
    for folder in _folders():
        path = folder / f"{calendar_id}.yaml"
        if path.is_file():
            return load_calendar_file(path)
    raise CalendarError(f"unknown calendar {calendar_id!r} (known: {', '.join(calendar_ids())})")


def reload() -> None:
    """Forget the loaded files, so the next call reads the data again (a new decree's file)."""
    _file.cache_clear()
    _built.cache_clear()


def _chain(cal: CalendarFile) -> list[CalendarFile]:
    """The file and its ancestors, root first (cycles are refused)."""
    chain = [cal]
    while chain[0].extends is not None:
        parent = _file(chain[0].extends)
        if parent in chain:
            raise CalendarError(f"calendar {cal.id!r}: `extends` forms a cycle")
        chain.insert(0, parent)
    return chain


def country_holidays(country: str, years: range) -> holidays.HolidayBase:
    """`holidays.country_holidays(country, years=years)`, loading that one country only.

    The package's `holidays/countries/__init__.py` imports all of its ~250 countries, which was
    most of a `python -m kamqor.calendar` call; its registry names each code's module, so only
    that module is loaded, under the name the package gives it (a later import reuses it).
    """
    found = [(module, names[0]) for module, names in COUNTRIES.items() if country in names[1:]]
    if not found:
        raise CalendarError(f"holidays has no country {country!r}")
    module_name, class_name = found[0]
    name = f"holidays.countries.{module_name}"
    module = sys.modules.get(name)
    if module is None:
        package = importlib.util.find_spec("holidays")
        assert package is not None and package.origin is not None
        path = Path(package.origin).parent / "countries" / f"{module_name}.py"
        spec = importlib.util.spec_from_file_location(name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    country_class = cast("type[holidays.HolidayBase]", getattr(module, class_name))
    return country_class(years=years)


def _base_overrides(country: str, first: int, last: int) -> dict[date, bool]:
    hol = country_holidays(country, range(first, last + 1))
    out: dict[date, bool] = {}
    day, end = date(first, 1, 1), date(last, 12, 31)
    while day <= end:
        working = bool(hol.is_working_day(day))
        if working != five_day_week(day):
            out[day] = working
        day += timedelta(days=1)
    return out


def _month_day(text: str, year: int) -> date:
    return date.fromisoformat(f"{year}-{text}")


def _provisional_days_off(
    country: str, rules: Provisional, years: range, overrides: dict[date, bool]
) -> None:
    """RF Labour Code art. 112 part 1 for years with no decree: each holiday on a day off moves
    to the next working day (those in `not_moved` excepted), in date order so moves stack."""
    hol = country_holidays(country, years)
    moved = [
        day
        for day in sorted(hol)
        if not five_day_week(day) and f"{day:%m-%d}" not in rules.not_moved
    ]
    for day in moved:
        target = day + timedelta(days=1)
        while target in hol or not overrides.get(target, five_day_week(target)):
            target += timedelta(days=1)
        overrides[target] = False


def _provisional_regional(rules: Provisional, years: range) -> dict[date, str]:
    # The package's lunar estimate; its class is private, so the lock pins the package version.
    from holidays.calendars.islamic import _IslamicLunar

    lunar = _IslamicLunar()
    found: dict[date, str] = {}
    for year in years:
        for text, name in rules.regional_fixed.items():
            found[_month_day(text, year)] = f"{name} (provisional: {rules.source})"
        for feast in rules.regional_estimated:
            for day, _estimated in getattr(lunar, f"{feast}_dates")(year):
                found[day] = f"{feast} (provisional: estimated by the lunar calendar)"
    return found


def build(cal: CalendarFile, on: date) -> WorkingCalendar:
    """The calendar as its data stood on `on` (revisions with `effective_from` <= `on`)."""
    chain = _chain(cal)
    root = chain[0]
    if root.base is None:
        raise CalendarError(f"calendar {root.id!r}: neither `base` nor `extends`")
    horizon = cal.years.last + PROVISIONAL_YEARS_AHEAD
    beyond = range(cal.years.last + 1, horizon + 1)
    overrides = _base_overrides(root.base, cal.years.first, horizon)
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
    if root.provisional is not None and root.provisional.move_weekend_holidays:
        _provisional_days_off(root.base, root.provisional, beyond, overrides)
    for file in chain:
        if file.provisional is not None:
            regional.update(_provisional_regional(file.provisional, beyond))
    last_day = date(horizon, 12, 31)
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
        last_year=horizon,
        overrides=overrides,
        provisional_years=frozenset({*(y for f in chain for y in f.provisional_years), *beyond}),
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
    return sorted({p.stem for folder in _folders() for p in folder.glob("*.yaml")})
