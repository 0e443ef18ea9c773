"""The benchmarks still run: B0 serves a write and a no-op under the bench's load generator, and
the cold-start baseline starts. No timing is asserted (benchmarks are not tests)."""

from __future__ import annotations

from bench import load
from bench.figures import family
from bench.stack import B0_DATABASE, Stack
from devstack.nats import NatsServer
from devstack.postgres import PostgresCluster


async def test_b0_write_and_cold_start_baseline_run(
    postgres: PostgresCluster, nats_server: NatsServer
) -> None:
    postgres.create_database(f"{B0_DATABASE}_smoke")
    stack = Stack(postgres=postgres, nats=nats_server)
    try:
        assert stack.bare_grpc_start() > 0
        stack.start_b0(database=f"{B0_DATABASE}_smoke", issuer="http://127.0.0.1:9/realms/none")
        port = stack.ports["b0"]
        body = family("smoke-shelter", 2)
        run = await load.closed_loop(
            port, lambda i: load.post_json("/b0/write", body), concurrency=2, seconds=0.3
        )
        assert run.ok > 0 and run.failed == 0, run.first_failure
        noop = await load.closed_loop(
            port, lambda i: load.get("/b0/noop"), concurrency=1, seconds=0.2
        )
        assert noop.ok > 0
    finally:
        for name in list(stack.procs):
            stack.stop(name)
