"""Shelters, stays, the minors admitted with them, and the kit's tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS, create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "shelters",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("capacity", sa.Integer(), nullable=False),
    )
    op.create_index("ix_shelters_center_id", "shelters", ["center_id"])
    op.create_index("ix_shelters_territory", "shelters", ["territory"])
    op.create_table(
        "stays",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("shelter_id", sa.String(64), sa.ForeignKey("shelters.id"), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("adult_name", sa.String(200), nullable=False),
        sa.Column("adult_birth_date", sa.Date(), nullable=False),
        sa.Column("referral", sa.String(50), nullable=False),
        sa.Column("appeal_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("admitted_at", TS, nullable=False),
        sa.Column("latest_end_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("persons", sa.Integer(), nullable=False),
        sa.Column("discharged_at", TS),
        sa.Column("discharge_reason", sa.String(500), nullable=False, server_default=""),
        sa.Column("admitted_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_stays_shelter_id", "stays", ["shelter_id"])
    op.create_index("ix_stays_territory", "stays", ["territory"])
    op.create_index("ix_stays_state", "stays", ["state"])
    op.create_table(
        "stay_minors",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("stay_id", sa.String(64), sa.ForeignKey("stays.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
    )
    op.create_index("ix_stay_minors_stay_id", "stay_minors", ["stay_id"])


def downgrade() -> None:
    for table in ("stay_minors", "stays", "shelters"):
        op.drop_table(table)
