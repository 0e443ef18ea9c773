"""Term arithmetic as the law counts (DOMAIN.md "Working days"; kamqor/calendar/terms.py)."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from kamqor.calendar import get_calendar
from kamqor.calendar.terms import (
    add_days,
    add_hours,
    add_minutes,
    add_months,
    add_working_days,
    day_of_next_month,
    end_of_day,
    quarter_day,
    shift_months,
    weeks_before_end,
)

ALMATY = ZoneInfo("Asia/Almaty")
IRKUTSK = ZoneInfo("Asia/Irkutsk")
KZ = get_calendar("kz")
RU = get_calendar("ru")


def _eod(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, time.max, tzinfo=zone)


def test_kazakhstan_is_utc_plus_five_in_this_tzdata() -> None:
    """A single zone since 2024-03-01; tzdata older than 2024b still says +06 for Almaty."""
    offset = datetime(2026, 1, 15, 12, tzinfo=ALMATY).utcoffset()
    assert offset is not None and offset.total_seconds() == 5 * 3600


def test_end_of_day_is_the_last_microsecond_of_the_local_day() -> None:
    assert end_of_day(date(2026, 3, 10), ALMATY).isoformat() == "2026-03-10T23:59:59.999999+05:00"


def test_working_days_start_the_day_after_the_event() -> None:
    """INT-3/threat: 1 working day; Friday 15:00 before the 9 March holiday -> Tuesday."""
    at = datetime(2026, 3, 6, 15, tzinfo=ALMATY)
    assert add_working_days(at, 1, calendar=KZ, zone=ALMATY) == _eod(date(2026, 3, 10), ALMATY)


def test_the_event_day_is_taken_in_the_territory_zone() -> None:
    """20:00 UTC on 9 Jan is already 10 Jan in Irkutsk (+08), so counting starts on 11 Jan."""
    at = datetime(2026, 1, 9, 20, tzinfo=UTC)
    assert add_working_days(at, 1, calendar=RU, zone=IRKUTSK) == _eod(date(2026, 1, 12), IRKUTSK)
    assert add_days(at, 1, calendar=RU, zone=IRKUTSK) == _eod(date(2026, 1, 12), IRKUTSK)


def test_calendar_days_move_off_a_non_working_last_day() -> None:
    at = datetime(2026, 4, 28, 9, tzinfo=IRKUTSK)  # +3 days = Friday 1 May, a holiday
    assert add_days(at, 3, calendar=RU, zone=IRKUTSK) == _eod(date(2026, 5, 4), IRKUTSK)


@pytest.mark.parametrize(
    ("start", "months", "end"),
    [
        (date(2026, 1, 31), 1, date(2026, 2, 28)),
        (date(2028, 1, 31), 1, date(2028, 2, 29)),
        (date(2026, 3, 31), 1, date(2026, 4, 30)),
        (date(2026, 11, 30), 3, date(2027, 2, 28)),
        (date(2026, 5, 15), 12, date(2027, 5, 15)),
        (date(2026, 3, 31), -1, date(2026, 2, 28)),
    ],
)
def test_shift_months_clamps_to_the_month_end(start: date, months: int, end: date) -> None:
    assert shift_months(start, months) == end


def test_shl1_one_month_stay_ends_on_the_same_day_next_month_or_next_working_day() -> None:
    """SHL-1: admitted 2026-01-31 -> 28 Feb is a Saturday -> Monday 2 March."""
    at = datetime(2026, 1, 31, 22, tzinfo=ALMATY)
    assert add_months(at, 1, calendar=KZ, zone=ALMATY) == _eod(date(2026, 3, 2), ALMATY)


def test_shl3_hours_ignore_the_calendar() -> None:
    """SHL-3: 24 hours from 31 Dec 2025 18:00 runs through the New Year holiday."""
    at = datetime(2025, 12, 31, 18, tzinfo=ALMATY)
    assert add_hours(at, 24, zone=ALMATY) == datetime(2026, 1, 1, 18, tzinfo=ALMATY)


def test_hours_are_returned_in_the_territory_zone() -> None:
    at = datetime(2026, 3, 6, 10, tzinfo=UTC)
    due = add_hours(at, 24, zone=ALMATY)
    assert due.isoformat() == "2026-03-07T15:00:00+05:00"


def test_ntf2_minutes() -> None:
    at = datetime(2026, 1, 1, 23, 30, tzinfo=IRKUTSK)
    assert add_minutes(at, 60, zone=IRKUTSK) == datetime(2026, 1, 2, 0, 30, tzinfo=IRKUTSK)


def test_pln7_by_the_fifth_of_the_following_month() -> None:
    """PLN-7/monthly (Yugra): January's report by 5 Feb; May's by 5 June (a Friday)."""
    assert day_of_next_month(
        datetime(2026, 1, 20, tzinfo=IRKUTSK), 5, calendar=RU, zone=IRKUTSK
    ) == _eod(date(2026, 2, 5), IRKUTSK)
    # December 2026 -> 5 January 2027 falls in the New Year holidays -> 11 January.
    assert day_of_next_month(
        datetime(2026, 12, 10, tzinfo=IRKUTSK), 5, calendar=RU, zone=IRKUTSK
    ) == _eod(date(2027, 1, 11), IRKUTSK)


@pytest.mark.parametrize(
    ("at", "due"),
    [
        (datetime(2026, 2, 10, 12), date(2026, 4, 6)),  # Q1 -> 5 April is a Sunday -> Monday
        (datetime(2026, 6, 30, 23, 59), date(2026, 7, 6)),  # Q2 -> 5 July is a Sunday
        (datetime(2026, 7, 1), date(2026, 10, 5)),  # Q3
        (datetime(2026, 12, 31, 12), date(2027, 1, 11)),  # Q4 -> 5 January in the holidays
    ],
)
def test_reg7_quarter_deadline_by_the_fifth_of_the_month_after_the_quarter(
    at: datetime, due: date
) -> None:
    """REG-7/office (Irkutsk): offices report by the 5th of the month after the quarter."""
    assert quarter_day(at.replace(tzinfo=IRKUTSK), 5, calendar=RU, zone=IRKUTSK) == _eod(
        due, IRKUTSK
    )


def test_pln13_final_review_two_weeks_before_the_end() -> None:
    """PLN-13/final (Yugra): term ends 2026-06-26 -> review by 12 June, a holiday -> 15 June."""
    end = _eod(date(2026, 6, 26), IRKUTSK)
    assert weeks_before_end(end, 2, calendar=RU, zone=IRKUTSK) == _eod(date(2026, 6, 15), IRKUTSK)


def test_naive_datetimes_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        add_working_days(datetime(2026, 3, 6, 15), 1, calendar=KZ, zone=ALMATY)
    with pytest.raises(ValueError, match="aware"):
        add_hours(datetime(2026, 3, 6, 15), 1, zone=ALMATY)
