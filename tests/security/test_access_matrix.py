"""The access matrix (issue 10): `access_matrix.csv` says, for every `/v1` route, every persona
(a realm role held alone, in an agency of a given type) and the record's own territory or
another one, which answer the caller gets. It is data written down from DOMAIN.md and the
route docs, not derived from the code under test.

- The table covers every route of the OpenAPI document and every persona, and agrees with the
  roles the document lists for each route: a role with any 2xx cell is listed, a listed role has
  one, so the two cannot drift.
- Every cell is called on the real stack, through the gateway and straight to the owning service
  over gRPC with the same token (403 = PERMISSION_DENIED, 404 = NOT_FOUND, 409 =
  FAILED_PRECONDITION / ABORTED / ALREADY_EXISTS, 422 = INVALID_ARGUMENT, 2xx = OK); every cell
  that differs is listed at once.
- Canaries (`matrix_canaries`): 1,000 unique strings per agency, where a reader sees them;
  every list and read route is called as every persona of every territory, and no answer shows
  one to someone who may not see it (PLN-15, REG-9).

`make test` prints the figures: cells checked per channel, canaries created, canaries leaked.
"""

from __future__ import annotations

import csv
import json
import sys
import time
from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import httpx
import pytest

from devstack.keycloak import default_realm_file
from gateway.app import create_app
from gateway.settings import GatewaySettings
from kamqor.deadlines.v1.deadlines_pb2_grpc import DeadlinesServiceStub
from tests.e2e.harness import Suite
from tests.security.matrix_canaries import PER_AGENCY, Canaries
from tests.security.matrix_routes import CONSUMING, ROUTES, Call
from tests.security.matrix_world import (
    BY_KEY,
    OTHER,
    PERSONAS,
    Records,
    Tokens,
    User,
    create_users,
    stubs,
)
from tests.support.services import bearer, channel_to

pytestmark = pytest.mark.e2e

TABLE = Path(__file__).with_name("access_matrix.csv")
ANSWERS = frozenset({"2xx", "401", "403", "404", "409", "422"})
GRPC_ANSWER = {
    grpc.StatusCode.OK: "2xx",
    grpc.StatusCode.UNAUTHENTICATED: "401",
    grpc.StatusCode.PERMISSION_DENIED: "403",
    grpc.StatusCode.NOT_FOUND: "404",
    grpc.StatusCode.FAILED_PRECONDITION: "409",
    grpc.StatusCode.ABORTED: "409",
    grpc.StatusCode.ALREADY_EXISTS: "409",
    grpc.StatusCode.INVALID_ARGUMENT: "422",
}


@dataclass(frozen=True)
class Row:
    method: str  # lower case, as in the OpenAPI document
    path: str
    record: str
    home: str
    persona: str
    own: str
    other: str

    @property
    def route(self) -> tuple[str, str]:
        return self.method, self.path

    def cells(self) -> Iterator[tuple[str, User, str]]:
        """(side, caller, expected) for the record's own territory and the other one."""
        persona = BY_KEY[self.persona]
        yield "own", User(persona, self.home), self.own
        yield "other", User(persona, OTHER), self.other


def load_table() -> list[Row]:
    with TABLE.open(newline="") as f:
        return [
            Row(
                method=r["method"].lower(),
                path=r["path"],
                record=r["record"],
                home=r["home"],
                persona=r["persona"],
                own=r["own"],
                other=r["other"],
            )
            for r in csv.DictReader(f)
        ]


def documented_roles() -> dict[tuple[str, str], frozenset[str]]:
    document = create_app(GatewaySettings()).openapi()
    return {
        (method, path): frozenset(operation.get("x-required-roles", ()))
        for path, operations in document["paths"].items()
        if path.startswith("/v1/")
        for method, operation in operations.items()
    }


def realm_roles() -> set[str]:
    realm = json.loads(default_realm_file().read_text())
    return {r["name"] for r in realm["roles"]["realm"]}


# --- the table itself -------------------------------------------------------------------------


def test_the_table_covers_every_route_persona_and_role() -> None:
    rows = load_table()
    assert {r.route for r in rows} == set(documented_roles()), "routes of the table vs the API"
    assert set(ROUTES) == set(documented_roles()), "requests of matrix_routes vs the API"
    by_variant: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for r in rows:
        assert {r.own, r.other} <= ANSWERS, r
        by_variant[r.method, r.path, r.record].append(r.persona)
    for variant, personas in by_variant.items():
        assert sorted(personas) == sorted(BY_KEY), variant
    assert realm_roles() <= {p.role for p in PERSONAS}, "a realm role no persona holds"


def test_the_table_and_the_documented_roles_cannot_drift() -> None:
    """A role with any 2xx cell on a route is listed on it in the OpenAPI document; a listed
    role has a 2xx cell there."""
    succeeding: dict[tuple[str, str], set[str]] = defaultdict(set)
    for r in load_table():
        if "2xx" in (r.own, r.other):
            succeeding[r.route].add(BY_KEY[r.persona].role)
    drift = [
        f"{method.upper()} {path}: documented {sorted(listed)}, "
        f"2xx in the table {sorted(succeeding[method, path])}"
        for (method, path), listed in sorted(documented_roles().items())
        if set(listed) != succeeding[method, path]
    ]
    assert drift == [], "\n".join(drift)


