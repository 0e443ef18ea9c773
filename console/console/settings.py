"""Settings of the operator console: where it listens, the gateway it calls, its OIDC client."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator

from kamqor.settings import KitSettings

# Development only: the realm file's secret of the `kamqor-console` client. Production reads the
# secret from the secret store and refuses to start with this value.
DEV_CLIENT_SECRET = "kamqor-console-dev-secret"
Language = Literal["ru", "kk", "en"]
LANGUAGES: tuple[Language, ...] = ("ru", "kk", "en")


def _default_node_modules() -> Path:
    """The workspace's `node_modules` (where `make setup` installs htmx and Chart.js)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "node_modules").is_dir():
            return parent / "node_modules"
    return Path("node_modules")


class ConsoleSettings(KitSettings):
    """`KAMQOR_CONSOLE_*` plus the kit's `KAMQOR_*` variables (issuer, environment, ...)."""

    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8090, ge=1, le=65535)
    # The URL the browser uses for the console: the OIDC redirect and logout URIs hang off it.
    console_public_url: str = "http://127.0.0.1:8090"
    gateway_url: str = "http://127.0.0.1:8000"
    console_client_id: str = "kamqor-console"
    console_client_secret: str = DEV_CLIENT_SECRET
    # Where the console fetches the OIDC discovery document; the issuer's own by default (set it
    # to an in-cluster address when the public host name is not reachable from the pod).
    keycloak_metadata_url: str | None = None
    # The browser-facing Keycloak origin the CSP lets forms go to (logout, language on login).
    keycloak_public_origin: str | None = None
    session_idle_minutes: int = Field(default=30, ge=1, le=24 * 60)
    # The shared session store (`postgresql+asyncpg://`, console/session_store.py): every replica
    # serves every request. Unset: sessions live in this process's memory (one replica only).
    database_url: str | None = None
    # Refresh the access token when it has fewer seconds than this left.
    refresh_margin_seconds: int = Field(default=30, ge=0, le=600)
    # `Secure` is on everywhere; Chromium keeps Secure cookies on http://localhost and 127.0.0.1.
    cookie_secure: bool = True
    default_language: Language = "ru"
    node_modules: Path = Field(default_factory=_default_node_modules)
    gateway_timeout_seconds: float = Field(default=15.0, gt=0)

    @model_validator(mode="after")
    def _refuse_development_values_in_production(self) -> ConsoleSettings:
        if self.environment == "production":
            if self.console_client_secret == DEV_CLIENT_SECRET:
                raise ValueError("KAMQOR_CONSOLE_CLIENT_SECRET: set the production secret")
            if not self.cookie_secure:
                raise ValueError("KAMQOR_COOKIE_SECURE: session cookies are Secure in production")
            if not self.database_url:
                raise ValueError(
                    "KAMQOR_DATABASE_URL: production keeps console sessions in PostgreSQL, "
                    "shared by every replica"
                )
        return self

    @property
    def metadata_url(self) -> str:
        return self.keycloak_metadata_url or (
            f"{self.keycloak_issuer}/.well-known/openid-configuration"
        )

    @property
    def keycloak_origin(self) -> str:
        if self.keycloak_public_origin:
            return self.keycloak_public_origin.rstrip("/")
        scheme, _, rest = self.keycloak_issuer.partition("://")
        return f"{scheme}://{rest.split('/', 1)[0]}"

    def url(self, path: str) -> str:
        return self.console_public_url.rstrip("/") + path
