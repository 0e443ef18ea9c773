"""`python -m gateway`: serve the gateway with uvicorn until SIGTERM."""

from __future__ import annotations

import uvicorn

from gateway.access_log import UVICORN_OPTIONS
from gateway.app import create_app
from gateway.settings import GatewaySettings
from kamqor.clock import set_clock
from kamqor.telemetry import configure_logging, set_global, tracer_provider


def main() -> None:
    settings = GatewaySettings()
    configure_logging(settings.log_level)
    if settings.clock_start is not None:
        set_clock(settings.clock_start)
    provider = tracer_provider("kamqor-gateway", otlp_endpoint=settings.otel_exporter_endpoint)
    set_global(provider)
    app = create_app(settings, tracer_provider=provider)
    try:
        uvicorn.run(
            app,
            host=settings.listen_host,
            port=settings.listen_port,
            proxy_headers=True,
            # No uvicorn access log (raw paths, query strings): `gateway.access_log` logs.
            **UVICORN_OPTIONS,
        )
    finally:
        provider.shutdown()


if __name__ == "__main__":
    main()
