"""Profile errors; both are `TermsError`, the one base the command line catches."""

from __future__ import annotations

from kamqor.calendar.errors import TermsError


class ProfileError(TermsError):
    """An unknown profile, or a profile file that fails validation (names file, key, problem)."""


class UnknownRule(TermsError):
    """The profile has no term for this rule key (or the bare rule id is ambiguous)."""
