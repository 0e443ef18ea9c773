"""TokenVerifier against a real Keycloak, plus local keys for tokens Keycloak won't issue."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from devstack.keycloak import KeycloakServer
from devstack.tokens import client_credentials_token, password_token
from kamqor.auth import AuthError, KeySetUnavailable, TokenVerifier

AUDIENCE = "kamqor-gateway"


def _verifier(keycloak: KeycloakServer, **kwargs: Any) -> TokenVerifier:
    return TokenVerifier(issuer=keycloak.issuer, audience=AUDIENCE, **kwargs)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def _claims(keycloak_issuer: str, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": keycloak_issuer,
        "aud": AUDIENCE,
        "sub": "0b6d2c7e-0000-4000-8000-000000000001",
        "typ": "Bearer",
        "azp": "kamqor-console",
        "iat": now,
        "exp": now + 60,
        "preferred_username": "local.user",
        "realm_access": {"roles": ["case-worker"]},
        "agency": "fc-ast-1",
        "agency_type": "family_center",
        "territory": "kz-ast",
    }
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


# --- against the real Keycloak ------------------------------------------------------------


async def test_valid_token_gives_the_principal(keycloak: KeycloakServer) -> None:
    token = keycloak.token("caseworker.ast")
    principal = await _verifier(keycloak).verify(token)
    assert principal.username == "caseworker.ast"
    assert principal.roles == {"case-worker"}
    assert (principal.agency, principal.agency_type, principal.territory) == (
        "fc-ast-1",
        "family_center",
        "kz-ast",
    )
    # Tests get user tokens through the development-only direct-grant client.
    assert principal.client_id == "kamqor-dev-tools"
    assert principal.token == token
    assert principal.subject
    assert principal.has_any("center-head", "case-worker")
    assert not principal.has_any("auditor")
    assert token not in repr(principal)


async def test_roles_and_territory_of_another_user(keycloak: KeycloakServer) -> None:
    principal = await _verifier(keycloak).verify(keycloak.token("police.ala"))
    assert principal.roles == {"agency-coordinator", "agency-assignee"}
    assert (principal.agency, principal.agency_type, principal.territory) == (
        "pol-ala-1",
        "police",
        "kz-ala",
    )


async def test_partner_client_credentials_token(keycloak: KeycloakServer) -> None:
    principal = await _verifier(keycloak).verify(client_credentials_token(keycloak.base_url))
    assert principal.roles == {"partner-system"}
    assert principal.client_id == "kamqor-partner"
    assert principal.username == "service-account-kamqor-partner"
    assert (principal.agency, principal.agency_type, principal.territory) == (
        "edu-ast-1",
        "education",
        "kz-ast",
    )


async def test_wrong_audience_is_refused(keycloak: KeycloakServer) -> None:
    verifier = TokenVerifier(issuer=keycloak.issuer, audience="another-api")
    with pytest.raises(AuthError, match="wrong audience"):
        await verifier.verify(keycloak.token("head.ast"))


async def test_a_client_outside_the_allow_list_is_refused(keycloak: KeycloakServer) -> None:
    """The token is Keycloak's, for the right audience, but issued to another client (`azp`)."""
    token = keycloak.token("head.ast")  # through kamqor-dev-tools
    assert (await _verifier(keycloak).verify(token)).client_id == "kamqor-dev-tools"
    partner_only = _verifier(keycloak, allowed_clients=["kamqor-partner"])
    with pytest.raises(AuthError, match="client not allowed"):
        await partner_only.verify(token)


def test_the_allow_list_is_a_collection_of_client_ids() -> None:
    for wrong in ("kamqor-console", []):
        with pytest.raises(ValueError, match="allowed_clients"):
            TokenVerifier(
                issuer="http://kc/realms/kamqor", audience=AUDIENCE, allowed_clients=wrong
            )


async def test_wrong_issuer_is_refused(keycloak: KeycloakServer) -> None:
    verifier = TokenVerifier(
        issuer=f"{keycloak.base_url}/realms/other",
        audience=AUDIENCE,
        jwks_url=keycloak.jwks_url,
    )
    with pytest.raises(AuthError, match="wrong issuer"):
        await verifier.verify(keycloak.token("head.ast"))


async def test_tampered_payload_is_refused(keycloak: KeycloakServer) -> None:
    token = keycloak.token("caseworker.ast")
    header, payload, signature = token.split(".")
    claims = json.loads(_unb64(payload))
    claims["territory"] = "kz-ala"
    claims["realm_access"]["roles"].append("center-head")
    forged = f"{header}.{_b64(json.dumps(claims).encode())}.{signature}"
    with pytest.raises(AuthError, match="bad signature") as caught:
        await _verifier(keycloak).verify(forged)
    assert forged not in str(caught.value)


