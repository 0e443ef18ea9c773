"""Reactions to other services' events. Plans consume none yet: a plan starts with a case
worker's draft (PLN-1), not with an event."""

from __future__ import annotations

from kamqor.inbox import Subscription
from kamqor.runtime import Wiring


def subscriptions(_wiring: Wiring) -> list[Subscription]:
    return []
