"""Quarterly monitoring reports with their versions (MON-1).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kamqor.schema import TS

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "monitoring_reports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("latest_version", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        # One report per center and quarter: a second one is a revision of the first.
        sa.UniqueConstraint("center_id", "quarter", name="uq_monitoring_reports_center_quarter"),
    )
    # The list reads a territory's reports, newest quarter first.
    op.create_index(
        "ix_monitoring_reports_territory_quarter", "monitoring_reports", ["territory", "quarter"]
    )
    op.create_table(
        "monitoring_report_versions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "report_id", sa.String(64), sa.ForeignKey("monitoring_reports.id"), nullable=False
        ),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("snapshot", JSONB(), nullable=False),
        sa.Column("conclusion", sa.Text(), nullable=False),
        sa.Column("shortcomings", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("proposals", JSONB(), nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("author", sa.String(100), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("signed_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("signed_at", TS),
        sa.UniqueConstraint("report_id", "version", name="uq_monitoring_report_versions"),
    )


def downgrade() -> None:
    op.drop_table("monitoring_report_versions")
    op.drop_table("monitoring_reports")
