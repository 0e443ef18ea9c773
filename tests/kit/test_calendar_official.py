"""Production calendars against the official ones (DOMAIN.md "Working days").

Sources, per year:
- Russia: Labour Code art. 112; Government decrees "On the transfer of days off": 2024 - No. 1314
  of 10.08.2023; 2025 - No. 1335 of 04.10.2024; 2026 - No. 1466 of 24.09.2025; 2027 - the decree
  of September 2026. Working days, five-day week: 2024 = 248, 2025 = 247, 2026 = 247, 2027 = 247.
- Kazakhstan: Law No. 267-II "On holidays" art. 5; Government resolutions No. 109 (2024) and
  No. 436 (2024, for 2025); egov.kz holiday calendars; the Constitution of 15.03.2026 (no
  Constitution Day on 30 August from 2026; 15 March from 2027). Working days: 2024 = 249,
  2025 = 246, 2026 = 247 (246 as published before the referendum), 2027 = 247 (provisional).
- Bashkortostan: the Russian calendar plus RB Law No. VS-10/21 (Uraza-bayram, Kurban-bayram,
  Republic Day 11 October; dates set yearly by RB Government resolutions).
"""

from __future__ import annotations

from datetime import date

import pytest

from kamqor.calendar import CalendarRangeError, get_calendar
from kamqor.errors import Conflict

# The calendars with every revision in the data in force, as published today. Without `on`,
# get_calendar takes the revision in force on the domain clock's date, which the suite may set
# to any day (before the kz 2026.2 amendment of 18 March 2026, 31 August 2026 was still off).
ALL_REVISIONS = date.max


def _year(calendar_id: str, year: int) -> int:
    cal = get_calendar(calendar_id, on=ALL_REVISIONS)
    return cal.working_days_between(date(year, 1, 1), date(year, 12, 31))


@pytest.mark.parametrize(
    ("calendar_id", "year", "working_days"),
    [
        ("ru", 2024, 248),
        ("ru", 2025, 247),
        ("ru", 2026, 247),
        ("ru", 2027, 247),
        ("kz", 2024, 249),
        ("kz", 2025, 246),
        ("kz", 2026, 247),
        ("kz", 2027, 247),
        ("ru-ba", 2024, 245),
        ("ru-ba", 2025, 244),
        ("ru-ba", 2026, 244),
        ("ru-ba", 2027, 244),
    ],
)
def test_working_days_per_year_match_the_official_calendar(
    calendar_id: str, year: int, working_days: int
) -> None:
    assert _year(calendar_id, year) == working_days


# (date, working?) pairs, each a day the official calendar states explicitly.
RU_DAYS = [
    # 2024, decree No. 1314 of 10.08.2023
    (date(2024, 1, 8), False),  # end of the New Year holidays
    (date(2024, 1, 9), True),
    (date(2024, 4, 27), True),  # working Saturday
    (date(2024, 4, 29), False),
    (date(2024, 4, 30), False),
    (date(2024, 5, 10), False),  # from Saturday 6 January
    (date(2024, 11, 2), True),  # working Saturday
    (date(2024, 12, 28), True),  # working Saturday
    (date(2024, 12, 30), False),
    (date(2024, 12, 31), False),
    # 2025, decree No. 1335 of 04.10.2024
    (date(2025, 1, 8), False),
    (date(2025, 1, 9), True),
    (date(2025, 5, 2), False),
    (date(2025, 5, 8), False),
    (date(2025, 6, 13), False),
    (date(2025, 11, 1), True),  # working Saturday
    (date(2025, 11, 3), False),
    (date(2025, 11, 4), False),
    (date(2025, 12, 31), False),
    # 2026, decree No. 1466 of 24.09.2025
    (date(2026, 1, 9), False),  # from Saturday 3 January
    (date(2026, 1, 12), True),
    (date(2026, 2, 23), False),
    (date(2026, 3, 9), False),  # 8 March is a Sunday
    (date(2026, 5, 1), False),
    (date(2026, 5, 4), True),
    (date(2026, 5, 11), False),  # 9 May is a Saturday
    (date(2026, 6, 12), False),
    (date(2026, 11, 4), False),
    (date(2026, 12, 31), False),  # from Sunday 4 January
    # 2027, decree of September 2026
    (date(2027, 2, 20), True),  # working Saturday
    (date(2027, 2, 22), False),
    (date(2027, 11, 5), False),
]

KZ_DAYS = [
    (date(2024, 5, 4), True),  # working Saturday, resolution No. 109 (2024)
    (date(2024, 5, 8), False),
    (date(2025, 1, 3), False),  # resolution No. 436 (2024)
    (date(2025, 1, 5), True),  # working Sunday
    (date(2025, 6, 6), False),  # Kurban ait
    (date(2026, 1, 1), False),  # New Year
    (date(2026, 1, 2), False),
    (date(2026, 1, 5), True),
    (date(2026, 1, 7), False),  # Orthodox Christmas
    (date(2026, 3, 9), False),  # 8 March is a Sunday
    (date(2026, 3, 23), False),  # Nauryz 21-23 March; 21 and 22 are a weekend...
    (date(2026, 3, 24), False),  # ... so Tuesday and Wednesday are off
    (date(2026, 3, 25), False),
    (date(2026, 3, 26), True),
    (date(2026, 5, 1), False),
    (date(2026, 5, 7), False),
    (date(2026, 5, 11), False),  # 9 May is a Saturday
    (date(2026, 5, 27), False),  # Kurban ait
    (date(2026, 7, 6), False),  # Capital Day
    (date(2026, 8, 31), True),  # no Constitution Day on 30 August from 2026
    (date(2026, 10, 26), False),  # Republic Day 25 October is a Sunday
    (date(2026, 12, 16), False),  # Independence Day
    (date(2027, 3, 15), False),  # Constitution Day of the 2026 Constitution
]

