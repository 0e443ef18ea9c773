"""`python -m console`: serve the operator console with uvicorn until SIGTERM.
`python -m console migrate`: create the shared session table (a Job before the rollout; the
console never changes the schema at start)."""

from __future__ import annotations

import asyncio
import os
import sys

import uvicorn

from console.app import create_app
from console.session_store import create_schema
from console.settings import ConsoleSettings
from kamqor.clock import set_clock
from kamqor.db import make_engine
from kamqor.telemetry import configure_logging


async def migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        await create_schema(engine)
    finally:
        await engine.dispose()


def main() -> None:
    if sys.argv[1:] == ["migrate"]:
        # Only the database URL: the migrate Job carries no OIDC client secret.
        url = os.environ.get("KAMQOR_DATABASE_URL")
        if not url:
            sys.exit("KAMQOR_DATABASE_URL: no session database to migrate")
        asyncio.run(migrate(url))
        return
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
