"""The console in a real browser against the whole real stack: log in through Keycloak's page,
admit a mother with two children, see them on the bed board; police acknowledge the SHL-3
notice; the operator sees it acknowledged; another territory sees none of it; Kazakh; a wrong
field beside the field; no serious accessibility violation on any screen (axe-core)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.console.harness import Console, log_in, new_context, screenshot, serious_violations

pytestmark = pytest.mark.e2e

MOTHER = "Айгерим Нурлановна Сериккызы"
CHILDREN = ("Арман Ерланович", "Дана Ерлановна")
SIGN_IN_KK = "Кіру"  # noqa: RUF001 (Kazakh, all Cyrillic)


@pytest.fixture(scope="module")
async def shelter(console: Console) -> dict[str, object]:
    """A shelter of the Astana center, declared by its head through the API."""
    async with console.suite.client("head.ast") as client:
        answer = await client.post(
            "/v1/shelters", json={"name": f"Кризисный центр {uuid.uuid4().hex[:6]}", "capacity": 6}
        )
    assert answer.status_code == 201, answer.text
    shelter: dict[str, object] = answer.json()
    return shelter


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await new_context(browser)
    yield ctx
    await ctx.close()


async def page_as(context: BrowserContext, console: Console, username: str) -> Page:
    page = await context.new_page()
    await log_in(page, console, username)
    return page


async def eventually(check: Callable[[], Awaitable[bool]], *, within: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("the condition never held")
        await asyncio.sleep(0.5)


async def assert_accessible(page: Page, name: str) -> None:
    await screenshot(page, name)
    violations = await serious_violations(page)
    assert violations == [], f"{name}: {violations}"


async def assert_notices_follow_need_to_know(console: Console, subject: str) -> None:
    """Through the API the console uses: the admitting center's operator sees the stay's two
    SHL-3 notices, the other territory's operator none, and a case worker is refused."""
    seen = {}
    for username in ("shelter.ast", "shelter.ala", "caseworker.ast"):
        async with console.suite.client(username) as client:
            answer = await client.get("/v1/notices", params={"subject": subject})
        seen[username] = (answer.status_code, answer.json().get("items"))
    status, items = seen["shelter.ast"]
    assert status == 200
    assert sorted(n["recipient_agency_type"] for n in items) == ["guardianship", "police"]
    assert seen["shelter.ala"] == (200, [])
    assert seen["caseworker.ast"][0] == 403


async def admit_family(page: Page, console: Console, shelter_id: str) -> None:
    await page.goto(f"{console.url}/shelter?shelter={shelter_id}")
    await page.get_by_role("button", name="Принять").click()
    await page.fill("#adult-full_name", MOTHER)
    await page.fill("#adult-birth_date", "1990-05-14")
    await page.fill("#minors-0-full_name", CHILDREN[0])
    await page.fill("#minors-0-birth_date", "2017-04-02")
    await page.fill("#minors-1-full_name", CHILDREN[1])
    await page.fill("#minors-1-birth_date", "2019-08-20")
    await page.check("#referral-police")
    await assert_accessible(page, "shelter-admit")
    await page.get_by_role("button", name="Принять", exact=True).click()
    await page.wait_for_url(f"{console.url}/shelter?shelter={shelter_id}")


async def test_shelter_and_notice_flow(
    console: Console, browser: Browser, shelter: dict[str, object]
) -> None:
    shelter_id = str(shelter["id"])
    operator_ctx = await new_context(browser)
    police_ctx = await new_context(browser)
    try:
        operator = await page_as(operator_ctx, console, "shelter.ast")
        await admit_family(operator, console, shelter_id)
        residents = operator.locator("#residents")
        await expect(residents).to_contain_text(MOTHER)
        for child in CHILDREN:
            await expect(residents).to_contain_text(child)
        await expect(operator.locator(".notification")).to_be_visible()
        await assert_accessible(operator, "shelter-board")

        police = await page_as(police_ctx, console, "police.ast")

        async def notice_arrived() -> bool:
            await police.goto(f"{console.url}/notices?state=pending")
            return await police.locator(".notice--pending").count() > 0

        await eventually(notice_arrived)
        await assert_accessible(police, "notices-inbox")
        await police.locator(".notice--pending").first.get_by_role("button").click()
        await expect(police.locator(".notice--acknowledged").first).to_be_visible()

        await operator.reload()
        row = operator.locator("#residents tbody tr", has_text=MOTHER)
        stay_id = await row.get_attribute("data-stay")
        await assert_notices_follow_need_to_know(console, f"stay/{stay_id}")
        await expect(row.locator(".notice-status")).to_contain_text("pol-ast-1")
        await screenshot(operator, "shelter-board-acknowledged")
    finally:
        await operator_ctx.close()
        await police_ctx.close()


