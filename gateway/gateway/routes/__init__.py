"""REST /v1, one router module per service; `ROUTERS` names the service each one calls.

The app opens a channel to every one of the five services (`settings.SERVICES`) and readiness
checks each of them, whether or not a router here calls it.
"""

from __future__ import annotations

from fastapi import APIRouter

from gateway.routes import (
    agencies,
    intake,
    monitoring,
    notify,
    plan_lifecycle,
    plans,
    registry,
    reminders,
    reports,
    shelter,
)

ROUTERS: dict[str, APIRouter] = {
    intake.SERVICE: intake.router,
    shelter.SERVICE: shelter.router,
    notify.SERVICE: notify.router,
    plans.SERVICE: plans.router,
    agencies.NAME: agencies.router,
    plan_lifecycle.NAME: plan_lifecycle.router,
    registry.SERVICE: registry.router,
    reminders.NAME: reminders.router,
    reports.NAME: reports.router,
    monitoring.NAME: monitoring.router,
}
