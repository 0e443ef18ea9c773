"""Bad input and retries through the gateway on the real stack: each is refused with a problem
naming what is wrong, and nothing is written (the list routes, or the owning service's own
database, show no new record).

Control characters in names and summaries, birth dates more than 120 years back, duplicated
JSON names, an idempotency key reused with another body or while its first request is still in
flight, bodies over 1 MiB (declared or streamed), a second shelter of one name, a body that is
not JSON or not UTF-8."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit

import grpc
import httpx
import pytest
from sqlmodel import col, func, select

from gateway.bodies import MAX_BODY_BYTES
from intake.models import AppealPerson
from kamqor.clock import utcnow
from kamqor.inputs import years_before
from kamqor.intake.v1 import intake_pb2_grpc
from registry.models import Decision
from tests.e2e.harness import Suite, running_suite
from tests.e2e.test_plans_registry import IRK, registration
from tests.e2e.test_scenario import family, new_shelter
from tests.shelter.test_service import details
from tests.support.factories import appeal_request
from tests.support.locks import row_locked, wait_for_a_held_key
from tests.support.services import bearer, channel_to

pytestmark = pytest.mark.e2e

PROBLEMS = "https://kamqor.dev/problems/"


@pytest.fixture(scope="module")
async def suite(postgres, nats_server, keycloak) -> AsyncIterator[Suite]:  # type: ignore[no-untyped-def]
    async with running_suite(postgres=postgres, nats_server=nats_server, keycloak=keycloak) as s:
        yield s


def problem(resp: httpx.Response, status: int, reason: str) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    assert resp.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = resp.json()
    assert (body["type"], body["status"]) == (PROBLEMS + reason, status)
    return body


def fields(resp: httpx.Response, reason: str = "invalid") -> list[str]:
    return [e["field"] for e in problem(resp, 422, reason)["errors"]]


async def occupied(suite: Suite, shelter_id: str) -> int:
    async with suite.client("shelter.ast") as operator:
        listed = (await operator.get("/v1/shelters")).json()["items"]
    return int(next(s["occupied"] for s in listed if s["id"] == shelter_id))


async def journal_persons_named(suite: Suite, marker: str) -> int:
    """Persons in the intake service's own journal whose name contains `marker`."""
    app = suite.apps["intake"].wiring
    assert app is not None
    async with app.uow() as session:
        query = select(func.count()).where(col(AppealPerson.full_name).contains(marker))
        return int((await session.exec(query)).one())


async def test_control_characters_are_refused_naming_the_field(suite: Suite) -> None:
    shelter_id = await new_shelter(suite)
    body = {**family(), "shelter_id": shelter_id}
    body["adult"] = {**body["adult"], "full_name": "Ali\u0000ya"}
    async with suite.client("shelter.ast") as operator:
        resp = await operator.post("/v1/stays", json=body)
    assert fields(resp) == ["adult.full_name"]
    assert await occupied(suite, shelter_id) == 0

    marker = uuid.uuid4().hex[:8]
    appeal = {
        "channel": "hotline_111",
        "summary": "Children alone\u0000 for two days",
        "persons": [{"full_name": f"Dana {marker}", "relation": "mother"}],
    }
    async with suite.client("hotline.ast") as hotline:
        resp = await hotline.post("/v1/appeals", json=appeal)
        assert fields(resp) == ["summary"]
        resp = await hotline.post(
            "/v1/appeals",
            json={
                **appeal,
                "summary": "ok",
                "persons": [{"full_name": "A\nB", "relation": "child"}],
            },
        )
        assert fields(resp) == ["persons[0].full_name"]
        assert await journal_persons_named(suite, marker) == 0
        # Free text keeps its line breaks and tabs.
        summary = "Children alone for two days.\r\nNeighbour:\tcalls daily."
        resp = await hotline.post("/v1/appeals", json={**appeal, "summary": summary})
        assert resp.status_code == 201, resp.text
        assert resp.json()["summary"] == summary
    assert await journal_persons_named(suite, marker) == 1


