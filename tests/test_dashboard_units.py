"""Dashboard pieces without a server: password policy, CSRF comparison, display ids,
theme grouping, and the reports and users commands."""
from __future__ import annotations

import subprocess

import pytest

from bot.dashboard.auth import csrf_ok
from bot.dashboard.reports import group_into_themes
from services.passwords import PasswordRejected, hash_password, policy_problem, verify_password
from services.privacy import display_id, looks_like_display_id
from tests.conftest import PYTHON, ROOT, base_env
from tests.dashboard_helpers import PASSWORD, seed_scenario


@pytest.mark.parametrize("password, accepted", [
    ("short", False),
    ("elevenchars", False),
    ("password1234", False),  # on the common list
    ("PASSWORD1234", False),  # the list is checked case-insensitively
    ("aaaaaaaaaaaaaaaa", False),  # one repeated character
    ("correct horse battery", True),  # no composition rules: long plain words are fine
    ("tiny green kettles sing", True),
])
def test_password_policy(password, accepted):
    assert (policy_problem(password) is None) is accepted


def test_password_may_not_be_the_email():
    assert policy_problem("sam.jones@walsall.gov.uk", "sam.jones@walsall.gov.uk")


def test_passwords_are_argon2id_hashed_and_verified():
    hashed = hash_password(PASSWORD)
    assert hashed.startswith("$argon2id$") and PASSWORD not in hashed
    assert verify_password(hashed, PASSWORD) and not verify_password(hashed, PASSWORD + "x")
    assert not verify_password("not a hash", PASSWORD)
    with pytest.raises(PasswordRejected):
        hash_password("password1234")


def test_csrf_comparison():
    assert csrf_ok("abc", "abc")
    assert not csrf_ok("abc", "abd") and not csrf_ok("abc", None) and not csrf_ok(None, None) and not csrf_ok("", "")


def test_display_ids_are_stable_short_and_keyed():
    first = display_id("sms-0123456789abcdef", b"key one")
    assert first == display_id("sms-0123456789abcdef", b"key one") and looks_like_display_id(first)
    assert first != display_id("sms-0123456789abcdef", b"key two")
    assert "0123456789" not in first
    with pytest.raises(ValueError):
        display_id("x", b"")


def test_unanswered_questions_group_by_similar_wording():
    themes = group_into_themes([
        "can i get help paying for a gym membership",
        "is there free swimming for care leavers",
        "money for my gym",
        "free swimming pass?",
        "hello",
    ])
    groups = sorted(sorted(members) for _, members in themes)
    assert [0, 2] in groups and [1, 3] in groups and [4] in groups
    assert group_into_themes([]) == []


def run(module: str, *args: str, url: str, tmp_path, stdin: str = "") -> subprocess.CompletedProcess:
    env = base_env(PATHFINDER_DB_URL=url, PATHFINDER_VAR_DIR=str(tmp_path / "var"),
                   PATHFINDER_DASHBOARD_ID_KEY="test-display-key", PYTHONWARNINGS="ignore")
    return subprocess.run([PYTHON, "-m", module, *args], cwd=ROOT, env=env, input=stdin, capture_output=True,
                          text=True, timeout=120)


def test_reports_command_prints_the_same_redacted_reports(tmp_path):
    url = f"sqlite:///{tmp_path / 'reports.db'}"
    seed_scenario(url)
    markdown = run("bot.dashboard.reports", "--council", "walsall", url=url, tmp_path=tmp_path)
    assert markdown.returncode == 0, markdown.stderr[-2000:]
    assert "## Containment" in markdown.stdout and "gym membership" in markdown.stdout
    assert "07700" not in markdown.stdout and "nottingham only secret question" not in markdown.stdout
    out = tmp_path / "gaps.csv"
    csv_run = run("bot.dashboard.reports", "--report", "unanswered", "--format", "csv", "--out", str(out), url=url, tmp_path=tmp_path)
    assert csv_run.returncode == 0 and "gym membership" in out.read_text()
    bad = run("bot.dashboard.reports", "--since", "yesterday", url=url, tmp_path=tmp_path)
    assert bad.returncode == 2 and "not a date" in bad.stderr


