"""The NATS connection: connect with retries, reconnect forever, tell consumers to resubscribe."""

from __future__ import annotations

import asyncio
import logging

import nats
from nats.aio.client import Client
from nats.js import JetStreamContext

from kamqor.tasks import cancel_and_wait

log = logging.getLogger(__name__)


class Broker:
    def __init__(
        self,
        url: str,
        *,
        name: str,
        user: str | None = None,
        password: str | None = None,
        inbox_prefix: str | None = None,
    ) -> None:
        """`user`/`password`: this process's own NATS user (`KAMQOR_NATS_USER`); `inbox_prefix`:
        its reply subjects, the only ones its user may subscribe to (`_INBOX_<service>`)."""
        self._url = url
        self._name = name
        self._auth = {"user": user, "password": password} if user else {}
        self._inbox = {"inbox_prefix": inbox_prefix} if inbox_prefix else {}
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        # Bumped on every reconnect: pull subscriptions may go silent after a server restart
        # (nats.py #504), so consumers compare generations and subscribe again.
        self.generation = 0
        self.connected = asyncio.Event()
        # Set (and replaced) when the generation ends: what was sent on the old connection and
        # not answered yet never will be, so the relay sends it again without waiting it out.
        self._generation_over = asyncio.Event()
        self._connecting: asyncio.Task[None] | None = None

    @property
    def js(self) -> JetStreamContext:
        if self._js is None:
            raise RuntimeError("broker not connected")
        return self._js

    @property
    def is_connected(self) -> bool:
        return self._nc is not None and self._nc.is_connected

    async def wait_connected(self) -> None:
        """Until connected: the event is set from nats-py's callback, which may run a moment
        after the client's own state changed either way."""
        while True:
            await self.connected.wait()
            if self.is_connected:
                return
            await asyncio.sleep(0.05)

    def generation_over(self) -> asyncio.Event:
        """Set when the current connection is replaced (after a reconnect)."""
        return self._generation_over

    def start(self) -> None:
        """Connect in the background: a process starts (and stages events in its outbox) while
        the broker is away; `connected` is set once it answers."""
        if self._connecting is None:
            self._connecting = asyncio.create_task(self.connect(), name=f"{self._name}-connect")

    async def connect(self, *, attempts: int = 0, wait: float = 0.5) -> None:
        """Connect, retrying until it works (attempts=0: forever) so start order does not matter."""
        tried = 0
        while True:
            try:
                self._nc = await nats.connect(
                    self._url,
                    name=self._name,
                    max_reconnect_attempts=-1,
                    reconnect_time_wait=0.5,
                    connect_timeout=2,
                    disconnected_cb=self._on_disconnected,
                    reconnected_cb=self._on_reconnected,
                    error_cb=self._on_error,
                    **self._auth,
                    **self._inbox,
                )
                break
            except Exception as exc:
                tried += 1
                if attempts and tried >= attempts:
                    raise
                log.warning("nats connect failed (%s), retrying", type(exc).__name__)
                await asyncio.sleep(wait)
        self._js = self._nc.jetstream(timeout=5)
        self.connected.set()

    async def _on_disconnected(self) -> None:
        self.connected.clear()
        log.warning("nats disconnected")

    async def _on_reconnected(self) -> None:
        self.generation += 1
        over, self._generation_over = self._generation_over, asyncio.Event()
        over.set()
        self.connected.set()
        log.info("nats reconnected")

    async def _on_error(self, exc: Exception) -> None:
        log.debug("nats error: %s", type(exc).__name__)

    async def close(self) -> None:
        if self._connecting is not None:
            await cancel_and_wait(self._connecting)
            self._connecting = None
        if self._nc is not None and not self._nc.is_closed:
            try:
                await asyncio.wait_for(self._nc.drain(), timeout=5)
            except Exception:
                await self._nc.close()
        self.connected.clear()
