"""Fixtures of the console's browser tests: the whole suite, the console in front of it, and a
Chromium to drive. Unit tests of the console (security, catalogs) use none of them."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
from playwright.async_api import Browser, async_playwright

from tests.console.harness import (
    Console,
    Recipients,
    agency_recipients,
    chromium_path,
    launch,
    running_console,
)
from tests.e2e.harness import running_suite


@pytest.fixture(scope="module")
def recipients() -> Iterator[Recipients]:
    with agency_recipients() as found:
        yield found


@pytest.fixture(scope="module")
async def console(postgres, nats_server, keycloak, recipients) -> AsyncIterator[Console]:  # type: ignore[no-untyped-def]
    async with (
        running_suite(
            postgres=postgres,
            nats_server=nats_server,
            keycloak=keycloak,
            notify_channels=recipients.channels,
        ) as suite,
        running_console(suite=suite, keycloak=keycloak) as app,
    ):
        yield app


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    if executable is None:
        pytest.fail(
            "Chromium is not installed: `apt-get install chromium fonts-dejavu-core` "
            "(.ci/run does it) or set KAMQOR_CHROMIUM",
            pytrace=False,
        )
    async with async_playwright() as playwright:
        browser = await launch(playwright, executable)
        yield browser
        await browser.close()
