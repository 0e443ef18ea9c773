"""NATS: each service is its own user with only its own subjects, and every write is synced
(issue 10, "NATS without authentication").

Against the session's real NATS server, started from the configuration devstack generates for
the tests and `make run` (the same users and permissions as production's
`deploy/nats/kamqor-auth.conf`): a service publishes on its own subjects, is refused on another
service's, cannot read another service's replies, cannot touch another service's stream; the
gateway may do nothing; a connection without credentials is refused.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import httpx
import nats
import pytest
import yaml
from nats.aio.client import Client
from nats.errors import Error as NatsError

from devstack.keycloak import repo_root
from devstack.nats import (
    CONSUMES,
    GATEWAY_USER,
    SERVICE_USERS,
    NatsServer,
    inbox_prefix,
    production_authorization,
)
from intake import consumers as intake_consumers
from kamqor.streams import ensure_stream, stream_config
from notify import consumers as notify_consumers
from plans import consumers as plans_consumers
from registry import consumers as registry_consumers
from shelter import consumers as shelter_consumers

SUBSCRIPTIONS = {
    "intake": intake_consumers.subscriptions,
    "plans": plans_consumers.subscriptions,
    "registry": registry_consumers.subscriptions,
    "shelter": shelter_consumers.subscriptions,
    "notify": notify_consumers.subscriptions,
}
PRODUCTION_AUTH = repo_root() / "deploy" / "nats" / "kamqor-auth.conf"
K8S_BASE = repo_root() / "deploy" / "k8s" / "base"


def test_the_permissions_cover_exactly_what_each_service_consumes() -> None:
    for service, subscriptions in SUBSCRIPTIONS.items():
        declared = {(s.producer, s.durable, s.subject) for s in subscriptions(None)}  # type: ignore[arg-type]
        assert declared == set(CONSUMES.get(service, ())), service


def test_production_gets_the_same_users_and_permissions() -> None:
    assert PRODUCTION_AUTH.read_text() == production_authorization(), (
        "regenerate: python -m devstack.nats > deploy/nats/kamqor-auth.conf"
    )
    assert "password: $KAMQOR_NATS_NOTIFY_PASSWORD" in PRODUCTION_AUTH.read_text()


def test_every_deployable_connects_as_its_own_user_in_kubernetes() -> None:
    for name in (*SERVICE_USERS, GATEWAY_USER):
        [deployment] = [
            d
            for d in yaml.safe_load_all((K8S_BASE / f"{name}.yaml").read_text())
            if d and d["kind"] == "Deployment"
        ]
        [container] = deployment["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["KAMQOR_NATS_USER"]["value"] == name
        secret = env["KAMQOR_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]
        assert secret == {"name": f"kamqor-{name}-nats", "key": "password"}
    guide = (repo_root() / "deploy" / "k8s" / "README.md").read_text()
    assert "deploy/nats/kamqor-auth.conf" in guide and "sync_interval: always" in guide


@asynccontextmanager
async def connected(
    server: NatsServer, user: str | None, errors: list[Exception] | None = None
) -> AsyncIterator[Client]:
    async def on_error(exc: Exception) -> None:
        if errors is not None:
            errors.append(exc)

    options: dict[str, object] = {"connect_timeout": 5, "allow_reconnect": False}
    if user is not None:
        credentials = server.credentials(user)
        options.update(
            user=credentials.user,
            password=credentials.password,
            inbox_prefix=inbox_prefix(user),
        )
    nc = await asyncio.wait_for(nats.connect(server.url, error_cb=on_error, **options), 20)
    try:
        yield nc
    finally:
        await nc.close()


async def _violation(errors: list[Exception], action: Callable[[], object]) -> str:
    """Run `action` and return the permission violation the server reported for it."""
    before = len(errors)
    result = action()
    if asyncio.iscoroutine(result):
        await result
    for _ in range(50):
        found = [str(e).lower() for e in errors[before:]]
        found = [e for e in found if "permissions violation" in e]
        if found:
            return found[0]
        await asyncio.sleep(0.05)
    raise AssertionError(f"no permissions violation reported: {errors[before:]}")


async def test_a_service_publishes_only_on_its_own_subjects(nats_server: NatsServer) -> None:
    errors: list[Exception] = []
    async with connected(nats_server, "intake", errors) as intake:
        js = intake.jetstream(timeout=5)
        await ensure_stream(js, "intake", replicas=1)
        ack = await js.publish(
            "kamqor.intake.probe.published", b"own", headers={"Nats-Msg-Id": uuid.uuid4().hex}
        )
        assert ack.stream == "INTAKE"

        # Another service's subject: refused by the server, so never stored or delivered.
        subject = "kamqor.shelter.stay.admitted"  # (nats-py reports errors in lower case)
        violation = await _violation(errors, lambda: intake.publish(subject, b"forged"))
        assert subject in violation and "publish" in violation
        with pytest.raises((asyncio.TimeoutError, NatsError)):
            await js.publish(subject, b"forged", timeout=1)

        # Another service's stream and replies: refused too.
        violation = await _violation(
            errors, lambda: intake.publish("$JS.API.STREAM.DELETE.SHELTER", b"")
        )
        assert "$js.api.stream.delete.shelter" in violation
        violation = await _violation(
            errors, lambda: intake.publish("$JS.API.STREAM.MSG.GET.SHELTER", b"{}")
        )
        assert "$js.api.stream.msg.get.shelter" in violation
        violation = await _violation(errors, lambda: intake.subscribe("_INBOX_notify.>"))
        assert "_inbox_notify" in violation and "subscription" in violation


async def test_notify_cannot_change_the_streams_it_reads(nats_server: NatsServer) -> None:
    errors: list[Exception] = []
    async with connected(nats_server, "notify", errors) as notify:
        config = stream_config("shelter", replicas=1)
        config.max_age = 1.0  # what a compromised consumer would like to do to the evidence
        violation = await _violation(
            errors, lambda: notify.publish("$JS.API.STREAM.UPDATE.SHELTER", b"{}")
        )
        assert "$js.api.stream.update.shelter" in violation
        violation = await _violation(
            errors, lambda: notify.publish("kamqor.intake.appeal.registered", b"forged")
        )
        assert "kamqor.intake.appeal.registered" in violation


async def test_the_gateway_may_only_connect(nats_server: NatsServer) -> None:
    errors: list[Exception] = []
    async with connected(nats_server, GATEWAY_USER, errors) as gateway:
        assert gateway.is_connected
        violation = await _violation(errors, lambda: gateway.publish("kamqor.intake.x", b""))
        assert "kamqor.intake.x" in violation


async def test_a_connection_without_credentials_is_refused(nats_server: NatsServer) -> None:
    with pytest.raises(Exception, match=r"(?i)authorization"):
        async with connected(nats_server, None):
            pass


async def test_every_write_is_synced_to_disk(nats_server: NatsServer) -> None:
    """`sync_interval: always` in the server's jetstream block, as the running server reports
    it (`/varz`); the notices stream (NOTIFY) is stored there like every other."""
    async with httpx.AsyncClient(timeout=5) as http:
        varz = (await http.get(f"{nats_server.monitor_url}/varz")).json()
    assert varz["jetstream"]["config"]["sync_always"] is True
    assert "sync_interval: always" in await asyncio.to_thread(nats_server.config_path.read_text)
