"""The electronic journal (append-only, INT-2), its persons and counters, and the kit's tables.

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

_GUARD_FUNCTION = """
CREATE FUNCTION journal_is_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'journal entries are never edited or deleted (INT-2)';
END;
$$ LANGUAGE plpgsql;
"""


def _guard(table: str) -> None:
    """INT-2: an entry is never edited or deleted, whoever holds a database connection."""
    op.execute(
        f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
        "FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()"
    )


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "appeals",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("journal_number", sa.String(120), nullable=False, unique=True),
        sa.Column("center_id", sa.String(100), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("sequence", sa.Integer(), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("channel", sa.String(30), nullable=False),
        sa.Column("registered_at", TS, nullable=False),
        sa.Column("summary", sa.String(4000), nullable=False),
        sa.Column("threat_to_life", sa.Boolean(), nullable=False),
        sa.Column("domestic_violence", sa.Boolean(), nullable=False),
        sa.Column("registered_by", sa.String(100), nullable=False),
        sa.UniqueConstraint("center_id", "year", "sequence"),
    )
    op.create_index("ix_appeals_territory_id", "appeals", ["territory", "id"])
    op.create_table(
        "appeal_persons",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("appeal_id", sa.String(64), sa.ForeignKey("appeals.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("birth_date", sa.Date()),
    )
    op.create_index("ix_appeal_persons_appeal_id", "appeal_persons", ["appeal_id"])
    op.create_table(
        "journal_counters",
        sa.Column("center_id", sa.String(100), primary_key=True),
        sa.Column("year", sa.Integer(), primary_key=True),
        sa.Column("last", sa.Integer(), nullable=False),
    )
    op.execute(_GUARD_FUNCTION)
    _guard("appeals")
    _guard("appeal_persons")


def downgrade() -> None:
    for table in ("journal_counters", "appeal_persons", "appeals"):
        op.drop_table(table)
    op.execute("DROP FUNCTION IF EXISTS journal_is_append_only()")