async def test_tampered_signature_is_refused(keycloak: KeycloakServer) -> None:
    header, payload, signature = keycloak.token("caseworker.ast").split(".")
    middle = len(signature) // 2
    flipped = "A" if signature[middle] != "A" else "B"
    forged = f"{header}.{payload}.{signature[:middle]}{flipped}{signature[middle + 1 :]}"
    with pytest.raises(AuthError, match="bad signature"):
        await _verifier(keycloak).verify(forged)


async def test_expired_token_is_refused(keycloak: KeycloakServer) -> None:
    token = password_token(keycloak.base_url, "head.ast", client_id="kamqor-test-short")
    verifier = _verifier(keycloak)
    assert (await verifier.verify(token)).username == "head.ast"
    await asyncio.sleep(3.1)
    with pytest.raises(AuthError, match="token expired"):
        await verifier.verify(token)
    # An explicit leeway is honoured (default 0).
    assert (await _verifier(keycloak, leeway_seconds=60).verify(token)).username == "head.ast"


async def test_unknown_kid_refreshes_once_and_is_throttled(keycloak: KeycloakServer) -> None:
    verifier = _verifier(keycloak, jwks_min_refresh_seconds=1.0)
    await verifier.verify(keycloak.token("caseworker.ast"))
    assert verifier.jwks_fetch_count == 1

    forged = jwt.encode(
        _claims(keycloak.issuer), _rsa_key(), algorithm="RS256", headers={"kid": "not-in-realm"}
    )
    with pytest.raises(AuthError, match="unknown signing key"):
        await verifier.verify(forged)
    assert verifier.jwks_fetch_count == 1  # the first fetch was under a second ago

    await asyncio.sleep(1.1)
    with pytest.raises(AuthError, match="unknown signing key"):
        await verifier.verify(forged)
    assert verifier.jwks_fetch_count == 2  # one refresh for the unknown kid
    for _ in range(5):
        with pytest.raises(AuthError, match="unknown signing key"):
            await verifier.verify(forged)
    assert verifier.jwks_fetch_count == 2  # throttled
    await verifier.verify(keycloak.token("caseworker.ast"))  # known kid: from the cache
    assert verifier.jwks_fetch_count == 2

    await asyncio.sleep(1.1)
    with pytest.raises(AuthError, match="unknown signing key"):
        await verifier.verify(forged)
    assert verifier.jwks_fetch_count == 3


async def test_own_key_under_the_realm_kid_is_refused(keycloak: KeycloakServer) -> None:
    real_kid = jwt.get_unverified_header(keycloak.token("caseworker.ast"))["kid"]
    forged = jwt.encode(
        _claims(keycloak.issuer), _rsa_key(), algorithm="RS256", headers={"kid": real_kid}
    )
    with pytest.raises(AuthError, match="bad signature"):
        await _verifier(keycloak).verify(forged)


async def test_concurrent_unknown_kids_fetch_once(keycloak: KeycloakServer) -> None:
    verifier = _verifier(keycloak)
    token = keycloak.token("caseworker.ast")
    principals = await asyncio.gather(*(verifier.verify(token) for _ in range(10)))
    assert {p.username for p in principals} == {"caseworker.ast"}
    assert verifier.jwks_fetch_count == 1


@contextmanager
def _rotated_key(keycloak: KeycloakServer) -> Iterator[None]:
    """A new, higher-priority realm signing key for the duration of one test."""
    admin = httpx.post(
        f"{keycloak.base_url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": keycloak.admin_username,
            "password": keycloak.admin_password,
        },
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {admin}"}
    realm_id = httpx.get(f"{keycloak.base_url}/admin/realms/kamqor", headers=headers).json()["id"]
    created = httpx.post(
        f"{keycloak.base_url}/admin/realms/kamqor/components",
        headers=headers,
        json={
            "name": "rotated-rsa",
            "providerId": "rsa-generated",
            "providerType": "org.keycloak.keys.KeyProvider",
            "parentId": realm_id,
            "config": {"priority": ["500"], "algorithm": ["RS256"], "keySize": ["2048"]},
        },
    )
    assert created.status_code == 201, created.text
    location = created.headers["Location"]
    try:
        yield
    finally:
        httpx.delete(location, headers=headers).raise_for_status()


