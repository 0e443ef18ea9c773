"""What a process costs, read from `/proc`: CPU seconds (user + system) and resident memory.

A process tree (PostgreSQL's postmaster and its backends) is summed over its live descendants;
the backends of pooled connections live through a measurement, so before/after differences hold.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

TICKS = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def _stat(pid: int) -> list[str] | None:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as f:
            raw = f.read()
    except OSError:
        return None
    # The command name (field 2) is in parentheses and may hold spaces.
    return raw[raw.rindex(")") + 2 :].split()


def cpu_seconds(pid: int) -> float:
    """User plus system CPU of one process (all its threads), in seconds."""
    fields = _stat(pid)
    if fields is None:
        return 0.0
    # After the name: state(0) ppid(1) ... utime(11) stime(12).
    return (int(fields[11]) + int(fields[12])) / TICKS


def _children() -> dict[int, list[int]]:
    tree: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit() and (fields := _stat(int(entry))) is not None:
            tree.setdefault(int(fields[1]), []).append(int(entry))
    return tree


def tree_pids(pid: int) -> list[int]:
    tree, out, todo = _children(), [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        todo.extend(tree.get(current, []))
    return out


def reaped_cpu_seconds(pid: int) -> float:
    """CPU of the process's children that exited and were waited for (cutime + cstime)."""
    fields = _stat(pid)
    return 0.0 if fields is None else (int(fields[13]) + int(fields[14])) / TICKS


def tree_cpu_seconds(pid: int) -> float:
    """The live tree's CPU plus what its exited children used (a backend whose connection
    closed during the run)."""
    return sum(cpu_seconds(p) for p in tree_pids(pid)) + reaped_cpu_seconds(pid)


def rss_mb(pid: int) -> float:
    """Resident memory of one process in MB (`/proc/<pid>/statm`)."""
    try:
        with open(f"/proc/{pid}/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * PAGE / 1e6
    except OSError:
        return 0.0


@dataclass(frozen=True)
class Watched:
    """A process to account for; `tree` sums its descendants too (PostgreSQL)."""

    pid: int
    tree: bool = False

    def cpu(self) -> float:
        return tree_cpu_seconds(self.pid) if self.tree else cpu_seconds(self.pid)


def cpu_snapshot(procs: Mapping[str, Watched]) -> dict[str, float]:
    return {name: p.cpu() for name, p in procs.items()}


def cpu_delta(before: Mapping[str, float], after: Mapping[str, float]) -> dict[str, float]:
    return {name: after[name] - before.get(name, 0.0) for name in after}
