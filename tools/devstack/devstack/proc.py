"""A small managed child process: logs to a file, stops gracefully, then is killed."""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import signal
import subprocess
import weakref
from collections.abc import Mapping, Sequence
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


@atexit.register
def _stop_leftovers() -> None:
    # A crashed test session must not leave servers behind on a shared machine.
    for proc in list(_LIVE):
        proc.stop(timeout=5)
