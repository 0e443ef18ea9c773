"""Tokens from the dev Keycloak for tests and demos (python-keycloak `KeycloakOpenID`)."""

from __future__ import annotations

from keycloak import KeycloakOpenID

REALM = "kamqor"
# Development and tests only: the realm's public client with direct grants. The operator
# console's own `kamqor-console` is confidential and logs people in through the browser.
DEV_TOOLS_CLIENT = "kamqor-dev-tools"
PARTNER_CLIENT = "kamqor-partner"
# Development only: the realm file's value; production secrets come from the secret store.
PARTNER_DEV_SECRET = "kamqor-partner-dev-secret"


def _openid(base_url: str, client_id: str, client_secret: str | None = None) -> KeycloakOpenID:
    return KeycloakOpenID(
        server_url=base_url.rstrip("/") + "/",
        realm_name=REALM,
        client_id=client_id,
        client_secret_key=client_secret,
    )


def password_token(
    base_url: str, username: str, password: str = "demo", client_id: str = DEV_TOOLS_CLIENT
) -> str:
    """An access token for a user (direct access grant)."""
    tokens = _openid(base_url, client_id).token(username=username, password=password)
    return str(tokens["access_token"])


def client_credentials_token(
    base_url: str, client_id: str = PARTNER_CLIENT, client_secret: str = PARTNER_DEV_SECRET
) -> str:
    """An access token for a confidential client's service account."""
    tokens = _openid(base_url, client_id, client_secret).token(grant_type="client_credentials")
    return str(tokens["access_token"])


async def a_password_token(
    base_url: str, username: str, password: str = "demo", client_id: str = DEV_TOOLS_CLIENT
) -> str:
    """`password_token` without blocking the event loop."""
    tokens = await _openid(base_url, client_id).a_token(username=username, password=password)
    return str(tokens["access_token"])


async def a_client_credentials_token(
    base_url: str, client_id: str = PARTNER_CLIENT, client_secret: str = PARTNER_DEV_SECRET
) -> str:
    """`client_credentials_token` without blocking the event loop."""
    tokens = await _openid(base_url, client_id, client_secret).a_token(
        grant_type="client_credentials"
    )
    return str(tokens["access_token"])
