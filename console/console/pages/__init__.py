"""The screens, one router each."""

from __future__ import annotations

from fastapi import APIRouter

from console.pages import agency, deadlines, home, journal, notices, shelter

ROUTERS: tuple[APIRouter, ...] = (
    home.router,
    shelter.router,
    notices.router,
    journal.router,
    agency.router,
    deadlines.router,
)
