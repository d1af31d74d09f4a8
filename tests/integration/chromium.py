"""Headless Chromium (Debian's chromium + chromium-driver) driven by Selenium, for tests that need a
real browser. A browser that is missing or cannot start is a skip that says so, never a pass."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)


def find(names, extra=()) -> str | None:
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    return next((p for p in extra if os.access(p, os.X_OK)), None)


@contextmanager
def chromium(*extra_args: str, network_log: bool = False) -> Iterator[object]:
    """A started headless Chromium; `network_log` records DevTools network events (get_log("performance"))."""
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("skipped: selenium is not installed (pip install -e '.[test]')")
    binary = find(CHROMIUM, ("/usr/lib/chromium/chromium",))
    driver_path = find(DRIVER, ("/usr/lib/chromium/chromedriver",))
    if not binary:
        pytest.skip("skipped: no chromium browser (apt-get install chromium)")
    if not driver_path:
        pytest.skip("skipped: no chromedriver (apt-get install chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--window-size=1100,800",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-extensions",
        "--disable-background-networking",
        "--disable-sync",
        "--disable-component-update",
        "--disable-default-apps",
        "--metrics-recording-only",
        "--no-proxy-server",
        *extra_args,
    ):
        options.add_argument(arg)
    if network_log:
        options.set_capability("goog:loggingPrefs", {"performance": "ALL"})
    # A temporary folder of its own: Chromium leaves its singleton-socket folder in TMPDIR when it is
    # stopped (one /tmp/org.chromium.Chromium.* per browser, every run); this one is removed after.
    with tempfile.TemporaryDirectory(prefix="lab-test-chromium-") as tmp:
        # Never let Selenium Manager look for (and download) a driver: use Debian's.
        service = Service(executable_path=driver_path, env={**os.environ, "TMPDIR": tmp})
        try:
            driver = webdriver.Chrome(service=service, options=options)
        except Exception as exc:
            pytest.skip(f"skipped: headless chromium did not start: {str(exc).splitlines()[0]}")
        try:
            driver.set_page_load_timeout(30)
            driver.set_script_timeout(15)
            yield driver
        finally:
            driver.quit()
