"""Information requests (REG-8), quarterly reports (REG-7) and the quarters whose terms the
sweeper opened.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from kamqor.schema import TS

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "inquiries",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("requester_agency", sa.String(100), nullable=False),
        sa.Column("requester_agency_type", sa.String(50), nullable=False),
        sa.Column("requested_by", sa.String(100), nullable=False),
        sa.Column("purpose", sa.String(50), nullable=False),
        sa.Column("reason", sa.String(500), nullable=False),
        sa.Column("subject_full_name", sa.String(200), nullable=False),
        sa.Column("subject_birth_date", sa.Date, nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("received_at", TS, nullable=False),
        sa.Column("office_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("answered_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("answered_at", TS),
        sa.Column("answer", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("family_ids", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_index("ix_inquiries_requester_agency", "inquiries", ["requester_agency"])
    # The office's list of what to answer reads only the open ones.
    op.create_index(
        "ix_inquiries_open", "inquiries", ["territory", "id"], postgresql_where="state = 'open'"
    )
    op.create_table(
        "quarter_reports",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("quarter", sa.String(7), nullable=False),
        sa.Column("level", sa.String(20), nullable=False),
        sa.Column("agency", sa.String(100), nullable=False),
        sa.Column("families_on_record", sa.Integer, nullable=False),
        sa.Column("minors_on_record", sa.Integer, nullable=False),
        sa.Column("families_registered", sa.Integer, nullable=False),
        sa.Column("families_deregistered", sa.Integer, nullable=False),
        sa.Column("office_reports", sa.Integer, nullable=False, server_default="0"),
        sa.Column("as_of", TS, nullable=False),
        sa.Column("submitted_by", sa.String(100), nullable=False),
        sa.Column("submitted_at", TS, nullable=False),
        sa.UniqueConstraint("territory", "quarter", "level", "agency"),
    )
    op.create_table(
        "quarters_opened",
        sa.Column("territory", sa.String(50), primary_key=True),
        sa.Column("quarter", sa.String(7), primary_key=True),
        sa.Column("opened_at", TS, nullable=False),
    )
    # The sweeper finds removed families past their retention by this.
    op.create_index(
        "ix_families_deregistered_at",
        "families",
        ["deregistered_at"],
        postgresql_where="state = 'deregistered'",
    )


def downgrade() -> None:
    op.drop_index("ix_families_deregistered_at", table_name="families")
    for table in ("quarters_opened", "quarter_reports", "inquiries"):
        op.drop_table(table)
