"""Settings of the gateway: where the services listen, where the gateway listens, CORS."""

from __future__ import annotations

from pydantic import Field, model_validator

from kamqor.settings import KitSettings

SERVICES = ("intake", "plans", "registry", "shelter", "notify")


class GatewaySettings(KitSettings):
    """`KAMQOR_*` variables of the gateway; service addresses are `host:port`."""

    intake_addr: str = "127.0.0.1:50051"
    plans_addr: str = "127.0.0.1:50052"
    registry_addr: str = "127.0.0.1:50053"
    shelter_addr: str = "127.0.0.1:50054"
    notify_addr: str = "127.0.0.1:50055"
    listen_host: str = "127.0.0.1"
    listen_port: int = Field(default=8000, ge=1, le=65535)
    # The base URL partners reach the API at (the OpenAPI document's `servers`); by default the
    # gateway's own listening address. Behind a proxy: `KAMQOR_PUBLIC_URL=https://api.example`.
    public_url: str | None = Field(default=None, pattern=r"^https?://[^\s/?#]+(/[^\s?#]*)?$")
    cors_origins: list[str] = Field(default_factory=list)
    # Per-call deadline for service RPCs; health checks use their own, shorter one.
    call_timeout_seconds: float = Field(default=10.0, gt=0)
    health_timeout_seconds: float = Field(default=1.0, gt=0)

    def addr(self, service: str) -> str:
        """The `host:port` of one of `SERVICES`."""
        if service not in SERVICES:
            raise KeyError(service)
        value: str = getattr(self, f"{service}_addr")
        return value

    def base_url(self) -> str:
        """`public_url`, or the listening address; `/` (where the document is served from) when
        the gateway listens on every interface and so has no one address of its own."""
        if self.public_url:
            return self.public_url.rstrip("/")
        if self.listen_host in ("0.0.0.0", "::", ""):
            return "/"
        host = f"[{self.listen_host}]" if ":" in self.listen_host else self.listen_host
        return f"http://{host}:{self.listen_port}"

    @model_validator(mode="after")
    def _refuse_open_cors_in_production(self) -> GatewaySettings:
        # Bearer tokens are sent by browsers of the operator console: no wildcard origin there.
        if self.environment == "production" and "*" in self.cors_origins:
            raise ValueError("KAMQOR_CORS_ORIGINS: '*' is for development only")
        return self
