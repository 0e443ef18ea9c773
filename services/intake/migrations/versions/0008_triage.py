"""Triage actions on a journal entry: consultation, redirection to the competent organisation,
primary assessment, redirection for a domestic-violence victim's identification (INT-3, INT-4,
INT-7). Append-only like the journal (INT-2): a later action follows, none is edited.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "triage_actions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("appeal_id", sa.String(64), sa.ForeignKey("appeals.id"), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("at", TS, nullable=False),
        sa.Column("by", sa.String(100), nullable=False),
        sa.Column("organisation", sa.String(100), nullable=False),
        sa.Column("in_dls", sa.Boolean()),
        sa.Column("note", sa.String(4000), nullable=False),
        sa.Column("immediate_measures", sa.String(4000), nullable=False),
        # INT-4: the mobile group a threat's primary assessment engaged (migration 0009).
        sa.Column("mobile_group_id", sa.String(64)),
    )
    op.create_index("ix_triage_actions_appeal", "triage_actions", ["appeal_id", "at"])
    # INT-2: followed by further entries, never edited (the journal's guard, migration 0001).
    op.execute(
        "CREATE TRIGGER triage_actions_append_only BEFORE UPDATE OR DELETE ON triage_actions "
        "FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()"
    )


def downgrade() -> None:
    op.drop_table("triage_actions")
