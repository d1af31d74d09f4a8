"""The status page in a real browser: headless Chromium (Debian's chromium + chromium-driver)
driven by Selenium opens `/` of the stack and waits until every service row is healthy.

The screenshot goes to $LAB_SCREENSHOT when set (relative paths from the repo root, e.g.
LAB_SCREENSHOT=docs/status-page.png), else to the test's tmp_path.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.integration.chromium import chromium
from tests.waiting import wait_for

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
SERVICES = ("echo", "api", "redis", "postgres")
WAIT = 30.0


@pytest.fixture
def browser():
    with chromium() as driver:
        yield driver


def screenshot_path(tmp_path: Path) -> Path:
    named = os.environ.get("LAB_SCREENSHOT")
    if not named:
        return tmp_path / "status-page.png"
    path = Path(named)
    return path if path.is_absolute() else REPO / path


def test_status_page_shows_every_service_healthy(lab_stack, browser, tmp_path):
    from selenium.webdriver.common.by import By

    api = lab_stack.env["API_URL"]
    browser.get(api + "/")
    assert browser.title == "lab status"

    def states() -> dict[str, str]:
        rows = browser.find_elements(By.CSS_SELECTOR, "[data-service]")
        return {r.get_attribute("data-service"): r.get_attribute("data-state") for r in rows}

    def hits() -> str:
        return browser.find_element(By.ID, "hits").text

    # The page fills its rows and the hit counter from separate requests: wait for both to have landed
    # (the counter shows "–" until its own answer arrives), bounded only to catch a hang.
    seen: dict = {}

    def filled() -> bool:
        seen.clear()
        seen.update(states(), hits=hits())
        return all(seen.get(s) == "healthy" for s in SERVICES) and seen["hits"] != "–"

    wait_for(filled, WAIT, lambda: f"the status page all healthy, its hit counter filled (last: {seen})", interval=0.2)

    overall = browser.find_element(By.ID, "overall").text
    assert overall == "all systems healthy"
    # Host addresses come from /info: the api row names its loopback port.
    api_row = browser.find_element(By.CSS_SELECTOR, '[data-service="api"]').text
    assert f":{lab_stack.project.ports['api']}" in api_row
    assert hits().isdigit(), hits()

    path = screenshot_path(tmp_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(path)), "screenshot failed"
    assert path.stat().st_size > 5000
    print(f"\nstatus page screenshot: {path}")
