"""People and families: the families appeals are about, their members with the IIN/SNILS and
identity documents, each appeal's family, and the merges of two records of one family (undoable,
so a merge never rewrites a row: the merged family points at the one it was merged into).

Names are matched on trigrams of the normalised name (`kamqor.names`, as the registry does), in
a generated column with a `pg_trgm` GIN index; a trusted extension the database owner may create.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from kamqor.names import name_key_sql
from kamqor.schema import TS

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE FUNCTION intake_name_key(name text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        f"RETURN {name_key_sql('name')}"
    )
    op.create_table(
        "family_records",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(100), nullable=False),
        sa.Column("merged_into", sa.String(64), sa.ForeignKey("family_records.id")),
    )
    op.create_index("ix_family_records_merged_into", "family_records", ["merged_into"])
    op.create_table(
        "family_persons",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("family_records.id"), nullable=False),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column("full_name", sa.String(200), nullable=False),
        sa.Column("relation", sa.String(20), nullable=False),
        sa.Column("birth_date", sa.Date()),
        sa.Column("iin", sa.String(12), nullable=False, server_default=""),
        sa.Column("snils", sa.String(11), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
    )
    op.execute(
        "ALTER TABLE family_persons ADD COLUMN name_key text "
        "GENERATED ALWAYS AS (intake_name_key(full_name)) STORED"
    )
    op.create_index("ix_family_persons_family_id", "family_persons", ["family_id"])
    op.create_index(
        "ix_family_persons_iin",
        "family_persons",
        ["territory", "iin"],
        postgresql_where=sa.text("iin <> ''"),
    )
    op.create_index(
        "ix_family_persons_snils",
        "family_persons",
        ["territory", "snils"],
        postgresql_where=sa.text("snils <> ''"),
    )
    op.create_index("ix_family_persons_birth", "family_persons", ["territory", "birth_date"])
    op.execute(
        "CREATE INDEX ix_family_persons_name_trgm ON family_persons "
        "USING gin (name_key gin_trgm_ops)"
    )
    op.create_table(
        "person_documents",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("family_persons.id"), nullable=False),
        sa.Column("kind", sa.String(30), nullable=False),
        sa.Column("number", sa.String(40), nullable=False),
        sa.UniqueConstraint("person_id", "kind", "number"),
    )
    op.create_table(
        "appeal_families",
        sa.Column("appeal_id", sa.String(64), sa.ForeignKey("appeals.id"), primary_key=True),
        sa.Column("family_id", sa.String(64), sa.ForeignKey("family_records.id"), nullable=False),
        sa.Column("matched_by", sa.String(20), nullable=False),
    )
    op.create_index("ix_appeal_families_family_id", "appeal_families", ["family_id"])
    op.create_table(
        "appeal_person_links",
        sa.Column(
            "appeal_person_id", sa.String(64), sa.ForeignKey("appeal_persons.id"), primary_key=True
        ),
        sa.Column("person_id", sa.String(64), sa.ForeignKey("family_persons.id"), nullable=False),
    )
    op.create_table(
        "family_merges",
        sa.Column("id", sa.String(64), primary_key=True),
        sa.Column("territory", sa.String(50), nullable=False),
        sa.Column(
            "kept_family_id", sa.String(64), sa.ForeignKey("family_records.id"), nullable=False
        ),
        sa.Column(
            "merged_family_id", sa.String(64), sa.ForeignKey("family_records.id"), nullable=False
        ),
        sa.Column("reason", sa.String(1000), nullable=False),
        sa.Column("merged_at", TS, nullable=False),
        sa.Column("merged_by", sa.String(100), nullable=False),
        sa.Column("undone_at", TS),
        sa.Column("undone_by", sa.String(100)),
    )
    op.create_index("ix_family_merges_merged", "family_merges", ["merged_family_id"])


def downgrade() -> None:
    for table in (
        "family_merges",
        "appeal_person_links",
        "appeal_families",
        "person_documents",
        "family_persons",
        "family_records",
    ):
        op.drop_table(table)
    op.execute("DROP FUNCTION intake_name_key(text)")
