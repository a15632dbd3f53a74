"""imagepool in the Airflow UI, in headless Chromium, the way a user works with it: sign in, open the
DAG, read its docs, trigger it from the form with other pool sizes, watch the run succeed, read a
wait's progress in its task log, check where an extra link leads, and see the assets the run updated;
then open the imagepool view from the navigation and follow a run's link from it. Screenshots of each
step go to test-artifacts/.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect, sync_playwright

from imagepool_local.stack import USERNAME
from tests.e2e.conftest import DAG_ID, RUN_TIMEOUT, TEST_TIMEOUT, a_successful_run
from tests.integration import clients

# A missing browser fails the test before the stack is started for it (fixtures named here come first).
pytestmark = [pytest.mark.timeout(TEST_TIMEOUT), pytest.mark.usefixtures("chromium")]

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
# Without the background-networking flags Chromium keeps calling Google's services, which a machine
# without internet access refuses; as root it needs --no-sandbox.
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
POOL, ACCOUNT, REGION = "render-we", "imagepoolbatch", "westeurope"
# More nodes than the spec's 4 + 2, whichever run came before: the pool grows, its wait shows progress.
SIZE = {"dedicated": 5, "spot": 2}
TASKS = f"region_{REGION}.pool_{POOL}"
# The UI is a React app that loads everything after the page: every check waits for what it looks for.
WAIT_MS = 60_000


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} is missing: this test drives Debian's Chromium. Install it with "
            "`sudo make chromium` (apt-get install chromium; README: Watch it in the Airflow UI)."
        )
    return CHROMIUM


@pytest.fixture
def page(chromium, stack, tmp_path):
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path / "profile",
            executable_path=chromium,
            args=FLAGS,
            headless=True,
            base_url=stack.url,
            viewport={"width": 1400, "height": 1000},
        )
        # The JSON editor of the trigger form takes a pasted document as a user would paste it.
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=stack.url)
        page = context.new_page()
        page.set_default_timeout(WAIT_MS)
        expect.set_options(timeout=WAIT_MS)
        try:
            yield page
        finally:
            # Where the test stopped: after a failure, the page it was waiting on.
            page.screenshot(path=ARTIFACTS / "last.png", full_page=True)
            context.close()


def screenshot(page: Page, name: str) -> None:
    page.screenshot(path=ARTIFACTS / f"{name}.png", full_page=True)


def sign_in(page: Page, password: str) -> None:
    page.goto("/")
    page.get_by_label("Username").fill(USERNAME)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("link", name="Dags", exact=True)).to_be_visible()


def open_dag(page: Page) -> None:
    page.get_by_role("link", name="Dags", exact=True).click()
    page.wait_for_url("**/dags")
    page.get_by_role("link", name=DAG_ID, exact=True).and_(page.locator(f'[href="/dags/{DAG_ID}"]')).click()
    expect(page.get_by_role("heading", name=DAG_ID, exact=True)).to_be_visible()
    switch = page.get_by_test_id("toggle-pause")
    if switch.get_attribute("data-state") != "checked":
        switch.click()
    expect(switch).to_have_attribute("data-state", "checked")
    screenshot(page, "01-dag")


def read_docs(page: Page) -> None:
    page.get_by_role("button", name="Dag Docs").click()
    docs = page.get_by_role("dialog")
    expect(docs.get_by_role("heading", name="ubuntu-batch")).to_be_visible()
    expect(docs.get_by_role("listitem").filter(has_text=POOL)).to_contain_text("4 dedicated + 2 spot")
    expect(docs).to_contain_text("Trigger form")
    screenshot(page, "02-docs")
    docs.get_by_role("button", name="Close").click()


def trigger_with_pool_size(page: Page) -> str:
    """Trigger from the form with SIZE for POOL; returns the run id the UI created."""
    page.get_by_role("button", name="Trigger Dag").click()
    form = page.get_by_role("dialog")
    sizes = form.get_by_role("group").filter(has_text="Pool sizes")
    sizes.get_by_text(f'"{POOL}"').click()
    page.keyboard.press("Control+A")
    page.evaluate("text => navigator.clipboard.writeText(text)", json.dumps({POOL: SIZE}, indent=2))
    page.keyboard.press("Control+V")
    submit = form.get_by_role("button", name="Trigger")
    expect(submit).to_be_enabled()
    screenshot(page, "03-trigger-form")
    with page.expect_response(
        lambda r: r.request.method == "POST" and r.url.endswith(f"/api/v2/dags/{DAG_ID}/dagRuns")
    ) as created:
        submit.click()
    run = created.value.json()
    assert created.value.ok, run
    assert run["conf"]["pool_nodes"] == {POOL: SIZE}
    return run["dag_run_id"]


def wait_for_success(page: Page, run_id: str) -> None:
    """Follow the run from its bar in the grid to its page, until its state badge says it ended."""
    page.locator(f'a[href="/dags/{DAG_ID}/runs/{run_id}/"]').click()
    badge = page.get_by_role("heading", name=run_id, exact=True).locator("xpath=..").get_by_test_id("state-badge")
    expect(badge).to_have_text(re.compile("Success|Failed"), timeout=RUN_TIMEOUT * 1000)
    screenshot(page, "04-run")
    expect(badge).to_have_text("Success")


def open_task(page: Page, run_id: str, task_id: str) -> None:
    expand = page.get_by_role("button", name="Expand all task groups")
    if expand.is_enabled():  # the grid keeps groups expanded once they were
        expand.click()
    page.get_by_test_id(f"grid-{run_id}-{task_id}").click()
    expect(page.get_by_role("heading", name=task_id, exact=True)).to_be_visible()


def test_trigger_from_the_form_and_follow_the_run(stack, page):
    sign_in(page, stack.password)
    open_dag(page)
    read_docs(page)
    run_id = trigger_with_pool_size(page)
    wait_for_success(page, run_id)

    # The pool's wait, deferred to the triggerer, logged its progress up to the size asked for.
    open_task(page, run_id, f"{TASKS}.steady")
    nodes = SIZE["dedicated"] + SIZE["spot"]
    expect(page.get_by_text(re.compile(rf"^pool {POOL}-\S+: steady, {nodes}/{nodes} idle: healthy"))).to_be_visible()
    screenshot(page, "05-task-log")

    # The pool's create task links to the pool in the Azure portal.
    open_task(page, run_id, f"{TASKS}.create")
    page.get_by_role("link", name="Details", exact=True).click()
    link = page.get_by_role("link", name="Batch pool", exact=True)
    expect(link).to_be_visible()
    screenshot(page, "06-extra-link")
    info = stack.emulator
    portal = re.fullmatch(
        rf"https://portal\.azure\.com/#@{info['tenant_id']}/resource/subscriptions/"
        rf"{info['subscription_id']}/resourceGroups/{info['resource_group']}/providers/"
        rf"Microsoft\.Batch/batchAccounts/{ACCOUNT}/pools/({POOL}-[^/]+)/overview",
        link.get_attribute("href"),
    )
    assert portal, link.get_attribute("href")
    endpoint = next(a["endpoint"] for a in info["batch_accounts"] if a["name"] == ACCOUNT)
    with clients.batch(info, clients.credential(info), endpoint) as batch:
        pool = batch.get_pool(portal.group(1))
    assert (pool.target_dedicated_nodes, pool.target_low_priority_nodes) == (SIZE["dedicated"], SIZE["spot"])

    # The promoted pool is an asset the run updated: its newest event comes from this run's promote task.
    page.get_by_role("link", name="Assets", exact=True).click()
    page.get_by_role("link", name=f"imagepool/ubuntu-batch/pool/{POOL}", exact=True).click()
    newest = page.locator(f'a[href$="/tasks/{TASKS}.promote"]').first
    expect(newest).to_have_attribute("href", f"/dags/{DAG_ID}/runs/{run_id}/tasks/{TASKS}.promote")
    screenshot(page, "07-asset-events")


def test_the_imagepool_view_shows_the_family_with_its_bars_pools_and_runs(stack, page):
    run_id = a_successful_run(stack)
    sign_in(page, stack.password)

    # The view is in the navigation's Browse menu, shown inside the UI.
    page.get_by_role("button", name="Browse").click()
    page.get_by_role("menuitem", name="imagepool fleet").click()
    page.wait_for_url("**/plugin/imagepool**")
    view = page.frame_locator('iframe[title="imagepool fleet"]')
    family = view.locator('section[data-family="ubuntu-batch"]')
    expect(family.get_by_role("heading", name="ubuntu-batch")).to_be_visible()

    # The newest version, replicated to both target regions: a full bar each.
    version = family.locator("tr.version").first
    bars = version.locator("svg.replication g.region")
    expect(bars).to_have_count(2)
    for region in ("westeurope", "northeurope"):
        bar = version.locator(f'svg.replication g.region[data-region="{region}"]')
        expect(bar).to_have_attribute("data-state", "Completed")
        expect(bar).to_have_attribute("data-progress", "100")
        assert float(bar.locator("rect.bar").get_attribute("width")) > 0
    # Its pools, every node ready.
    pool = family.locator(f'tr.pool[data-pool^="{POOL}-"]').first
    expect(pool.locator("td.nodes")).to_have_text(re.compile(r"^(\d+) / \1$"))
    # The run, its phases on the timeline and its link.
    expect(family.locator(f'svg.timeline g.run[data-run-id="{run_id}"] rect.phase')).not_to_have_count(0)
    link = family.locator(f'tr.run[data-run-id="{run_id}"]').get_by_role("link", name=run_id, exact=True)
    expect(link).to_be_visible()
    screenshot(page, "08-imagepool-view")
    view.locator("body").screenshot(path=ARTIFACTS / "imagepool-view.png")

    # The run's link moves the UI itself to the run.
    link.click()
    # The UI's router follows the history entry: the address changes without a page load.
    expect(page).to_have_url(f"{stack.url}/dags/{DAG_ID}/runs/{run_id}")
    expect(page.get_by_role("heading", name=run_id, exact=True)).to_be_visible()
    screenshot(page, "09-run-from-the-view")
