"""Production calendars (working days per jurisdiction) and the term arithmetic built on them.

    from kamqor.calendar import get_calendar, WorkingCalendar, CalendarRangeError
    cal = get_calendar("kz")            # as in force today; get_calendar("kz", on=day) for history
    cal.is_working_day(day); cal.working_days_between(d1, d2); cal.add_working_days(day, n)

Data: `calendar/data/<id>.yaml` over the `holidays` package. Term arithmetic: `terms.py`.
Command line: `python -m kamqor.calendar --help`.
"""

from kamqor.calendar.data import calendar_ids, get_calendar, load_calendar_file
from kamqor.calendar.errors import CalendarError, CalendarRangeError, TermsError
from kamqor.calendar.model import WorkingCalendar

__all__ = [
    "CalendarError",
    "CalendarRangeError",
    "TermsError",
    "WorkingCalendar",
    "calendar_ids",
    "get_calendar",
    "load_calendar_file",
]
