# ruff: noqa: RUF001, RUF002 - Cyrillic and Kazakh letters on purpose
"""A person's name normalised for matching: case, ё/е, Kazakh letters folded onto the Russian
alphabet, Cyrillic transliterated to Latin, Latin spellings folded, so that `Maksimov`,
`МАКСИМОВ` and `Максимов` share one key and trigrams (`pg_trgm`) compare spellings.

The database computes the key itself (`name_key_sql`, a generated column with a GIN trigram
index, registry migration 0005, intake migration 0006); `name_key` is the same function in
Python, for the pure rules and to check that both agree.
"""

from __future__ import annotations

import re

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
    """The key as a PostgreSQL expression of the text expression `arg` (clusters in `C.UTF-8`,
    whose `[:alnum:]` is Unicode's)."""
    expr = f"translate(lower({arg}), {_literal(UPPER)}, {_literal(LOWER)})"
    expr = f"translate({expr}, {_literal(FOLD_FROM)}, {_literal(FOLD_TO)})"
    for old, new in MULTI:
        expr = f"replace({expr}, {_literal(old)}, {_literal(new)})"
    expr = f"translate({expr}, {_literal(SINGLE_FROM)}, {_literal(SINGLE_TO)})"
    for old, new in LATIN:
        expr = f"replace({expr}, {_literal(old)}, {_literal(new)})"
    return f"btrim(regexp_replace({expr}, '[^[:alnum:]]+', ' ', 'g'))"


def _translate(text: str, source: str, target: str) -> str:
    """PostgreSQL's `translate`: characters of `source` past the end of `target` are deleted."""
    table = {ord(s): (target[i] if i < len(target) else None) for i, s in enumerate(source)}
    return text.translate(table)


_NOT_ALNUM = re.compile(r"[\W_]+")


def name_key(name: str) -> str:
    """`name_key_sql` in Python."""
    key = _translate(name.lower(), UPPER, LOWER)
    key = _translate(key, FOLD_FROM, FOLD_TO)
    for old, new in MULTI:
        key = key.replace(old, new)
    key = _translate(key, SINGLE_FROM, SINGLE_TO)
    for old, new in LATIN:
        key = key.replace(old, new)
    return _NOT_ALNUM.sub(" ", key).strip(" ")
