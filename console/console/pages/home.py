"""The start page (sign in, or the screens the user has) and the language switch."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from console import i18n
from console.auth import safe_path
from console.sessions import current_session
from console.settings import LANGUAGES
from console.templating import SCREENS, render

router = APIRouter()
ONE_YEAR = 365 * 24 * 3600


@router.get("/")
async def start(request: Request, login: str | None = None) -> Response:
    session = current_session(request)
    principal = session.principal
    if principal is not None:
        screens = [s for s in SCREENS if principal.has_any(*s.roles)]
        if screens:
            return RedirectResponse(screens[0].path, status_code=303)
    return render(request, "start.html", {"login_failed": login == "failed"})


@router.post("/language")
async def switch_language(
    request: Request,
    language: Annotated[str, Form()],
    next: Annotated[str, Form()] = "/",
) -> Response:
    """The choice is kept in the session and in a cookie, so the next login starts in it."""
    response = RedirectResponse(safe_path(next), status_code=303)
    if language in LANGUAGES:
        current_session(request).language = language
        response.set_cookie(
            i18n.LANGUAGE_COOKIE,
            language,
            max_age=ONE_YEAR,
            httponly=True,
            secure=request.app.state.settings.cookie_secure,
            samesite="lax",
        )
    return response
