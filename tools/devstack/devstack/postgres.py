"""A throwaway PostgreSQL cluster: temp directory, free port, trust auth on loopback only.

`initdb` refuses to run as root, so under root every server command runs as the `postgres`
user (`runuser -u postgres -- ...`) on a temp directory that user owns.
"""

from __future__ import annotations

import atexit
import glob
import logging
import os
import pwd
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Sequence
from pathlib import Path

from devstack import DevstackError
from devstack.ports import LOOPBACK, free_port

log = logging.getLogger(__name__)

SUPERUSER = "postgres"
# One database per service (each owns its data).
SERVICE_DATABASES = ("intake", "plans", "registry", "shelter", "notify")
_SERVER_SETTINGS = {
    "listen_addresses": f"'{LOOPBACK}'",
    # Tests only: durability is traded for speed.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "200",
}


def find_bindir() -> Path:
    """`$KAMQOR_PG_BINDIR`, else `pg_config --bindir`, else the newest /usr/lib/postgresql/*/bin."""
    candidates: list[str] = []
    if env := os.environ.get("KAMQOR_PG_BINDIR"):
        candidates.append(env)
    if pg_config := shutil.which("pg_config"):
        result = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True)
        if result.returncode == 0:
            candidates.append(result.stdout.strip())
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    if initdb := shutil.which("initdb"):
        candidates.append(str(Path(initdb).parent))
    for cand in candidates:
        if (Path(cand) / "initdb").exists() and (Path(cand) / "pg_ctl").exists():
            return Path(cand)
    raise DevstackError(
        "PostgreSQL server binaries (initdb, pg_ctl) not found: install PostgreSQL "
        "or set KAMQOR_PG_BINDIR"
    )


class PostgresCluster:
    """A started cluster; `url(dbname)` gives an SQLAlchemy asyncpg URL."""

    def __init__(self, *, root: Path, port: int, bindir: Path, run_as: str | None) -> None:
        self.root = root
        self.port = port
        self.bindir = bindir
        self.run_as = run_as
        self.data_dir = root / "data"
        self.socket_dir = root / "sock"
        self.log_path = root / "postgres.log"
        self._running = False

    def url(self, dbname: str, driver: str = "postgresql+asyncpg") -> str:
        """`postgresql+asyncpg://postgres@127.0.0.1:PORT/DBNAME` (trust auth on loopback)."""
        return f"{driver}://{SUPERUSER}@{LOOPBACK}:{self.port}/{dbname}"

    def dsn(self, dbname: str) -> str:
        """A libpq-style DSN for plain asyncpg / psql."""
        return self.url(dbname, driver="postgresql")

    @property
    def running(self) -> bool:
        return self._running

    def _run(self, argv: Sequence[str], what: str) -> None:
        cmd = list(argv)
        if self.run_as is not None:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, cwd=self.root)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise DevstackError(f"postgres {what} failed: {' | '.join(tail)}")

    def init(self) -> None:
        """initdb with trust auth and the test settings."""
        self._run(
            [
                str(self.bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=trust",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
            ],
            "initdb",
        )
        settings = {
            **_SERVER_SETTINGS,
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
        }
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            conf.write("\n# kamqor devstack (tests only)\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        self._run(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.data_dir),
                "-l",
                str(self.log_path),
                "-w",
                "-t",
                "60",
                "start",
            ],
            "start",
        )
        self._running = True
        log.info("postgres listening on %s:%s (%s)", LOOPBACK, self.port, self.root)

    def create_database(self, name: str) -> None:
        """CREATE DATABASE name."""
        self._run(
            [
                str(self.bindir / "createdb"),
                *("-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER),
                name,
            ],
            f"createdb {name}",
        )

    def stop(self) -> None:
        """`pg_ctl stop -m fast`."""
        if not self._running:
            return
        self._run(
            [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "stop"], "stop"
        )
        self._running = False

    def destroy(self) -> None:
        """Stop the server and delete its directory."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SUPERUSER)
    except KeyError:
        raise DevstackError(
            "running as root, but there is no 'postgres' user to run initdb as"
        ) from None
    return SUPERUSER


def start_postgres(databases: Iterable[str] = (), *, port: int | None = None) -> PostgresCluster:
    """initdb a cluster in a temp dir, start it on a free port and create `databases`."""
    bindir = find_bindir()
    run_as = _server_user()
    root = Path(tempfile.mkdtemp(prefix="kamqor-pg-"))
    if run_as is not None:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
    (root / "sock").mkdir()
    if run_as is not None:
        os.chown(root / "sock", entry.pw_uid, entry.pw_gid)
    cluster = PostgresCluster(root=root, port=port or free_port(), bindir=bindir, run_as=run_as)
    try:
        cluster.init()
        cluster.start()
        atexit.register(cluster.destroy)
        for name in databases:
            cluster.create_database(name)
    except BaseException:
        cluster.destroy()
        raise
    return cluster
