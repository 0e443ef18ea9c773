"""Languages: gettext catalogs (Babel) compiled from `locales/*/LC_MESSAGES/messages.po` when the
app starts (no compiled binaries in the repository), the request's language and the territory's
time zone in context variables, and Babel formatting of dates, times and numbers."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent
from babel.support import NullTranslations, Translations
from starlette.requests import HTTPConnection

from console.settings import LANGUAGES, Language

LOCALES_DIR = Path(__file__).parent / "locales"
LANGUAGE_COOKIE = "kamqor_lang"
UTC = ZoneInfo("UTC")
# The language names as their speakers write them, for the switcher.
NATIVE_NAMES: Mapping[str, str] = {"ru": "Русский", "kk": "Қазақша", "en": "English"}

_language: ContextVar[str] = ContextVar("console_language", default="ru")
_zone: ContextVar[ZoneInfo] = ContextVar("console_zone", default=UTC)
_catalogs: dict[str, NullTranslations] = {}


def compile_catalog(po_path: Path) -> Translations:
    """A `.po` file compiled in memory (what `pybabel compile` writes to a `.mo`)."""
    with po_path.open("rb") as po:
        catalog = read_po(po, locale=po_path.parent.parent.name)
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def load_catalogs(directory: Path = LOCALES_DIR) -> dict[str, NullTranslations]:
    """Every language's catalog; English is the source language and may lack one."""
    catalogs: dict[str, NullTranslations] = {}
    for language in LANGUAGES:
        po = directory / language / "LC_MESSAGES" / "messages.po"
        catalogs[language] = compile_catalog(po) if po.exists() else NullTranslations()
    _catalogs.clear()
    _catalogs.update(catalogs)
    return catalogs


def pick_language(conn: HTTPConnection, chosen: str | None, default: Language) -> str:
    """The session's choice, else the language cookie, else the browser's, else the default."""
    for candidate in (chosen, conn.cookies.get(LANGUAGE_COOKIE)):
        if candidate in LANGUAGES:
            return candidate
    header = conn.headers.get("accept-language", "")
    for part in header.split(","):
        tag = part.split(";")[0].strip().lower()[:2]
        if tag in LANGUAGES:
            return tag
    return default


@contextmanager
def rendering(language: str, zone: ZoneInfo | None = None) -> Iterator[None]:
    """Binds the language (and the territory's zone) for the work of one request."""
    lang_token = _language.set(language)
    zone_token = _zone.set(zone or UTC)
    try:
        yield
    finally:
        _language.reset(lang_token)
        _zone.reset(zone_token)


def set_request_language(language: str, zone: ZoneInfo | None = None) -> None:
    _language.set(language)
    if zone is not None:
        _zone.set(zone)


def language() -> str:
    return _language.get()


def zone() -> ZoneInfo:
    return _zone.get()


def _translations() -> NullTranslations:
    return _catalogs.get(_language.get()) or NullTranslations()


def gettext(message: str) -> str:
    return _translations().gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translations().ngettext(singular, plural, n)


def pgettext(context: str, message: str) -> str:
    return str(_translations().pgettext(context, message))


def _locale() -> Locale:
    return Locale.parse(_language.get())


def local(value: datetime) -> datetime:
    return value.astimezone(_zone.get())


def format_datetime(value: datetime | None, form: str = "medium") -> str:
    """An instant in the territory's zone, in the language's format."""
    if value is None:
        return ""
    return babel_datetime(value, format=form, tzinfo=_zone.get(), locale=_locale())


def format_date(value: date | datetime | None, form: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = local(value).date()
    return babel_date(value, format=form, locale=_locale())


def format_number(value: float | int) -> str:
    return format_decimal(value, locale=_locale())


def format_share(value: float | None) -> str:
    return "—" if value is None else format_percent(value, locale=_locale())
