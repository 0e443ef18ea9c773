"""Keycloak in dev mode with the `kamqor` realm imported, fresh for every run.

The distribution (`org.keycloak:keycloak-quarkus-dist`, pinned below; 26.0 still starts on Java 17)
is fetched once with Maven into `$KAMQOR_CACHE` (default `~/.cache/kamqor`) and unpacked there.
Each run copies it (without `data/`, ~160 MB, well under a second) into a temp dir, puts the realm
file into the copy's `data/import/` and starts `kc.sh start-dev --import-realm --db dev-mem`:
an in-memory database, so every run starts from exactly the realm file and parallel runs never
share a database, a build (`lib/quarkus`) or transaction logs. The copy is deleted on stop.
"""

from __future__ import annotations

import atexit
import logging
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import httpx

from devstack import DevstackError
from devstack.ports import LOOPBACK, free_port, wait_until
from devstack.proc import ManagedProcess
from devstack.tokens import DEV_TOOLS_CLIENT, password_token

log = logging.getLogger(__name__)

KEYCLOAK_VERSION = "26.0.8"
REALM = "kamqor"
# Development only: the bootstrap admin of a throwaway server bound to 127.0.0.1.
DEV_ADMIN_USER = "admin"
DEV_ADMIN_PASSWORD = "admin"


def repo_root() -> Path:
    """The workspace root (the folder that holds `deploy/`)."""
    for parent in Path(__file__).resolve().parents:
        if (parent / "deploy" / "keycloak").is_dir():
            return parent
    raise DevstackError("cannot find deploy/keycloak above the devstack package")


def default_realm_file() -> Path:
    return repo_root() / "deploy" / "keycloak" / "kamqor-realm.json"


def cache_dir() -> Path:
    return Path(os.environ.get("KAMQOR_CACHE") or Path.home() / ".cache" / "kamqor")


