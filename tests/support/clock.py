"""Dates as the domain clock sees them (pinned for the whole session in `tests/conftest.py`)."""

from __future__ import annotations

from datetime import date
from zoneinfo import ZoneInfo

from kamqor.clock import utcnow

ASTANA = ZoneInfo("Asia/Almaty")
IRKUTSK = ZoneInfo("Asia/Irkutsk")
YEKATERINBURG = ZoneInfo("Asia/Yekaterinburg")


def today(zone: ZoneInfo = ASTANA) -> date:
    """Today's date in `zone` by the domain clock, never by the machine's."""
    return utcnow().astimezone(zone).date()
