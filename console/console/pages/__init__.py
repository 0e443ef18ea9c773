"""The screens, one router each."""

from __future__ import annotations

from fastapi import APIRouter

from console.pages import (
    agency,
    deadlines,
    home,
    journal,
    monitoring,
    notices,
    plans,
    report_shelter,
    shelter,
    shelter_refusals,
)

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    shelter.router,
    shelter_refusals.router,
    notices.router,
    journal.router,
    agency.router,
    deadlines.router,
    report_shelter.router,
    plans.router,
    monitoring.router,
)
