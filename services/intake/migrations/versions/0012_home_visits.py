"""Home inspection reports (INT-8): the case worker's visit to the family's home, recorded in
the case file; a later report follows, none is edited.

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.schema import TS

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "home_visits",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("visited_on", sa.Date(), nullable=False),
        sa.Column("findings", sa.String(4000), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_home_visits_case", "home_visits", ["case_id", "visited_on"])
    op.execute(
        "CREATE TRIGGER home_visits_append_only BEFORE UPDATE OR DELETE ON home_visits "
        "FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()"
    )


def downgrade() -> None:
    op.drop_table("home_visits")
