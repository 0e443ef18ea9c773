"""Assessments of a case (INT-5, INT-6): the outcome, consent or refusal, the support contract
or the commission's resolution, and the support level of each person with the signs found.
A later assessment follows an earlier one; none is edited.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

from kamqor.schema import TS

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_assessments",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("case_id", sa.String(64), sa.ForeignKey("cases.id"), nullable=False),
        sa.Column("outcome", sa.String(20), nullable=False),
        sa.Column("consent", sa.String(20), nullable=False),
        sa.Column("support_contract", sa.String(100), nullable=False),
        sa.Column("resolution", sa.String(100), nullable=False),
        sa.Column("notes", sa.String(4000), nullable=False),
        sa.Column("assessed_at", TS, nullable=False),
        sa.Column("assessed_by", sa.String(100), nullable=False),
    )
    op.create_index("ix_case_assessments_case", "case_assessments", ["case_id", "assessed_at"])
    op.create_table(
        "assessment_levels",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column(
            "assessment_id", sa.String(64), sa.ForeignKey("case_assessments.id"), nullable=False
        ),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("family_persons.id"), nullable=False),
        sa.Column("level", sa.String(50), nullable=False),
        sa.Column("signs", ARRAY(sa.String(50)), nullable=False),
    )
    op.create_index("ix_assessment_levels_assessment", "assessment_levels", ["assessment_id"])
    for table in ("case_assessments", "assessment_levels"):
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION journal_is_append_only()"
        )


def downgrade() -> None:
    op.drop_table("assessment_levels")
    op.drop_table("case_assessments")
