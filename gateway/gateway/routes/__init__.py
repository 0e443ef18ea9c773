"""REST /v1, one router module per service; `ROUTERS` names the service each one calls.

Adding a service (plans, registry): write `routes/<service>.py` with a `router`, add it here.
The app opens a channel to each service named here and readiness checks each of them.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.routes import intake, notify, shelter

ROUTERS: dict[str, APIRouter] = {
    intake.SERVICE: intake.router,
    shelter.SERVICE: shelter.router,
    notify.SERVICE: notify.router,
}
