"""Cases: what an appeal opens or joins, one open case per family record at a time; plans,
stays and registry decisions refer to a case.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("family_records.id"), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("opened_at", TS, nullable=False),
        sa.Column("opened_by", sa.String(100), nullable=False),
        sa.Column("closed_at", TS),
        sa.Column("closed_by", sa.String(100)),
        sa.Column("close_reason", sa.String(1000)),
    )
    # One open case per family record: a second appeal joins it.
    op.create_index(
        "uq_cases_open_family",
        "cases",
        ["family_id"],
        unique=True,
        postgresql_where=sa.text("state = 'open'"),
    )
    op.create_index("ix_cases_territory_opened", "cases", ["territory", "opened_at", "id"])
    op.create_table(
        "case_appeals",
        sa.Column("appeal_id", sa.String(64), sa.ForeignKey("appeals.id"), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("opened_case", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_case_appeals_case_id", "case_appeals", ["case_id"])


def downgrade() -> None:
    op.drop_table("case_appeals")
    op.drop_table("cases")
