"""What several routes share: the idempotency key, paging, the `Location` of a new resource."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query

from gateway.schemas.common import PAGE_TOKEN_DESCRIPTION, Line
from gateway.schemas.common import PageToken as PageTokenValue

IdempotencyKey = Annotated[
    Line | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Client-chosen key; a retry with the same key and body returns the first "
        "result, the same key with another body is a 422 `idempotency-key-reused`, and a retry "
        "while the first is still being processed a 409 `idempotency-key-in-flight`.",
        examples=["6f1c2a52-5a1e-4d55-9a43-1f0f3b8f2c11"],
    ),
]
PageSize = Annotated[
    int | None, Query(ge=1, le=200, description="Items per page; default 50, at most 200.")
]
# The service's cursor once validated (`schemas.common.page_cursor`); the client sees a token.
PageToken = Annotated[PageTokenValue | None, Query(description=PAGE_TOKEN_DESCRIPTION)]


def created(what: str) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entry of a 201 whose `Location` header names the new resource."""
    return {
        201: {
            "description": f"{what} created",
            "headers": {
                "Location": {
                    "description": "Path of the new resource",
                    "schema": {"type": "string"},
                }
            },
        }
    }
