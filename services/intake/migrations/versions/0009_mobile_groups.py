"""Mobile groups (INT-4): representatives of education, health and police, coordinated by the
local social protection body, in a composition approved for one calendar year per territory.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "mobile_groups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("approved_on", sa.Date(), nullable=False),
        sa.Column("order_number", sa.String(100), nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.UniqueConstraint("territory", "year"),
    )
    op.create_table(
        "mobile_group_members",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("group_id", sa.String(64), sa.ForeignKey("mobile_groups.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("agency_type", sa.String(50), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("representative", sa.String(200), nullable=False),
    )
    op.create_index("ix_mobile_group_members_group", "mobile_group_members", ["group_id"])


def downgrade() -> None:
    op.drop_table("mobile_group_members")
    op.drop_table("mobile_groups")
