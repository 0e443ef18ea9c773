"""The agency directory (PLN-2, seed 003 4.2); measure routing: declines, re-routing,
amendments.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from kamqor.schema import TS

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "agencies",
        sa.Column("id", sa.String(100), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("agency_type", sa.String(50), nullable=False),
        sa.Column("name", sa.String(300), nullable=False),
        sa.Column("competences", ARRAY(sa.String(30)), nullable=False, server_default="{}"),
        sa.Column("phone", sa.String(50), nullable=False, server_default=""),
        sa.Column("email", sa.String(200), nullable=False, server_default=""),
        sa.Column("address", sa.String(500), nullable=False, server_default=""),
        sa.Column("users", ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        sa.Column("active", sa.Boolean(), nullable=False, server_default=sa.true()),
        sa.Column("updated_at", TS, nullable=False),
    )
    op.create_index("ix_agencies_territory", "agencies", ["territory"])
    op.create_table(
        "measure_changes",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("measure_id", sa.String(64), sa.ForeignKey("measures.id"), nullable=False),
        sa.Column("action", sa.String(20), nullable=False),
        sa.Column("changed_by", sa.String(100), nullable=False),
        sa.Column("changed_at", TS, nullable=False),
        sa.Column("reason", sa.String(4000), nullable=False, server_default=""),
        sa.Column("before", JSONB, nullable=False, server_default="{}"),
        sa.Column("after", JSONB, nullable=False, server_default="{}"),
    )
    op.create_index("ix_measure_changes_measure_id", "measure_changes", ["measure_id"])
    op.create_table(
        "measure_sendings",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("measure_id", sa.String(64), sa.ForeignKey("measures.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("agency_id", sa.String(100), nullable=False),
        sa.Column("sent_at", TS, nullable=False),
        sa.Column("declined_at", TS),
        sa.Column("decline_reason", sa.String(30), nullable=False, server_default=""),
    )
    op.create_index("ix_measure_sendings_measure_id", "measure_sendings", ["measure_id"])
    op.create_index(
        "ix_measure_sendings_territory_sent", "measure_sendings", ["territory", "sent_at"]
    )
    # Measures sent before this revision: one sending each, to the agency they are at.
    op.execute(
        "INSERT INTO measure_sendings (id, measure_id, territory, agency_id, sent_at) "
        "SELECT id, id, territory, agency_id, sent_at FROM measures "
        "WHERE sent_at IS NOT NULL AND agency_id <> center_id"
    )


def downgrade() -> None:
    for table in ("measure_sendings", "measure_changes", "agencies"):
        op.drop_table(table)
