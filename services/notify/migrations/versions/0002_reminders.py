"""Reminders and escalations of obligations (NTF-7, MON-3).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "reminders",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("obligation_id", sa.String(64), nullable=False),
        sa.Column("producer", sa.String(20), nullable=False),
        sa.Column("stage", sa.String(20), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("responsible_agency", sa.String(100), nullable=False),
        sa.Column("responsible_person", sa.String(100), nullable=False, server_default=""),
        sa.Column("recipient_agency", sa.String(100), nullable=False),
        sa.Column("recipient_role", sa.String(50), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("source_event_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("obligation_id", "stage", name="uq_reminders_obligation_stage"),
    )
    op.create_index(
        "ix_reminders_recipient",
        "reminders",
        ["territory", "recipient_agency", "recipient_role", "id"],
    )
    op.create_index(
        "ix_reminders_responsible_person", "reminders", ["territory", "responsible_person", "id"]
    )


def downgrade() -> None:
    op.drop_table("reminders")
