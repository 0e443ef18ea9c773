"""What the screens share: role checks, paging and sorting parameters, API failures as pages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from fastapi import Depends, HTTPException

from console.auth import CurrentUser, User


def require(*roles: str) -> Any:
    """A router dependency: only users with one of `roles` see the screen (404 otherwise, so a
    screen's existence tells nothing; the gateway and services enforce access anyway)."""

    async def check(user: CurrentUser) -> User:
        if not user.can(*roles):
            raise HTTPException(status_code=404)
        return user

    return Depends(check)


def take_flash(user: User) -> str | None:
    message, user.session.flash = user.session.flash, None
    return message


def sort_rows(
    rows: Iterable[dict[str, Any]], key: str, allowed: dict[str, str], *, reverse: bool = False
) -> list[dict[str, Any]]:
    """Rows of one page sorted by one of `allowed` (query value -> row key)."""
    field = allowed.get(key)
    items = list(rows)
    if field is None:
        return items
    return sorted(items, key=lambda r: (r.get(field) is None, r.get(field) or ""), reverse=reverse)
