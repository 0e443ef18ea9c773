"""Indexes for the journal's filters and orders: by registration time and by journal number
(compared bytewise), each within a territory, the id breaking ties.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_appeals_territory_registered", "appeals", ["territory", "registered_at", "id"]
    )
    op.create_index(
        "ix_appeals_territory_number",
        "appeals",
        ["territory", sa.text('journal_number COLLATE "C"'), "id"],
    )


def downgrade() -> None:
    op.drop_index("ix_appeals_territory_number", table_name="appeals")
    op.drop_index("ix_appeals_territory_registered", table_name="appeals")
