"""Delivery of notices for real: deliveries per channel, their attempts, registered letters;
a notice's content, delivery and escalation times (SHL-3, NTF-1, NTF-7).

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # The need-to-know text of an admission with several minors outgrows 2000 characters.
    op.alter_column("notices", "text", type_=sa.Text(), existing_nullable=False)
    op.add_column("notices", sa.Column("content", JSONB(), nullable=True))
    for column in (
        "delivered_at",
        "escalate_at",
        "escalated_at",
        "ack_remind_at",
        "ack_reminded_at",
    ):
        op.add_column("notices", sa.Column(column, TZ, nullable=True))
    # The sweeper's scans: notices to escalate, acknowledgements to remind of.
    op.create_index(
        "ix_notices_escalate",
        "notices",
        ["escalate_at"],
        postgresql_where=sa.text("escalated_at IS NULL AND state <> 'acknowledged'"),
    )
    op.create_index(
        "ix_notices_ack_remind",
        "notices",
        ["ack_remind_at"],
        postgresql_where=sa.text("ack_reminded_at IS NULL AND state = 'pending'"),
    )
    op.create_table(
        "deliveries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("notice_id", sa.String(64), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("target", sa.String(500), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", TZ, nullable=True),
        sa.Column("delivered_at", TZ, nullable=True),
        sa.Column("receipt", sa.String(500), nullable=False),
        sa.Column("created_at", TZ, nullable=False),
        sa.UniqueConstraint("notice_id", "channel", "target"),
    )
    op.create_index("ix_deliveries_notice_id", "deliveries", ["notice_id"])
    op.create_index("ix_deliveries_due", "deliveries", ["state", "next_attempt_at"])
    op.create_table(
        "delivery_attempts",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("delivery_id", sa.String(64), sa.ForeignKey("deliveries.id"), nullable=False),
        sa.Column("at", TZ, nullable=False),
        sa.Column("ok", sa.Boolean(), nullable=False),
        sa.Column("detail", sa.String(500), nullable=False),
    )
    op.create_index("ix_delivery_attempts_delivery_id", "delivery_attempts", ["delivery_id"])
    op.create_table(
        "letters",
        sa.Column("notice_id", sa.String(64), sa.ForeignKey("notices.id"), primary_key=True),
        sa.Column("registration_number", sa.String(60), nullable=False, unique=True),
        sa.Column("registered_at", TZ, nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
    )
    # Registration numbers of written notices: gapless enough for a register, never reused.
    op.execute("CREATE SEQUENCE letter_registration_seq")


def downgrade() -> None:
    op.execute("DROP SEQUENCE letter_registration_seq")
    op.drop_table("letters")
    op.drop_table("delivery_attempts")
    op.drop_table("deliveries")
    op.drop_index("ix_notices_ack_remind", table_name="notices")
    op.drop_index("ix_notices_escalate", table_name="notices")
    for column in (
        "ack_reminded_at",
        "ack_remind_at",
        "escalated_at",
        "escalate_at",
        "delivered_at",
    ):
        op.drop_column("notices", column)
    op.drop_column("notices", "content")
    op.alter_column("notices", "text", type_=sa.String(2000), existing_nullable=False)