async def test_control_characters_are_refused_by_a_service_called_past_the_gateway(
    suite: Suite,
) -> None:
    marker = uuid.uuid4().hex[:8]
    request = appeal_request()
    request.persons[0].full_name = f"Ali\x00ya {marker}"
    async with channel_to(suite.apps["intake"]) as channel:
        stub = intake_pb2_grpc.IntakeServiceStub(channel)
        with pytest.raises(grpc.aio.AioRpcError) as err:
            await stub.RegisterAppeal(request, metadata=bearer(suite.token("hotline.ast")))
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert details(err.value) == ("invalid", ["persons[0].full_name"])
    assert await journal_persons_named(suite, marker) == 0


async def test_a_person_born_more_than_120_years_ago_is_refused(suite: Suite) -> None:
    shelter_id = await new_shelter(suite)
    body = {**family(), "shelter_id": shelter_id}
    body["adult"] = {**body["adult"], "birth_date": "1850-03-01"}
    async with suite.client("shelter.ast") as operator:
        resp = await operator.post("/v1/stays", json=body)
    assert fields(resp) == ["adult.birth_date"]
    assert "120 years" in resp.json()["errors"][0]["message"]
    assert await occupied(suite, shelter_id) == 0

    # The registry measures from the decision date; born a day before 120 years back is too old.
    surname = f"Old{uuid.uuid4().hex[:6]}"
    decision = registration(surname)
    decided_on = utcnow().astimezone(IRK.zone).date()
    oldest = years_before(decided_on, 120)
    decision["relatives"][0]["birth_date"] = (oldest - timedelta(days=3)).isoformat()
    async with suite.client("commission.irk") as commission:
        resp = await commission.post("/v1/registry/decisions", json=decision)
    assert fields(resp) == ["relatives[0].birth_date"]
    app = suite.apps["registry"].wiring
    assert app is not None
    async with app.uow() as session:
        found = await session.exec(select(Decision).where(Decision.number == decision["number"]))
        assert found.all() == []


async def test_duplicated_json_names_are_refused(suite: Suite) -> None:
    shelter_id = await new_shelter(suite)
    members = json.dumps({**family(), "shelter_id": shelter_id})[1:-1]
    raw = '{"referral": "police", ' + members + "}"
    async with suite.client("shelter.ast") as operator:
        resp = await operator.post(
            "/v1/stays", content=raw.encode(), headers={"Content-Type": "application/json"}
        )
    assert fields(resp) == ["referral"]
    assert await occupied(suite, shelter_id) == 0


async def test_same_idempotency_key_with_another_body_is_422(suite: Suite) -> None:
    shelter_id = await new_shelter(suite)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {**family(), "shelter_id": shelter_id}
    async with suite.client("shelter.ast") as operator:
        first = await operator.post("/v1/stays", json=body, headers=key)
        assert first.status_code == 201, first.text
        changed = {**body, "adult": {**body["adult"], "full_name": "Someone Else"}}
        resp = await operator.post("/v1/stays", json=changed, headers=key)
        assert fields(resp, "idempotency-key-reused") == ["idempotency_key"]
        # The same body in another key order and spacing is the same request.
        same = json.dumps(dict(reversed(body.items())), indent=2).encode()
        again = await operator.post(
            "/v1/stays", content=same, headers={**key, "Content-Type": "application/json"}
        )
    assert again.status_code == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert await occupied(suite, shelter_id) == 3


async def test_a_twin_still_in_flight_is_409(suite: Suite) -> None:
    shelter_id = await new_shelter(suite)
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {**family(), "shelter_id": shelter_id}
    shelter = suite.apps["shelter"].wiring
    assert shelter is not None
    async with suite.client("shelter.ast") as operator:
        # Another admission holds the shelter's row: the first call waits in flight, with its
        # key.
        async with row_locked(shelter.engine, "shelters", shelter_id) as blocker:
            first = asyncio.create_task(operator.post("/v1/stays", json=body, headers=key))
            await wait_for_a_held_key(blocker)
            twin = await operator.post("/v1/stays", json=body, headers=key)
            problem(twin, 409, "idempotency-key-in-flight")
        done = await first
        assert done.status_code == 201, done.text
        retry = await operator.post("/v1/stays", json=body, headers=key)
    assert retry.status_code == 201 and retry.json()["id"] == done.json()["id"]
    assert await occupied(suite, shelter_id) == 3


