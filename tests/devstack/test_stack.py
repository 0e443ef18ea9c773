"""The dev stack itself: each server answers, and NATS survives a stop/start on its port."""

from __future__ import annotations

import asyncpg  # type: ignore[import-untyped]
import httpx
import nats
import pytest

from devstack.keycloak import KeycloakServer
from devstack.nats import NatsServer
from devstack.ports import port_is_open
from devstack.postgres import SERVICE_DATABASES, PostgresCluster


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


async def _jetstream_answers(url: str) -> None:
    nc = await nats.connect(url, connect_timeout=5, max_reconnect_attempts=0)
    try:
        info = await nc.jetstream().account_info()
        assert info.limits is not None
    finally:
        await nc.close()


async def test_nats_jetstream_answers(nats_server: NatsServer) -> None:
    await _jetstream_answers(nats_server.url)


async def test_nats_restart_keeps_port_and_store(nats_server: NatsServer) -> None:
    url = nats_server.url
    nc = await nats.connect(url, connect_timeout=5)
    js = nc.jetstream()
    await js.add_stream(name="DEVSTACK_PROBE", subjects=["devstack.probe"])
    await js.publish("devstack.probe", b"kept")
    await nc.close()
    try:
        nats_server.stop()
        assert not port_is_open(nats_server.port)
        nats_server.start()
        assert nats_server.url == url
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
