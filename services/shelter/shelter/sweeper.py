"""The shelter's deadline sweeper: stays nearing or past their one-month end (SHL-1)."""

from __future__ import annotations

from kamqor.runtime import Wiring
from kamqor.sweeping import Sweeper

SERVICE = "shelter"


def build(wiring: Wiring) -> Sweeper:
    return Sweeper(
        service=SERVICE,
        uow=wiring.uow,
        interval_seconds=wiring.settings.sweep_interval_seconds,
        after_commit=wiring.relay.wake,
    )
