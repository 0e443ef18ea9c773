# ruff: noqa: RUF002 - Cyrillic and Kazakh letters on purpose
"""Name search on trigrams: every member's name normalised by the database itself (case, ё/е,
Kazakh letters folded, Cyrillic transliterated to Latin, Latin spellings folded), in a generated
column with a `pg_trgm` GIN index. A typo (`маскимов`) or a Latin spelling (`Maksimov`) finds
`Максимов`; ranked by strict word similarity (`registry.models.search_by_name`).

`pg_trgm` is a trusted extension: the database's owner may create it. Its trigrams see letters
only as the database's ctype classifies them: clusters are created with `C.UTF-8`.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

# The normalisation is shared with intake's family matching (`kamqor.names`).
from kamqor.names import name_key_sql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.execute(
        "CREATE FUNCTION registry_name_key(name text) RETURNS text "
        "LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE "
        f"RETURN {name_key_sql('name')}"
    )
    op.execute(
        "ALTER TABLE family_members ADD COLUMN name_key text "
        "GENERATED ALWAYS AS (registry_name_key(full_name)) STORED"
    )
    op.execute(
        "CREATE INDEX ix_family_members_name_trgm ON family_members "
        "USING gin (name_key gin_trgm_ops)"
    )


def downgrade() -> None:
    op.execute("DROP INDEX ix_family_members_name_trgm")
    op.execute("ALTER TABLE family_members DROP COLUMN name_key")
    op.execute("DROP FUNCTION registry_name_key(text)")
