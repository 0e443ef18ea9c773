"""Obligations keep their term; due times moved by new calendar data are recorded.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from kamqor.schema import add_replanning

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_replanning()
