"""Journal follow-ups (INT-2): later entries about an appeal, further information or a
correction naming what it corrects and why; numbered from the center's journal sequence, never
edited or deleted (the same guard as the entries).

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "journal_follow_ups",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("appeal_id", sa.String(64), sa.ForeignKey("appeals.id"), nullable=False),
        sa.Column("journal_number", sa.String(120), nullable=False, unique=True),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("text", sa.String(4000), nullable=False),
        sa.Column("corrected_field", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("center_id", "year", "sequence"),
    )
    op.create_index(
        "ix_journal_follow_ups_appeal", "journal_follow_ups", ["appeal_id", "recorded_at"]
    )
    op.execute(
        "CREATE TRIGGER journal_follow_ups_append_only BEFORE UPDATE OR DELETE "
        "ON journal_follow_ups FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()"
    )


def downgrade() -> None:
    op.drop_table("journal_follow_ups")
