"""Notify's confirmations that an admission's notices exist, and the reconciler's re-sends (SHL-3).

The broker is not the record: until notify confirms, the shelter re-sends the admission event
(`shelter.reconciler`). The partial index serves the reconciler's scan of recent admission events
in the outbox, so its cost follows recent admissions, not the whole outbox.

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

ADMITTED = "kamqor.shelter.stay.admitted"


def upgrade() -> None:
    op.create_table(
        "admission_notice_checks",
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("confirmed_at", TS),
        sa.Column("notices", sa.Integer),
        sa.Column("resends", sa.Integer, nullable=False, server_default="0"),
        sa.Column("last_resent_at", TS),
    )
    op.create_index(
        "ix_outbox_admissions",
        "outbox",
        ["created_at"],
        postgresql_where=sa.text(f"subject = '{ADMITTED}'"),
    )


def downgrade() -> None:
    op.drop_index("ix_outbox_admissions", table_name="outbox")
    op.drop_table("admission_notice_checks")
