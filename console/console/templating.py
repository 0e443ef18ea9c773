"""Jinja2 templates with gettext (new style, so `{% trans count=... %}` works) bound to the
request's language, Babel filters for dates and numbers, and the context every page shares."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from console import i18n
from console.sessions import current_session
from console.settings import LANGUAGES

TEMPLATES_DIR = Path(__file__).parent / "templates"


@dataclass(frozen=True)
class Screen:
    """A top-level screen: its path, its name (a msgid) and who sees it."""

    path: str
    title: str
    roles: tuple[str, ...]


# The titles are marked for extraction here and translated when the menu renders.
def N_(message: str) -> str:
    return message


SCREENS = (
    Screen("/shelter", N_("Shelter"), ("shelter-operator", "center-head")),
    Screen(
        "/notices",
        N_("Notices"),
        ("agency-coordinator", "agency-assignee", "center-head"),
    ),
    Screen(
        "/journal",
        N_("Intake journal"),
        ("hotline-operator", "intake-operator", "case-worker", "center-head"),
    ),
    Screen("/agency", N_("Agency inbox"), ("agency-coordinator", "agency-assignee")),
    Screen("/deadlines", N_("Deadlines"), ("center-head", "analyst")),
    Screen("/reports/shelter", N_("Shelter indicators"), ("center-head", "analyst")),
    Screen("/monitoring", N_("Quarterly monitoring"), ("analyst", "center-head", "auditor")),
    Screen("/plans", N_("Plans"), ("case-worker", "center-head", "commission-member")),
)


def params_with(params: Mapping[str, Any], key: str, value: str) -> str:
    """The query string of a list's view with one parameter changed (paging, sorting)."""
    merged = {k: v for k, v in params.items() if v not in (None, "") and k != key}
    merged[key] = value
    return urlencode(merged)


def params_without(params: Mapping[str, Any], key: str) -> str:
    return urlencode({k: v for k, v in params.items() if v not in (None, "") and k != key})


def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.newstyle_gettext = True  # type: ignore[attr-defined]
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, pgettext=i18n.pgettext, newstyle=True
    )
    env.filters["datetime"] = i18n.format_datetime
    env.filters["date"] = i18n.format_date
    env.filters["number"] = i18n.format_number
    env.filters["share"] = i18n.format_share
    env.globals["native_names"] = i18n.NATIVE_NAMES
    env.globals["languages"] = LANGUAGES
    env.globals["params_with"] = params_with
    env.globals["params_without"] = params_without
    return env


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HTMLResponse:
    """A page (or an HTMX fragment) in the request's language."""
    env: Environment = request.app.state.templates
    session = current_session(request)
    principal = session.principal
    screens = [s for s in SCREENS if principal is not None and principal.has_any(*s.roles)]
    html = env.get_template(template).render(
        {
            "request": request,
            "path": request.url.path,
            "lang": i18n.language(),
            "csrf_token": session.csrf_token,
            "principal": principal,
            "screens": screens,
            "form_key": str(uuid.uuid4()),
            **(context or {}),
        }
    )
    return HTMLResponse(html, status_code=status_code, headers=dict(headers or {}))
