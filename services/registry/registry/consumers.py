"""Reactions to other services' events. The registry consumes none: its records start with a
commission decision (REG-2), not with an event."""

from __future__ import annotations

from kamqor.inbox import Subscription
from kamqor.runtime import Wiring


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return []
