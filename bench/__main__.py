"""`make bench` (`python -m bench`): the quick run, a few minutes; `make bench FULL=1`
(`python -m bench --full`): longer runs, more rounds, and the registry search at 1 M persons.

Starts the whole system as separate processes (bench.stack), measures every figure of issue 11
against its baseline in the same run, prints one table. Not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import time

from bench import registry_search, sweep_cost
from bench.figures import FULL, QUICK, Bench, Options, Row
from bench.procs import rss_mb
from bench.stack import SERVICES, Stack
from devstack.keycloak import KeycloakServer, default_realm_file, ensure_distribution
from devstack.nats import start_nats
from devstack.postgres import start_postgres


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def table(rows: list[Row]) -> str:
    head = ("figure", "B0 / baseline", "Kamqor", "ratio", "goal", "met")
    cells = [head] + [(r.figure, r.baseline, r.kamqor, r.ratio, r.goal, r.met) for r in rows]
    lines = ["| " + " | ".join(c) + " |" for c in cells]
    lines.insert(1, "|" + "---|" * len(head))
    return "\n".join(lines)


def _migrate_all(stack: Stack) -> None:
    """The services' `migrate` steps side by side (as Kubernetes Jobs would run)."""
    for name in SERVICES:
        stack.migrate(name)


async def _cold_starts(stack: Stack, bench: Bench, opt: Options) -> None:
    baseline = [stack.bare_grpc_start() for _ in range(opt.rounds)]
    b = statistics.median(baseline)
    for name in SERVICES:
        for _ in range(opt.rounds - 1):
            stack.start_service(name)
            stack.stop(name)
        stack.start_service(name)  # the last start stays up for the other figures
    for name in SERVICES:
        took = statistics.median(stack.cold_starts[name])
        bench.report.add(
            Row(
                f"cold start of {name}, exec → health SERVING",
                f"{b:.2f} s (bare grpc.aio)",
                f"{took:.2f} s",
                f"{took / b:.1f}x",
                "≤ 1.5 s",
                "yes" if took <= 1.5 else f"no (+{took - 1.5:.2f} s)",
            )
        )
    bench.report.notes.append(
        "migrate steps (`python -m <service> migrate`, fresh database), seconds: "
        + ", ".join(f"{n} {s:.2f}" for n, s in stack.migrate_seconds.items())
    )


async def _search(stack: Stack, bench: Bench, opt: Options) -> None:
    assert stack.postgres is not None
    dsn = stack.postgres.dsn("registry")
    token = stack.token("commission.irk")
    loaded = 0
    results: dict[int, dict[str, float]] = {}
    for persons in opt.search_persons:
        took = await registry_search.load_persons(dsn, persons - loaded, seed=persons)
        loaded = persons
        bench.report.notes.append(f"registry: {persons:,} persons loaded in {took:.0f} s")
        asked = await registry_search.queries(dsn, opt.search_queries, seed=7)
        results[persons] = found = await registry_search.measure(
            stack.ports["registry"], token, asked
        )
        goal = "p95 ≤ 50 ms" + (", ≤ 2x the 100 k p95" if persons > 100_000 else "")
        met = found["p95"] <= 0.050
        if persons > 100_000 and 100_000 in results:
            met = met and found["p95"] <= 2 * results[100_000]["p95"]
        bench.report.add(
            Row(
                f"registry name search, {persons:,} persons (p50 / p95; share found)",
                "",
                f"{found['p50'] * 1000:.1f} / {found['p95'] * 1000:.1f} ms; "
                f"{found['found']:.0%} found",
                f"{found['p95'] / results[100_000]['p95']:.2f}x the 100 k p95"
                if persons > 100_000 and 100_000 in results
                else "",
                goal,
                "yes" if met else f"no (p95 +{(found['p95'] - 0.050) * 1000:.0f} ms)",
            )
        )


def _rss(stack: Stack, bench: Bench) -> None:
    sizes = {
        name: rss_mb(proc.pid)
        for name, proc in stack.procs.items()
        if proc.pid is not None and proc.running
    }
    worst = max(v for k, v in sizes.items() if k in (*SERVICES, "gateway"))
    bench.report.add(
        Row(
            "RSS per process after the runs (MB)",
            ", ".join(f"{n} {v:.0f}" for n, v in sizes.items() if n.startswith("b0")),
            ", ".join(f"{n} {v:.0f}" for n, v in sizes.items() if not n.startswith("b0")),
            f"max {worst:.0f} MB",
            "≤ 150 MB each",
            "yes" if worst <= 150 else f"no (+{worst - 150:.0f} MB)",
        )
    )


async def _main(opt: Options) -> None:
    began = time.monotonic()
    stack = Stack()
    _say(f"bench: logs in {stack.logs}")
    keycloak = KeycloakServer(dist=ensure_distribution(), realm_file=default_realm_file())
    try:
        keycloak.launch()  # it boots (a minute) while PostgreSQL, NATS and migrations start
        stack.keycloak = keycloak
        stack.postgres = start_postgres((*SERVICES, "b0"))
        stack.nats = start_nats()
        _migrate_all(stack)
        _say("bench: waiting for Keycloak...")
        keycloak.wait_ready()
        sweep_line = await sweep_cost.run(stack.postgres)
        bench = Bench(stack, opt)
        _say("bench: cold starts...")
        await _cold_starts(stack, bench, opt)
        stack.start_gateway()
        stack.start_b0()
        await bench.setup()
        _say("bench: writes...")
        await bench.writes()
        _say("bench: reads...")
        await bench.reads()
        _say("bench: admissions → notices...")
        await bench.admissions()
        _say("bench: registry search...")
        await _search(stack, bench, opt)
        _rss(stack, bench)
        bench.report.notes.append(sweep_line)
        _say("")
        _say(
            f"Kamqor benchmarks ({'full' if opt is FULL else 'quick'}: {opt.rounds} rounds of "
            f"{opt.seconds:.0f} s; ratios are medians of per-round ratios)"
        )
        _say(table(bench.report.rows))
        for note in bench.report.notes:
            _say(f"- {note}")
        _say(f"(took {time.monotonic() - began:.0f} s)")
    finally:
        stack.shutdown()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("--full", action="store_true", help="long runs, 1 M persons")
    args = parser.parse_args()
    asyncio.run(_main(FULL if args.full else QUICK))


if __name__ == "__main__":
    main()
