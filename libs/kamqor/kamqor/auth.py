"""Who is calling: verify a Keycloak access token and turn it into a `Principal`.

The gateway and every service verify with this same code (ARCHITECTURE.md "Who is calling"):
signature against the realm's JWKS (keys cached by `kid`, refreshed on an unknown `kid` at most
once per `jwks_min_refresh_seconds`, so rotation works and forged `kid`s cannot hammer Keycloak),
issuer, audience, expiry and issue time. Nothing here logs or raises the token or personal data.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jwt

if TYPE_CHECKING:  # imported when keys are fetched: httpx costs a service's start ~0.5 s
    import httpx

log = logging.getLogger(__name__)

# Asymmetric algorithms only: `none` and HMAC (a shared secret) are never accepted.
DEFAULT_ALGORITHMS: frozenset[str] = frozenset({"RS256"})
SUPPORTED_ALGORITHMS: frozenset[str] = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512"}
)
AGENCY_TYPES: frozenset[str] = frozenset(
    {
        "family_center",
        "education",
        "health",
        "employment",
        "social_protection",
        "police",
        "guardianship",
        "commission",
        "housing",
        "youth_policy",
        "culture_sport",
        "ngo",
        "ministry",
        "registry_office",
        "hotline",
    }
)
_AGENCY_CLAIMS = ("agency", "agency_type", "territory")
# Verified tokens kept (each until its expiry); past this, expired ones are dropped first.
VERIFIED_CACHE_SIZE = 10_000
# Kamqor's own clients of the realm: the only authorized parties (`azp`) whose tokens are
# accepted by default. A token that another client of the realm obtained is refused even when it
# carries the gateway's audience. `kamqor-dev-tools` and `kamqor-test-short` exist only in the
# development realm; production narrows the list (`KAMQOR_ALLOWED_CLIENTS`).
KAMQOR_CLIENTS: tuple[str, ...] = (
    "kamqor-console",
    "kamqor-dev-tools",
    "kamqor-partner",
    "kamqor-test-short",
)


@dataclass(frozen=True)
class Principal:
    """The verified caller: a person or a partner system acting for exactly one agency."""

    subject: str
    username: str
    roles: frozenset[str]
    agency: str
    agency_type: str
    territory: str
    client_id: str
    token: str = field(repr=False)  # raw, for forwarding to services; never logged

    def has_any(self, *roles: str) -> bool:
        """True when the principal holds at least one of `roles`."""
        return not self.roles.isdisjoint(roles)


class AuthError(Exception):
    """The token is not acceptable; `reason` is safe to log and never contains the token."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class KeySetUnavailable(AuthError):
    """The realm's key set could not be fetched: a server-side fault, not the caller's."""


