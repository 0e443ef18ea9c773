"""`make run`'s supervisor: a child that exits is restarted after a delay that doubles up to a
cap, and the delay starts over once the child has stayed up long enough. Real child processes,
a hand-moved clock."""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from devstack.proc import ManagedProcess, Supervisor


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _wait_exit(proc: ManagedProcess) -> None:
    deadline = time.monotonic() + 20
    while proc.running:
        assert time.monotonic() < deadline, f"{proc.name} did not exit"
        time.sleep(0.02)


def _crash(proc: ManagedProcess) -> None:
    assert proc.pid is not None
    os.kill(proc.pid, signal.SIGKILL)
    _wait_exit(proc)


def test_a_crashing_child_is_restarted_with_doubling_delays_up_to_the_cap(
    tmp_path: Path,
) -> None:
    said: list[str] = []
    clock = Clock()
    supervisor = Supervisor(said.append, first_delay=0.5, max_delay=4.0, clock=clock)
    crasher = ManagedProcess(
        "crasher", [sys.executable, "-c", "raise SystemExit(3)"], log_path=tmp_path / "c.log"
    )
    supervisor.add(crasher)
    delays = []
    for _ in range(6):
        _wait_exit(crasher)
        supervisor.poll()
        assert said[-1].startswith("crasher exited (code 3); restarting in ")
        delays.append(float(said[-1].split("restarting in ")[1].split(" s")[0]))
        clock.now += delays[-1] - 0.01
        supervisor.poll()  # not yet
        assert not crasher.running and said[-1].startswith("crasher exited")
        clock.now += 0.02
        supervisor.poll()
        assert said[-1].startswith("crasher restarted (pid ")
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    supervisor.stop_all()


def test_the_delay_starts_over_once_the_child_stayed_up(tmp_path: Path) -> None:
    said: list[str] = []
    clock = Clock()
    supervisor = Supervisor(said.append, first_delay=0.5, stable_after=60.0, clock=clock)
    sleeper = ManagedProcess(
        "sleeper", [sys.executable, "-c", "import time; time.sleep(600)"], log_path=tmp_path / "s"
    )
    supervisor.add(sleeper)
    try:
        for expected in ("0.5", "1.0", "2.0"):  # three quick crashes
            _crash(sleeper)
            supervisor.poll()
            assert said[-1] == (
                f"sleeper exited (code -9); restarting in {expected} s (log: {tmp_path / 's'})"
            )
            clock.now += 10
            supervisor.poll()
            assert sleeper.running
        clock.now += 60  # then up for a minute
        supervisor.poll()
        _crash(sleeper)
        supervisor.poll()
        assert "restarting in 0.5 s" in said[-1]
    finally:
        supervisor.stop_all()
    assert not sleeper.running
