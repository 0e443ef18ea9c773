"""Repeat reviews (REG-3) and what the commission heard and studied (REG-2, seed 002 p. 44):
the reason a minor could not be heard, the documents reviewed, and a review's next date.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "decisions",
        sa.Column("minor_not_heard_reason", sa.String(500), nullable=False, server_default=""),
    )
    op.add_column(
        "decisions",
        sa.Column(
            "documents_reviewed", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")
        ),
    )
    op.add_column(
        "decisions",
        sa.Column("repeat_review", sa.Boolean, nullable=False, server_default=sa.false()),
    )
    op.add_column("decisions", sa.Column("next_review_on", sa.Date, nullable=True))


def downgrade() -> None:
    for column in (
        "next_review_on",
        "repeat_review",
        "documents_reviewed",
        "minor_not_heard_reason",
    ):
        op.drop_column("decisions", column)
