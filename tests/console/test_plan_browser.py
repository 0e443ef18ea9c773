"""A plan from draft to a completed measure in a real browser against the whole real stack
(issue 14, "API and console"): the Astana case worker drafts a plan with one education measure
for school edu-ast-1 and submits it; the center head approves it with the decision; the school's
coordinator designates the teacher in the agency inbox; the teacher reports; the case worker
completes the measure and the plan page shows it completed. Each user logs in through
Keycloak's page; the domain clock is the suite's pinned one (tests/conftest.py); every plan
screen is checked with axe-core, and at tablet width for sideways scrolling."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from playwright.async_api import Browser, Page, expect

from kamqor.clock import utcnow
from tests.console.harness import Console, new_context, screenshot
from tests.console.test_browser import assert_accessible, page_as

pytestmark = pytest.mark.e2e

TITLE = "Занятия по математике дважды в неделю"
REPORT = "Проведено восемь занятий, оценки выросли"
PLAN_URL = re.compile(r".*/plans/([0-9a-f-]{36})$")


async def draft_and_submit(page: Page, console: Console) -> str:
    await page.goto(f"{console.url}/plans")
    await expect(page.locator("h1")).to_have_text("Индивидуальные планы")
    await page.get_by_role("button", name="Составить план").click()
    await page.select_option("#situation", "dls")
    # PLN-3: drafted with the family; the first row is a family member's.
    await page.fill("#participants-0-name", "Айгерим Сериккызы (мать)")
    await page.select_option("#participants-1-role", "psychologist")
    await page.fill("#participants-1-name", "Дана Ким")
    await page.fill("#participants-1-organisation", "fc-ast-1")
    await page.select_option("#measures-0-kind", "pedagogical")
    agency = page.locator("#measures-0-agency_id")
    if await agency.evaluate("e => e.tagName") == "SELECT":
        await agency.select_option("edu-ast-1")  # the agency directory
    else:
        await agency.fill("edu-ast-1")
        await page.select_option("#measures-0-agency_type", "education")
    await page.fill("#measures-0-title", TITLE)
    await page.fill("#measures-0-target", "старший ребёнок")
    # Well within Kazakhstan's one-year term (PLN-1), counted from the suite's clock.
    deadline = utcnow().date() + timedelta(days=90)
    await page.fill("#measures-0-deadline", deadline.isoformat())
    await assert_accessible(page, "plans-new")
    await page.get_by_role("button", name="Сохранить черновик").click()
    await page.wait_for_url(PLAN_URL)
    found = PLAN_URL.match(page.url)
    assert found is not None
    await expect(page.locator("#plan-state")).to_have_attribute("data-state", "draft")
    await expect(page.locator(".notification")).to_contain_text("Черновик плана сохранён")
    await page.get_by_role("button", name="Отправить на утверждение").click()
    await expect(page.locator("#plan-state")).to_have_attribute("data-state", "submitted")
    return found[1]


async def approve(page: Page, console: Console, plan_id: str) -> str:
    await page.goto(f"{console.url}/plans")
    await page.locator(f"tr[data-plan='{plan_id}'] a").click()
    await page.fill("#decision", "Протокол рабочей группы № 12")
    await assert_accessible(page, "plans-approve")
    await page.get_by_role("button", name="Утвердить", exact=True).click()
    await expect(page.locator("#plan-state")).to_have_attribute("data-state", "approved")
    measure = page.locator("li.measure")
    await expect(measure).to_have_count(1)
    await expect(measure).to_have_class(re.compile("measure--sent"))
    element_id = await measure.get_attribute("id")
    assert element_id is not None
    return element_id.removeprefix("measure-")


async def designate(page: Page, console: Console, measure_id: str) -> None:
    await page.goto(f"{console.url}/agency")
    await page.fill(f"#assignee-{measure_id}", "teacher.ast")
    await page.locator(f"form[action='/agency/measures/{measure_id}/assignee'] button").click()
    await expect(page.locator(".notification")).to_be_visible()


async def report(page: Page, console: Console, measure_id: str) -> None:
    await page.goto(f"{console.url}/agency")
    await page.fill(f"#report-{measure_id}", REPORT)
    await page.locator(f"form[action='/agency/measures/{measure_id}/report'] button").click()
    await expect(page.locator(".notification")).to_be_visible()


async def complete(page: Page, console: Console, plan_id: str, measure_id: str) -> None:
    await page.goto(f"{console.url}/plans/{plan_id}")
    measure = page.locator(f"#measure-{measure_id}")
    await expect(measure).to_have_class(re.compile("measure--reported"))
    await expect(measure).to_contain_text(REPORT)
    await assert_accessible(page, "plans-reported")
    # The completion date is today's by default.
    await expect(page.locator(f"#completed_on-{measure_id}")).to_have_value(
        utcnow().date().isoformat()
    )
    await measure.get_by_role("button", name="Отметить выполненным").click()
    await expect(page.locator(".notification")).to_contain_text("Мероприятие выполнено.")


async def tablet_width(browser: Browser, console: Console, plan_id: str) -> None:
    """The plan screens fit a tablet without sideways scrolling and stay accessible."""
    context = await new_context(browser, tablet=True)
    try:
        page = await page_as(context, console, "caseworker.ast")
        for path in ("/plans", "/plans/new", f"/plans/{plan_id}"):
            await page.goto(console.url + path)
            await expect(page.locator("h1")).to_be_visible()
            name = "plans-tablet-" + path.strip("/").replace("/", "-")[:20]
            await assert_accessible(page, name)
            width = await page.evaluate("document.documentElement.scrollWidth")
            assert width <= 768, f"{path} scrolls sideways"
    finally:
        await context.close()


async def test_a_plan_from_draft_to_a_completed_measure(console: Console, browser: Browser) -> None:
    contexts = [await new_context(browser) for _ in range(4)]
    worker_ctx, head_ctx, school_ctx, teacher_ctx = contexts
    try:
        worker = await page_as(worker_ctx, console, "caseworker.ast")
        plan_id = await draft_and_submit(worker, console)
        head = await page_as(head_ctx, console, "head.ast")
        measure_id = await approve(head, console, plan_id)
        school = await page_as(school_ctx, console, "education.ast")
        await designate(school, console, measure_id)
        teacher = await page_as(teacher_ctx, console, "teacher.ast")
        await report(teacher, console, measure_id)
        await complete(worker, console, plan_id, measure_id)

        measure = worker.locator(f"#measure-{measure_id}")
        await expect(measure).to_have_class(re.compile("measure--completed"))
        await expect(measure.locator(".measure__state")).to_have_text("Выполнено")
        await expect(worker.locator("#plan-state")).to_have_attribute("data-state", "approved")
        await assert_accessible(worker, "plans-completed")
        await worker.goto(f"{console.url}/plans")
        row = worker.locator(f"tr[data-plan='{plan_id}']")
        await expect(row.locator(".plan__state")).to_have_text("Действует")
        await assert_accessible(worker, "plans-list")
        await tablet_width(browser, console, plan_id)
    finally:
        for context in contexts:
            for number, page in enumerate(context.pages):
                await screenshot(page, f"plans-flow-last-{number}")
            await context.close()
