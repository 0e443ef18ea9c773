"""The plan's life: submission, reviews, level changes, extension, closure, monitoring,
reopening (PLN-3, PLN-4, PLN-10..PLN-14).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

PLAN_COLUMNS = [
    sa.Column("family_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("applied_on", sa.Date()),
    sa.Column("submitted_by", sa.String(100), nullable=False, server_default=""),
    sa.Column("submitted_at", TS),
    sa.Column("closed_by", sa.String(100), nullable=False, server_default=""),
    sa.Column("closed_at", TS),
    sa.Column("closure_ground", sa.String(40), nullable=False, server_default=""),
    sa.Column("closure_explanation", sa.String(4000), nullable=False, server_default=""),
    sa.Column("closure_decision", sa.String(200), nullable=False, server_default=""),
    sa.Column("monitoring_from", TS),
    sa.Column("monitoring_until", TS),
    sa.Column("monitoring_ended_at", TS),
    sa.Column("monitoring_outcome", sa.String(4000), nullable=False, server_default=""),
    sa.Column("revises_plan_id", sa.String(64), nullable=False, server_default=""),
    sa.Column("revised_by_plan_id", sa.String(64), nullable=False, server_default=""),
]

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for column in PLAN_COLUMNS:
        op.add_column("plans", column)
    # A center's list of plans, newest first, by state (ListPlans).
    op.create_index("ix_plans_center_state", "plans", ["center_id", "state", "id"])
    op.create_table(
        "plan_acts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("act", sa.String(30), nullable=False),
        sa.Column("from_state", sa.String(20), nullable=False),
        sa.Column("to_state", sa.String(20), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("reason", sa.String(4000), nullable=False, server_default=""),
    )
    op.create_table(
        "plan_participants",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(30), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=False, server_default=""),
    )
    op.create_table(
        "plan_reviews",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=False),
        sa.Column("concluded_at", TS),
        sa.Column("concluded_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("decision", sa.String(10), nullable=False, server_default=""),
        sa.Column("conclusion", sa.String(4000), nullable=False, server_default=""),
    )
    op.create_table(
        "level_changes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("plan_id", sa.String(64), sa.ForeignKey("plans.id"), nullable=False, index=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("person", sa.String(200), nullable=False),
        sa.Column("from_level", sa.String(20), nullable=False),
        sa.Column("to_level", sa.String(20), nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("indicator", sa.String(30), nullable=False, server_default=""),
        sa.Column("reason", sa.String(4000), nullable=False, server_default=""),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
    )
    op.create_index("ix_level_changes_territory_at", "level_changes", ["territory", "at"])
    op.create_table(
        "known_cases",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(64), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
    )


def downgrade() -> None:
    for table in ("known_cases", "level_changes", "plan_reviews", "plan_participants", "plan_acts"):
        op.drop_table(table)
    op.drop_index("ix_plans_center_state", table_name="plans")
    for column in reversed(PLAN_COLUMNS):
        op.drop_column("plans", column.name)
