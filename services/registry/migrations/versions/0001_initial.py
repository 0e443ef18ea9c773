"""Families of the SDP data bank, their members, the commission decisions, and the kit's tables.

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


def upgrade() -> None:
    create_kit_tables()
    op.create_table(
        "families",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("responsible_agency_id", sa.String(100), nullable=False),
        sa.Column("responsible_body", sa.String(500), nullable=False),
        sa.Column("review_on", sa.Date(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("registered_at", TS),
        sa.Column("deregistered_at", TS),
    )
    op.create_index("ix_families_territory", "families", ["territory"])
    op.create_index("ix_families_state", "families", ["state"])
    op.create_table(
        "family_members",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("families.id"), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("is_minor", sa.Boolean(), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("search_name", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(200), nullable=False, server_default=""),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("birth_place", sa.String(500), nullable=False),
        sa.Column("registered_address", sa.String(500), nullable=False, server_default=""),
        sa.Column("actual_address", sa.String(500), nullable=False),
        sa.Column("document_kind", sa.String(30), nullable=False, server_default=""),
        sa.Column("document_series", sa.String(20), nullable=False, server_default=""),
        sa.Column("document_number", sa.String(50), nullable=False, server_default=""),
        sa.Column("document_issued_on", sa.Date()),
        sa.Column("disability", sa.Boolean(), nullable=False),
        sa.Column("work_or_study", sa.String(500), nullable=False, server_default=""),
    )
    op.create_index("ix_family_members_family_id", "family_members", ["family_id"])
    op.create_index("ix_family_members_search_name", "family_members", ["search_name"])
    op.create_index("ix_family_members_birth_date", "family_members", ["birth_date"])
    op.create_table(
        "decisions",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("families.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("commission_id", sa.String(100), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=False),
        sa.Column("number", sa.String(100), nullable=False),
        sa.Column("members_present", sa.Integer(), nullable=False),
        sa.Column("votes_for", sa.Integer(), nullable=False),
        sa.Column("votes_against", sa.Integer(), nullable=False),
        sa.Column("prevention_bodies_heard", sa.Boolean(), nullable=False),
        sa.Column("minor_opinion_heard", sa.Boolean(), nullable=False),
        sa.Column("parents_opinion_heard", sa.Boolean(), nullable=False),
        sa.Column("grounds", sa.String(4000), nullable=False),
        sa.Column("state", sa.String(20), nullable=False),
        sa.Column("recorded_by", sa.String(100), nullable=False),
        sa.Column("recorded_at", TS, nullable=False),
        sa.Column("office_id", sa.String(100), nullable=False, server_default=""),
        sa.Column("received_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("received_at", TS),
        sa.Column("entered_by", sa.String(100), nullable=False, server_default=""),
        sa.Column("entered_at", TS),
    )
    op.create_index("ix_decisions_family_id", "decisions", ["family_id"])


def downgrade() -> None:
    for table in ("decisions", "family_members", "families"):
        op.drop_table(table)
