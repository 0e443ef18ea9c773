"""The gateway's public `/v1` API, called with the signed-in user's access token (server-side).

Answers are plain JSON objects; a problem+json answer becomes `ApiError` with the problem's stable
reason (`shelter-full`) and the fields it names, so a page can show each beside its field.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import httpx

log = logging.getLogger(__name__)
PROBLEM_BASE = "https://kamqor.dev/problems/"
# Keys whose values are days, besides every `*_date`.
DATE_KEYS = frozenset({"deadline", "completed_on", "from", "to"})
Json = dict[str, Any]
Params = Mapping[str, str | int | list[str] | None]


@dataclass
class ApiError(Exception):
    status: int
    reason: str
    detail: str = ""
    fields: dict[str, str] = field(default_factory=dict)

    def __str__(self) -> str:
        return f"{self.status} {self.reason}"


def _problem(response: httpx.Response) -> ApiError:
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    reason = str(body.get("type", "")).removeprefix(PROBLEM_BASE) or f"http-{response.status_code}"
    fields = {
        str(e.get("field", "")): str(e.get("message", ""))
        for e in body.get("errors") or []
        if isinstance(e, dict)
    }
    return ApiError(response.status_code, reason, str(body.get("detail", "")), fields)


def _typed(value: Any, key: str = "") -> Any:
    """JSON with its instants (`*_at`) as aware datetimes and its days (`*_date`) as dates, so
    the pages format them in the user's language and the territory's zone."""
    if isinstance(value, dict):
        return {k: _typed(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_typed(v, key) for v in value]
    if isinstance(value, str) and value:
        try:
            if key.endswith("_at"):
                return datetime.fromisoformat(value)
            if key.endswith("_date") or key in DATE_KEYS:
                return date.fromisoformat(value)
        except ValueError:
            return value
    return value


class Api:
    """One user's view of the API: every call carries their bearer token."""

    def __init__(self, http: httpx.AsyncClient, access_token: str) -> None:
        self._http = http
        self._headers = {"Authorization": f"Bearer {access_token}"}

    async def get(self, path: str, params: Params | None = None) -> Json:
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        response = await self._http.get(path, params=clean, headers=self._headers)
        return self._json(response)

    async def post(
        self, path: str, body: Json | None = None, *, idempotency_key: str | None = None
    ) -> Json:
        """`idempotency_key`: the form's own (rendered with it), so a double submit is one."""
        headers = dict(self._headers)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        response = await self._http.post(path, json=body or {}, headers=headers)
        return self._json(response)

    async def get_file(self, path: str, params: Params | None = None) -> tuple[bytes, str, str]:
        """A file the API serves (a PDF, a CSV): its bytes, media type and Content-Disposition."""
        clean = {k: v for k, v in (params or {}).items() if v not in (None, "")}
        response = await self._http.get(path, params=clean, headers=self._headers)
        if response.status_code >= 400:
            self._json(response)  # raises the problem as ApiError
        return (
            response.content,
            response.headers.get("content-type", "application/octet-stream"),
            response.headers.get("content-disposition", "attachment"),
        )

    @staticmethod
    def _json(response: httpx.Response) -> Json:
        if response.status_code >= 400:
            error = _problem(response)
            # The path and reason only: bodies may hold personal data (REG-9).
            log.info("gateway %s %s: %s", response.request.method, response.request.url.path, error)
            raise error
        data = _typed(response.json())
        return data if isinstance(data, dict) else {"items": data}
