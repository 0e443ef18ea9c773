"""The console in a real browser against the whole real stack: log in through Keycloak's page,
admit a mother with two children, see them on the bed board; police see the SHL-3 notice
delivered by signed webhook, e-mail and registered letter (the agency's receiver verified the
signature, its mailbox got the mail), download the letter and acknowledge it; the operator
sees it acknowledged, holds a bed, takes one out of service and back, discharges the family,
records a refusal and queues the person; another territory sees none of it; Kazakh; a wrong
field beside the field; no serious accessibility violation on any screen (axe-core)."""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from tests.console.harness import (
    POLICE_MAIL,
    Console,
    Recipients,
    log_in,
    new_context,
    screenshot,
    serious_violations,
)

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
    await page.fill("#referral_document", "КУСП 1187/26")
    await assert_accessible(page, "shelter-admit")
    await page.get_by_role("button", name="Принять", exact=True).click()
    await page.wait_for_url(f"{console.url}/shelter?shelter={shelter_id}")


async def see_deliveries_and_download_the_letter(
    police: Page, console: Console, recipients: Recipients
) -> None:
    """NTF-7: the notice goes out on every channel configured for Astana's police: a signed
    webhook the agency's receiver verified, an e-mail its mailbox accepted and a registered
    letter; the police see each delivery with its receipt and download the PDF."""

    async def delivered() -> bool:
        await police.goto(f"{console.url}/notices?state=pending")
        first = police.locator(".notice--pending").first
        return await first.locator(".delivery--delivered").count() == 3

    await eventually(delivered)
    notice = police.locator(".notice--pending").first
    element_id = await notice.get_attribute("id")
    assert element_id is not None and element_id.startswith("notice-"), element_id
    notice_id = element_id.removeprefix("notice-")
    deliveries = notice.locator(".deliveries")
    webhook = deliveries.locator("tr.delivery", has_text="Подписанный вебхук")
    await expect(webhook).to_have_class(re.compile("delivery--delivered"))
    await expect(webhook).to_contain_text("Доставлено")
    await expect(webhook).to_contain_text("HTTP 200")
    mail = deliveries.locator("tr.delivery", has_text="Электронная почта")
    await expect(mail).to_have_class(re.compile("delivery--delivered"))
    await expect(mail).to_contain_text("Доставлено")
    await expect(mail).to_contain_text("SMTP 250")
    letter_row = deliveries.locator("tr.delivery", has_text="Заказное письмо")
    await expect(letter_row).to_have_class(re.compile("delivery--delivered"))
    await expect(notice.locator(".notice__delivered")).not_to_contain_text("Ещё нет")
    # What the agency's systems got: one verified webhook and one e-mail for this notice.
    receiver = recipients.receiver
    with receiver.lock:
        bodies = [b for b in receiver.verified if b["notice_id"] == notice_id]
        assert receiver.refused == 0
    assert len(bodies) == 1, bodies
    assert bodies[0]["recipient_agency_type"] == "police"
    mails = [m for m in recipients.mailbox.messages if notice_id.encode() in m[2]]
    assert [m[1] for m in mails] == [[POLICE_MAIL]]
    link = notice.locator("a.notice__letter")
    href = await link.get_attribute("href")
    assert href is not None and re.fullmatch(r"/notices/[0-9a-f-]{36}/letter", href), href
    async with police.expect_download() as info:
        await link.click()
    download = await info.value
    assert re.fullmatch(r"KZ-AST-.+\.pdf", download.suggested_filename), download.suggested_filename
    assert MOTHER not in download.suggested_filename
    pdf = await asyncio.to_thread(Path(await download.path()).read_bytes)
    assert pdf.startswith(b"%PDF-")


async def hold_and_take_a_bed_out_of_service(operator: Page) -> None:
    board = operator.locator("#beds")
    await expect(board.locator("tr.bed--occupied")).to_have_count(3)
    await operator.fill("#hold-beds", "1")
    await operator.get_by_role("button", name="Забронировать", exact=True).click()
    await expect(operator.locator(".notification")).to_contain_text("Места забронированы.")
    await expect(board.locator("tr.bed--held")).to_have_count(1)
    free = board.locator("tr.bed--free").first
    number = await free.get_attribute("data-bed")
    await operator.fill(f"#reason-{number}", "течёт крыша")
    await free.get_by_role("button").click()
    await expect(operator.locator(".notification")).to_contain_text("выведено из эксплуатации")
    out = board.locator(f"tr[data-bed='{number}']")
    await expect(out).to_have_class(re.compile("bed--out_of_service"))
    await expect(out).to_contain_text("течёт крыша")
    await assert_accessible(operator, "shelter-beds")
    await out.get_by_role("button").click()
    await expect(board.locator(f"tr[data-bed='{number}']")).to_have_class(re.compile("bed--free"))


async def discharge(operator: Page, console: Console, shelter_id: str) -> None:
    row = operator.locator("#residents tbody tr", has_text=MOTHER)
    await row.get_by_role("link", name=re.compile("Выписать")).click()
    await operator.fill("#reason", "Переехала к родственникам")
    await operator.get_by_role("button", name="Выписать", exact=True).click()
    await operator.wait_for_url(f"{console.url}/shelter?shelter={shelter_id}")
    await expect(operator.locator(".notification")).to_contain_text("Выписано.")
    await expect(operator.locator("main")).not_to_contain_text(MOTHER)


async def refuse_and_queue(operator: Page, console: Console, shelter_id: str) -> None:
    await operator.goto(f"{console.url}/shelter/refusals?shelter={shelter_id}")
    await operator.fill("#adult-full_name", "Жанар Болатқызы")
    await operator.fill("#adult-birth_date", "1988-03-01")
    await operator.fill("#minors", "1")
    await operator.check("#reason-not_eligible")
    await operator.fill("#referred_to", "Городская больница № 1")
    await operator.check("#waitlist")
    await operator.get_by_role("button", name="Зарегистрировать отказ").click()
    await expect(operator.locator(".notification")).to_contain_text("Отказ зарегистрирован")
    await expect(operator.locator("#refusals")).to_contain_text("Жанар Болатқызы")
    await expect(operator.locator("#refusals")).to_contain_text("Не подлежит приёму")  # noqa: RUF001
    await expect(operator.locator("#queue")).to_contain_text("Жанар Болатқызы")
    await assert_accessible(operator, "shelter-refusals")


async def test_shelter_and_notice_flow(
    console: Console, browser: Browser, shelter: dict[str, object], recipients: Recipients
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
        await see_deliveries_and_download_the_letter(police, console, recipients)
        await assert_accessible(police, "notices-inbox")
        await police.locator(".notice--pending").first.get_by_role("button").click()
        acknowledged = police.locator(".notice--acknowledged").first
        await expect(acknowledged).to_be_visible()
        # The swapped-in notice keeps its delivery status.
        await expect(acknowledged.locator(".delivery--delivered")).to_have_count(3)

        await operator.reload()
        row = operator.locator("#residents tbody tr", has_text=MOTHER)
        stay_id = await row.get_attribute("data-stay")
        await assert_notices_follow_need_to_know(console, f"stay/{stay_id}")
        await expect(row.locator(".notice-status")).to_contain_text("pol-ast-1")
        await screenshot(operator, "shelter-board-acknowledged")
        await hold_and_take_a_bed_out_of_service(operator)
        await discharge(operator, console, shelter_id)
        await refuse_and_queue(operator, console, shelter_id)
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
        "head.ast": [
            "/shelter",
            "/shelter/refusals",
            "/notices",
            "/journal",
            "/deadlines",
            "/reports/shelter",
        ],
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
