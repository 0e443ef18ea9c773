"""Settings shared by every deployable; each service subclasses `ServiceSettings`."""

from __future__ import annotations

from typing import Literal

from pydantic import AwareDatetime, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from kamqor.auth import KAMQOR_CLIENTS

DEV_PARTNER_SECRET = "kamqor-partner-dev-secret"


class KitSettings(BaseSettings):
    """Fields every deployable reads from `KAMQOR_*` variables."""

    model_config = SettingsConfigDict(env_prefix="KAMQOR_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    nats_url: str = "nats://127.0.0.1:4222"
    # This deployable's own NATS user: each service may publish only on its own subjects.
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    # Replicas 3 in production (ARCHITECTURE.md "Events"); 1 on a single local server.
    stream_replicas: int = Field(default=1, ge=1, le=5)
    keycloak_issuer: str = "http://127.0.0.1:8080/realms/kamqor"
    keycloak_jwks_url: str | None = None
    keycloak_audience: str = "kamqor-gateway"
    # The realm's clients whose tokens are accepted (the token's `azp`), as a JSON list; any
    # other client of the realm is refused. Production lists only `kamqor-console` and
    # `kamqor-partner` (the development realm's test clients do not exist there).
    allowed_clients: list[str] = Field(default_factory=lambda: list(KAMQOR_CLIENTS), min_length=1)
    otel_exporter_endpoint: str | None = None
    log_level: str = "INFO"
    # Development and test only: domain time starts here and runs forward (`kamqor.clock`).
    clock_start: AwareDatetime | None = None

    @model_validator(mode="after")
    def _refuse_a_set_clock_in_production(self) -> KitSettings:
        # Deadlines computed from a moved clock would be wrong in law: production reads real time.
        if self.environment == "production" and self.clock_start is not None:
            raise ValueError("KAMQOR_CLOCK_START: for development and tests only")
        return self

    def broker_options(self, name: str) -> dict[str, str | None]:
        """Keyword arguments of `Broker` for the deployable `name` (a service, `gateway`): its
        NATS user and the reply subjects its user may subscribe to (`_INBOX_<name>`)."""
        return {
            "user": self.nats_user,
            "password": self.nats_password.get_secret_value() if self.nats_password else None,
            "inbox_prefix": f"_INBOX_{name}",
        }

    @property
    def jwks_url(self) -> str:
        return self.keycloak_jwks_url or f"{self.keycloak_issuer}/protocol/openid-connect/certs"


class ServiceSettings(KitSettings):
    """A gRPC service: where it listens and which database it owns."""

    service_name: str = "kamqor"
    grpc_listen: str = "127.0.0.1:50051"
    # PostgreSQL only (`postgresql+asyncpg://`); `make run` gives each service its own database.
    database_url: str = "postgresql+asyncpg://postgres@127.0.0.1:5432/kamqor"
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    relay_poll_seconds: float = Field(default=1.0, gt=0)
