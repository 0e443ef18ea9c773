"""Reactions to other services' events. The shelter consumes none yet: admissions start here."""

from __future__ import annotations

from kamqor.inbox import Subscription
from kamqor.runtime import Wiring


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return []
