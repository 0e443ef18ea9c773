"""Errors of calendars, term arithmetic and policy profiles.

`TermsError` is the one base the command line (and anyone computing deadlines) catches. A date
outside the calendar's data is also a `Conflict`, so a use case that lets it escape answers
FAILED_PRECONDITION instead of a bare internal error: the request is fine, our data is not there.
"""

from __future__ import annotations

from kamqor.errors import Conflict


class TermsError(Exception):
    """A term cannot be computed: unknown profile or rule, bad data, date outside a calendar."""


class CalendarError(TermsError):
    """A calendar's data file is missing or invalid, or the calendar id is unknown."""


class CalendarRangeError(TermsError, Conflict):
    """A date falls outside the years a calendar has data for; never guessed."""

    def __init__(self, message: str) -> None:
        Conflict.__init__(self, message, code="calendar-range")
