"""The production realm has none of the development realm's conveniences, and both realms give
Kamqor's clients the same roles, scopes and claims (issue 10, "The production realm", "Tokens
from any client of the realm", "Logout").

`deploy/keycloak/kamqor-realm.json` is the development and test realm (demo users, direct-grant
test clients, development secrets); `deploy/keycloak/kamqor-realm.production.json` is what
`deploy/k8s/README.md` tells production to import.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from keycloak import KeycloakAdmin

from devstack.keycloak import repo_root, start_keycloak
from kamqor.auth import KAMQOR_CLIENTS

REALMS = repo_root() / "deploy" / "keycloak"
DEVELOPMENT = REALMS / "kamqor-realm.json"
PRODUCTION = REALMS / "kamqor-realm.production.json"
# Clients that exist for development and tests only.
DEV_ONLY_CLIENTS = {"kamqor-dev-tools", "kamqor-test-short"}
PRODUCTION_CLIENTS = {"kamqor-gateway", "kamqor-console", "kamqor-partner"}
# Access tokens outlive a logout by at most this (README "Security": the residual window).
MAX_ACCESS_TOKEN_SECONDS = 300
AUDIENCE = "kamqor-gateway"


def _load(path: Path) -> dict[str, Any]:
    realm: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return realm


@pytest.fixture(scope="module")
def dev() -> dict[str, Any]:
    return _load(DEVELOPMENT)


@pytest.fixture(scope="module")
def prod() -> dict[str, Any]:
    return _load(PRODUCTION)


def _clients(realm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["clientId"]: c for c in realm.get("clients", [])}


def _scopes(realm: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {s["name"]: s for s in realm.get("clientScopes", [])}


def _mappers(owner: dict[str, Any]) -> dict[str, tuple[str, dict[str, str]]]:
    return {
        m["name"]: (m["protocolMapper"], m.get("config", {}))
        for m in owner.get("protocolMappers", [])
    }


def _audience_mappers(realm: dict[str, Any]) -> list[tuple[str, str]]:
    """(owner, mapper name) of every audience mapper, on a scope or straight on a client."""
    found = []
    owners = [("scope " + s, v) for s, v in _scopes(realm).items()]
    owners += [("client " + c, v) for c, v in _clients(realm).items()]
    for owner, value in owners:
        for name, (kind, _config) in _mappers(value).items():
            if kind == "oidc-audience-mapper":
                found.append((owner, name))
    return found


@pytest.mark.parametrize("path", [DEVELOPMENT, PRODUCTION], ids=["development", "production"])
def test_the_gateway_audience_is_only_on_kamqor_clients(path: Path) -> None:
    """A client created later with the realm's defaults gets no audience and no Kamqor claims."""
    realm = _load(path)
    scopes = _scopes(realm)
    defaults = set(realm["defaultDefaultClientScopes"]) | set(realm["defaultOptionalClientScopes"])
    carrying = {
        owner.removeprefix("scope ")
        for owner, _name in _audience_mappers(realm)
        if owner.startswith("scope ")
    }
    assert carrying, "no scope maps the gateway audience"
    assert not carrying & defaults, f"a default client scope adds the audience: {carrying}"
    assert "kamqor-claims" not in defaults
    for owner, _name in _audience_mappers(realm):
        if owner.startswith("client "):
            assert owner.removeprefix("client ") in KAMQOR_CLIENTS
    for client_id, client in _clients(realm).items():
        assigned = set(client.get("defaultClientScopes", []))
        if assigned & carrying:
            assert client_id in {*KAMQOR_CLIENTS, AUDIENCE}, client_id
    assert scopes["kamqor-claims"]["protocolMappers"]


@pytest.mark.parametrize("path", [DEVELOPMENT, PRODUCTION], ids=["development", "production"])
def test_access_tokens_live_five_minutes_at_most(path: Path) -> None:
    realm = _load(path)
    assert realm["accessTokenLifespan"] <= MAX_ACCESS_TOKEN_SECONDS
    for client in realm["clients"]:
        lifespan = client.get("attributes", {}).get("access.token.lifespan")
        if lifespan:
            assert int(lifespan) <= MAX_ACCESS_TOKEN_SECONDS, client["clientId"]


def test_production_has_no_users_test_clients_direct_grants_or_secrets(
    prod: dict[str, Any],
) -> None:
    assert not prod.get("users"), "the production realm imports no people"
    clients = _clients(prod)
    assert set(clients) == PRODUCTION_CLIENTS
    assert not DEV_ONLY_CLIENTS & set(clients)
    for client_id, client in clients.items():
        assert not client.get("directAccessGrantsEnabled"), client_id
        assert not client.get("implicitFlowEnabled"), client_id
        assert "secret" not in client, f"{client_id}: secrets come from the secret store"
        if not client.get("bearerOnly"):
            assert not client.get("publicClient"), f"{client_id}: public client"
        for uri in [*client.get("redirectUris", []), *client.get("webOrigins", [])]:
            assert uri.startswith("https://"), f"{client_id}: {uri}"
            assert "localhost" not in uri and "127.0.0.1" not in uri, f"{client_id}: {uri}"
    text = PRODUCTION.read_text(encoding="utf-8")
    for development_only in ("demo", "dev-secret", "localhost", "127.0.0.1"):
        assert development_only not in text, development_only


def test_production_locks_out_brute_force_and_has_a_password_policy(
    prod: dict[str, Any],
) -> None:
    assert prod["bruteForceProtected"] is True
    assert 0 < prod["failureFactor"] <= 10
    assert prod["sslRequired"] in {"external", "all"}
    policy = prod["passwordPolicy"]
    length = re.search(r"\blength\((\d+)\)", policy)
    assert length and int(length.group(1)) >= 12, policy
    for rule in ("notUsername", "passwordHistory"):
        assert rule in policy, policy
    assert prod["revokeRefreshToken"] is True