def test_users_command_reads_the_password_from_stdin_and_applies_the_policy(tmp_path):
    url = f"sqlite:///{tmp_path / 'users.db'}"
    added = run("bot.dashboard.users", "add", "--email", "Sam@Walsall.gov.uk", "--role", "participation_worker",
                "--council", "walsall", url=url, tmp_path=tmp_path, stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    weak = run("bot.dashboard.users", "add", "--email", "b@walsall.gov.uk", "--role", "participation_worker",
               "--council", "walsall", url=url, tmp_path=tmp_path, stdin="password1234\n")
    assert weak.returncode == 1 and "too common" in weak.stderr
    no_council = run("bot.dashboard.users", "add", "--email", "c@walsall.gov.uk", "--role", "leaving_care_manager",
                     url=url, tmp_path=tmp_path, stdin=PASSWORD + "\n")
    assert no_council.returncode == 1 and "needs a council" in no_council.stderr
    listed = run("bot.dashboard.users", "list", url=url, tmp_path=tmp_path)
    assert "sam@walsall.gov.uk\tparticipation_worker\twalsall\tactive" in listed.stdout


def test_report_numbers(tmp_path):
    from bot.dashboard.reports import Scope, build
    from knowledge.db import make_engine

    url = f"sqlite:///{tmp_path / 'numbers.db'}"
    seed_scenario(url)
    tables = build(make_engine(url), b"test-display-key", Scope(council="walsall"))
    assert tables["containment"].rows == [[4, 3, 1, "75%"]]
    assert tables["satisfaction"].rows == [["money", 1, 0, "100%"]]
    assert tables["handoffs"].rows[0][:4] == ["urgent", 1, 0, 1]
    money = tables["topics"].columns.index("money")
    assert sum(row[money] for row in tables["topics"].rows) == 2  # grant and council tax; the rating tap is not a question


def test_subject_command_exports_and_erases_by_display_id_and_is_audited(tmp_path):
    import json

    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from knowledge.db import make_engine
    from services.privacy import display_id
    from services.staff import AuditEntry
    from tests.dashboard_helpers import DISPLAY_KEY, WALSALL_SMS_CRISIS

    url = f"sqlite:///{tmp_path / 'subject.db'}"
    seed_scenario(url)
    target = display_id(WALSALL_SMS_CRISIS, DISPLAY_KEY.encode())
    exported = run("bot.dashboard.subject", "export", target, "--staff", "dpo@walsall.gov.uk", url=url, tmp_path=tmp_path)
    assert exported.returncode == 0, exported.stderr[-2000:]
    held = json.loads(exported.stdout)
    assert held["conversation_id"] == WALSALL_SMS_CRISIS and held["referrals"][0]["contact_value"] == "07700 900123"
    erased = run("bot.dashboard.subject", "erase", target, "--staff", "dpo@walsall.gov.uk", url=url, tmp_path=tmp_path)
    assert erased.returncode == 0 and f"Erased {target}" in erased.stdout
    missing = run("bot.dashboard.subject", "export", target, "--staff", "dpo@walsall.gov.uk", url=url, tmp_path=tmp_path)
    assert missing.returncode == 1 and "No conversation" in missing.stderr
    with Session(make_engine(url)) as session:
        actions = session.execute(select(AuditEntry.action).where(AuditEntry.target == target)).scalars().all()
    assert actions == ["subject_access_export", "subject_erasure"]


def test_council_scoping_happens_in_the_query_and_the_last_council_named_decides(tmp_path):
    from bot.dashboard.conversations import Filters, list_conversations, load_conversations
    from knowledge.db import make_engine
    from tests.dashboard_helpers import NOTTINGHAM_SMS_CRISIS, NOW, Say, WALSALL_SMS_CRISIS, save_conversation

    url = f"sqlite:///{tmp_path / 'scope.db'}"
    seed_scenario(url)
    # Moved: first asked about Nottingham's offer, then said they were in care in Walsall.
    save_conversation(url, "web-moved", [
        Say("i live in nottingham", "inform_council", "eligibility", council="nottingham"),
        Say("actually i was in care in walsall", "inform_council", "eligibility", council="walsall"),
    ], None, "rest", NOW)
    engine, key = make_engine(url), b"k"
    read_for_walsall = load_conversations(engine, key, council="walsall")
    assert WALSALL_SMS_CRISIS in read_for_walsall and NOTTINGHAM_SMS_CRISIS not in read_for_walsall
    nottingham = {c.conversation_id for c in list_conversations(engine, key, "nottingham", Filters())}
    walsall = {c.conversation_id for c in list_conversations(engine, key, "walsall", Filters())}
    assert "web-moved" in walsall and "web-moved" not in nottingham and NOTTINGHAM_SMS_CRISIS in nottingham


def test_any_text_makes_a_csv_that_spreadsheets_open_safely():
    """#16: a NUL in one chat message broke every CSV report; fullwidth ＝ slipped past the
    formula guard."""
    import csv
    import io

    from bot.dashboard.reports import Table, to_csv
    rows = [["help\u0000 rent"], ["lone \ud83d surrogate"], ["\uff1dHYPERLINK(\"x\")"], ["  =1+1"], ["-5 quid"], ["ok"],
            ["\ufe62 1"], ["\u207c1"]]
    body = to_csv([Table("t", ["text"], rows)])
    cells = [row[0] for row in csv.reader(io.StringIO(body)) if row][2:]
    assert cells == ["help rent", "lone  surrogate", "'\uff1dHYPERLINK(\"x\")", "'  =1+1", "'-5 quid", "ok",
                     "'\ufe62 1", "'\u207c1"]  # small and superscript look-alikes too (found by tests/test_fuzz.py)


def test_the_rate_limiter_counts_a_sliding_minute_and_forgets_quiet_keys():
    from bot.rate_limit import RateLimiter
    now = [0.0]
    limiter = RateLimiter(2, clock=lambda: now[0])
    assert [limiter.allow("a") for _ in range(3)] == [True, True, False]
    now[0] = 59.0
    assert limiter.allow("a") is False and limiter.allow("b") is True
    now[0] = 61.0
    assert limiter.allow("a") is True  # the first two have left the window
    now[0] = 200.0
    limiter.allow("c")
    assert set(limiter._seen) == {"c"}  # quiet keys are dropped


# ---- the reports do not hold the event loop (#16: 1.5 s of database work stalled every page) ----
@pytest.mark.parametrize("path", ["/reports", "/reports/csv/all", "/reports/topics.png"])
def test_a_slow_report_leaves_the_dashboard_responsive(tmp_path, monkeypatch, path):
    """The report's work is made slow on purpose (a blocking sleep, as a slow query blocks);
    meanwhile a ticker on the same event loop must keep ticking, as other staff's pages must."""
    import asyncio
    import time

    from sanic import Sanic

    from bot.dashboard import app as dashboard_app
    from bot.dashboard import auth, reports
    from bot.dashboard.settings import DashboardSettings
    from knowledge.db import make_engine
    from tests.asgi import AsgiClient

    url = f"sqlite:///{tmp_path / 'dashboard.db'}"
    seed_scenario(url)
    monkeypatch.setattr(Sanic, "test_mode", True)
    admin = auth.Staff(id=1, email="admin@pathfinder.example", role="admin", council_id=None, csrf_token="t")
    monkeypatch.setattr(auth, "current_staff", lambda *args: admin)
    monkeypatch.setattr(auth, "audit", lambda *args, **kwargs: None)
    real_build, real_chart = reports.build, reports.topics_chart_png

    def slow(function):
        def wrapped(*args, **kwargs):
            time.sleep(2.0)
            return function(*args, **kwargs)
        return wrapped

    monkeypatch.setattr(reports, "build", slow(real_build))
    monkeypatch.setattr(reports, "topics_chart_png", slow(real_chart))
    app = dashboard_app.create_app(make_engine(url), DashboardSettings(database_url=url), b"k" * 32)

    async def check():
        client = await AsgiClient(app).start()
        gaps, done = [], asyncio.Event()

        async def ticker():
            last = time.monotonic()
            while not done.is_set():
                await asyncio.sleep(0.02)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        ticking = asyncio.create_task(ticker())
        started = time.monotonic()
        try:
            reply = await client.request("GET", path)
        finally:
            done.set()
            await ticking
            await client.stop()
        return reply, time.monotonic() - started, max(gaps)

    reply, took, longest_gap = asyncio.run(check())
    assert reply.status == 200, reply.body[:300]
    assert took >= 2.0, "the slow part ran"
    # Off the loop, the gaps stay far under the 2 s sleep; the chart's first matplotlib import
    # in its thread held the loop 0.6 s on a loaded machine, so the bound is 1 s, not 0.5.
    assert longest_gap < 1.0, f"the event loop was held for {longest_gap:.2f} s"
