"""Changes in a family's data (REG-5): the responsible body's reports and each field's history.

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
        "family_changes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("families.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("changed_on", sa.Date, nullable=False),
        sa.Column("fields", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("reported_by", sa.String(100), nullable=False),
        sa.Column("reporting_agency", sa.String(100), nullable=False),
        sa.Column("reported_at", TS, nullable=False),
        sa.Column("entered_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("entered_at", TS),
    )
    op.create_index("ix_family_changes_family_id", "family_changes", ["family_id"])
    op.create_index("ix_family_changes_territory", "family_changes", ["territory"])
    op.create_table(
        "family_field_history",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("families.id"), nullable=False),
        sa.Column("member_id", sa.String(64), nullable=False, server_default=""),
        sa.Column("field", sa.String(50), nullable=False),
        sa.Column("old_value", sa.String(500), nullable=False),
        sa.Column("new_value", sa.String(500), nullable=False),
        sa.Column("change_id", sa.String(64), sa.ForeignKey("family_changes.id"), nullable=False),
        sa.Column("entered_by", sa.String(100), nullable=False),
        sa.Column("entered_at", TS, nullable=False),
    )
    op.create_index("ix_family_field_history_family_id", "family_field_history", ["family_id"])


def downgrade() -> None:
    op.drop_table("family_field_history")
    op.drop_table("family_changes")
