"""The one place that reads the wall clock for domain time, so tests and the sweeper agree on 'now'.

Domain time (registration instants, deadlines, sweeps, audit) comes from `utcnow()`. Outside
production the clock can be set: `KAMQOR_CLOCK_START` (see `kamqor.settings`) or `set_clock()`
makes it start at a chosen instant and run forward from there at the wall clock's pace, so a
whole suite can live on New Year's Eve while timeouts, retries and token expiry (which use the
real clock) still behave. Token verification never reads this clock: Keycloak signs real time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

# Added to the wall clock; zero unless a test or a development setting moved the clock.
_offset = timedelta(0)


def utcnow() -> datetime:
    return datetime.now(UTC) + _offset


def set_clock(start: datetime | None) -> None:
    """Make `utcnow()` read `start` now and run forward from it; `None` restores the wall clock."""
    global _offset
    if start is None:
        _offset = timedelta(0)
        return
    if start.tzinfo is None or start.utcoffset() is None:
        raise ValueError(f"the clock needs an aware instant, got {start.isoformat()}")
    _offset = start - datetime.now(UTC)


@contextmanager
def clock_at(start: datetime) -> Iterator[None]:
    """`set_clock(start)` for the duration of a block, then the clock as it was (tests)."""
    global _offset
    saved = _offset
    set_clock(start)
    try:
        yield
    finally:
        _offset = saved
