"""Plans, their measures, and the kit's tables.

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
        "plans",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("case_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("situation", sa.String(10), nullable=False),
        sa.Column("support_level", sa.String(20), nullable=False, server_default=""),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("term_ends_at", TS, nullable=False),
        sa.Column("approved_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("approved_at", TS),
        sa.Column("approval_decision", sa.String(200), nullable=False, server_default=""),
    )
    op.create_index("ix_plans_center_id", "plans", ["center_id"])
    op.create_index("ix_plans_territory", "plans", ["territory"])
    op.create_table(
        "measures",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("agency_id", sa.String(100), nullable=False),
        sa.Column("agency_type", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("target", sa.String(200), nullable=False, server_default=""),
        sa.Column("deadline", sa.Date(), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("sent_at", TS),
        sa.Column("assignee", sa.String(100), nullable=False, server_default=""),
        sa.Column("assigned_at", TS),
        sa.Column("assigned_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("reported_at", TS),
        sa.Column("report", sa.String(4000), nullable=False, server_default=""),
        sa.Column("reported_on_time", sa.Boolean()),
        sa.Column("returned_at", TS),
        sa.Column("return_reason", sa.String(4000), nullable=False, server_default=""),
        sa.Column("return_mode", sa.String(20), nullable=False, server_default=""),
        sa.Column("returns", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("completed_on", sa.Date()),
        sa.Column("completed_by", sa.String(100), nullable=False, server_default=""),
    )
    op.create_index("ix_measures_plan_id", "measures", ["plan_id"])
    # An agency's own list (PLN-15) reads by (agency, state) in id order.
    op.create_index("ix_measures_agency_state", "measures", ["agency_id", "state", "id"])


def downgrade() -> None:
    for table in ("measures", "plans"):
        op.drop_table(table)