def test_production_logins_require_a_one_time_code(prod: dict[str, Any]) -> None:
    """Every interactive login ends in the OTP form, REQUIRED (not conditional), so a person
    without TOTP must configure it: every human role of Kamqor reads personal data (REG-9) or
    aggregates of it. Partner systems use client credentials and never see this flow."""
    flows = {f["alias"]: f for f in prod["authenticationFlows"]}
    browser = flows[prod["browserFlow"]]
    assert browser["topLevel"] is True

    def executions(flow: dict[str, Any]) -> list[dict[str, Any]]:
        return sorted(flow["authenticationExecutions"], key=lambda e: e["priority"])

    forms = [e for e in executions(browser) if e.get("authenticatorFlow")]
    assert len(forms) == 1
    steps = {e["authenticator"]: e["requirement"] for e in executions(flows[forms[0]["flowAlias"]])}
    assert steps == {"auth-username-password-form": "REQUIRED", "auth-otp-form": "REQUIRED"}
    # No other way in: the cookie only resumes a session that passed the forms.
    others = {e.get("authenticator") for e in executions(browser) if not e.get("authenticatorFlow")}
    assert others <= {"auth-cookie"}
    assert prod.get("directGrantFlow") in (None, "direct grant")


def test_both_realms_declare_the_same_roles_scopes_and_claims(
    dev: dict[str, Any], prod: dict[str, Any]
) -> None:
    """Production drops the development-only parts and nothing that Kamqor's clients rely on."""

    def roles(realm: dict[str, Any]) -> dict[str, Any]:
        return {
            r["name"]: (r.get("composite", False), r.get("composites"))
            for r in realm["roles"]["realm"]
        }

    assert roles(prod) == roles(dev)
    assert prod["realm"] == dev["realm"]
    assert prod["defaultDefaultClientScopes"] == dev["defaultDefaultClientScopes"]
    assert prod["defaultOptionalClientScopes"] == dev["defaultOptionalClientScopes"]
    dev_scopes, prod_scopes = _scopes(dev), _scopes(prod)
    dev_clients, prod_clients = _clients(dev), _clients(prod)
    for client_id in PRODUCTION_CLIENTS:
        ours, theirs = prod_clients[client_id], dev_clients[client_id]
        for key in ("defaultClientScopes", "optionalClientScopes", "fullScopeAllowed"):
            assert ours.get(key) == theirs.get(key), f"{client_id}.{key}"
        for key in ("publicClient", "bearerOnly", "standardFlowEnabled", "serviceAccountsEnabled"):
            assert ours.get(key) == theirs.get(key), f"{client_id}.{key}"
        assert _mappers(ours) == _mappers(theirs), client_id
        for scope in [*ours.get("defaultClientScopes", []), *ours.get("optionalClientScopes", [])]:
            assert scope in prod_scopes, f"{client_id}: scope {scope} missing"
            assert _mappers(prod_scopes[scope]) == _mappers(dev_scopes[scope]), scope
    # The user profile (agency, agency_type and territory attributes) is the same.
    assert prod["components"] == dev["components"]
    assert _audience_mappers(prod) == _audience_mappers(dev)


def test_the_kubernetes_guide_points_production_at_the_production_realm() -> None:
    guide = (repo_root() / "deploy" / "k8s" / "README.md").read_text(encoding="utf-8")
    assert "deploy/keycloak/kamqor-realm.production.json" in guide
    # The development realm is named only as what production must not import.
    for line in guide.splitlines():
        if "kamqor-realm.json" in line:
            assert "not" in line.lower() or "development" in line.lower(), line


@pytest.mark.e2e
def test_the_production_realm_imports_into_keycloak() -> None:
    """A real Keycloak (the pinned dev distribution) imports the production file: the flow,
    policies and clients are ones Keycloak accepts, not only JSON that looks right."""
    server = start_keycloak(realm_file=PRODUCTION)
    try:
        admin = KeycloakAdmin(
            server_url=server.base_url + "/",
            username=server.admin_username,
            password=server.admin_password,
            realm_name=server.realm,
            user_realm_name="master",
        )
        realm = admin.get_realm(server.realm)
        assert realm["bruteForceProtected"] is True
        assert realm["browserFlow"] == "kamqor browser"
        assert "length(12)" in realm["passwordPolicy"]
        assert admin.users_count() == 0
        assert {c["clientId"] for c in admin.get_clients()} >= PRODUCTION_CLIENTS
        assert not {c["clientId"] for c in admin.get_clients()} & DEV_ONLY_CLIENTS
        actions = {a["alias"]: a for a in admin.get_required_actions()}
        assert actions["CONFIGURE_TOTP"]["enabled"] is True
    finally:
        server.destroy()


def test_production_accepts_tokens_only_from_its_own_clients() -> None:
    """The base ConfigMap (production) narrows `KAMQOR_ALLOWED_CLIENTS` to the production
    realm's clients that obtain tokens: no development-only client is accepted there."""
    base = (repo_root() / "deploy" / "k8s" / "base" / "kustomization.yaml").read_text()
    [line] = [x for x in base.splitlines() if "KAMQOR_ALLOWED_CLIENTS=" in x]
    allowed = set(json.loads(line.split("=", 1)[1]))
    assert allowed == PRODUCTION_CLIENTS - {AUDIENCE}
    assert allowed <= set(KAMQOR_CLIENTS)
