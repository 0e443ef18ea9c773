"""The system under measurement, as separate processes the way `make run` starts them: a
throwaway PostgreSQL (C.UTF-8), NATS JetStream, Keycloak, the five services (each migrated by
its `migrate` step first), the gateway, and B0 (API + consumer) beside them."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import httpx
from grpc_health.v1 import health_pb2, health_pb2_grpc

from bench.procs import Watched
from devstack.keycloak import KeycloakServer, start_keycloak
from devstack.nats import NatsServer, start_nats
from devstack.ports import free_port
from devstack.postgres import SERVICE_DATABASES, PostgresCluster, start_postgres
from devstack.proc import ManagedProcess

SERVICES = SERVICE_DATABASES  # intake, plans, registry, shelter, notify
B0_DATABASE = "b0"


def grpc_serving(port: int, timeout: float = 0.5) -> bool:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        try:
            reply = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=timeout
            )
        except grpc.RpcError:
            return False
    return bool(reply.status == health_pb2.HealthCheckResponse.SERVING)


def http_ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


def wait_for(ready: object, proc: ManagedProcess, what: str, timeout: float = 120) -> float:
    """Seconds until `ready()`; fails with the log's tail when the process dies first."""
    began = time.perf_counter()
    deadline = began + timeout
    check = ready  # a callable
    while time.perf_counter() < deadline:
        if check():  # type: ignore[operator]
            return time.perf_counter() - began
        if not proc.running:
            raise RuntimeError(f"{what} exited while starting:\n{proc.log_tail(15)}")
        time.sleep(0.02)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{proc.log_tail(15)}")


@dataclass
class Stack:
    logs: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="kamqor-bench-")))
    postgres: PostgresCluster | None = None
    nats: NatsServer | None = None
    keycloak: KeycloakServer | None = None
    procs: dict[str, ManagedProcess] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=dict)
    cold_starts: dict[str, list[float]] = field(default_factory=dict)
    migrate_seconds: dict[str, float] = field(default_factory=dict)

    # -- infrastructure ------------------------------------------------------------------

    def start_infrastructure(self) -> None:
        self.postgres = start_postgres((*SERVICES, B0_DATABASE))
        self.nats = start_nats()
        self.keycloak = start_keycloak()

    def token(self, username: str) -> str:
        assert self.keycloak is not None
        return self.keycloak.token(username)

    def _process(self, name: str, argv: list[str], env: dict[str, str]) -> ManagedProcess:
        proc = ManagedProcess(
            name, [sys.executable, *argv], log_path=self.logs / f"{name}.log", env=env
        )
        self.procs[name] = proc
        return proc

    def _base_env(self) -> dict[str, str]:
        assert self.nats is not None and self.keycloak is not None
        return {
            **os.environ,
            "KAMQOR_ENVIRONMENT": "development",
            "KAMQOR_NATS_URL": self.nats.url,
            "KAMQOR_KEYCLOAK_ISSUER": self.keycloak.issuer,
        }

    def service_env(self, name: str) -> dict[str, str]:
        assert self.postgres is not None and self.nats is not None
        creds = self.nats.credentials(name)
        return {
            **self._base_env(),
            "KAMQOR_NATS_USER": creds.user,
            "KAMQOR_NATS_PASSWORD": creds.password,
            "KAMQOR_DATABASE_URL": self.postgres.url(name),
            "KAMQOR_GRPC_LISTEN": f"127.0.0.1:{self.ports[name]}",
        }

    # -- the services --------------------------------------------------------------------

    def migrate(self, name: str) -> None:
        """`python -m <service> migrate`: the step a Kubernetes Job runs before a rollout."""
        self.ports.setdefault(name, free_port())
        proc = self._process(f"{name}-migrate", ["-m", name, "migrate"], self.service_env(name))
        began = time.perf_counter()
        proc.start()
        while proc.running:
            time.sleep(0.02)
        if proc.exit_code != 0:
            raise RuntimeError(f"{name} migrate failed:\n{proc.log_tail(15)}")
        self.migrate_seconds[name] = time.perf_counter() - began

    def start_service(self, name: str) -> float:
        """Exec to health SERVING, in seconds (the service's cold start)."""
        self.ports.setdefault(name, free_port())
        proc = self._process(name, ["-m", name], self.service_env(name))
        proc.start()
        port = self.ports[name]
        took = wait_for(lambda: grpc_serving(port), proc, name)
        self.cold_starts.setdefault(name, []).append(took)
        return took

    def stop(self, name: str) -> None:
        if (proc := self.procs.pop(name, None)) is not None:
            proc.stop(timeout=15)

    def bare_grpc_start(self) -> float:
        port = free_port()
        proc = self._process("bare-grpc", ["-m", "bench.bare_grpc", str(port)], dict(os.environ))
        proc.start()
        took = wait_for(lambda: grpc_serving(port), proc, "bare grpc")
        self.stop("bare-grpc")
        return took

    def start_gateway(self) -> None:
        assert self.nats is not None
        port = self.ports.setdefault("gateway", free_port())
        creds = self.nats.credentials("gateway")
        env = {
            **self._base_env(),
            "KAMQOR_NATS_USER": creds.user,
            "KAMQOR_NATS_PASSWORD": creds.password,
            "KAMQOR_LISTEN_PORT": str(port),
            **{f"KAMQOR_{s.upper()}_ADDR": f"127.0.0.1:{self.ports[s]}" for s in SERVICES},
        }
        proc = self._process("gateway", ["-m", "gateway"], env)
        proc.start()
        took = wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/readyz"), proc, "gateway")
        self.cold_starts.setdefault("gateway", []).append(took)

    def start_b0(self, *, database: str = B0_DATABASE, issuer: str | None = None) -> None:
        assert self.postgres is not None and self.nats is not None
        issuer = issuer or (self.keycloak.issuer if self.keycloak is not None else "")
        port = self.ports.setdefault("b0", free_port())
        env = {
            **os.environ,
            "B0_DSN": self.postgres.dsn(database),
            "B0_NATS": self.nats.admin_url,
            "B0_PORT": str(port),
            "B0_ISSUER": issuer,
        }
        api = self._process("b0", ["-m", "bench.b0", "api"], env)
        api.start()
        wait_for(lambda: http_ok(f"http://127.0.0.1:{port}/b0/noop"), api, "B0")
        self._process("b0-consumer", ["-m", "bench.b0", "consumer"], env).start()

    # -- accounting ----------------------------------------------------------------------

    def kamqor_processes(self) -> dict[str, Watched]:
        return {
            name: Watched(proc.pid)
            for name, proc in self.procs.items()
            if proc.pid is not None and (name in SERVICES or name == "gateway")
        } | self._shared()

    def b0_processes(self) -> dict[str, Watched]:
        return {
            name: Watched(proc.pid)
            for name, proc in self.procs.items()
            if proc.pid is not None and name.startswith("b0")
        } | self._shared()

    def _shared(self) -> dict[str, Watched]:
        assert self.postgres is not None and self.nats is not None
        out: dict[str, Watched] = {}
        if (pg := self.postgres.postmaster_pid()) is not None:
            out["postgres"] = Watched(pg, tree=True)
        nats_pid = self.nats._proc.pid
        if nats_pid is not None:
            out["nats"] = Watched(nats_pid)
        return out

    def shutdown(self) -> None:
        for name in list(self.procs):
            self.stop(name)
        if self.keycloak is not None:
            self.keycloak.destroy()
        if self.nats is not None:
            self.nats.destroy()
        if self.postgres is not None:
            self.postgres.destroy()
