"""The public site and the chat widget: headers, the proxy, and whole conversations in Chromium.

The browser tests drive headless Debian Chromium against `python -m bot.web` in front of the
session's real bot; hostile replies come from a fake bot (a tiny HTTP server in this process),
because the real one never sends them.
"""
from __future__ import annotations

import json
import re
import threading
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, Iterator, List, Optional

import pytest

from bot.web.conversation_ids import TOKEN_HEADER, ConversationIds
from tests.browser import axe_violations, browser_tests_marker, new_driver, save_screenshot
from tests.conftest import (
    ROOT, WALSALL_EDT_PHONE, WALSALL_TEAM_PHONE, ModuleServer, free_port, gives_walsall_a_number_that_answers_now,
    start_module_server, status_before_body,
)

pytestmark = browser_tests_marker()

WIDGET_JS = ROOT / "bot" / "web" / "static" / "pathfinder-widget.js"
COUNCIL_SITE = "https://www.walsall.gov.uk"
SITE_KEY = "test-site-key-for-conversation-tokens"


# ---- servers ----------------------------------------------------------------------------------
Site = ModuleServer


def start_site(rasa_url: str, database_url: str, folder: Path, **env: str) -> Site:
    """The public site on a free port, in front of `rasa_url`, reading offers from `database_url`.
    Every test's browser and client share one address (127.0.0.1), so its per-address limit
    is raised unless a test sets it."""
    limits = {"PATHFINDER_MESSAGES_PER_MINUTE_PER_ADDRESS": "100000", "PATHFINDER_SITE_KEY": SITE_KEY, **env}
    return start_module_server("bot.web", folder, PATHFINDER_RASA_URL=rasa_url, PATHFINDER_DB_URL=database_url,
                               PATHFINDER_CORS_ORIGINS=COUNCIL_SITE, **limits)


@pytest.fixture(scope="module")
def site(bot, session_dir) -> Iterator[Site]:
    running = start_site(bot.url, bot.database_url, session_dir / "site")
    yield running
    running.stop()


class FakeBot:
    """A stand-in Rasa REST channel that replies with whatever a test sets in `replies`."""

    def __init__(self) -> None:
        self.replies: List[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = json.dumps(fake.replies).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:  # noqa: N802
                body = b'{"paused": false, "messages": []}'
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()


@pytest.fixture(scope="module")
def fake_bot_site(bot, session_dir) -> Iterator[tuple]:
    fake = FakeBot()
    running = start_site(fake.url, bot.database_url, session_dir / "fake-site")
    yield fake, running
    running.stop()
    fake.stop()


def http(method: str, url: str, body: Optional[bytes] = None, headers: Optional[Dict[str, str]] = None):
    """(status, headers, body) without raising on 4xx/5xx."""
    request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=60) as reply:
            return reply.status, reply.headers, reply.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read()


def new_conversation(site_url: str) -> dict:
    """{"sender", "token"}: a conversation issued by the site, as the widget gets one."""
    status, headers, body = http("POST", site_url + "/webhooks/rest/session")
    assert status == 200 and headers["Cache-Control"] == "no-store", body
    return json.loads(body)


def issued_turn(site_url: str, message: str, **fields) -> dict:
    """A turn of a new site-issued conversation; its token under "token" (post_turn sends it)."""
    issued = new_conversation(site_url)
    return {**issued, "message": message, **fields}


def post_turn(site_url: str, turn: dict, origin: Optional[str] = None):
    """POST the turn, its "token" (if any) in the header the widget uses, not in the body."""
    headers = {"Content-Type": "application/json"}
    turn = dict(turn)
    token = turn.pop("token", None)
    if token is not None:
        headers[TOKEN_HEADER] = token
    if origin:
        headers["Origin"] = origin
    return http("POST", site_url + "/webhooks/rest/webhook", json.dumps(turn).encode(), headers)