RU_BA_DAYS = [
    (date(2024, 4, 10), False),  # Uraza-bayram
    (date(2024, 6, 17), False),  # Kurban-bayram on Sunday 16 June, observed Monday
    (date(2024, 10, 11), False),  # Republic Day
    (date(2025, 3, 31), False),  # Uraza-bayram on Sunday 30 March, observed Monday
    (date(2025, 6, 6), False),  # Kurban-bayram
    (date(2025, 10, 13), False),  # Republic Day on Saturday 11 October, observed Monday
    (date(2025, 11, 1), True),  # the federal working Saturday still holds
    (date(2026, 3, 20), False),  # Uraza-bayram
    (date(2026, 5, 27), False),  # Kurban-bayram
    (date(2026, 10, 12), False),  # Republic Day on Sunday 11 October, observed Monday
]


@pytest.mark.parametrize(("day", "working"), RU_DAYS)
def test_russian_production_calendar(day: date, working: bool) -> None:
    assert get_calendar("ru").is_working_day(day) is working


@pytest.mark.parametrize(("day", "working"), KZ_DAYS)
def test_kazakhstan_production_calendar(day: date, working: bool) -> None:
    assert get_calendar("kz", on=ALL_REVISIONS).is_working_day(day) is working


@pytest.mark.parametrize(("day", "working"), RU_BA_DAYS)
def test_bashkortostan_adds_its_own_holidays_to_the_russian_calendar(
    day: date, working: bool
) -> None:
    assert get_calendar("ru-ba").is_working_day(day) is working


def test_bashkortostan_regional_days_are_working_in_the_rest_of_russia() -> None:
    ru = get_calendar("ru")
    for day in (date(2024, 4, 10), date(2025, 3, 31), date(2026, 3, 20), date(2026, 10, 12)):
        assert ru.is_working_day(day)


def test_kz_amendment_withdraws_constitution_day_2026_from_its_effective_date() -> None:
    """The data keeps the calendar as published before the referendum (version 2026.1)."""
    before = get_calendar("kz", on=date(2026, 3, 1))
    after = get_calendar("kz", on=date(2026, 3, 18))
    assert not before.is_working_day(date(2026, 8, 31))
    assert after.is_working_day(date(2026, 8, 31))
    assert before.version.startswith("kz:2026.1+") and after.version.startswith("kz:2026.2+")
    assert before.working_days_between(date(2026, 1, 1), date(2026, 12, 31)) == 246


def test_version_names_every_layer() -> None:
    version = get_calendar("ru-ba").version
    assert version.startswith("ru-ba:") and "+ru:" in version and "+holidays:" in version
    provisional = get_calendar("ru-ba").version_for(date(2027, 1, 1), date(2037, 12, 31))
    assert provisional == f"{version}+provisional:2027-2037"
    assert len(provisional) <= 120  # obligations.calendar_version is VARCHAR(120)


def test_provisional_years_are_marked() -> None:
    assert 2027 in get_calendar("kz").provisional_years
    assert 2027 in get_calendar("ru-ba").provisional_years
    # Russia's 2027 decree is in the data; every year after the data is provisional.
    assert min(get_calendar("ru").provisional_years) == 2028
    assert get_calendar("ru").version_for(date(2026, 1, 1), date(2027, 12, 31)) == (
        get_calendar("ru").version
    )


@pytest.mark.parametrize("day", [date(2023, 12, 31), date(2038, 1, 1)])
def test_a_date_outside_the_known_years_is_an_error_not_a_guess(day: date) -> None:
    cal = get_calendar("ru")
    with pytest.raises(CalendarRangeError, match="covers 2024-2037"):
        cal.is_working_day(day)


def test_adding_past_the_last_known_year_is_an_error() -> None:
    with pytest.raises(CalendarRangeError) as caught:
        get_calendar("kz").add_working_days(date(2037, 12, 29), 5)
    assert isinstance(caught.value, Conflict)  # a use case that lets it escape: FAILED_PRECONDITION


def test_working_days_between_is_inclusive() -> None:
    cal = get_calendar("ru")
    assert cal.working_days_between(date(2026, 1, 12), date(2026, 1, 12)) == 1
    assert cal.working_days_between(date(2026, 1, 1), date(2026, 1, 11)) == 0
    assert cal.working_days_between(date(2026, 1, 12), date(2026, 1, 16)) == 5
    assert cal.working_days_between(date(2026, 1, 16), date(2026, 1, 12)) == 0
