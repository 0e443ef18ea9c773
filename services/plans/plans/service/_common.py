"""What both halves of the plan use cases share."""

from __future__ import annotations

SOURCE = "kamqor.plans"


def _entity(measure_id: str) -> str:
    return f"measure/{measure_id}"