async def raw_post(suite: Suite, head: str, parts: list[bytes]) -> tuple[int, dict[str, Any]]:
    """Send a request by hand (its body in `parts`, sent until the server answers) and read
    the answer: what a client streaming a huge body sees."""
    url = urlsplit(suite.base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(head.encode())
        for part in parts:
            if reader.at_eof() or writer.is_closing():
                break
            writer.write(part)
            try:
                await asyncio.wait_for(writer.drain(), timeout=5)
            except (ConnectionError, TimeoutError):
                break
        status_line = await asyncio.wait_for(reader.readline(), timeout=10)
        headers: dict[str, str] = {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await reader.readexactly(int(headers["content-length"]))
        assert headers["content-type"] == "application/problem+json"
        return int(status_line.split()[1]), json.loads(body)
    finally:
        writer.close()


async def test_a_body_over_1_mib_is_413_before_it_is_read(suite: Suite) -> None:
    shelter_id = await new_shelter(suite)
    token = suite.token("shelter.ast")
    common = (
        f"POST /v1/stays HTTP/1.1\r\nHost: gateway\r\nAuthorization: Bearer {token}\r\n"
        "Content-Type: application/json\r\n"
    )
    start = json.dumps({**family(), "shelter_id": shelter_id})[:-1].encode() + b', "x": "'
    # 100 MB declared, only the first 64 KiB ever sent: the answer comes without the rest.
    declared = f"{common}Content-Length: {100 * 1024 * 1024}\r\n\r\n"
    status, body = await raw_post(suite, declared, [start + b"a" * 65536])
    assert (status, body["type"]) == (413, PROBLEMS + "payload-too-large")
    # Chunked, no length: refused once past 1 MiB, while the client is still sending.
    chunked = f"{common}Transfer-Encoding: chunked\r\n\r\n"
    chunk = b"a" * 65536
    parts = [b"%x\r\n%s\r\n" % (len(start), start)] + [
        b"%x\r\n%s\r\n" % (len(chunk), chunk) for _ in range(4 * MAX_BODY_BYTES // len(chunk))
    ]
    status, body = await raw_post(suite, chunked, parts)
    assert (status, body["type"]) == (413, PROBLEMS + "payload-too-large")
    assert await occupied(suite, shelter_id) == 0


async def test_a_second_shelter_of_one_name_is_409(suite: Suite) -> None:
    name = f"Crisis Unit {uuid.uuid4().hex[:6]}"
    async with suite.client("head.ast") as head:
        resp = await head.post("/v1/shelters", json={"name": name, "capacity": 5})
        assert resp.status_code == 201, resp.text
        again = await head.post("/v1/shelters", json={"name": f"  {name.lower()}  ", "capacity": 8})
        problem(again, 409, "shelter-name-taken")
        listed = (await head.get("/v1/shelters")).json()["items"]
    assert [s["capacity"] for s in listed if s["name"].casefold() == name.casefold()] == [5]


@pytest.mark.parametrize(
    ("content", "content_type", "status", "reason"),
    [
        (None, "text/plain", 415, "unsupported-media-type"),
        (None, "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
        (b'{"referral": "caf\xe9"}', "application/json", 422, "invalid"),
    ],
)
async def test_a_body_that_is_not_utf8_json_is_refused_cleanly(
    suite: Suite, content: bytes | None, content_type: str, status: int, reason: str
) -> None:
    shelter_id = await new_shelter(suite)
    raw = content or json.dumps({**family(), "shelter_id": shelter_id}).encode()
    async with suite.client("shelter.ast") as operator:
        resp = await operator.post("/v1/stays", content=raw, headers={"Content-Type": content_type})
    body = problem(resp, status, reason)
    if status == 422:
        assert [e["field"] for e in body["errors"]] == ["body"]
    assert await occupied(suite, shelter_id) == 0
