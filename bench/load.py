"""A lean HTTP/1.1 load generator on asyncio streams: keep-alive connections, prepared request
bytes, responses read by `Content-Length`. It costs the machine far less CPU per request than a
full client library, so the servers measured get the cores (the machine has two).

`closed_loop`: N workers, each sends its next request when the last one answered (req/s at N
concurrent). `open_loop`: requests sent at a fixed rate whatever the answers (latency at a rate).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""

    def encode(self) -> bytes:
        lines = [f"{self.method} {self.path} HTTP/1.1", "Host: bench"]
        lines += [f"{k}: {v}" for k, v in self.headers.items()]
        if self.body or self.method in ("POST", "PUT", "PATCH"):
            lines += ["Content-Type: application/json", f"Content-Length: {len(self.body)}"]
        return ("\r\n".join(lines) + "\r\n\r\n").encode() + self.body


def post_json(path: str, payload: Any, *, token: str = "", **headers: str) -> Request:
    if token:
        headers["Authorization"] = f"Bearer {token}"
    return Request("POST", path, headers, json.dumps(payload).encode())


def get(path: str, *, token: str = "") -> Request:
    return Request("GET", path, {"Authorization": f"Bearer {token}"} if token else {})


@dataclass
class Response:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Connection:
    """One keep-alive connection; `send` writes a request and reads its response."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._reader, self._writer = reader, writer

    @classmethod
    async def open(cls, port: int, host: str = "127.0.0.1") -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer)

    async def send(self, raw: bytes) -> Response:
        self._writer.write(raw)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        body = await self._reader.readexactly(length) if length else b""
        return Response(status, body)

    async def close(self) -> None:
        self._writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._writer.wait_closed()


@dataclass
class Run:
    """What one load run saw: answers by status, latencies (s), wall time (s)."""

    ok: int = 0
    failed: int = 0
    seconds: float = 0.0
    latencies: list[float] = field(default_factory=list)
    first_failure: str = ""
    answers: list[tuple[float, Response]] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def record(self, started: float, resp: Response, *, keep: bool) -> None:
        if 200 <= resp.status < 300:
            self.ok += 1
            self.latencies.append(time.perf_counter() - started)
            if keep:
                self.answers.append((started, resp))
        else:
            self.failed += 1
            if not self.first_failure:
                self.first_failure = f"{resp.status} {resp.body[:300]!r}"


async def closed_loop(
    port: int,
    make: Callable[[int], Request],
    *,
    concurrency: int,
    seconds: float,
    warmup: float = 0.5,
) -> Run:
    """`concurrency` workers for `seconds` (after `warmup` not counted); `make(i)` builds the
    i-th request."""
    conns = [await Connection.open(port) for _ in range(concurrency)]
    run = Run()
    counter = iter(range(10**9))
    begin = time.perf_counter()
    measure_from = begin + warmup
    end = measure_from + seconds

    async def worker(conn: Connection) -> None:
        while (now := time.perf_counter()) < end:
            resp = await conn.send(make(next(counter)).encode())
            if now >= measure_from:
                run.record(now, resp, keep=False)

    try:
        await asyncio.gather(*(worker(c) for c in conns))
    finally:
        for conn in conns:
            await conn.close()
    run.seconds = time.perf_counter() - measure_from
    return run


async def open_loop(
    port: int,
    make: Callable[[int], Request],
    *,
    rate: float,
    seconds: float,
    connections: int = 32,
) -> Run:
    """`rate` requests per second for `seconds`, on a pool of connections; every answer is
    kept with its send time (`time.time()`) so effects can be timed from it."""
    pool: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(connections):
        pool.put_nowait(await Connection.open(port))
    run = Run()
    total = int(rate * seconds)
    begin = time.perf_counter()

    async def one(i: int) -> None:
        conn = await pool.get()
        sent_wall = time.time()
        resp = await conn.send(make(i).encode())
        pool.put_nowait(conn)
        if 200 <= resp.status < 300:
            run.ok += 1
            run.answers.append((sent_wall, resp))
        else:
            run.failed += 1
            run.first_failure = run.first_failure or f"{resp.status} {resp.body[:300]!r}"

    tasks = []
    for i in range(total):
        delay = begin + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(one(i)))
    await asyncio.gather(*tasks)
    run.seconds = time.perf_counter() - begin
    while not pool.empty():
        await pool.get_nowait().close()
    return run


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[index]
