"""What several routes share: the idempotency key, paging, the `Location` of a new resource."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Header, Query

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        description="Client-chosen key; a retry with the same key returns the first result.",
        examples=["6f1c2a52-5a1e-4d55-9a43-1f0f3b8f2c11"],
    ),
]
PageSize = Annotated[
    int | None, Query(ge=1, le=200, description="Items per page; default 50, at most 200.")
]
PageToken = Annotated[
    str | None, Query(max_length=500, description="`next_page_token` of the previous page.")
]


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
