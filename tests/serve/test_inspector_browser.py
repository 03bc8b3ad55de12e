"""The routing inspector in a real headless Chromium (Debian's, driven by Playwright).

Loads the page, asks a question, waits for the streamed answer, checks the query graph and the decision are
drawn, clicks 'Right' and finds the score in the store, then opens the recent-runs view. Screenshots go to
the test's output folder.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import httpx
import pytest
from serve_helpers import budgeted_service, pool, priced_question, running

from agentroute import make_router, open_store
from agentroute.commands import bootstrap_builtin
from agentroute.serve.app import ServeConfig
from agentroute.serve.service import RoutingService

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
QUESTION = "Which city hosts the headquarters of Shith Dynamics?"


def chromium() -> str:
    found = os.environ.get("AGENTROUTE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        if os.environ.get("CI"):
            pytest.fail("CI must run the browser test: apt-get install chromium")
        pytest.skip("no Chromium on PATH (apt-get install chromium, or set AGENTROUTE_CHROMIUM)")
    return found


def test_inspector_asks_draws_the_graph_and_records_feedback(tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    store = open_store("memory")
    agents = bootstrap_builtin(store, seed=0)
    service = RoutingService(agents, make_router("knn"), store)
    with running(service) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 820})
            page.goto(base + "/")
            page.wait_for_selector("#model option[value='agentroute:knn']", state="attached")
            page.fill("#question", QUESTION)
            page.click("#ask")
            page.wait_for_selector("#fb-right:enabled", timeout=30_000)

            assert page.locator("#graph .query").count() == 1
            assert page.locator("#graph .entity").count() >= 2
            assert page.locator("#graph .past").count() >= 1
            assert page.locator("#graph .agent").count() == len(agents)
            assert page.locator("#graph .decision-edge").count() == len(agents)
            rows = page.locator("#decision tbody tr")
            assert rows.count() == len(agents)
            answer = page.inner_text("#answer").strip()
            run_id = page.evaluate("runId")
            run = httpx.get(f"{base}/v1/runs/{run_id}").json()  # waits until the run is recorded
            called = [r["agent"] for r in run["agents"]]
            assert called and answer == run["answer"]
            for agent in called:  # every called agent's answer arrived in its row
                row = page.locator(f"#decision tbody tr[data-agent='{agent}'] td").nth(3)
                assert "running" not in row.inner_text()
            page.screenshot(path=str(tmp_path / "inspector.png"), full_page=True)

            page.click("#fb-right")
            page.wait_for_selector("#fb-status:has-text('recorded')")
            scores = {e["dst"]: e.get("score") for e in store.edges("PERFORMED", src=run_id)}
            assert set(scores) == set(called) and all(s is not None for s in scores.values())
            assert store.get_node("Query", run_id)["feedback"] == 1.0

            page.click("#tab-runs")
            page.wait_for_selector(f"#runs tr[data-id='{run_id}']")
            row_text = page.inner_text(f"#runs tr[data-id='{run_id}']")
            assert QUESTION in row_text and "right" in row_text
            page.screenshot(path=str(tmp_path / "runs.png"), full_page=True)
        finally:
            browser.close()
    assert (tmp_path / "inspector.png").stat().st_size > 10_000
    if os.environ.get("AGENTROUTE_SCREENSHOT_DIR"):  # how docs/inspector.png is refreshed
        shutil.copy(tmp_path / "inspector.png", Path(os.environ["AGENTROUTE_SCREENSHOT_DIR"]) / "inspector.png")


def test_inspector_shows_what_a_budgeted_router_has_spent() -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    service, target = budgeted_service()
    with running(service) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/")
            page.wait_for_selector("#model option[value='agentroute:knn']", state="attached")
            for i in range(2):
                page.fill("#question", priced_question(1000 + i))
                page.click("#ask")
                page.wait_for_selector(f"#budget:has-text('over {i + 1} questions')", timeout=30_000)
            (budget,) = httpx.get(base + "/v1/budget").json()["data"]
            shown = page.inner_text("#budget")
        finally:
            browser.close()
    assert budget["questions"] == 2 and budget["target_cost"] == target
    match = re.fullmatch(r"budget: \$([0-9.e-]+) per question over 2 questions, target \$([0-9.e-]+)", shown)
    assert match, shown
    assert float(match[1]) == pytest.approx(budget["per_question"], rel=5e-3)
    assert float(match[2]) == pytest.approx(target, rel=5e-3)


def test_inspector_asks_for_the_api_key_and_keeps_it_in_the_page(tmp_path: Path) -> None:
    executable = chromium()
    from playwright.sync_api import sync_playwright

    key = "inspector-key-0a1b2c3d4e"
    service = RoutingService(pool("alpha"), make_router("knn"), open_store("memory"))
    with running(service, ServeConfig(api_key=key)) as base, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.goto(base + "/")
            page.wait_for_selector("#keybox", state="visible")  # /v1/models answered 401
            page.fill("#question", "Which river flows through Paris?")
            page.click("#ask")
            page.wait_for_selector("#answer.err")
            assert "API key" in page.inner_text("#answer")
            page.fill("#key", key)
            page.click("#key-save")
            page.click("#ask")
            page.wait_for_selector("#fb-right:enabled")
            assert page.inner_text("#answer").strip() == "Seine"
            assert page.evaluate("localStorage.length + sessionStorage.length") == 0  # the key stays in memory
            page.screenshot(path=str(tmp_path / "with-key.png"))
        finally:
            browser.close()
