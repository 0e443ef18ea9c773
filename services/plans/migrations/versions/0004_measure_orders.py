"""Indexes for an agency's list of measures by deadline and by sending time, the id breaking
ties (PLN-15).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_measures_agency_deadline", "measures", ["agency_id", "deadline", "id"])
    op.create_index("ix_measures_agency_sent", "measures", ["agency_id", "sent_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_measures_agency_sent", table_name="measures")
    op.drop_index("ix_measures_agency_deadline", table_name="measures")
