"""The responsible case worker of a case (INT-9): one at a time; assigning past the profile's
recommended caseload is allowed and recorded with who decided (MON-4 counts it).

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_assignments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("worker", sa.String(100), nullable=False),
        sa.Column("level", sa.String(50), nullable=False),
        sa.Column("caseload", sa.Integer(), nullable=False),
        sa.Column("recommended", sa.Integer()),
        sa.Column("over_recommendation", sa.Boolean(), nullable=False),
        sa.Column("assigned_at", TS, nullable=False),
        sa.Column("assigned_by", sa.String(100), nullable=False),
        sa.Column("ended_at", TS),
    )
    # INT-9: one responsible case worker per case.
    op.create_index(
        "uq_case_assignments_current",
        "case_assignments",
        ["case_id"],
        unique=True,
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index(
        "ix_case_assignments_worker", "case_assignments", ["territory", "worker", "ended_at"]
    )


def downgrade() -> None:
    op.drop_table("case_assignments")
