# ruff: noqa: RUF001, RUF002 - Cyrillic and Kazakh letters on purpose
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

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPPER = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯӘҒҚҢӨҰҮҺІ"
LOWER = "абвгдеёжзийклмнопрстуфхцчшщъыьэюяәғқңөұүһі"
# Kazakh letters and ё folded onto the Russian alphabet; diacritics of Latin spellings dropped.
FOLD_FROM, FOLD_TO = "ёәғқңөұүһіäğñöūüıq", "еагкноуухиagnouuik"
# Then to Latin: letters that need two, before the single ones.
MULTI = (
    ("щ", "sh"),
    ("ш", "sh"),
    ("ч", "ch"),
    ("ж", "zh"),
    ("х", "h"),
    ("ц", "ts"),
    ("ю", "yu"),
    ("я", "ya"),
    ("ç", "ch"),
    ("ş", "sh"),
)
# ъ and ь are dropped (`translate` deletes what has no counterpart).
SINGLE_FROM, SINGLE_TO = "абвгдезийклмнопрстуфыэъь", "abvgdeziiklmnoprstufye"
# Latin spellings of the same sounds.
LATIN = (("kh", "h"), ("x", "ks"), ("iu", "yu"), ("ia", "ya"))


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def name_key_sql(arg: str) -> str:
    expr = f"translate(lower({arg}), {_literal(UPPER)}, {_literal(LOWER)})"
    expr = f"translate({expr}, {_literal(FOLD_FROM)}, {_literal(FOLD_TO)})"
    for old, new in MULTI:
        expr = f"replace({expr}, {_literal(old)}, {_literal(new)})"
    expr = f"translate({expr}, {_literal(SINGLE_FROM)}, {_literal(SINGLE_TO)})"
    for old, new in LATIN:
        expr = f"replace({expr}, {_literal(old)}, {_literal(new)})"
    return f"btrim(regexp_replace({expr}, '[^[:alnum:]]+', ' ', 'g'))"


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
