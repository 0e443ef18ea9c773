"""Years past the published decrees: a provisional calendar derived from the law, marked as such.

Pure calendar arithmetic (kit tests cite term keys, not rules; the service-level behaviour is in
tests/plans/test_provisional_terms.py).
"""

from __future__ import annotations

from datetime import date

import pytest

from kamqor.calendar import get_calendar


@pytest.mark.parametrize(
    ("calendar", "day", "working"),
    [
        # Labour Code art. 112 part 1: Unity Day, Saturday 4.11.2028 -> Monday 6.11.2028 off.
        ("ru", date(2028, 11, 4), False),
        ("ru", date(2028, 11, 6), False),
        ("ru", date(2028, 11, 7), True),
        # 1-8 January on weekends move only by the decree, unknown yet: Monday 10.1.2028 works.
        ("ru", date(2028, 1, 10), True),
        ("ru", date(2028, 6, 12), False),
        # Law No. 267-II art. 5 (the `holidays` package applies it): New Year on the weekend.
        ("kz", date(2028, 1, 3), False),
        ("kz", date(2028, 1, 4), False),
        ("kz", date(2028, 1, 5), True),
        ("kz", date(2028, 12, 18), False),
        # Bashkortostan: Republic Day on its date, Uraza-bayram as the lunar calendar estimates
        # it (Saturday 26.2.2028, observed on Monday 28.2.2028).
        ("ru-ba", date(2028, 10, 11), False),
        ("ru-ba", date(2028, 2, 28), False),
        ("ru-ba", date(2028, 3, 1), True),
    ],
)
def test_a_year_with_no_decree_follows_the_law(calendar: str, day: date, working: bool) -> None:
    assert get_calendar(calendar).is_working_day(day) is working


def test_a_term_into_a_provisional_year_records_a_provisional_version() -> None:
    cal = get_calendar("ru")
    assert cal.version_for(date(2027, 12, 28), date(2028, 1, 12)) == (
        f"{cal.version}+provisional:2028"
    )
    assert cal.version_for(date(2027, 3, 1), date(2027, 3, 5)) == cal.version


def test_provisional_day_count_is_never_refused() -> None:
    # Two working days from Friday 31.12.2027 in Kazakhstan: 3-4 January are days off.
    assert get_calendar("kz").add_working_days(date(2027, 12, 31), 2) == date(2028, 1, 6)