# --- on the real stack ------------------------------------------------------------------------


@dataclass
class World:
    suite: Suite
    tokens: Tokens
    stub: dict[str, Any]
    channels: dict[str, grpc.aio.Channel]


@pytest.fixture(scope="module")
async def world(suite: Suite, keycloak) -> AsyncIterator[World]:  # type: ignore[no-untyped-def]
    create_users(keycloak)
    tokens = Tokens(keycloak)
    await tokens.refresh()
    async with AsyncExitStack() as stack:
        channels = {
            name: await stack.enter_async_context(channel_to(app))
            for name, app in suite.apps.items()
        }
        yield World(suite, tokens, stubs(channels), channels)


async def _grpc(world: World, call: Call, token: str) -> list[str]:
    answers = []
    for rpc in call.rpcs:
        if rpc.service.startswith("deadlines:"):
            stub: Any = DeadlinesServiceStub(world.channels[rpc.service.split(":", 1)[1]])
        else:
            stub = world.stub[rpc.service]
        try:
            await getattr(stub, rpc.method)(rpc.request, metadata=bearer(token))
            answers.append("2xx")
        except grpc.aio.AioRpcError as err:
            answers.append(GRPC_ANSWER.get(err.code(), err.code().name))
    return answers


def _http_answer(resp: httpx.Response) -> str:
    return "2xx" if resp.is_success else str(resp.status_code)


@pytest.fixture
def figures(capsys: pytest.CaptureFixture[str]) -> Callable[[str], None]:
    """Writes a line of figures to the terminal, also under `-q` and output capture."""

    def write(line: str) -> None:
        with capsys.disabled():
            sys.stdout.write(f"\n{line}\n")

    return write


async def test_every_cell_of_the_matrix_on_the_real_stack(
    world: World, figures: Callable[[str], None]
) -> None:
    rows = load_table()
    records = Records(world.stub, world.tokens)
    shared: dict[tuple[str, str, str], dict[str, str]] = {}
    differing: list[str] = []
    checked = {"gateway": 0, "grpc": 0}
    started = time.monotonic()
    async with world.suite.client() as http:
        for row in rows:
            await world.tokens.refresh()
            for side, caller, expected in row.cells():
                token = world.tokens(caller)
                fresh = expected == "2xx" and row.route in CONSUMING

                async def ids(row: Row = row, fresh: bool = fresh) -> dict[str, str]:
                    if fresh:
                        return await records.fresh(row.record)
                    key = (row.method, row.path, row.record)
                    if key not in shared:
                        shared[key] = await records.fresh(row.record)
                    return shared[key]

                where = f"{row.method.upper()} {row.path} [{row.record}] {row.persona} {side}"
                call = ROUTES[row.route](await ids(), caller.territory)
                resp = await http.request(
                    call.http.method,
                    call.http.url,
                    json=call.http.json,
                    params=call.http.params,
                    headers={"Authorization": f"Bearer {token}"},
                )
                checked["gateway"] += 1
                if (got := _http_answer(resp)) != expected:
                    differing.append(
                        f"gateway {where}: {got} (table: {expected}) {resp.text[:160]}"
                    )
                call = ROUTES[row.route](await ids(), caller.territory)
                for got in await _grpc(world, call, token):
                    checked["grpc"] += 1
                    if got != expected:
                        differing.append(f"grpc    {where}: {got} (table: {expected})")
    figures(
        f"access matrix: {len(rows) * 2} cells, checked through the gateway "
        f"{checked['gateway']} and over gRPC {checked['grpc']} "
        f"({time.monotonic() - started:.1f} s); differing: {len(differing)}"
    )
    assert differing == [], f"{len(differing)} cells differ from the table:\n" + "\n".join(
        differing
    )


async def test_no_canary_reaches_another_agency_or_territory(
    world: World, figures: Callable[[str], None]
) -> None:
    canaries = Canaries(world.stub, world.tokens)
    started = time.monotonic()
    created = await canaries.create()
    made = time.monotonic() - started
    await world.tokens.refresh()
    async with world.suite.client() as http:
        calls, leaks = await canaries.read_all(http)
    figures(
        f"canaries: {created} created ({PER_AGENCY} per agency) on "
        + ", ".join(f"{n} {kind}" for kind, n in canaries.records.items())
        + f" in {made:.1f} s ("
        + ", ".join(f"{k} {v:.1f} s" for k, v in canaries.timings.items())
        + "); "
        f"{calls} list and read calls as {len(world.tokens.tokens)} users "
        f"({time.monotonic() - started - made:.1f} s); canaries leaked: {len(leaks)}"
    )
    assert leaks == [], f"{len(leaks)} canaries leaked:\n" + "\n".join(leaks[:50])
