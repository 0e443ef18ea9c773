"""Reactions to other services' events. Intake consumes none yet: cases start here (INT-2)."""

from __future__ import annotations

from kamqor.inbox import Subscription
from kamqor.runtime import Wiring


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return []