async def test_key_rotation_is_picked_up(keycloak: KeycloakServer) -> None:
    verifier = _verifier(keycloak, jwks_min_refresh_seconds=0.5)
    old_token = keycloak.token("caseworker.ast")
    await verifier.verify(old_token)
    assert verifier.jwks_fetch_count == 1
    await asyncio.sleep(0.6)
    with _rotated_key(keycloak):
        token = keycloak.token("caseworker.ast")
        assert (
            jwt.get_unverified_header(token)["kid"] != jwt.get_unverified_header(old_token)["kid"]
        )
        assert (await verifier.verify(token)).username == "caseworker.ast"
        assert verifier.jwks_fetch_count == 2  # one refresh for the new kid
        assert (await verifier.verify(old_token)).username == "caseworker.ast"  # old key kept
        assert verifier.jwks_fetch_count == 2


# --- local keys: tokens Keycloak would not issue -------------------------------------------

ISSUER = "http://keycloak.test/realms/kamqor"


class LocalRealm:
    """A signing key served as a JWKS through an httpx mock transport."""

    def __init__(self) -> None:
        self.key = _rsa_key()
        self.kid = "local-1"
        self.available = True
        self.fetches = 0

    def handler(self, request: httpx.Request) -> httpx.Response:
        self.fetches += 1
        if not self.available:
            return httpx.Response(503)
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self.key.public_key()))
        enc = {**jwk, "kid": "enc-1", "use": "enc", "alg": "RSA-OAEP"}
        return httpx.Response(
            200, json={"keys": [enc, {**jwk, "kid": self.kid, "use": "sig", "alg": "RS256"}]}
        )

    def verifier(self, **kwargs: Any) -> TokenVerifier:
        return TokenVerifier(
            issuer=ISSUER,
            audience=AUDIENCE,
            transport=httpx.MockTransport(self.handler),
            **kwargs,
        )

    def sign(self, claims: dict[str, Any], **headers: Any) -> str:
        return jwt.encode(claims, self.key, algorithm="RS256", headers={"kid": self.kid, **headers})


@pytest.fixture
def local() -> LocalRealm:
    return LocalRealm()


async def test_local_token_is_accepted(local: LocalRealm) -> None:
    principal = await local.verifier().verify(local.sign(_claims(ISSUER)))
    assert principal.username == "local.user"
    assert principal.roles == {"case-worker"}


@pytest.mark.parametrize("claim", ["agency", "agency_type", "territory"])
async def test_missing_agency_claim_is_named(local: LocalRealm, claim: str) -> None:
    token = local.sign(_claims(ISSUER, **{claim: None}))
    with pytest.raises(AuthError) as caught:
        await local.verifier().verify(token)
    assert caught.value.reason == f"missing claim: {claim}"


@pytest.mark.parametrize("claim", ["exp", "iat", "sub"])
async def test_missing_registered_claim_is_named(local: LocalRealm, claim: str) -> None:
    token = local.sign(_claims(ISSUER, **{claim: None}))
    with pytest.raises(AuthError) as caught:
        await local.verifier().verify(token)
    assert caught.value.reason == f"missing claim: {claim}"


async def test_issued_in_the_future_is_refused(local: LocalRealm) -> None:
    token = local.sign(_claims(ISSUER, iat=int(time.time()) + 120, exp=int(time.time()) + 300))
    with pytest.raises(AuthError, match="not yet valid"):
        await local.verifier().verify(token)


async def test_unknown_agency_type_is_refused(local: LocalRealm) -> None:
    with pytest.raises(AuthError, match="unknown agency_type"):
        await local.verifier().verify(local.sign(_claims(ISSUER, agency_type="bank")))


async def test_id_or_refresh_token_is_refused(local: LocalRealm) -> None:
    with pytest.raises(AuthError, match="not an access token"):
        await local.verifier().verify(local.sign(_claims(ISSUER, typ="ID")))


async def test_symmetric_and_none_algorithms_are_refused(local: LocalRealm) -> None:
    hs = jwt.encode(_claims(ISSUER), "secret-of-32-bytes-or-more-xxxxxxxx", algorithm="HS256")
    none = jwt.encode(_claims(ISSUER), "", algorithm="none")
    for token in (hs, none):
        with pytest.raises(AuthError, match="algorithm not allowed"):
            await local.verifier().verify(token)
    assert local.fetches == 0


async def test_garbage_is_malformed(local: LocalRealm) -> None:
    for token in ("", "abc", "a.b.c", "Bearer x.y.z"):
        with pytest.raises(AuthError, match="malformed"):
            await local.verifier().verify(token)


async def test_unavailable_key_set_is_a_server_fault(local: LocalRealm) -> None:
    local.available = False
    with pytest.raises(KeySetUnavailable):
        await local.verifier().verify(local.sign(_claims(ISSUER)))


async def test_encryption_keys_are_not_used_for_signatures(local: LocalRealm) -> None:
    token = local.sign(_claims(ISSUER), kid="enc-1")
    with pytest.raises(AuthError, match="unknown signing key"):
        await local.verifier().verify(token)
