"""Commission sessions (REG-2): the members present and the quorum; each decision names its
session and keeps every member's vote. The secretary's act of sending a decision to the
registry office (REG-4, REG-6).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kamqor.schema import TS

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "commission_sessions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False, index=True),
        sa.Column("commission_id", sa.String(100), nullable=False),
        sa.Column("held_on", sa.Date, nullable=False),
        sa.Column("composition_size", sa.Integer, nullable=False),
        sa.Column("quorum", sa.Integer, nullable=False),
        sa.Column("members", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
    )
    op.add_column(
        "decisions", sa.Column("session_id", sa.String(64), nullable=False, server_default="")
    )
    op.create_index("ix_decisions_session_id", "decisions", ["session_id"])
    op.add_column(
        "decisions",
        sa.Column("ballots", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )

    op.add_column(
        "decisions", sa.Column("sent_by", sa.String(100), nullable=False, server_default="")
    )
    op.add_column("decisions", sa.Column("sent_at", TS))
    op.create_index("ix_decisions_territory_state", "decisions", ["territory", "state"])


def downgrade() -> None:
    op.drop_index("ix_decisions_territory_state", table_name="decisions")
    op.drop_column("decisions", "sent_at")
    op.drop_column("decisions", "sent_by")
    op.drop_column("decisions", "ballots")
    op.drop_index("ix_decisions_session_id", table_name="decisions")
    op.drop_column("decisions", "session_id")
    op.drop_table("commission_sessions")
