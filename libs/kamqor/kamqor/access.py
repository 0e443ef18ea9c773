"""Role and territory checks that every service applies to its own data (need to know, REG-9)."""

from __future__ import annotations

from kamqor.auth import Principal
from kamqor.errors import Forbidden, NotFound


def require_role(principal: Principal, *roles: str) -> None:
    if not principal.has_any(*roles):
        raise Forbidden(f"requires one of the roles: {', '.join(roles)}")


def require_territory(principal: Principal, territory: str, *, entity: str) -> None:
    """Another territory's records are reported as absent, so their existence does not leak."""
    if principal.territory != territory:
        raise NotFound(f"{entity} not found")