# ---- HTTP-level checks ------------------------------------------------------------------------
class _Scripts(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.scripts: List[dict] = []
        self.inline_handlers: List[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.inline_handlers += [f"{tag} {name}" for name, _ in attrs if name.startswith("on")]
        if tag == "script":
            self.scripts.append({"attrs": dict(attrs), "body": ""})
            self._in_script = True

    def handle_endtag(self, tag):
        self._in_script = self._in_script and tag != "script"

    def handle_data(self, data):
        if self._in_script:
            self.scripts[-1]["body"] += data


@pytest.mark.parametrize("council", ["walsall", "cambridgeshire", "nottingham"])
def test_demo_page_embeds_the_widget_with_one_tag_and_no_inline_script(site, council):
    status, headers, body = http("GET", f"{site.url}/demo/{council}")
    assert status == 200
    parsed = _Scripts()
    parsed.feed(body.decode())
    assert parsed.scripts == [{"attrs": parsed.scripts[0]["attrs"], "body": ""}], "one external script, nothing inline"
    assert parsed.scripts[0]["attrs"]["src"] == "/widget/pathfinder-widget.js"
    assert parsed.scripts[0]["attrs"]["data-council"] == council
    assert not parsed.inline_handlers


@pytest.mark.parametrize("path", ["/", "/demo/walsall", "/widget/pathfinder-widget.js", "/widget/pathfinder-widget.css", "/demo/nowhere"])
def test_every_response_has_a_strict_content_security_policy(site, path):
    _, headers, _ = http("GET", site.url + path)
    policy = headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "style-src 'self'" in policy
    assert "object-src 'none'" in policy
    assert f"frame-ancestors 'self' {COUNCIL_SITE}" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy
    assert headers["X-Content-Type-Options"] == "nosniff"


def test_unknown_council_page_is_a_friendly_404(site):
    status, _, body = http("GET", f"{site.url}/demo/nowhere")
    assert status == 404
    assert b"/demo/walsall" in body


def test_council_facts_give_the_team_number_and_retention(site):
    status, _, body = http("GET", f"{site.url}/widget/councils/walsall.json")
    facts = json.loads(body)
    assert status == 200 and facts["team"]["phone"] == WALSALL_TEAM_PHONE and facts["retention_days"] == 90
    # what the widget says when it cannot reach the site, for any time of day (#16)
    assert WALSALL_TEAM_PHONE in facts["unreachable_help"] and f"Emergency Duty Team on {WALSALL_EDT_PHONE}" in facts["unreachable_help"]
    assert "call 999" in facts["unreachable_help"]
    assert http("GET", f"{site.url}/widget/councils/atlantis.json")[0] == 404


def test_widget_file_cannot_be_used_to_read_other_files(site):
    for path in ["/widget/..%2Fapp.py", "/widget/demo.html", "/widget/%2e%2e%2f%2e%2e%2fdomain.yml"]:
        assert http("GET", site.url + path)[0] == 404


def test_widget_source_never_builds_html_from_strings_or_uses_local_storage():
    """A cheap guard on top of the browser tests: these APIs are how chat widgets leak."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    code = "\n".join(line for line in source.splitlines() if not line.strip().startswith(("*", "/*", "//")))
    for forbidden in ["innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "localStorage", "eval(", "new Function"]:
        assert forbidden not in code, forbidden


@pytest.mark.parametrize(
    "body",
    [b"not json", json.dumps({"message": "hi"}).encode(), json.dumps({"sender": "a b", "message": "hi"}).encode(),
     json.dumps({"sender": "x", "message": 5}).encode(), json.dumps(["x"]).encode()],
)
def test_proxy_refuses_what_is_not_a_chat_turn(site, body):
    status, _, reply = http("POST", site.url + "/webhooks/rest/webhook", body, {"Content-Type": "application/json"})
    assert status == 400 and b"sender" in reply


def test_proxy_refuses_a_turn_not_sent_as_json(site):
    """#16: text/plain needs no CORS preflight, so any page could post into the proxy."""
    body = json.dumps({"sender": "plain", "message": "hi"}).encode()
    status, _, reply = http("POST", site.url + "/webhooks/rest/webhook", body, {"Content-Type": "text/plain"})
    assert status == 415 and b"Content-Type" in reply


def test_the_site_issues_unguessable_conversation_ids_with_tokens(site):
    """#16: the id was the only credential, and the site took any id a browser made up."""
    first, second = new_conversation(site.url), new_conversation(site.url)
    assert first["sender"] != second["sender"] and first["token"] != second["token"]
    assert re.fullmatch(r"web-[0-9a-f]{32}", first["sender"]), "128 random bits, made on the server"
    ids = ConversationIds(SITE_KEY.encode())
    assert ids.verify(first["sender"], first["token"]) and not ids.verify(first["sender"], second["token"])


@pytest.mark.parametrize("sender", ["12345", "True", "x", "web-" + "0" * 32])
def test_proxy_refuses_an_id_it_did_not_issue(site, sender):
    """Weak or made-up ids get a clear 4xx, with or without a token (even one signed for them)."""
    signed = ConversationIds(SITE_KEY.encode()).token_for(sender)
    others = new_conversation(site.url)["token"]
    status, _, body = post_turn(site.url, {"sender": sender, "message": "hi"})
    assert status == 401 and TOKEN_HEADER.encode() in body
    # a weak id is refused even with a token signed for it by the site's own key
    tokens = [others] if sender.startswith("web-") else [others, signed]
    for token in tokens:
        status, _, body = post_turn(site.url, {"sender": sender, "message": "hi", "token": token})
        assert status == 403 and b"not the one this site issued" in body


def test_proxy_refuses_a_turn_with_another_conversations_token(site):
    mine, theirs = new_conversation(site.url), new_conversation(site.url)
    status, _, _ = post_turn(site.url, {"sender": theirs["sender"], "message": "hi", "token": mine["token"]})
    assert status == 403
    status, _, _ = post_turn(site.url, {**theirs, "message": "hi"})
    assert status == 200


def site_updates(site_url: str, sender: str, token: Optional[str] = None):
    headers = {TOKEN_HEADER: token} if token is not None else {}
    return http("GET", f"{site_url}/webhooks/rest/updates?sender={sender}&since=0", headers=headers)


def test_a_workers_reply_is_read_only_with_that_conversations_token(bot, site, monkeypatch):
    """#16: with no credential, /updates?sender=<someone else's id> gave out a staff member's reply."""
    from bot import takeover

    monkeypatch.setenv("PATHFINDER_DB_URL", bot.database_url)
    api = {"url": bot.url, "token": bot.token}
    young_person, stranger = new_conversation(site.url), new_conversation(site.url)
    assert post_turn(site.url, {**young_person, "message": "can i talk to my pa", "metadata": {"council": "walsall"}})[0] == 200
    takeover.pause(young_person["sender"], **api)
    try:
        takeover.say(young_person["sender"], "Hi, it's Sam from the leaving care team.", staff="Sam", **api)
        assert site_updates(site.url, young_person["sender"])[0] == 401
        status, _, body = site_updates(site.url, young_person["sender"], stranger["token"])
        assert status == 403 and b"Sam" not in body
        status, _, body = site_updates(site.url, young_person["sender"], young_person["token"])
        assert status == 200 and [m["text"] for m in json.loads(body)["messages"]] == ["Hi, it's Sam from the leaving care team."]
    finally:
        takeover.resume(young_person["sender"], **api)


def test_a_browser_on_a_council_site_may_send_the_token(site):
    """The widget sends the token in a header: the CORS preflight must allow it for council sites."""
    _, headers, _ = http("OPTIONS", site.url + "/webhooks/rest/updates",
                         headers={"Origin": COUNCIL_SITE, "Access-Control-Request-Method": "GET",
                                  "Access-Control-Request-Headers": TOKEN_HEADER.lower()})
    assert TOKEN_HEADER in headers["Access-Control-Allow-Headers"]


def test_a_flood_is_slowed_but_a_crisis_message_always_gets_through(bot, session_dir):
    """#16: no rate limits let anyone flood the team with urgent alerts."""
    fake = FakeBot()
    fake.replies = [{"recipient_id": "x", "text": "an answer"}]
    limited = start_site(fake.url, bot.database_url, session_dir / "site-limited",
                         PATHFINDER_MESSAGES_PER_MINUTE="3", PATHFINDER_MESSAGES_PER_MINUTE_PER_ADDRESS="6")
    try:
        turn = issued_turn(limited.url, "how much is the grant")
        assert [post_turn(limited.url, turn)[0] for _ in range(3)] == [200, 200, 200]
        status, headers, body = post_turn(limited.url, turn)
        assert status == 429 and headers["Retry-After"] == "60" and "999" in json.loads(body)[0]["text"]
        status, _, body = post_turn(limited.url, {**turn, "message": "i want to kill myself tonight"})
        assert status == 200 and json.loads(body)[0]["text"] == "an answer"  # passed on to the bot
        other = issued_turn(limited.url, "hi")
        assert post_turn(limited.url, other)[0] == 200  # the 6th from this address
        assert post_turn(limited.url, other)[0] == 429  # the address's own limit
    finally:
        limited.stop()
        fake.stop()


def test_proxy_refuses_huge_bodies(site):
    status, _, _ = post_turn(site.url, issued_turn(site.url, "x" * 50_000))
    assert status == 413
    assert status_before_body(site.url, "/webhooks/rest/webhook", 5_000_000) == 413, "from the length, before reading"


def test_proxy_passes_a_turn_to_the_bot(site):
    status, _, body = post_turn(site.url, issued_turn(site.url, "how much is the setting up home grant", metadata={"council": "walsall"}))
    assert status == 200
    assert "£" in " ".join(m.get("text") or "" for m in json.loads(body))


def starter_payloads() -> List[str]:
    """The starter buttons' messages, read from the widget itself."""
    source = WIDGET_JS.read_text(encoding="utf-8")
    block = source[source.index("var STARTERS") : source.index("];", source.index("var STARTERS"))]
    return re.findall(r'\["[^"]+", "([^"]+)"\]', block)


def test_every_starter_button_gets_a_real_answer(site):
    payloads = starter_payloads()
    assert len(payloads) == 6
    for payload in payloads:
        _, _, body = post_turn(site.url, issued_turn(site.url, payload, metadata={"council": "walsall"}))
        said = " ".join(m.get("text") or "" for m in json.loads(body))
        assert "didn't understand" not in said and "couldn't find" not in said, (payload, said)


def test_cors_is_granted_only_to_the_council_sites(site):
    turn = issued_turn(site.url, "hi", metadata={"council": "walsall"})
    _, allowed, _ = post_turn(site.url, turn, origin=COUNCIL_SITE)
    _, refused, _ = post_turn(site.url, turn, origin="https://www.walsall.gov.uk.attacker.test")
    assert allowed["Access-Control-Allow-Origin"] == COUNCIL_SITE
    assert refused.get("Access-Control-Allow-Origin") is None


def test_proxy_answers_with_a_phone_number_when_the_bot_is_down(bot, session_dir):
    down = start_site(f"http://127.0.0.1:{free_port()}", bot.database_url, session_dir / "site-down")
    try:
        turn = issued_turn(down.url, "how do i get a bus pass", metadata={"council": "walsall"})
        _, headers, body = post_turn(down.url, turn)
        replies = [m["text"] for m in json.loads(body)]
        assert headers["X-Pathfinder-Fallback"] == "1"
        assert gives_walsall_a_number_that_answers_now(replies[-1])
        assert "call 999" in replies[-1]
        _, _, body = post_turn(down.url, {**turn, "message": "i want to kill myself tonight"})
        assert "116 123" in json.loads(body)[0]["text"], "the crisis numbers come first even with the bot down"
    finally:
        down.stop()


# ---- in the browser -------------------------------------------------------------------------------
WAIT = 60


def wait_for(driver, script: str, timeout: float = WAIT, *args):
    """Poll a JavaScript expression in the page until it is truthy; return its value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script("return (" + script + ");", *args)
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for: {script}")


def messages(driver) -> List[str]:
    return driver.execute_script("return [...document.querySelectorAll('.pf-msg')].map(m => m.textContent);")


def wait_for_reply(driver, count_before: int, containing: str = "") -> str:
    """Wait until the bot has answered (typing indicator gone, more messages than before)."""
    wait_for(
        driver,
        "document.querySelectorAll('.pf-msg').length > arguments[0] && !document.querySelector('.pf-typing-on')",
        WAIT,
        count_before + 1,
    )
    text = "\n".join(messages(driver)[count_before:])
    assert containing in text, text
    return text


def open_widget(driver, url: str) -> None:
    driver.get(url)
    wait_for(driver, "document.querySelector('.pf-root[data-ready]')")
    driver.find_element("css selector", ".pf-launcher").click()


def accept_notice(driver) -> None:
    notice = driver.find_element("css selector", ".pf-notice")
    assert "90 days" in notice.text and "not a person" in notice.text
    notice.find_element("css selector", "button").click()
    wait_for(driver, "document.activeElement && document.activeElement.id === 'pf-input'")


def ask(driver, text: str, containing: str = "") -> str:
    before = len(messages(driver))
    box = driver.find_element("id", "pf-input")
    box.send_keys(text)
    box.submit()
    return wait_for_reply(driver, before, containing)


def click_reply(driver, title: str, containing: str = "") -> str:
    before = len(messages(driver))
    buttons = [b for b in driver.find_elements("css selector", ".pf-reply") if b.text == title]
    assert buttons, f"no quick reply '{title}' in {[b.text for b in driver.find_elements('css selector', '.pf-reply')]}"
    buttons[-1].click()
    return wait_for_reply(driver, before, containing)


def assert_accessible(driver, state: str) -> None:
    violations = axe_violations(driver)
    assert violations == [], f"axe-core violations ({state}): {json.dumps(violations, indent=1)}"


@pytest.fixture
def phone():
    """A 375px-wide phone-sized Chromium."""
    driver = new_driver(375, 812)
    yield driver
    driver.quit()


def test_a_whole_conversation_on_a_phone(site, phone):
    open_widget(phone, f"{site.url}/demo/walsall")
    assert_accessible(phone, "privacy notice")
    accept_notice(phone)
    click_reply(phone, "Money I can get", "Did that help?")
    click_reply(phone, "Yes, it helped", "glad it helped")
    ask(phone, "can i stay with my foster carers after 18", "Staying Put")
    source = click_reply(phone, "Where is this from?", "last checked")  # the source is one tap away
    assert "2026" in source
    conversation_id = phone.execute_script("return sessionStorage.getItem('pathfinder:walsall:id');")
    assert len(json.loads(conversation_id)) == len("web-") + 32, "128 random bits"

    phone.refresh()
    wait_for(phone, "document.querySelector('.pf-root[data-ready]')")
    history = "\n".join(messages(phone))
    assert "Staying Put" in history and "glad it helped" in history, "the chat survives a reload in the same tab"
    assert "What you write here is private" not in history, "the widget's notice is not repeated by the bot"
    assert phone.execute_script("return sessionStorage.getItem('pathfinder:walsall:id');") == conversation_id
    assert phone.execute_script("return window.localStorage.length;") == 0, "nothing is left on a shared device"

    crisis = ask(phone, "i want to end my life", "116 123")
    assert "999" in crisis
    links = phone.execute_script("return [...document.querySelectorAll('.pf-msg a')].map(a => a.getAttribute('href'));")
    assert "tel:999" in links and "tel:116123" in links
    assert_accessible(phone, "conversation with crisis reply")
    assert save_screenshot(phone, "widget-375px.png").stat().st_size > 10_000
    loaded = phone.execute_script("return performance.getEntriesByType('resource').map(r => r.name);")
    assert loaded and all(url.startswith(site.url) for url in loaded), "nothing from a CDN or another site"


def test_an_arabic_conversation_reads_right_to_left_and_stays_accessible(site, phone):
    """#18: a reply in Arabic is laid out right to left (dir=auto on each text, button and
    the input), the language buttons too, and axe-core still finds nothing."""
    open_widget(phone, f"{site.url}/demo/walsall")
    accept_notice(phone)
    reply = ask(phone, "مرحبا، أنا بحاجة إلى مساعدة في السكن", "999")
    assert "Pathfinder" in reply and "بالإنجليزية" in reply
    directions = phone.execute_script(
        "return [...document.querySelectorAll('.pf-bot .pf-text')].map(p => [p.textContent, getComputedStyle(p).direction]);"
    )
    arabic = [direction for text, direction in directions if "ال" in text]
    assert arabic and set(arabic) == {"rtl"}, directions
    english = [direction for text, direction in directions if text.startswith(("Hi", "What you", "Sorry"))]
    assert set(english) <= {"ltr"}
    user = phone.execute_script("return getComputedStyle([...document.querySelectorAll('.pf-user .pf-text')].pop()).direction;")
    assert user == "rtl"
    click_reply(phone, "English", "English")
    assert_accessible(phone, "Arabic conversation")


def test_reduced_motion_stops_the_typing_animation(site, phone):
    phone.execute_cdp_cmd("Emulation.setEmulatedMedia", {"features": [{"name": "prefers-reduced-motion", "value": "reduce"}]})
    open_widget(phone, f"{site.url}/demo/walsall")
    animation = phone.execute_script(
        "const t = document.querySelector('.pf-typing'); t.classList.add('pf-typing-on');"
        "return getComputedStyle(t, '::after').animationName;"
    )
    assert animation == "none"


def test_the_widget_reflows_at_320px_and_200_percent_zoom(site):
    """WCAG reflow: at 320 CSS pixels (a 640px window at 200% zoom) nothing scrolls sideways."""
    driver = new_driver(640, 900)
    try:
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {"width": 320, "height": 450, "deviceScaleFactor": 2, "mobile": False})
        open_widget(driver, f"{site.url}/demo/cambridgeshire")
        accept_notice(driver)
        sideways = driver.execute_script(
            "const root = document.documentElement, log = document.querySelector('.pf-log');"
            "return [root.scrollWidth - root.clientWidth, log.scrollWidth - log.clientWidth];"
        )
        assert sideways == [0, 0], "no sideways scrolling at 320 CSS pixels"
        assert_accessible(driver, "320 CSS pixels")
    finally:
        driver.quit()


def test_keyboard_only_conversation(site):
    from selenium.webdriver.common.keys import Keys

    driver = new_driver(1280, 900)
    try:
        driver.get(f"{site.url}/demo/nottingham")
        wait_for(driver, "document.querySelector('.pf-root[data-ready]')")

        def focused() -> str:
            return driver.execute_script("return document.activeElement ? document.activeElement.textContent.trim() : '';")

        def press(key) -> None:
            driver.switch_to.active_element.send_keys(key)

        def tab_to(label: str, backwards: bool = False) -> None:
            for _ in range(40):
                if focused() == label:
                    outline = driver.execute_script(
                        "const s = getComputedStyle(document.activeElement); return s.outlineStyle !== 'none' && s.outlineWidth !== '0px';")
                    assert outline, f"'{label}' has no visible focus"
                    return
                press(Keys.SHIFT + Keys.TAB if backwards else Keys.TAB)
            raise AssertionError(f"could not reach '{label}' by keyboard")

        tab_to("Ask Pathfinder")
        press(Keys.ENTER)
        tab_to("OK, start chatting")
        press(Keys.ENTER)
        wait_for(driver, "document.activeElement.id === 'pf-input'")
        before = len(messages(driver))
        press("can i get help with my rent")
        press(Keys.ENTER)
        wait_for_reply(driver, before, "Did that help?")
        tab_to("Yes, it helped", backwards=True)
        before = len(messages(driver))
        press(Keys.ENTER)
        wait_for_reply(driver, before, "glad it helped")
        press(Keys.ESCAPE)
        assert focused() == "Ask Pathfinder" and driver.find_element("id", "pf-panel").get_attribute("hidden")
    finally:
        driver.quit()


HOSTILE = ["<script>window.__pwned = 1</script>", "<img src=x onerror=\"window.__pwned = 1\">", "[x](javascript:window.__pwned=1)"]


def assert_nothing_ran(driver) -> None:
    assert driver.execute_script("return window.__pwned;") is None
    assert driver.execute_script("return document.querySelectorAll('.pf-root img, .pf-root script, .pf-root iframe').length;") == 0
    hrefs = driver.execute_script("return [...document.querySelectorAll('.pf-root a')].map(a => a.getAttribute('href'));")
    assert all(href.split(":")[0] in ("https", "tel", "sms", "mailto") for href in hrefs), hrefs


def test_hostile_user_text_is_shown_as_text(site, phone):
    open_widget(phone, f"{site.url}/demo/walsall")
    accept_notice(phone)
    for attack in HOSTILE:
        ask(phone, attack)
    shown = "\n".join(messages(phone))
    for attack in HOSTILE:
        assert attack in shown, "the text is shown exactly as typed"
    assert_nothing_ran(phone)


def test_hostile_bot_replies_are_shown_as_text_and_bad_links_dropped(fake_bot_site, phone):
    fake, fake_site = fake_bot_site
    fake.replies = [
        {"recipient_id": "x", "text": HOSTILE[1], "buttons": [
            {"title": "<b>run</b>", "payload": "javascript:window.__pwned=1"},
            {"title": "data", "payload": "data:text/html,<script>window.__pwned=1</script>"},
            {"title": "Open the offer", "payload": "https://www.walsall.gov.uk/care-leavers"},
            {"title": "Ask again", "payload": "hello"},
        ]},
        {"recipient_id": "x", "text": HOSTILE[2]},
    ]
    open_widget(phone, f"{fake_site.url}/demo/walsall")
    accept_notice(phone)
    ask(phone, "hello", HOSTILE[1])
    assert HOSTILE[2] in "\n".join(messages(phone))
    assert_nothing_ran(phone)
    link = phone.find_element("link text", "Open the offer")
    assert link.get_attribute("rel") == "noopener noreferrer"
    replies = [b.text for b in phone.find_elements("css selector", ".pf-reply")]
    assert replies == ["Ask again"], "javascript: and data: payloads are neither links nor replies"


def test_unreachable_server_gives_the_team_phone_number(bot, session_dir, phone):
    doomed = start_site(bot.url, bot.database_url, session_dir / "site-doomed")
    try:
        open_widget(phone, f"{doomed.url}/demo/walsall")
        accept_notice(phone)
    finally:
        doomed.stop()
    text = ask(phone, "how much is the setting up home grant", "can't connect")
    assert WALSALL_TEAM_PHONE in text and "999" in text
    assert f"Out of hours, call the Emergency Duty Team on {WALSALL_EDT_PHONE}" in text, "not only the office number (#16)"
    calls = [a.get_attribute("href") for a in phone.find_elements("css selector", ".pf-error a.pf-call")]
    assert calls == ["tel:01632960201", "tel:01632960202"]
    assert_accessible(phone, "unreachable")


def test_quick_exit_and_start_again_clear_the_chat(site, phone):
    open_widget(phone, f"{site.url}/demo/walsall")
    accept_notice(phone)
    ask(phone, "what is a personal adviser", "")
    first_id = phone.execute_script("return sessionStorage.getItem('pathfinder:walsall:id');")
    phone.find_element("css selector", ".pf-tools button").click()  # Start again
    assert phone.execute_script("return sessionStorage.getItem('pathfinder:walsall:id');") != first_id
    assert "personal adviser" not in "\n".join(messages(phone)).lower()

    ask(phone, "what is a personal adviser", "")
    phone.find_element("css selector", ".pf-exit").click()
    wait_for(phone, "!location.href.startsWith(arguments[0])", 20, site.url)
    phone.get(f"{site.url}/demo/walsall")  # back to the council page in the same tab
    wait_for(phone, "document.querySelector('.pf-root[data-ready]')")
    assert phone.execute_script("return Object.keys(sessionStorage).filter(k => k.startsWith('pathfinder:') && !k.endsWith(':id'));") == []
    assert messages(phone) == [], "nothing of the chat is left after leaving quickly"
