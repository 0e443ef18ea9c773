"""Notices and the kit's tables.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS, create_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "notices",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("rule", sa.String(50), nullable=False),
        sa.Column("recipient_agency_type", sa.String(50), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("sender_agency", sa.String(100), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("text", sa.String(2000), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("due_at", TS, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("acknowledged_at", TS),
        sa.Column("acknowledged_by_agency", sa.String(100), nullable=False, server_default=""),
        sa.Column("acknowledged_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("source_event_id", sa.String(64), nullable=False),
        sa.UniqueConstraint("source_event_id", "recipient_agency_type"),
    )
    op.create_index("ix_notices_recipient", "notices", ["territory", "recipient_agency_type", "id"])
    op.create_index("ix_notices_sender", "notices", ["sender_agency", "id"])


def downgrade() -> None:
    op.drop_table("notices")
