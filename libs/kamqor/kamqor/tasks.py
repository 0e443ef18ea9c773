"""Stopping background tasks for certain."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

log = logging.getLogger(__name__)


async def cancel_and_wait(task: asyncio.Task[Any], *, attempts: int = 50) -> None:
    """Cancel `task` and wait for it; cancel again when a cancellation was swallowed (nats-py's
    initial connect retries inside `wait_for`, which can absorb one on Python 3.11)."""
    for _ in range(attempts):
        if task.done():
            break
        task.cancel()
        await asyncio.wait({task}, timeout=0.1)
    if not task.done():
        log.warning("task %s did not stop", task.get_name())
    elif not task.cancelled() and (exc := task.exception()) is not None:
        log.warning("task %s failed: %s", task.get_name(), type(exc).__name__)
