"""`python -m console`: serve the operator console with uvicorn until SIGTERM."""

from __future__ import annotations

import uvicorn

from console.app import create_app
from console.settings import ConsoleSettings
from kamqor.clock import set_clock
from kamqor.telemetry import configure_logging


def main() -> None:
    settings = ConsoleSettings()
    configure_logging(settings.log_level)
    if settings.clock_start is not None:
        set_clock(settings.clock_start)
    app = create_app(settings)
    uvicorn.run(
        app,
        host=settings.listen_host,
        port=settings.listen_port,
        log_config=None,
        # Paths only: no query strings (filters) in the access log.
        access_log=False,
        proxy_headers=True,
        server_header=False,
    )


if __name__ == "__main__":
    main()
