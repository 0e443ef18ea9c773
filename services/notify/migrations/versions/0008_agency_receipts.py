"""Notices addressed to one agency by its id (NTF-3, PLN-4 copies), and the signed receipts
agencies' systems post back (NTF-7).

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    # '' for a notice to every agency of a type in the territory (police, guardianship).
    op.add_column(
        "notices",
        sa.Column("recipient_agency", sa.String(100), nullable=False, server_default=""),
    )
    # One event may now address several agencies of one type (a plan's copies, PLN-4).
    op.drop_constraint(
        "notices_source_event_id_recipient_agency_type_key", "notices", type_="unique"
    )
    op.create_unique_constraint(
        "uq_notices_event_recipient",
        "notices",
        ["source_event_id", "recipient_agency_type", "recipient_agency"],
    )
    op.create_index(
        "ix_notices_recipient_agency",
        "notices",
        ["recipient_agency", "territory"],
        postgresql_where=sa.text("recipient_agency <> ''"),
    )
    op.create_table(
        "receipts",
        # The agency system's own id of the receipt: each is recorded once (replays change
        # nothing).
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("notice_id", sa.String(64), sa.ForeignKey("notices.id"), nullable=False),
        sa.Column("sender", sa.String(120), nullable=False),
        sa.Column("signed_at", TZ, nullable=False),
        sa.Column("received_at", TZ, nullable=False),
    )
    op.create_index("ix_receipts_notice", "receipts", ["notice_id"])


def downgrade() -> None:
    op.drop_index("ix_receipts_notice", table_name="receipts")
    op.drop_table("receipts")
    op.drop_index("ix_notices_recipient_agency", table_name="notices")
    op.drop_constraint("uq_notices_event_recipient", "notices", type_="unique")
    op.create_unique_constraint(
        "notices_source_event_id_recipient_agency_type_key",
        "notices",
        ["source_event_id", "recipient_agency_type"],
    )
    op.drop_column("notices", "recipient_agency")
