"""Session-wide dev stack for the test suites: real PostgreSQL, NATS JetStream and Keycloak.

Each fixture starts its server the first time a test asks for it (tests that need none pay
nothing) and stops it at the end of the session. A part that cannot start (no Java, no
PostgreSQL binaries, ...) fails the tests that need it with one line, not a traceback.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import TypeVar

import pytest

from devstack import DevstackError
from devstack.keycloak import KeycloakServer, start_keycloak
from devstack.nats import NatsServer, start_nats
from devstack.postgres import SERVICE_DATABASES, PostgresCluster, start_postgres
from kamqor.clock import clock_at

T = TypeVar("T")


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def pytest_configure(config: pytest.Config) -> None:
    # A run stopped with SIGTERM (a CI time limit, `timeout`) tears its servers down like Ctrl-C
    # does, instead of leaving PostgreSQL and Keycloak behind on a shared machine.
    signal.signal(signal.SIGTERM, _interrupt)


# The instant the suite's domain clock starts at: an ordinary working Tuesday morning in Astana,
# far from holidays and month ends, so a test that does not pin its own instant cannot depend on
# the day it runs. `KAMQOR_TEST_CLOCK` moves it (New Year's Eve, a transferred day off) to show
# the suite does not depend on it either; tests about particular days pin their own instants.
DEFAULT_TEST_CLOCK = "2026-11-17T10:00:00+05:00"


@pytest.fixture(scope="session", autouse=True)
def domain_clock() -> Iterator[datetime]:
    start = datetime.fromisoformat(os.environ.get("KAMQOR_TEST_CLOCK") or DEFAULT_TEST_CLOCK)
    with clock_at(start):
        yield start


def _start(part: str, start: Callable[[], T]) -> T:
    """Start a part, or fail the requesting tests with one line (no traceback)."""
    try:
        return start()
    except DevstackError as exc:
        reason = f"{part}: {exc}"
    pytest.fail(reason, pytrace=False)


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresCluster]:
    """A PostgreSQL cluster with one database per service; `postgres.url("intake")`."""
    cluster = _start("PostgreSQL", lambda: start_postgres(SERVICE_DATABASES))
    yield cluster
    cluster.destroy()


@pytest.fixture(scope="session")
def nats_server() -> Iterator[NatsServer]:
    """NATS with JetStream; `.url`; `.stop()`/`.kill()`, then `.start()` on the same port."""
    server = _start("NATS", start_nats)
    yield server
    server.destroy()


@pytest.fixture(scope="session")
def keycloak() -> Iterator[KeycloakServer]:
    """Keycloak with the `kamqor` realm; `.base_url`, `.issuer`, `.token(username)`."""
    server = _start("Keycloak", start_keycloak)
    yield server
    server.destroy()
