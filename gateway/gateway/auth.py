"""Who is calling: the bearer token verified into a `Principal`, and route-level roles.

401 (with `WWW-Authenticate: Bearer`) for a missing, malformed, expired or tampered token;
403 when the principal lacks every role the route accepts. Tokens are never logged.
"""

from __future__ import annotations

import logging
from typing import Annotated

from fastapi import Depends, HTTPException, Request, params
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from kamqor.auth import AuthError, KeySetUnavailable, Principal, TokenVerifier

log = logging.getLogger(__name__)

bearer = HTTPBearer(
    auto_error=False,
    scheme_name="keycloak",
    bearerFormat="JWT",
    description="A Keycloak access token of the `kamqor` realm.",
)


def _challenge(error: str | None = None) -> dict[str, str]:
    return {"WWW-Authenticate": f'Bearer error="{error}"' if error else "Bearer"}


async def verifier_of(request: Request) -> TokenVerifier:
    """`async def` like every dependency here that does no blocking work (no thread pool)."""
    verifier: TokenVerifier = request.app.state.verifier
    return verifier


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Principal:
    """The verified caller; 401 when there is no acceptable bearer token."""
    if credentials is None or not credentials.credentials:
        raise HTTPException(401, "a bearer token is required", headers=_challenge())
    try:
        return await (await verifier_of(request)).verify(credentials.credentials)
    except KeySetUnavailable:
        log.warning("token not verified on %s: signing keys unavailable", request.url.path)
        raise HTTPException(503, "the identity provider is unavailable; retry later") from None
    except AuthError as exc:
        log.info("token rejected on %s: %s", request.url.path, exc.reason)
        raise HTTPException(
            401, f"invalid bearer token: {exc.reason}", headers=_challenge("invalid_token")
        ) from None


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


class RoleCheck:
    """Admits principals holding any of `roles`; `openapi.py` documents them per route."""

    def __init__(self, roles: frozenset[str]) -> None:
        self.roles = roles

    async def __call__(self, principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*self.roles):
            log.info(
                "forbidden: %s (roles %s) needs one of %s",
                principal.subject,
                sorted(principal.roles),
                sorted(self.roles),
            )
            raise HTTPException(403, f"requires one of the roles: {', '.join(sorted(self.roles))}")
        return principal


def require_roles(*roles: str) -> params.Depends:
    """A dependency for `dependencies=[...]` of a route or router: any of `roles` is enough."""
    if not roles:
        raise ValueError("require_roles needs at least one role")
    return params.Depends(RoleCheck(frozenset(roles)))
