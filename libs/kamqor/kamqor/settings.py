"""Settings shared by every deployable; each service subclasses `ServiceSettings`."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEV_PARTNER_SECRET = "kamqor-partner-dev-secret"


class KitSettings(BaseSettings):
    """Fields every deployable reads from `KAMQOR_*` variables."""

    model_config = SettingsConfigDict(env_prefix="KAMQOR_", env_file=None, extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    nats_url: str = "nats://127.0.0.1:4222"
    # Replicas 3 in production (ARCHITECTURE.md "Events"); 1 on a single local server.
    stream_replicas: int = Field(default=1, ge=1, le=5)
    keycloak_issuer: str = "http://127.0.0.1:8080/realms/kamqor"
    keycloak_jwks_url: str | None = None
    keycloak_audience: str = "kamqor-gateway"
    otel_exporter_endpoint: str | None = None
    log_level: str = "INFO"

    @property
    def jwks_url(self) -> str:
        return self.keycloak_jwks_url or f"{self.keycloak_issuer}/protocol/openid-connect/certs"


class ServiceSettings(KitSettings):
    """A gRPC service: where it listens and which database it owns."""

    service_name: str = "kamqor"
    grpc_listen: str = "127.0.0.1:50051"
    database_url: str = "sqlite+aiosqlite:///kamqor.db"
    sweep_interval_seconds: float = Field(default=30.0, gt=0)
    relay_poll_seconds: float = Field(default=1.0, gt=0)

    @model_validator(mode="after")
    def _refuse_embedded_database_in_production(self) -> ServiceSettings:
        # SQLite has no row locks for the relay's SKIP LOCKED and no replication.
        if self.environment == "production" and self.database_url.startswith("sqlite"):
            raise ValueError("KAMQOR_DATABASE_URL: SQLite is for development only")
        return self
