"""Managed child processes: each logs to a file, stops gracefully, then is killed; a supervisor
restarts the ones that crash, with backoff."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import time
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

_LIVE: weakref.WeakSet[ManagedProcess] = weakref.WeakSet()


class ManagedProcess:
    """One child process in its own session, so stopping it also stops what it spawned."""

    def __init__(
        self,
        name: str,
        argv: Sequence[str],
        *,
        log_path: Path,
        env: Mapping[str, str] | None = None,
        cwd: Path | None = None,
    ) -> None:
        self.name = name
        self.argv = list(argv)
        self.log_path = log_path
        self.env = dict(env) if env is not None else None
        self.cwd = cwd
        self._popen: subprocess.Popen[bytes] | None = None

    @property
    def pid(self) -> int | None:
        return self._popen.pid if self._popen is not None else None

    def start(self) -> None:
        """Start the process (no-op when it is already running)."""
        if self.running:
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as out:
            self._popen = subprocess.Popen(
                self.argv,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                cwd=self.cwd,
                start_new_session=True,
            )
        _LIVE.add(self)
        log.info("%s started (pid %s, log %s)", self.name, self._popen.pid, self.log_path)

    @property
    def running(self) -> bool:
        return self._popen is not None and self._popen.poll() is None

    @property
    def exit_code(self) -> int | None:
        """The exit status once it has exited (`-9` for SIGKILL); None while running."""
        return self._popen.poll() if self._popen is not None else None

    def stop(self, timeout: float = 10.0) -> None:
        """SIGTERM the process group, wait up to `timeout`, then SIGKILL it."""
        popen = self._popen
        if popen is None:
            return
        if popen.poll() is None:
            self._signal(signal.SIGTERM)
            try:
                popen.wait(timeout)
            except subprocess.TimeoutExpired:
                log.warning("%s did not stop in %.0f s: killing it", self.name, timeout)
                self._signal(signal.SIGKILL)
                popen.wait(5)
        self._popen = None
        _LIVE.discard(self)

    def kill(self) -> None:
        """SIGKILL the process group at once (a crash, for tests)."""
        popen = self._popen
        if popen is None:
            return
        if popen.poll() is None:
            self._signal(signal.SIGKILL)
            popen.wait(5)
        self._popen = None
        _LIVE.discard(self)

    def log_tail(self, lines: int = 20) -> str:
        """The last lines of the log, for error messages."""
        try:
            text = self.log_path.read_text(errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])

    def _signal(self, sig: signal.Signals) -> None:
        assert self._popen is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self._popen.pid, sig)


@dataclass
class _Child:
    proc: ManagedProcess
    delay: float
    started_at: float
    restart_at: float | None = None


class Supervisor:
    """Restarts children that exit: after `first_delay`, doubling up to `max_delay`; the delay
    resets once a child has stayed up for `stable_after` seconds. Call `poll()` periodically."""

    def __init__(
        self,
        say: Callable[[str], None],
        *,
        first_delay: float = 0.5,
        max_delay: float = 30.0,
        stable_after: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._say = say
        self._first_delay = first_delay
        self._max_delay = max_delay
        self._stable_after = stable_after
        self._clock = clock
        self._children: list[_Child] = []

    @property
    def children(self) -> list[ManagedProcess]:
        return [child.proc for child in self._children]

    def add(self, proc: ManagedProcess) -> None:
        """Start `proc` and watch it."""
        proc.start()
        self._children.append(_Child(proc, self._first_delay, self._clock()))

    def poll(self) -> None:
        """Schedule a restart for each child that exited; restart those whose time has come."""
        now = self._clock()
        for child in self._children:
            proc = child.proc
            if proc.running:
                if now - child.started_at >= self._stable_after:
                    child.delay = self._first_delay
                continue
            if child.restart_at is None:
                child.restart_at = now + child.delay
                self._say(
                    f"{proc.name} exited (code {proc.exit_code}); restarting in "
                    f"{child.delay:.1f} s (log: {proc.log_path})"
                )
                child.delay = min(child.delay * 2, self._max_delay)
            elif now >= child.restart_at:
                child.restart_at = None
                child.started_at = now
                proc.start()
                self._say(f"{proc.name} restarted (pid {proc.pid})")

    def stop_all(self, timeout: float = 10.0) -> None:
        """Stop every child, the last added first."""
        for child in reversed(self._children):
            child.proc.stop(timeout=timeout)


@atexit.register
def _stop_leftovers() -> None:
    # A crashed test session must not leave servers behind on a shared machine.
    for proc in list(_LIVE):
        proc.stop(timeout=5)
