"""Headless Chromium for the browser tests, and axe-core accessibility checks in it.

Debian's chromium and chromium-driver (installed by scripts/setup-browser.sh) are used
directly: Selenium is given the driver's path so it never tries to download one, and
Chromium starts with its background networking off (this machine has no internet, and the
tests must not depend on it). axe-core comes from the npm registry (package.json).
"""
from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, Optional

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("PATHFINDER_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PATHFINDER_CHROMEDRIVER", "/usr/bin/chromedriver")
AXE_SCRIPT = ROOT / "node_modules" / "axe-core" / "axe.min.js"
# Where screenshots and other evidence from browser tests are kept after the run.
ARTIFACTS = Path(os.environ.get("PATHFINDER_ARTIFACTS", ROOT / "artifacts"))

_QUIET_FLAGS = [
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox refuses to start
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
]


def browser_missing() -> Optional[str]:
    """Why a browser test cannot run here, or None when Chromium and its driver are installed."""
    for path in (CHROMIUM, CHROMEDRIVER, str(AXE_SCRIPT)):
        if not Path(path).exists():
            return f"{path} is missing: run scripts/setup-browser.sh (scripts/test.sh does)"
    return None


def browser_tests_marker():
    """The mark for a browser test module: skip where Chromium is missing (a developer's
    machine), but fail where PATHFINDER_REQUIRE_BROWSER=1 (CI), so the tests can't vanish."""
    import pytest

    reason = browser_missing()
    if reason and os.environ.get("PATHFINDER_REQUIRE_BROWSER") == "1":
        raise RuntimeError(f"browser tests are required here: {reason}")
    return pytest.mark.skipif(reason is not None, reason=reason or "")


def new_driver(width: int = 1280, height: int = 900, download_dir: Optional[Path] = None) -> WebDriver:
    """A fresh headless Chromium with its own empty profile (no state leaks between tests)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="pathfinder-chromium-")
    for flag in _QUIET_FLAGS + [f"--user-data-dir={profile}", f"--window-size={width},{height}"]:
        options.add_argument(flag)
    if download_dir is not None:
        options.add_experimental_option(
            "prefs", {"download.default_directory": str(download_dir), "download.prompt_for_download": False}
        )
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_window_size(width, height)
    driver.set_script_timeout(30)
    _remove_profile_on_quit(driver, profile)
    return driver


def _remove_profile_on_quit(driver: WebDriver, profile: str) -> None:
    quit_browser = driver.quit

    def quit_and_clean() -> None:
        try:
            quit_browser()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean  # type: ignore[method-assign]


def axe_violations(driver: WebDriver, tags: Optional[List[str]] = None) -> List[Dict]:
    """axe-core's violations on the current page, checked against WCAG 2.2 A and AA by default.

    Each violation is reduced to its id, impact, help text and the failing elements, so a
    failed assertion says what to fix.
    """
    driver.execute_script(AXE_SCRIPT.read_text(encoding="utf-8"))
    tags = tags or ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]
    result = driver.execute_async_script(
        "const done = arguments[arguments.length - 1];"
        "axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}})"
        ".then(r => done(r.violations)).catch(e => done([{id: 'axe-error', help: String(e), nodes: []}]));",
        tags,
    )
    return [
        {
            "id": item["id"],
            "impact": item.get("impact"),
            "help": item.get("help"),
            "nodes": [node.get("target") for node in item.get("nodes", [])][:5],
        }
        for item in result
    ]


def save_screenshot(driver: WebDriver, name: str) -> Path:
    """Keep a screenshot as a test artefact (artifacts/ at the project root, or PATHFINDER_ARTIFACTS)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path
