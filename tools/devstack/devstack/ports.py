"""Free TCP ports on the loopback interface and waiting for a listener."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable

from devstack import DevstackError

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on right now (the OS picks it; a small race remains)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


def port_is_open(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def wait_until(
    ready: Callable[[], bool],
    *,
    what: str,
    timeout: float,
    alive: Callable[[], bool] | None = None,
    interval: float = 0.1,
) -> None:
    """Poll `ready` until it is true; fail fast when `alive` says the process died."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if ready():
            return
        if alive is not None and not alive():
            raise DevstackError(f"{what}: the process exited before it was ready")
        time.sleep(interval)
    raise DevstackError(f"{what}: not ready after {timeout:.0f} s")


def wait_for_port(
    port: int,
    *,
    what: str,
    timeout: float = 30.0,
    alive: Callable[[], bool] | None = None,
    host: str = LOOPBACK,
) -> None:
    """Wait until host:port accepts connections."""
    wait_until(lambda: port_is_open(port, host), what=what, timeout=timeout, alive=alive)