async def test_another_territory_sees_none_of_it(
    console: Console, browser: Browser, shelter: dict[str, object]
) -> None:
    context = await new_context(browser)
    try:
        operator = await page_as(context, console, "shelter.ala")
        await operator.goto(f"{console.url}/shelter")
        await expect(operator.locator("main")).not_to_contain_text(str(shelter["name"]))
        await expect(operator.locator("main")).not_to_contain_text(MOTHER)
        await operator.goto(f"{console.url}/shelter?shelter={shelter['id']}")
        await expect(operator.locator("main")).not_to_contain_text(MOTHER)
        await context.clear_cookies()
        police = await page_as(context, console, "police.ala")
        await police.goto(f"{console.url}/notices")
        await expect(police.locator("main")).not_to_contain_text("fc-ast-1")
        await assert_accessible(police, "notices-other-territory")
    finally:
        await context.close()


async def test_a_wrong_field_is_shown_beside_the_field(
    console: Console, context: BrowserContext, shelter: dict[str, object]
) -> None:
    page = await page_as(context, console, "shelter.ast")
    await page.goto(f"{console.url}/shelter/admit?shelter={shelter['id']}")
    await page.fill("#adult-full_name", "Жанар Болатқызы")
    await page.fill("#adult-birth_date", "1988-03-01")
    await page.fill("#minors-0-full_name", "Ерлан")
    await page.fill("#minors-0-birth_date", "1999-01-01")  # an adult: the service refuses
    await page.check("#referral-self_application")
    await page.get_by_role("button", name="Принять", exact=True).click()
    error = page.locator("#minors-0-birth_date-error")
    await expect(error).to_contain_text("меньше 18 лет")
    await expect(page.locator("#minors-0-birth_date")).to_have_attribute("aria-invalid", "true")
    await expect(page.locator(".error-summary a[href='#minors-0-birth_date']")).to_be_visible()
    await expect(page.locator("#minors-0-full_name")).to_have_value("Ерлан")  # kept
    await assert_accessible(page, "shelter-admit-error")


async def test_kazakh_in_the_console_and_on_the_login_page(
    console: Console, context: BrowserContext
) -> None:
    page = await page_as(context, console, "shelter.ast")
    await page.get_by_role("button", name="Қазақша").click()
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await expect(page.locator("h1")).to_have_text("Дағдарыс бөлімшесінің орындар тақтасы")
    await expect(page.get_by_role("button", name="Шығу")).to_be_visible()
    await screenshot(page, "shelter-board-kk")
    await page.get_by_role("button", name="Шығу").click()
    await page.wait_for_url(re.compile(re.escape(console.url) + r"/(\?.*)?$"))
    await expect(page.get_by_role("button", name=SIGN_IN_KK)).to_be_visible()
    await page.get_by_role("button", name=SIGN_IN_KK).click()
    await page.wait_for_selector("#username")
    await expect(page.locator("#kc-login")).to_have_text(SIGN_IN_KK)
    await expect(page.locator("body")).to_contain_text("Есептік жазбаңызға кіріңіз")
    await screenshot(page, "keycloak-login-kk")


async def test_every_screen_is_accessible_at_laptop_and_tablet_width(
    console: Console, browser: Browser
) -> None:
    screens = {
        "head.ast": ["/shelter", "/notices", "/journal", "/deadlines"],
        "intake.ast": ["/journal", "/journal/register"],
        "education.ast": ["/agency"],
    }
    for tablet in (False, True):
        for username, paths in screens.items():
            context = await new_context(browser, tablet=tablet)
            try:
                page = await page_as(context, console, username)
                for path in paths:
                    await page.goto(console.url + path)
                    await expect(page.locator("h1")).to_be_visible()
                    name = f"{path.strip('/').replace('/', '-')}{'-tablet' if tablet else ''}"
                    await assert_accessible(page, name)
                    width = await page.evaluate("document.documentElement.scrollWidth")
                    assert width <= (768 if tablet else 1366), f"{path} scrolls sideways"
            finally:
                await context.close()
