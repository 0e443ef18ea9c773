"""Every string of the console is in the catalogs and translated into Russian and Kazakh."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

from console import i18n

LOCALES = Path(i18n.__file__).parent / "locales"
ROOT = Path(__file__).resolve().parents[2]


def msgids(path: Path) -> set[object]:
    with path.open("rb") as f:
        return {m.id for m in read_po(f) if m.id}


def test_the_template_lists_every_string_of_the_sources(tmp_path: Path) -> None:
    fresh = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "extract",
            "-F",
            "console/babel.cfg",
            "-k",
            "N_",
            "--no-location",
            "-o",
            str(fresh),
            "console/console",
        ],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    assert msgids(fresh) == msgids(LOCALES / "messages.pot"), "run `make console-messages`"


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_every_string_is_translated(language: str) -> None:
    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    expected = msgids(LOCALES / "messages.pot")
    assert {m.id for m in catalog if m.id} == expected
    untranslated = [
        m.id
        for m in catalog
        if m.id and (m.fuzzy or not (all(m.string) if isinstance(m.string, tuple) else m.string))
    ]
    assert untranslated == []


@pytest.mark.parametrize("language", ["ru", "kk"])
def test_placeholders_survive_translation(language: str) -> None:
    import re

    with (LOCALES / language / "LC_MESSAGES" / "messages.po").open("rb") as f:
        catalog = read_po(f, locale=language)
    for message in catalog:
        if not message.id:
            continue
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        wanted = set(re.findall(r"%\(\w+\)s", ids[0]))
        for text in strings:
            assert set(re.findall(r"%\(\w+\)s", text)) == wanted, message.id


def test_catalogs_compile_and_kazakh_plurals() -> None:
    catalogs = i18n.load_catalogs()
    with i18n.rendering("kk"):
        assert i18n.gettext("Admit") == "Қабылдау"
        assert i18n.ngettext("%(count)s day", "%(count)s days", 5) == "%(count)s күн"
    with i18n.rendering("ru"):
        assert i18n.ngettext("%(count)s day", "%(count)s days", 5) == "%(count)s дней"
        assert i18n.ngettext("%(count)s day", "%(count)s days", 2) == "%(count)s дня"
    assert set(catalogs) == {"ru", "kk", "en"}
