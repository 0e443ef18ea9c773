"""Indexes for a shelter's list of stays in each order: the latest admission, the fewest days
left (the latest end), the adult's name; each within the shelter and state, the id breaking ties.

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
    "ix_stays_shelter_admitted": "admitted_at",
    "ix_stays_shelter_end": "latest_end_at",
    "ix_stays_shelter_name": "adult_name",
}


def upgrade() -> None:
    for name, column in _INDEXES.items():
        op.create_index(name, "stays", ["shelter_id", "state", column, "id"])


def downgrade() -> None:
    for name in _INDEXES:
        op.drop_index(name, table_name="stays")
