"""The shelter's sweeper: stays nearing or past their end (SHL-1) through the kit's sweep over
`obligations`; holds past their time released and offered to the waiting list (SHL-6); open
stays' bed-days stored up to yesterday in each territory's local time (SHL-5)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from kamqor.clock import utcnow
from kamqor.profiles import get_profile
from kamqor.runtime import Wiring
from kamqor.sweeping import Sweeper
from kamqor.territories import territory as territory_of
from shelter import models, placement
from shelter.models import Stay

SERVICE = "shelter"


class ShelterSweeper(Sweeper):
    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        # territory -> the last local date stored for its open stays: once a day is enough.
        self._accrued: dict[str, date] = {}

    async def sweep_once(self, now: datetime | None = None) -> int:
        now = now or utcnow()
        count = await super().sweep_once(now)
        async with self._uow() as session:
            expired = await placement.expire_holds(session, now=now)
        async with self._uow() as session:
            stays = Stay.__table__  # type: ignore[attr-defined]
            conn = await session.connection()
            territories = (
                await conn.execute(
                    sa.select(stays.c.territory).where(stays.c.state == "active").distinct()
                )
            ).scalars()
            for code in list(territories):
                zone = get_profile(territory_of(code).profile).zone
                yesterday = now.astimezone(zone).date() - timedelta(days=1)
                if self._accrued.get(code) != yesterday:
                    await models.accrue_bed_days(session, through=yesterday, territory=code)
                    self._accrued[code] = yesterday
        # Bed-days are bookkeeping, not work that makes another pass worthwhile.
        return count + expired


def build(wiring: Wiring) -> Sweeper:
    return ShelterSweeper(
        service=SERVICE,
        uow=wiring.uow,
        interval_seconds=wiring.settings.sweep_interval_seconds,
        after_commit=wiring.relay.wake,
    )
