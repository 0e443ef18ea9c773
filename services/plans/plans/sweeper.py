"""The plans deadline sweeper: measures whose agency has not designated a responsible person
within 2 working days (PLN-6), and any other plan obligation nearing or past its due time.

Each term is an obligation, so the kit's sweep over `obligations` emits the approaching and
overdue events that notify turns into reminders and escalations (NTF-3, NTF-7). Before it, the
quarterly monitoring reports a quarter's end makes due are opened as obligations (MON-1).
"""

from __future__ import annotations

from datetime import datetime

from kamqor.clock import utcnow
from kamqor.runtime import Wiring
from kamqor.sweeping import Sweeper
from plans.service.monitoring import open_quarterly_obligations

SERVICE = "plans"


class PlansSweeper(Sweeper):
    def __init__(self, wiring: Wiring) -> None:
        super().__init__(
            service=SERVICE,
            uow=wiring.uow,
            interval_seconds=wiring.settings.sweep_interval_seconds,
            after_commit=wiring.relay.wake,
        )
        # MON-1 subjects this process has handled: a sweep asks the database only once per
        # center and quarter.
        self._seen: set[str] = set()

    async def sweep_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        seen = set(self._seen)
        async with self._uow() as session:
            opened = await open_quarterly_obligations(session, now=now, seen=seen)
        self._seen = seen  # only once committed
        return opened + await super().sweep_once(now)


def build(wiring: Wiring) -> Sweeper:
    return PlansSweeper(wiring)
