"""The gateway's access log: method, route template, status and timing, nothing else (REG-9).

A raw path carries record ids and a query string can carry personal data (a purpose, a search
term), so neither is ever logged: the line names the route's template (`/v1/stays/{stay_id}`),
or `-` when no route matched. uvicorn's own access log (which logs the raw path with its query
string) is switched off wherever the gateway is served (`UVICORN_OPTIONS`).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger("gateway.access")

# How `python -m gateway` and the test harness serve the app: the process's logging as
# configured (`kamqor.telemetry.configure_logging`), no uvicorn access log, no server banner.
UVICORN_OPTIONS: dict[str, Any] = {
    "log_config": None,
    "access_log": False,
    "server_header": False,
}
UNMATCHED = "-"
# Probes answer every few seconds: their lines are DEBUG.
PROBES = frozenset({"/healthz", "/readyz"})


def route_template(scope: Scope) -> str:
    """The matched route's path template, never the path as sent."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else UNMATCHED


class AccessLogMiddleware:
    """One INFO line per HTTP request: `GET /v1/stays/{stay_id} 200 12.3ms`."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        # This replaces uvicorn's access log, whatever server runs the app and however its
        # logging is configured (a handler attached to `uvicorn.access` would turn it on).
        logging.getLogger("uvicorn.access").disabled = True

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = route_template(scope)
            log.log(
                logging.DEBUG if route in PROBES else logging.INFO,
                "%s %s %d %.1fms",
                scope.get("method", "-"),
                route,
                status,
                (time.perf_counter() - began) * 1000,
            )
