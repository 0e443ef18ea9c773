"""The registry's deadline sweeper: decisions not sent within 7 working days or not entered
within 3 (REG-4, REG-6), repeat reviews nearing their 6-month limit (REG-3), requests to answer
(REG-8) and quarterly reports (REG-7), through the kit's sweep over `obligations`, whose
approaching and overdue events notify turns into reminders and escalations (NTF-6, NTF-7).

Two steps of its own: when a quarter ends, the REG-7 terms of every territory with a data bank
are opened (once); removed families past their retention period are erased (REG-6, REG-9).
"""

from __future__ import annotations

from datetime import datetime

from kamqor.clock import utcnow
from kamqor.runtime import Wiring
from kamqor.sweeping import Sweeper
from registry.service.reports import open_quarter_terms
from registry.service.retention import erase_expired

SERVICE = "registry"


class RegistrySweeper(Sweeper):
    async def sweep_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        async with self._uow() as session:
            opened = await open_quarter_terms(session, now=now)
        async with self._uow() as session:
            erased = await erase_expired(session, now=now)
        count = await super().sweep_once(now)
        # A full batch of erasures may leave more: worth another pass at once.
        return count + erased + opened


def build(wiring: Wiring) -> Sweeper:
    return RegistrySweeper(
        service=SERVICE,
        uow=wiring.uow,
        interval_seconds=wiring.settings.sweep_interval_seconds,
        after_commit=wiring.relay.wake,
    )
