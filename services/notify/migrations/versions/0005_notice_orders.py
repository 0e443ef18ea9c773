"""Indexes for the lists of notices in each order (newest first, the earliest due first), for
the receiving agency and for the sending center, the id breaking ties.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_notices_recipient_created": (["territory", "recipient_agency_type"], "created_at"),
    "ix_notices_recipient_due": (["territory", "recipient_agency_type"], "due_at"),
    "ix_notices_sender_created": (["sender_agency"], "created_at"),
    "ix_notices_sender_due": (["sender_agency"], "due_at"),
}


def upgrade() -> None:
    for name, (scope, column) in _INDEXES.items():
        op.create_index(name, "notices", [*scope, column, "id"])


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="notices")
