"""`python -m shelter`: run the shelter service until SIGTERM."""

from __future__ import annotations

import asyncio

from kamqor.runtime import serve_forever
from kamqor.telemetry import configure_logging, set_global
from shelter.app import ShelterSettings, create_app


def main() -> None:
    settings = ShelterSettings()
    configure_logging(settings.log_level)
    app = create_app(settings)
    set_global(app.tracer_provider)
    asyncio.run(serve_forever(app))


if __name__ == "__main__":
    main()
