"""Obligations keep their term; due times moved by new calendar data are recorded.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

from kamqor.schema import add_replanning

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_replanning()