def ensure_distribution(version: str = KEYCLOAK_VERSION, cache: Path | None = None) -> Path:
    """The unpacked distribution, fetched with `mvn dependency:copy` the first time."""
    cache = cache or cache_dir()
    home = cache / f"keycloak-{version}"
    if (home / "bin" / "kc.sh").exists():
        return home
    if shutil.which("java") is None:
        raise DevstackError("Keycloak needs Java (17+): `java` is not on PATH")
    archive = cache / f"keycloak-quarkus-dist-{version}.zip"
    if not archive.exists():
        if shutil.which("mvn") is None:
            raise DevstackError(
                f"Keycloak {version} is not cached in {cache} and `mvn` is not on PATH to fetch it"
            )
        cache.mkdir(parents=True, exist_ok=True)
        log.info("fetching Keycloak %s with Maven into %s", version, cache)
        result = subprocess.run(
            [
                "mvn",
                "-q",
                "dependency:copy",
                f"-Dartifact=org.keycloak:keycloak-quarkus-dist:{version}:zip",
                f"-DoutputDirectory={cache}",
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0 or not archive.exists():
            last = (result.stdout + result.stderr).strip().splitlines()[-1:] or ["no output"]
            raise DevstackError(f"mvn could not fetch Keycloak {version}: {last[0]}")
    staging = Path(tempfile.mkdtemp(prefix=f"keycloak-{version}-", dir=cache))
    try:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(staging)
        unpacked = staging / f"keycloak-{version}"
        for script in (unpacked / "bin").glob("*.sh"):
            script.chmod(0o755)
        unpacked.rename(home)  # atomic: a concurrent run sees all or nothing
    except OSError as exc:
        if not (home / "bin" / "kc.sh").exists():
            raise DevstackError(f"cannot unpack {archive}: {exc}") from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return home


class KeycloakServer:
    """A running dev-mode Keycloak with the `kamqor` realm."""

    def __init__(self, *, dist: Path, realm_file: Path, port: int | None = None) -> None:
        if shutil.which("java") is None:
            raise DevstackError("Keycloak needs Java (17+): `java` is not on PATH")
        self.port = port or free_port()
        self.management_port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="kamqor-keycloak-"))
        self.home = self.root / "keycloak"
        shutil.copytree(
            dist,
            self.home,
            symlinks=True,
            # The cached copy's data/ (e.g. an H2 database of an earlier run) is never copied.
            ignore=lambda directory, names: (
                {"data"} & set(names) if Path(directory) == dist else set()
            ),
        )
        import_dir = self.home / "data" / "import"
        import_dir.mkdir(parents=True)
        shutil.copy2(realm_file, import_dir / realm_file.name)
        # The realm's login theme (Kazakh messages) sits beside the realm file.
        for theme in sorted((realm_file.parent / "themes").glob("*/")):
            shutil.copytree(theme, self.home / "themes" / theme.name, dirs_exist_ok=True)
        env = {
            **os.environ,
            "KC_BOOTSTRAP_ADMIN_USERNAME": DEV_ADMIN_USER,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": DEV_ADMIN_PASSWORD,
        }
        self._proc = ManagedProcess(
            "keycloak",
            [
                str(self.home / "bin" / "kc.sh"),
                "start-dev",
                "--import-realm",
                "--db=dev-mem",
                f"--http-host={LOOPBACK}",
                f"--http-port={self.port}",
                f"--http-management-port={self.management_port}",
                # A fixed issuer, whatever host name a caller uses to reach the server.
                f"--hostname={self.base_url}",
            ],
            log_path=self.root / "keycloak.log",
            env=env,
            cwd=self.root,
        )

    @property
    def base_url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def realm(self) -> str:
        return REALM

    @property
    def issuer(self) -> str:
        return f"{self.base_url}/realms/{REALM}"

    @property
    def jwks_url(self) -> str:
        return f"{self.issuer}/protocol/openid-connect/certs"

    @property
    def admin_username(self) -> str:
        return DEV_ADMIN_USER

    @property
    def admin_password(self) -> str:
        return DEV_ADMIN_PASSWORD

    @property
    def running(self) -> bool:
        return self._proc.running

    @property
    def log_path(self) -> Path:
        """The server's log file (what it printed), kept until `destroy()`."""
        return self._proc.log_path

    def start(self, timeout: float = 600.0) -> None:
        """Start and wait until the realm's discovery document answers. A cold start takes
        about 30 s on a quiet machine and several minutes on two busy cores, hence the limit."""
        self.launch()
        self.wait_ready(timeout)

    def launch(self) -> None:
        """Start the server process without waiting for it (`wait_ready` waits)."""
        self._proc.start()

    def wait_ready(self, timeout: float = 600.0) -> None:
        """Wait until the realm's discovery document answers; stop the server when it fails."""
        discovery = f"{self.issuer}/.well-known/openid-configuration"

        def ready() -> bool:
            try:
                return httpx.get(discovery, timeout=2).status_code == 200
            except httpx.HTTPError:
                return False

        try:
            wait_until(
                ready,
                what="keycloak",
                timeout=timeout,
                alive=lambda: self._proc.running,
                interval=0.5,
            )
        except DevstackError as exc:
            tail = self._proc.log_tail(5).replace("\n", " | ")
            self.stop()
            raise DevstackError(f"{exc} (log: {self.root / 'keycloak.log'}): {tail}") from None
        log.info("keycloak ready at %s", self.base_url)

    def token(
        self, username: str, password: str = "demo", client_id: str = DEV_TOOLS_CLIENT
    ) -> str:
        """An access token for a demo user (password grant)."""
        return password_token(self.base_url, username, password, client_id=client_id)

    def stop(self) -> None:
        """Stop the server; the per-run copy stays until `destroy()`."""
        self._proc.stop(timeout=20)

    def destroy(self) -> None:
        """Stop and delete the per-run copy."""
        self.stop()
        shutil.rmtree(self.root, ignore_errors=True)


def start_keycloak(*, realm_file: Path | None = None, port: int | None = None) -> KeycloakServer:
    """Ensure the distribution and start a fresh server with the realm imported."""
    server = KeycloakServer(
        dist=ensure_distribution(), realm_file=realm_file or default_realm_file(), port=port
    )
    atexit.register(server.destroy)
    server.start()
    return server
