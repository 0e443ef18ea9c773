"""Properties of working-day and term arithmetic (DOMAIN.md "Working days")."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given
from hypothesis import strategies as st

from kamqor.calendar import get_calendar
from kamqor.calendar.terms import TERM_KINDS, add_hours, compute, local_date

CALENDARS = ["kz", "ru", "ru-ba"]
ZONES = {
    "kz": ZoneInfo("Asia/Almaty"),
    "ru": ZoneInfo("Asia/Irkutsk"),
    "ru-ba": ZoneInfo("Asia/Yekaterinburg"),
}
# Leave room after the event so every term stays inside the calendar's years.
days = st.dates(min_value=date(2024, 1, 1), max_value=date(2026, 6, 30))
instants = st.datetimes(
    min_value=datetime(2024, 1, 2), max_value=datetime(2026, 6, 30), timezones=st.just(UTC)
)


@given(st.sampled_from(CALENDARS), days, st.integers(min_value=1, max_value=60))
def test_due_date_in_working_days_is_a_working_day(cal_id: str, day: date, n: int) -> None:
    cal = get_calendar(cal_id)
    due = cal.add_working_days(day, n)
    assert cal.is_working_day(due)
    assert due > day
    assert cal.working_days_between(day + timedelta(days=1), due) == n


@given(
    st.sampled_from(CALENDARS),
    days,
    st.integers(min_value=0, max_value=40),
    st.integers(min_value=0, max_value=40),
)
def test_adding_working_days_in_two_steps_equals_adding_once(
    cal_id: str, day: date, a: int, b: int
) -> None:
    cal = get_calendar(cal_id)
    assert cal.add_working_days(cal.add_working_days(day, a), b) == cal.add_working_days(day, a + b)


@given(
    st.sampled_from(CALENDARS),
    st.dates(min_value=date(2024, 1, 10), max_value=date(2026, 6, 30)),
    st.integers(min_value=1, max_value=40),
)
def test_going_back_lands_on_the_last_working_day_not_after_the_start(
    cal_id: str, day: date, n: int
) -> None:
    cal = get_calendar(cal_id)
    back = cal.add_working_days(cal.add_working_days(day, n), -n)
    assert back <= day and cal.is_working_day(back)
    assert cal.working_days_between(back + timedelta(days=1), day) == 0


@given(instants, st.integers(min_value=1, max_value=24 * 400))
def test_hours_ignore_the_calendar(at: datetime, hours: int) -> None:
    """A term in hours (SHL-3's kind) is elapsed time, whatever holidays it crosses."""
    due = add_hours(at, hours, zone=ZONES["kz"])
    assert due - at == timedelta(hours=hours)


@given(
    st.sampled_from(CALENDARS),
    instants,
    st.sampled_from([k for k in TERM_KINDS if k != "weeks_before_end"]),
    st.integers(min_value=1, max_value=12),  # 12 months from mid-2026 still fits in 2027
)
def test_due_is_always_after_the_event(cal_id: str, at: datetime, kind: str, n: int) -> None:
    zone = ZONES[cal_id]
    due = compute(kind, n, at, calendar=get_calendar(cal_id), zone=zone)  # type: ignore[arg-type]
    assert due > at
    assert due.tzinfo is zone


@given(st.sampled_from(CALENDARS), instants, st.sampled_from(["working_days", "days", "months"]))
def test_day_terms_end_at_the_end_of_a_working_day(cal_id: str, at: datetime, kind: str) -> None:
    cal, zone = get_calendar(cal_id), ZONES[cal_id]
    due = compute(kind, 3, at, calendar=cal, zone=zone)  # type: ignore[arg-type]
    assert cal.is_working_day(local_date(due, zone))
    assert (due + timedelta(microseconds=1)).time() == datetime.min.time()
