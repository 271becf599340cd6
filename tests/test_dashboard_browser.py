"""The issue's done-when, in a real browser (headless Chromium): a participation worker signs
in, filters to crisis-flagged SMS conversations of their council, opens a transcript that
shows redacted text, tags it, and downloads the unanswered-questions CSV; a worker of
another council sees it neither in the list nor by URL. Each page is checked with axe-core.

The browser opens http://localhost: Chromium treats localhost as a secure origin, so the
dashboard's Secure session cookie works there exactly as behind TLS in production.
"""
from __future__ import annotations

import contextlib
import time
from pathlib import Path
from typing import Iterator

import pytest

from tests.browser import axe_violations, browser_tests_marker, new_driver, save_screenshot
from tests.dashboard_helpers import (
    NOTTINGHAM_SMS_CRISIS,
    PASSWORD,
    SECRET_NAME,
    SECRET_PHONE,
    WALSALL_SMS_CRISIS,
    WALSALL_WEB_GAP,
    add_staff,
    seed_scenario,
    start_dashboard,
)
from tests.test_dashboard import shown

pytestmark = browser_tests_marker()

WORKER, OTHER_WORKER, MANAGER = "sam@walsall.gov.uk", "alex@nottingham.gov.uk", "kim@walsall.gov.uk"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    folder = tmp_path_factory.mktemp("dashboard-browser")
    url = f"sqlite:///{folder / 'dashboard.db'}"
    seed_scenario(url)
    add_staff(url, WORKER, "participation_worker", "walsall")
    add_staff(url, OTHER_WORKER, "participation_worker", "nottingham")
    add_staff(url, MANAGER, "leaving_care_manager", "walsall")
    server = start_dashboard(url, folder)
    yield server.url.replace("127.0.0.1", "localhost"), folder
    server.stop()


@contextlib.contextmanager
def signed_in_browser(base: str, email: str, **options) -> Iterator:
    """A fresh Chromium signed in as `email`, closed afterwards whatever happens."""
    driver = new_driver(**options)
    try:
        sign_in(driver, base, email)
        yield driver
    finally:
        driver.quit()


def sign_in(driver, base: str, email: str) -> None:
    from selenium.webdriver.common.by import By

    driver.get(base + "/login")
    assert_accessible(driver, "login")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "main button[type=submit]").click()
    wait_for_heading(driver, "Conversations")


def wait_for_heading(driver, expected: str, timeout: float = 15) -> None:
    """Wait until the page that a click or form post led to has loaded (its h1 is `expected`)."""
    from selenium.common.exceptions import TimeoutException, WebDriverException
    from selenium.webdriver.support.ui import WebDriverWait

    def arrived(d) -> bool:
        # One script call reads the heading atomically: finding the element and then asking
        # for its text is two calls, and a navigation in between makes Chromium answer
        # "Node with given id does not belong to the document" (seen in CI).
        try:
            heading = d.execute_script("const h = document.querySelector('h1'); return h ? h.innerText.trim() : null;")
        except WebDriverException:  # the old page is unloading; ask again on the next poll
            return False
        return heading == expected

    try:
        WebDriverWait(driver, timeout).until(arrived)
    except TimeoutException:
        save_screenshot(driver, f"dashboard-wait-{expected.replace(' ', '-')}.png")
        raise AssertionError(f"expected the page {expected!r}; got {driver.current_url}:\n{driver.page_source[:3000]}")


def assert_accessible(driver, page: str) -> None:
    violations = axe_violations(driver)
    if violations:
        save_screenshot(driver, f"dashboard-{page}.png")
    assert violations == [], f"{page}: {violations}"


def wait_for_file(path: Path, timeout: float = 20) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and path.stat().st_size:
            return path.read_text(encoding="utf8")
        time.sleep(0.2)
    raise AssertionError(f"{path.name} was not downloaded")


def test_worker_reviews_a_crisis_sms_conversation_and_downloads_the_gaps(site, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, _ = site
    with signed_in_browser(base, WORKER, download_dir=tmp_path) as driver:
        driver.find_element(By.ID, "crisis").click()
        Select(driver.find_element(By.ID, "channel")).select_by_visible_text("SMS")
        driver.find_element(By.XPATH, "//button[normalize-space()='Apply filters']").click()
        WebDriverWait(driver, 15).until(lambda d: "crisis=1" in d.current_url)
        wait_for_heading(driver, "Conversations")
        rows = driver.find_elements(By.CSS_SELECTOR, "tbody tr")
        listed = [row.find_element(By.CSS_SELECTOR, "th a").text for row in rows]
        assert listed == [shown(WALSALL_SMS_CRISIS)]
        assert_accessible(driver, "list")

        driver.find_element(By.LINK_TEXT, shown(WALSALL_SMS_CRISIS)).click()
        wait_for_heading(driver, f"Conversation {shown(WALSALL_SMS_CRISIS)}")
        page = driver.page_source
        assert "landline [phone]" in page and "[name]" in page and SECRET_PHONE not in page and SECRET_NAME not in page
        assert_accessible(driver, "transcript")

        driver.find_element(By.ID, "new-tag").send_keys("Follow up")
        driver.find_element(By.XPATH, "//button[normalize-space()='Add tag']").click()
        WebDriverWait(driver, 15, ignored_exceptions=[StaleElementReferenceException]).until(
            lambda d: d.find_element(By.XPATH, "//dt[text()='Tags']/following-sibling::dd[1]").text == "follow up")

        driver.find_element(By.LINK_TEXT, "Reports").click()
        wait_for_heading(driver, "Reports")
        assert_accessible(driver, "reports")
        driver.find_element(By.LINK_TEXT, "Download unanswered as CSV").click()
        body = wait_for_file(tmp_path / "pathfinder-unanswered.csv")
        assert "gym membership" in body and shown(WALSALL_WEB_GAP) in body
        assert SECRET_PHONE not in body and "nottingham only secret question" not in body


def test_a_worker_of_another_council_cannot_see_it(site):
    from selenium.webdriver.common.by import By

    base, _ = site
    with signed_in_browser(base, OTHER_WORKER) as driver:
        listed = [a.text for a in driver.find_elements(By.CSS_SELECTOR, "tbody th a")]
        assert shown(NOTTINGHAM_SMS_CRISIS) in listed and shown(WALSALL_SMS_CRISIS) not in listed
        driver.get(f"{base}/conversations/{shown(WALSALL_SMS_CRISIS)}")
        wait_for_heading(driver, "Not found")
        assert "text me on" not in driver.page_source and SECRET_PHONE not in driver.page_source


def test_a_manager_acknowledges_an_urgent_referral(site):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions
    from selenium.webdriver.support.ui import Select, WebDriverWait

    base, _ = site
    with signed_in_browser(base, MANAGER) as driver:
        driver.find_element(By.LINK_TEXT, "Referrals").click()
        wait_for_heading(driver, "Referrals")
        assert_accessible(driver, "referrals")
        row = driver.find_element(By.CSS_SELECTOR, "tbody tr.urgent")
        assert SECRET_PHONE not in row.text and "please ring [contact details]" in row.text
        Select(row.find_element(By.TAG_NAME, "select")).select_by_visible_text("acknowledged")
        row.find_element(By.XPATH, ".//button[normalize-space()='Save']").click()
        WebDriverWait(driver, 15).until(expected_conditions.staleness_of(row))  # the page was reloaded
        wait_for_heading(driver, "Referrals")
        status = Select(driver.find_element(By.CSS_SELECTOR, "tbody tr.urgent select")).first_selected_option.text
        assert status == "acknowledged"
