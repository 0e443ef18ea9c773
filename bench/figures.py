"""The figures of issue 11, each measured against its baseline in the same run.

Throughput figures alternate B0 and Kamqor round by round (the machine's noise hits both) and
report the median of the rounds' ratios. Latency and CPU figures send admissions at a fixed rate
and wait until both notices of every admission exist.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import asyncpg  # type: ignore[import-untyped]

from bench import load
from bench.procs import Watched, cpu_delta, cpu_snapshot
from bench.stack import B0_DATABASE, Stack


@dataclass(frozen=True)
class Options:
    rounds: int = 3
    seconds: float = 3.0
    latency_seconds: float = 6.0
    rates: tuple[int, ...] = (20, 50)
    search_persons: tuple[int, ...] = (100_000,)
    search_queries: int = 200


QUICK = Options()
FULL = Options(rounds=5, seconds=10.0, latency_seconds=20.0, search_persons=(100_000, 1_000_000))


@dataclass
class Row:
    figure: str
    baseline: str
    kamqor: str
    ratio: str
    goal: str = ""
    met: str = ""


@dataclass
class Report:
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, row: Row) -> None:
        self.rows.append(row)
        sys.stdout.write(f"  {row.figure}: {row.baseline} | {row.kamqor} | {row.ratio}\n")
        sys.stdout.flush()


def years_ago(years: int, days: int = 30) -> str:
    return (date.today() - timedelta(days=365 * years + days)).isoformat()


def family(shelter_id: str, minors: int) -> dict[str, Any]:
    return {
        "shelter_id": shelter_id,
        "adult": {"full_name": "Aigerim Nurlanovna", "birth_date": years_ago(34)},
        "minors": [
            {"full_name": f"Child {i + 1}", "birth_date": years_ago(3 + 4 * i)}
            for i in range(minors)
        ],
        "referral": "self_application",
    }


def appeal(i: int = 0) -> dict[str, Any]:
    """The i-th appeal of a run: every appeal is about other people, as in life (intake matches
    each new appeal's persons against the families on record, by name and birth date)."""
    return {
        "channel": "hotline_111",
        "summary": "Mother and two children, domestic violence, threat to life",
        "persons": [
            {
                "full_name": f"Aigerim Nurlanovna {i:x}",
                "relation": "mother",
                "birth_date": years_ago(20 + i % 40, days=i % 365),
            },
            {
                "full_name": f"Child One {i:x}",
                "relation": "child",
                "birth_date": years_ago(1 + i % 8, days=i % 365),
            },
            {
                "full_name": f"Child Two {i:x}",
                "relation": "child",
                "birth_date": years_ago(9 + i % 8, days=i % 365),
            },
        ],
        "threat_to_life": True,
        "domestic_violence": True,
    }


def _fmt(value: float, unit: str = "") -> str:
    if value >= 100:
        return f"{value:.0f}{unit}"
    return f"{value:.1f}{unit}" if value >= 10 else f"{value:.2f}{unit}"


class Bench:
    def __init__(self, stack: Stack, options: Options) -> None:
        self.stack = stack
        self.opt = options
        self.report = Report()
        self.shelter_id = ""
        # Appeal numbers already used by earlier runs (each run starts past them).
        self._appeals = iter(range(0, 10**9, 1_000_000))

    @property
    def gateway(self) -> int:
        return self.stack.ports["gateway"]

    @property
    def b0(self) -> int:
        return self.stack.ports["b0"]

    async def db(self, name: str) -> asyncpg.Connection:
        assert self.stack.postgres is not None
        return await asyncpg.connect(self.stack.postgres.dsn(name))

    # -- set-up --------------------------------------------------------------------------

    async def setup(self) -> None:
        head = self.stack.token("head.ast")
        conn = await load.Connection.open(self.gateway)
        resp = await conn.send(
            load.post_json(
                "/v1/shelters",
                {"name": f"Bench shelter {uuid.uuid4().hex[:6]}", "capacity": 10_000},
                token=head,
            ).encode()
        )
        await conn.close()
        if resp.status != 201:
            raise RuntimeError(f"cannot register the bench shelter: {resp.status} {resp.body!r}")
        self.shelter_id = resp.json()["id"]

    async def free_beds(self) -> None:
        """Discharge every stay behind the API's back, so capacity never stops a write run."""
        conn = await self.db("shelter")
        await conn.execute("UPDATE stays SET state = 'discharged' WHERE state = 'active'")
        await conn.execute(
            "UPDATE beds SET state = 'free', stay_id = NULL, hold_id = NULL "
            "WHERE state IN ('occupied', 'held')"
        )
        await conn.close()

    # -- throughput against B0 -------------------------------------------------------------

    async def _pair(
        self,
        figure: str,
        kamqor: Callable[[], Awaitable[load.Run]],
        baseline: Callable[[], Awaitable[load.Run]],
        *,
        goal: float | None,
        unit: str = "req/s",
    ) -> None:
        ratios, ours, theirs = [], [], []
        for i in range(self.opt.rounds):
            order = (kamqor, baseline) if i % 2 else (baseline, kamqor)
            runs = [await f() for f in order]
            k, b = (runs[0], runs[1]) if i % 2 else (runs[1], runs[0])
            for run, who in ((k, "Kamqor"), (b, "B0")):
                if run.failed:
                    raise RuntimeError(f"{figure}: {who} failed {run.failed}: {run.first_failure}")
            ours.append(k.rate)
            theirs.append(b.rate)
            ratios.append(k.rate / b.rate)
        ratio = statistics.median(ratios)
        self.report.add(
            Row(
                figure,
                f"{_fmt(statistics.median(theirs))} {unit}",
                f"{_fmt(statistics.median(ours))} {unit}",
                f"{ratio:.2f}",
                f"≥ {goal:.2f}" if goal is not None else "",
                ("yes" if ratio >= goal else f"no ({ratio / goal:.0%} of it)")
                if goal is not None
                else "",
            )
        )

    async def writes(self) -> None:
        o = self.opt

        # Tokens are fetched for each run: a full bench outlasts an access token.
        async def stays(minors: int) -> load.Run:
            await self.free_beds()
            body = family(self.shelter_id, minors)
            shelter = self.stack.token("shelter.ast")
            return await load.closed_loop(
                self.gateway,
                lambda i: load.post_json("/v1/stays", body, token=shelter),
                concurrency=8,
                seconds=o.seconds,
            )

        async def appeals() -> load.Run:
            hotline = self.stack.token("hotline.ast")
            first = next(self._appeals)
            return await load.closed_loop(
                self.gateway,
                lambda i: load.post_json("/v1/appeals", appeal(first + i), token=hotline),
                concurrency=8,
                seconds=o.seconds,
            )

        def b0(minors: int) -> Callable[[], Awaitable[load.Run]]:
            body = family(self.shelter_id, minors)
            return lambda: load.closed_loop(
                self.b0,
                lambda i: load.post_json("/b0/write", body),
                concurrency=8,
                seconds=o.seconds,
            )

        await self._pair(
            "POST /v1/stays (2 minors), 8 concurrent", lambda: stays(2), b0(2), goal=0.25
        )
        await self._pair(
            "POST /v1/stays (no minors), 8 concurrent", lambda: stays(0), b0(0), goal=0.25
        )
        await self._pair("POST /v1/appeals, 8 concurrent", appeals, b0(2), goal=0.25)

    async def reads(self) -> None:
        o = self.opt
        kconn = await self.db("shelter")
        stay_id = await kconn.fetchval(
            "SELECT id FROM stays WHERE shelter_id = $1 AND persons = 3 LIMIT 1", self.shelter_id
        )
        await kconn.close()
        bconn = await self.db(B0_DATABASE)
        b0_ids = [
            r["id"]
            for r in await bconn.fetch(
                "SELECT id FROM b0_stays WHERE shelter_id = $1 ORDER BY id DESC LIMIT 60",
                self.shelter_id,
            )
        ]
        # B0's page carries what a Kamqor page carries: two children and an obligation each.
        await bconn.executemany(
            "INSERT INTO b0_minors VALUES ($1, $2, $3, $4, $5::text::date) ON CONFLICT DO NOTHING",
            [
                (f"{sid}-{p}", sid, p, f"Child {p}", years_ago(3 + p))
                for sid in b0_ids
                for p in (0, 1)
            ],
        )
        await bconn.executemany(
            "INSERT INTO b0_obligations VALUES ($1, $2, 'INT-3/threat', now()) "
            "ON CONFLICT DO NOTHING",
            [(f"o-{sid}", f"stay/{sid}") for sid in b0_ids],
        )
        await bconn.close()

        def closed(
            port: int, path: str, user: str = "", concurrency: int = 1
        ) -> Callable[[], Awaitable[load.Run]]:
            async def run() -> load.Run:
                request = load.get(path, token=self.stack.token(user) if user else "")
                return await load.closed_loop(
                    port, lambda i: request, concurrency=concurrency, seconds=o.seconds
                )

            return run

        await self._pair(
            "GET /v1/stays/{id}, 1 at a time",
            closed(self.gateway, f"/v1/stays/{stay_id}", "shelter.ast"),
            closed(self.b0, f"/b0/stays/{b0_ids[0]}"),
            goal=0.3,
        )
        await self._pair(
            "GET /v1/appeals (a page of 50), 1 at a time",
            closed(self.gateway, "/v1/appeals?page_size=50", "hotline.ast"),
            closed(self.b0, f"/b0/stays?shelter={self.shelter_id}"),
            goal=0.3,
        )
        await self._pair(
            "JWT verification, kit verifier (token cache) vs no-op endpoint, 8 concurrent",
            closed(self.b0, "/b0/jwt", "shelter.ast", 8),
            closed(self.b0, "/b0/noop", "", 8),
            goal=None,
        )

    # -- admission to notices: latency and CPU -------------------------------------------

    async def _notices_done(
        self, database: str, table: str, sent: dict[str, float], wait: float = 120
    ) -> list[float]:
        """Seconds from each admission's send to its second notice, once all exist."""
        conn = await self.db(database)
        subjects = [f"stay/{s}" for s in sent]
        deadline = time.monotonic() + wait
        try:
            while True:
                rows = await conn.fetch(
                    f"SELECT subject, count(*) AS n, max(created_at) AS last FROM {table} "
                    "WHERE subject = ANY($1) GROUP BY subject",
                    subjects,
                )
                done = [r for r in rows if r["n"] >= 2]
                if len(done) == len(subjects) or time.monotonic() > deadline:
                    break
                await asyncio.sleep(0.2)
        finally:
            await conn.close()
        if len(done) < len(subjects):
            raise RuntimeError(
                f"{len(subjects) - len(done)} admissions got no notices in {wait:.0f} s"
            )
        return [r["last"].timestamp() - sent[r["subject"][5:]] for r in done]

    async def _admissions(
        self,
        port: int,
        path: str,
        token: str,
        rate: int,
        procs: dict[str, Watched],
        database: str,
        table: str,
    ) -> tuple[list[float], dict[str, float], int]:
        body = family(self.shelter_id, 2)
        before = cpu_snapshot(procs)
        run = await load.open_loop(
            port,
            lambda i: load.post_json(path, body, token=token),
            rate=rate,
            seconds=self.opt.latency_seconds,
        )
        if run.failed:
            raise RuntimeError(f"admissions at {rate}/s: {run.failed} failed: {run.first_failure}")
        sent = {resp.json()["id"]: at for at, resp in run.answers}
        latencies = await self._notices_done(database, table, sent)
        spent = cpu_delta(before, cpu_snapshot(procs))
        return latencies, spent, len(sent)

    async def admissions(self) -> None:
        cpu_rows: dict[str, tuple[dict[str, float], int]] = {}
        for rate in self.opt.rates:
            await self.free_beds()
            shelter = self.stack.token("shelter.ast")
            k_lat, k_cpu, k_n = await self._admissions(
                self.gateway,
                "/v1/stays",
                shelter,
                rate,
                self.stack.kamqor_processes(),
                "notify",
                "notices",
            )
            b_lat, b_cpu, b_n = await self._admissions(
                self.b0,
                "/b0/write",
                "",
                rate,
                self.stack.b0_processes(),
                B0_DATABASE,
                "b0_notices",
            )
            cpu_rows.setdefault("kamqor", (k_cpu, k_n))
            cpu_rows.setdefault("b0", (b_cpu, b_n))
            k99, b99 = load.percentile(k_lat, 99), load.percentile(b_lat, 99)
            goal = 0.100
            self.report.add(
                Row(
                    f"admission → both notices exist, at {rate}/s (p50 / p95 / p99)",
                    " / ".join(f"{load.percentile(b_lat, q) * 1000:.0f}" for q in (50, 95, 99))
                    + " ms",
                    " / ".join(f"{load.percentile(k_lat, q) * 1000:.0f}" for q in (50, 95, 99))
                    + " ms",
                    f"p99 {k99 / b99:.1f}x",
                    "p99 ≤ 100 ms" if rate == 50 else "",
                    ("yes" if k99 <= goal else f"no (+{(k99 - goal) * 1000:.0f} ms)")
                    if rate == 50
                    else "",
                )
            )
        k_cpu, k_n = cpu_rows["kamqor"]
        b_cpu, b_n = cpu_rows["b0"]
        k_total, b_total = sum(k_cpu.values()) / k_n, sum(b_cpu.values()) / b_n
        ratio = k_total / b_total
        self.report.add(
            Row(
                f"CPU per admission, all processes summed (at {self.opt.rates[0]}/s)",
                f"{b_total * 1000:.1f} ms",
                f"{k_total * 1000:.1f} ms",
                f"{ratio:.1f}x",
                "≤ 6x",
                "yes" if ratio <= 6 else f"no (+{ratio - 6:.1f}x)",
            )
        )
        self.report.notes.append(
            "CPU per admission by process (ms): Kamqor "
            + ", ".join(f"{n} {v / k_n * 1000:.1f}" for n, v in sorted(k_cpu.items()))
            + "; B0 "
            + ", ".join(f"{n} {v / b_n * 1000:.1f}" for n, v in sorted(b_cpu.items()))
        )