class TokenVerifier:
    """Verifies Keycloak access tokens for one issuer and audience, issued to one of the
    `allowed_clients` (the token's `azp`)."""

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        jwks_url: str | None = None,
        leeway_seconds: int = 0,
        jwks_min_refresh_seconds: float = 10.0,
        algorithms: Collection[str] = DEFAULT_ALGORITHMS,
        http_timeout_seconds: float = 5.0,
        transport: httpx.AsyncBaseTransport | None = None,
        allowed_clients: Collection[str] = KAMQOR_CLIENTS,
    ) -> None:
        if isinstance(allowed_clients, str) or not allowed_clients:
            raise ValueError("allowed_clients: give at least one client id (a collection)")
        unsupported = set(algorithms) - SUPPORTED_ALGORITHMS
        if unsupported or not algorithms:
            raise ValueError(f"unsupported algorithms: {sorted(unsupported) or 'none given'}")
        self.issuer = issuer.rstrip("/")
        self.audience = audience
        self.jwks_url = jwks_url or f"{self.issuer}/protocol/openid-connect/certs"
        self.leeway_seconds = leeway_seconds
        self.jwks_min_refresh_seconds = jwks_min_refresh_seconds
        self.algorithms = frozenset(algorithms)
        self.allowed_clients = frozenset(allowed_clients)
        self._http_timeout = http_timeout_seconds
        self._transport = transport
        self._keys: dict[str, jwt.PyJWK] = {}
        self._last_fetch: float | None = None
        self._fetch_count = 0
        self._lock = asyncio.Lock()
        # Verified tokens by SHA-256, until their expiry: the signature is checked once per
        # token, not once per call (a console session sends the same token for minutes).
        self._verified: dict[bytes, tuple[Principal, float]] = {}

    @property
    def jwks_fetch_count(self) -> int:
        """How many times the key set was fetched (for tests and metrics)."""
        return self._fetch_count

    async def verify(self, token: str) -> Principal:
        """The principal behind a valid access token; `AuthError` otherwise."""
        if not isinstance(token, str) or token.count(".") != 2:
            raise AuthError("malformed token")
        digest = hashlib.sha256(token.encode()).digest()
        cached = self._verified.get(digest)
        if cached is not None and time.time() < cached[1]:
            return cached[0]
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise AuthError("malformed token header") from None
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.algorithms:
            raise AuthError("signing algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise AuthError("token has no key id")
        key = await self._key_for(kid)
        if key.algorithm_name != alg:
            raise AuthError("token algorithm does not match its key")
        claims = self._decode(token, key, alg)
        principal = _principal(claims, token)
        if principal.client_id not in self.allowed_clients:
            raise AuthError("client not allowed")
        self._remember(digest, principal, float(claims["exp"]))
        return principal

    def _remember(self, digest: bytes, principal: Principal, expires: float) -> None:
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            now = time.time()
            self._verified = {d: v for d, v in self._verified.items() if v[1] > now}
            if len(self._verified) >= VERIFIED_CACHE_SIZE:
                self._verified.clear()
        self._verified[digest] = (principal, expires)

    async def refresh_keys(self) -> None:
        """Fetch the key set now (e.g. at start-up), ignoring the throttle."""
        async with self._lock:
            await self._fetch_keys()

    async def _key_for(self, kid: str) -> jwt.PyJWK:
        if (key := self._keys.get(kid)) is not None:
            return key
        async with self._lock:
            # Another task may have refreshed while this one waited for the lock.
            if (key := self._keys.get(kid)) is not None:
                return key
            now = time.monotonic()
            throttled = (
                self._last_fetch is not None
                and now - self._last_fetch < self.jwks_min_refresh_seconds
            )
            if not throttled:
                await self._fetch_keys()
            if (key := self._keys.get(kid)) is not None:
                return key
        raise AuthError("unknown signing key")

    async def _fetch_keys(self) -> None:
        import httpx

        self._last_fetch = time.monotonic()
        self._fetch_count += 1
        try:
            async with httpx.AsyncClient(
                timeout=self._http_timeout, transport=self._transport
            ) as client:
                response = await client.get(self.jwks_url)
                response.raise_for_status()
                document = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("JWKS fetch from %s failed: %s", self.jwks_url, type(exc).__name__)
            raise KeySetUnavailable("signing keys unavailable") from None
        keys = _signing_keys(document, self.algorithms)
        log.info("JWKS fetched from %s: %d signing keys", self.jwks_url, len(keys))
        self._keys = keys

    def _decode(self, token: str, key: jwt.PyJWK, alg: str) -> dict[str, Any]:
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                key=key,
                algorithms=[alg],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.leeway_seconds,
                options={"require": ["exp", "iat", "iss", "aud", "sub"]},
            )
        except jwt.ExpiredSignatureError:
            raise AuthError("token expired") from None
        except jwt.ImmatureSignatureError:
            raise AuthError("token not yet valid") from None
        except jwt.InvalidAudienceError:
            raise AuthError("wrong audience") from None
        except jwt.InvalidIssuerError:
            raise AuthError("wrong issuer") from None
        except jwt.MissingRequiredClaimError as exc:
            raise AuthError(f"missing claim: {exc.claim}") from None
        except jwt.InvalidSignatureError:
            raise AuthError("bad signature") from None
        except jwt.DecodeError:
            raise AuthError("malformed token") from None
        except jwt.PyJWTError as exc:
            raise AuthError(f"invalid token ({type(exc).__name__})") from None
        return claims


def _signing_keys(document: object, algorithms: frozenset[str]) -> dict[str, jwt.PyJWK]:
    """Signature keys from a JWKS document; encryption keys and unusable entries are skipped."""
    entries = document.get("keys") if isinstance(document, Mapping) else None
    if not isinstance(entries, list):
        raise KeySetUnavailable("signing keys unavailable")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in entries:
        if not isinstance(entry, Mapping):
            continue
        kid, alg = entry.get("kid"), entry.get("alg")
        if entry.get("use", "sig") != "sig" or not isinstance(kid, str) or alg not in algorithms:
            continue
        try:
            keys[kid] = jwt.PyJWK(dict(entry), algorithm=alg)
        except jwt.PyJWTError:
            log.warning("JWKS key %s skipped: unusable", kid)
    return keys


def _principal(claims: Mapping[str, Any], token: str) -> Principal:
    if str(claims.get("typ", "")).lower() != "bearer":
        raise AuthError("not an access token")
    values: dict[str, str] = {}
    for name in _AGENCY_CLAIMS:
        value = claims.get(name)
        if not isinstance(value, str) or not value:
            raise AuthError(f"missing claim: {name}")
        values[name] = value
    if values["agency_type"] not in AGENCY_TYPES:
        raise AuthError("unknown agency_type")
    subject = claims["sub"]
    if not isinstance(subject, str) or not subject:
        raise AuthError("missing claim: sub")
    client_id = claims.get("azp") or claims.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise AuthError("missing claim: azp")
    username = claims.get("preferred_username")
    realm_access = claims.get("realm_access")
    raw_roles = realm_access.get("roles") if isinstance(realm_access, Mapping) else None
    roles = (
        frozenset(r for r in raw_roles if isinstance(r, str))
        if isinstance(raw_roles, list)
        else frozenset()
    )
    return Principal(
        subject=subject,
        username=username if isinstance(username, str) and username else subject,
        roles=roles,
        agency=values["agency"],
        agency_type=values["agency_type"],
        territory=values["territory"],
        client_id=client_id,
        token=token,
    )
