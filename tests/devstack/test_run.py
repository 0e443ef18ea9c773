"""`make run` as a newcomer runs it: `python -m devstack.run` in a subprocess, on free ports, in
its own run directory, using the session's Keycloak (`KAMQOR_RUN_KEYCLOAK_ISSUER`) instead of
starting a second one. It says what it starts and how long each part took, restarts a service
killed with SIGKILL, never overfills a shelter under concurrent admissions (SHL-6, on the embedded
PostgreSQL), and leaves nothing running after SIGTERM."""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devstack.demo import login_lines
from devstack.keycloak import KeycloakServer, repo_root
from devstack.ports import free_port, port_is_open
from devstack.run import SERVICES

pytestmark = pytest.mark.e2e

START_TIMEOUT = 300.0


def _stat(pid: int) -> tuple[str, int] | None:
    """(state, parent pid) of a process; None when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return None
    return fields[0], int(fields[1])


def _alive(pid: int) -> bool:
    stat = _stat(pid)
    return stat is not None and stat[0] != "Z"  # a zombie has exited


def _children(parent: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(int(entry.name))) and stat[1] == parent:
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> set[int]:
    out: set[int] = set()
    todo = [pid]
    while todo:
        for child in _children(todo.pop()):
            if child not in out:
                out.add(child)
                todo.append(child)
    return out


def _cmdline(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except (FileNotFoundError, ProcessLookupError):
        return []


def _free_block(size: int) -> int:
    """The first of `size` consecutive free ports."""
    for _ in range(50):
        first = free_port()
        if all(not port_is_open(first + i) for i in range(size)) and first + size < 65535:
            return first
    raise AssertionError(f"no {size} consecutive free ports")


class RunningStack:
    """The `make run` process, its output lines as they come, and its ports."""

    def __init__(self, proc: subprocess.Popen[str], run_dir: Path, ports: dict[str, int]) -> None:
        self.proc = proc
        self.run_dir = run_dir
        self.ports = ports
        self.gateway_url = f"http://127.0.0.1:{ports['GATEWAY_PORT']}"
        self.lines: list[str] = []
        self._changed = threading.Condition()
        self._eof = False
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            with self._changed:
                self.lines.append(line.rstrip("\n"))
                self._changed.notify_all()
        with self._changed:
            self._eof = True
            self._changed.notify_all()

    def output(self) -> str:
        return "\n".join(self.lines)

    def wait_for_line(self, pattern: str, *, after: int = 0, timeout: float = 30.0) -> int:
        """Index of the first line from `after` on that matches `pattern` (re.search)."""
        deadline = time.monotonic() + timeout
        regex = re.compile(pattern)
        with self._changed:
            while True:
                for index in range(after, len(self.lines)):
                    if regex.search(self.lines[index]):
                        return index
                left = deadline - time.monotonic()
                if left <= 0 or self._eof:
                    raise AssertionError(
                        f"no line matching {pattern!r} (exit {self.proc.poll()}):\n" + self.output()
                    )
                self._changed.wait(min(left, 1.0))

    def child(self, name: str) -> int:
        """The pid of `python -m <name>` started by the run."""
        for pid in _children(self.proc.pid):
            argv = _cmdline(pid)
            module = argv[argv.index("-m") + 1] if "-m" in argv[:-1] else None
            if module == name and _alive(pid):
                return pid
        raise AssertionError(f"no running {name} under {self.proc.pid}")

    def postmaster(self) -> int:
        return int((self.run_dir / "pg" / "postmaster.pid").read_text().split()[0])

    def ready(self) -> bool:
        try:
            return httpx.get(f"{self.gateway_url}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False


@pytest.fixture(scope="module")
def stack(keycloak: KeycloakServer) -> Iterator[RunningStack]:
    # Not pytest's tmp_path (mode 0700): as root, PostgreSQL runs as `postgres`, which must
    # reach the cluster directory.
    run_dir = Path(tempfile.mkdtemp(prefix="kamqor-run-test-"))
    run_dir.chmod(0o755)
    grpc_base = _free_block(len(SERVICES))
    ports = {
        "GATEWAY_PORT": free_port(),
        "CONSOLE_PORT": free_port(),
        "NATS_PORT": free_port(),
        "PG_PORT": free_port(),
        **{f"GRPC_{i}": grpc_base + i for i in range(len(SERVICES))},
    }
    env = {
        **os.environ,
        "KAMQOR_RUN_DIR": str(run_dir),
        "KAMQOR_RUN_GATEWAY_PORT": str(ports["GATEWAY_PORT"]),
        "KAMQOR_RUN_CONSOLE_PORT": str(ports["CONSOLE_PORT"]),
        "KAMQOR_RUN_NATS_PORT": str(ports["NATS_PORT"]),
        "KAMQOR_RUN_PG_PORT": str(ports["PG_PORT"]),
        "KAMQOR_RUN_GRPC_BASE": str(grpc_base),
        "KAMQOR_RUN_KEYCLOAK_ISSUER": keycloak.issuer,
        "PYTHONUNBUFFERED": "1",
    }
    proc = subprocess.Popen(
        [sys.executable, "-m", "devstack.run"],
        env=env,
        cwd=repo_root(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # Ctrl-C of the test run reaches it through the teardown only
    )
    running = RunningStack(proc, run_dir, ports)
    try:
        running.wait_for_line(r"^Kamqor is running", timeout=START_TIMEOUT)
        yield running
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(90)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(10)
        shutil.rmtree(run_dir, ignore_errors=True)


def test_it_says_what_it_starts_how_long_it_took_and_the_logins(stack: RunningStack) -> None:
    out = stack.output()
    for part in ("PostgreSQL", "NATS", "services"):
        assert re.search(rf"^{part} ready in \d+(\.\d)? s", out, re.M), out
    assert "Keycloak: using the running http" in out  # the session's, not a second one
    stack.wait_for_line(r"^A crashed service is restarted")  # the banner's last line was read
    for line in login_lines():
        assert line in stack.lines
    assert stack.ready()


def test_a_service_killed_with_sigkill_is_restarted_and_the_suite_is_ready_again(
    stack: RunningStack,
) -> None:
    mark = len(stack.lines)
    killed = stack.child("notify")
    os.kill(killed, signal.SIGKILL)
    stack.wait_for_line(
        r"^notify exited \(code -9\); restarting in \d+\.\d s", after=mark, timeout=15
    )
    stack.wait_for_line(r"^notify restarted \(pid \d+\)", after=mark, timeout=60)
    deadline = time.monotonic() + 30
    while not stack.ready():
        assert time.monotonic() < deadline, "the gateway is not ready 30 s after the restart"
        time.sleep(0.5)
    assert stack.child("notify") != killed
    assert stack.proc.poll() is None  # one crash never stops the suite


async def test_shl6_twenty_concurrent_admissions_fill_five_free_beds_and_refuse_the_rest(
    stack: RunningStack, keycloak: KeycloakServer
) -> None:
    head = {"Authorization": f"Bearer {keycloak.token('head.ast')}"}
    operator = {"Authorization": f"Bearer {keycloak.token('shelter.ast')}"}
    async with httpx.AsyncClient(base_url=stack.gateway_url, timeout=60) as client:
        created = await client.post(
            "/v1/shelters",
            json={"name": f"Five beds {uuid.uuid4().hex[:8]}", "capacity": 5},
            headers=head,
        )
        assert created.status_code == 201, created.text
        shelter_id = created.json()["id"]

        async def admit(i: int) -> httpx.Response:
            return await client.post(
                "/v1/stays",
                json={
                    "shelter_id": shelter_id,
                    "adult": {"full_name": f"Resident {i}", "birth_date": "1990-05-14"},
                    "referral": "self_application",
                },
                headers={**operator, "Idempotency-Key": uuid.uuid4().hex},
            )

        answers = await asyncio.gather(*(admit(i) for i in range(20)))
        listed = await client.get("/v1/shelters", headers=operator)
    by_status: dict[int, list[httpx.Response]] = {}
    for answer in answers:
        by_status.setdefault(answer.status_code, []).append(answer)
    assert sorted(by_status) == [201, 409], [a.text for a in answers]
    assert len(by_status[201]) == 5 and len(by_status[409]) == 15
    for refused in by_status[409]:
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["type"].endswith("/shelter-full"), refused.text
    shelter = next(s for s in listed.json()["items"] if s["id"] == shelter_id)
    assert (shelter["capacity"], shelter["occupied"]) == (5, 5)


def test_sigterm_stops_everything_the_run_started(stack: RunningStack) -> None:
    # Last in the module: the stack is gone afterwards.
    postmaster = stack.postmaster()
    started = _descendants(stack.proc.pid) | {postmaster} | _descendants(postmaster)
    names = {" ".join(_cmdline(pid)[:3]) for pid in started}
    assert any("nats-server" in n for n in names) and len(started) >= len(SERVICES) + 3, names
    mark = len(stack.lines)
    stack.proc.send_signal(signal.SIGTERM)
    assert stack.proc.wait(90) == 0, stack.output()
    stack.wait_for_line(r"^stopped$", after=mark, timeout=5)
    deadline = time.monotonic() + 15
    while left := [pid for pid in started if _alive(pid)]:
        assert time.monotonic() < deadline, {pid: _cmdline(pid) for pid in left}
        time.sleep(0.2)
    assert not (stack.run_dir / "pg" / "postmaster.pid").exists()
    assert [p for p in stack.ports.values() if port_is_open(p)] == []
    assert (stack.run_dir / "pg" / "PG_VERSION").exists()  # the data stays for the next run
