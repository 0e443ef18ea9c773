"""The operator console in the test process, in front of the whole suite (`tests.e2e.harness`),
and Debian's Chromium driven by Playwright (no browser download: `executable_path`)."""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, BrowserContext, Page, Playwright

from console.app import create_app
from console.settings import ConsoleSettings
from devstack.keycloak import KeycloakServer
from devstack.ports import free_port
from notify.channels import Channels
from tests.e2e.harness import Suite
from tests.support.recipients import Mailbox, Receiver, mail_server, receiving

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
]
# 1366x768, the laptop size; the tablet width is checked separately.
VIEWPORT = {"width": 1366, "height": 768}
TABLET = {"width": 768, "height": 1024}
WEBHOOK_SECRET = "console-webhook-secret-0123456789"
POLICE_MAIL = "duty@pol-ast-1.kz"
GUARDIANSHIP_MAIL = "office@grd-ast-1.kz"


def chromium_path() -> str | None:
    return os.environ.get("KAMQOR_CHROMIUM") or shutil.which("chromium") or None


def output_dir() -> Path:
    """Screenshots of the run (not committed: `test-output/` is ignored)."""
    path = Path(os.environ.get("KAMQOR_TEST_OUTPUT") or ROOT / "test-output") / "console"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class Recipients:
    """Astana's police and guardianship as notify reaches them: a signed webhook into `receiver`,
    an e-mail into `mailbox` and a registered letter (`channels`)."""

    receiver: Receiver
    mailbox: Mailbox
    channels: Channels


@contextmanager
def agency_recipients() -> Iterator[Recipients]:
    # The receiver checks timestamps against the domain clock: notify delivers on its own poll.
    receiver = Receiver(secret=WEBHOOK_SECRET, now=None)
    mailbox = Mailbox()
    with receiving(receiver) as url, mail_server(mailbox) as port:
        webhook = {"kind": "webhook", "url": url, "secret": WEBHOOK_SECRET}
        channels = Channels.model_validate(
            {
                "smtp": {"host": "127.0.0.1", "port": port, "sender": "notices@fc-ast-1.kz"},
                "agencies": {
                    "kz-ast/police": [
                        webhook,
                        {"kind": "email", "to": POLICE_MAIL},
                        {"kind": "letter"},
                    ],
                    "kz-ast/guardianship": [
                        webhook,
                        {"kind": "email", "to": GUARDIANSHIP_MAIL},
                        {"kind": "letter"},
                    ],
                },
            }
        )
        yield Recipients(receiver=receiver, mailbox=mailbox, channels=channels)


@dataclass
class Console:
    url: str
    app: FastAPI
    suite: Suite
    keycloak: KeycloakServer


@asynccontextmanager
async def running_console(*, suite: Suite, keycloak: KeycloakServer) -> AsyncIterator[Console]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    settings = ConsoleSettings(
        environment="test",
        keycloak_issuer=keycloak.issuer,
        gateway_url=suite.base_url,
        listen_port=port,
        console_public_url=url,
    )
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield Console(url=url, app=app, suite=suite, keycloak=keycloak)
    finally:
        server.should_exit = True
        await task


async def launch(playwright: Playwright, executable: str) -> Browser:
    return await playwright.chromium.launch(
        executable_path=executable, args=CHROMIUM_ARGS, headless=True
    )


async def new_context(browser: Browser, *, tablet: bool = False) -> BrowserContext:
    """A fresh browser profile (own cookies). CSP is bypassed only so axe-core can be injected;
    `test_security` checks the policy itself."""
    context = await browser.new_context(
        viewport=TABLET if tablet else VIEWPORT, bypass_csp=True, locale="ru-RU"
    )
    context.set_default_timeout(20_000)
    return context


async def log_in(page: Page, console: Console, username: str, password: str = "demo") -> None:
    """Through the real Keycloak login page, as a person would."""
    await page.goto(console.url + "/login")
    await page.wait_for_selector("#username")
    await page.fill("#username", username)
    await page.fill("#password", password)
    await page.click("#kc-login")
    await page.wait_for_url(console.url + "/**")


async def serious_violations(page: Page) -> list[dict[str, object]]:
    """axe-core's serious and critical violations on the page as it is now."""
    await page.add_script_tag(path=str(AXE))
    result = await page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".filter(v => v.impact === 'serious' || v.impact === 'critical')"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target)}))"
    )
    assert isinstance(result, list)
    return result


async def screenshot(page: Page, name: str) -> None:
    await page.screenshot(path=str(output_dir() / f"{name}.png"), full_page=True)
