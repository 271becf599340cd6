"""The staff dashboard over HTTP, on SQLite and PostgreSQL: sign-in, sessions, CSRF,
throttling, council scoping (by list and by URL), redacted transcripts, tags, referrals,
reports, subject access and erasure, and the audit log."""
from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from knowledge.db import make_engine
from services.models import Referral
from services.privacy import display_id
from services.staff import AuditEntry, AuditLogIsAppendOnly, ConversationTag, StaffSession
from tests.dashboard_helpers import (
    DISPLAY_KEY,
    NOTTINGHAM_SMS_CRISIS,
    SECRET_CONTACT,
    SECRET_LANDLINE,
    SECRET_NAME,
    SECRET_PHONE,
    WALSALL_SMS_CRISIS,
    WALSALL_WEB_GAP,
    WALSALL_WEB_HAPPY,
    Client,
    add_staff,
    fresh_database,
    seed_scenario,
    start_dashboard,
)

WORKER, OTHER_WORKER, MANAGER, ADMIN = "worker@walsall.gov.uk", "worker@nottingham.gov.uk", "manager@walsall.gov.uk", "admin@pathfinder.example"
LOGIN_ERROR = "did not match, or there have been too many attempts"


def shown(conversation_id: str) -> str:
    return display_id(conversation_id, DISPLAY_KEY.encode())


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def dashboard(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(f"dashboard-{request.param}")
    url, drop = fresh_database(request.param, folder)
    seed_scenario(url)
    for email, role, council in [(WORKER, "participation_worker", "walsall"), (OTHER_WORKER, "participation_worker", "nottingham"),
                                 (MANAGER, "leaving_care_manager", "walsall"), (ADMIN, "admin", None),
                                 ("throttled@walsall.gov.uk", "participation_worker", "walsall")]:
        add_staff(url, email, role, council)
    server = start_dashboard(url, folder)
    engine = make_engine(url)
    yield server, engine
    engine.dispose()
    server.stop()
    drop()


@pytest.fixture()
def server(dashboard):
    return dashboard[0]


@pytest.fixture()
def engine(dashboard):
    return dashboard[1]


def signed_in(server, email: str) -> Client:
    client = Client(server.url)
    reply = client.login(email)
    assert reply.status_code == 303, reply.text
    return client


def test_unauthenticated_requests_are_sent_to_sign_in(server):
    client = Client(server.url)
    for path in ("/conversations", f"/conversations/{shown(WALSALL_WEB_GAP)}", "/reports", "/reports/csv/unanswered",
                 "/referrals", "/admin/users"):
        reply = client.get(path)
        assert reply.status_code == 302 and reply.headers["Location"] == "/login", path
    reply = client.post(f"/conversations/{shown(WALSALL_WEB_GAP)}/tags", {"tag": "x", "csrf_token": "x"})
    assert reply.status_code == 401


def test_session_cookie_is_secure_httponly_strict_and_new_at_each_sign_in(server):
    client = Client(server.url)
    client.get("/login")
    reply = client.login(WORKER)
    cookie = next(h for h in reply.raw.headers.getlist("Set-Cookie") if h.startswith("pf_session="))
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Strict" in cookie
    first = client.cookies["pf_session"]
    client.login(WORKER)
    second = client.cookies["pf_session"]
    assert second != first
    stale = Client(server.url)
    stale.cookies["pf_session"] = first
    assert stale.get("/conversations").status_code == 302  # the pre-login session was ended


def test_wrong_password_gets_a_generic_error(server):
    client = Client(server.url)
    for email in (WORKER, "nobody@walsall.gov.uk"):
        reply = client.login(email, "not the right password at all")
        assert reply.status_code == 401 and LOGIN_ERROR in reply.text
        assert "pf_session" not in client.cookies


def test_login_is_throttled_after_repeated_failures(server):
    client = Client(server.url)
    for _ in range(5):
        assert client.login("throttled@walsall.gov.uk", "wrong password, try again").status_code == 401
    reply = client.login("throttled@walsall.gov.uk")  # even the right password is refused for now
    assert reply.status_code == 429 and LOGIN_ERROR in reply.text
    assert "pf_session" not in client.cookies


def test_login_form_needs_its_csrf_token(server):
    client = Client(server.url)
    client.get("/login")
    reply = client.post("/login", {"email": WORKER, "password": "a long and unusual passphrase"})
    assert reply.status_code == 403 and "pf_session" not in client.cookies


def test_worker_sees_only_their_councils_conversations(server):
    page = signed_in(server, WORKER).get("/conversations").text
    for mine in (WALSALL_SMS_CRISIS, WALSALL_WEB_GAP, WALSALL_WEB_HAPPY):
        assert shown(mine) in page
    assert shown(NOTTINGHAM_SMS_CRISIS) not in page
    # Asking for another council in the query string changes nothing for a worker.
    assert shown(NOTTINGHAM_SMS_CRISIS) not in signed_in(server, WORKER).get("/conversations?council=nottingham").text
    other = signed_in(server, OTHER_WORKER).get("/conversations").text
    assert shown(NOTTINGHAM_SMS_CRISIS) in other and shown(WALSALL_SMS_CRISIS) not in other
    everything = signed_in(server, ADMIN).get("/conversations").text
    assert shown(NOTTINGHAM_SMS_CRISIS) in everything and shown(WALSALL_SMS_CRISIS) in everything


def test_another_councils_conversation_is_not_found_by_url(server):
    client = signed_in(server, WORKER)
    token = client.csrf_token("/conversations")
    for wanted in (shown(NOTTINGHAM_SMS_CRISIS), NOTTINGHAM_SMS_CRISIS, "YP-00000000"):
        assert client.get(f"/conversations/{wanted}").status_code == 404
        assert client.get(f"/conversations/{wanted}/transcript.csv").status_code == 404
        assert client.post(f"/conversations/{wanted}/tags", {"tag": "x", "csrf_token": token}).status_code == 404


def test_raw_ids_from_referral_emails_redirect_to_the_display_id(server):
    reply = signed_in(server, WORKER).get(f"/conversations/{WALSALL_SMS_CRISIS}")
    assert reply.status_code == 302 and reply.headers["Location"] == f"/conversations/{shown(WALSALL_SMS_CRISIS)}"


def test_the_link_in_a_referral_email_leads_to_its_conversation_for_its_council_only(server, engine):
    """The e-mail names the referral, not the conversation id (#16); the link still works."""
    with Session(engine) as session:
        walsall = session.execute(select(Referral.id).where(Referral.conversation_id == WALSALL_SMS_CRISIS)).scalar()
    reply = signed_in(server, WORKER).get(f"/referrals/{walsall}/conversation")
    assert reply.status_code == 302 and reply.headers["Location"] == f"/conversations/{shown(WALSALL_SMS_CRISIS)}"
    assert signed_in(server, OTHER_WORKER).get(f"/referrals/{walsall}/conversation").status_code == 404
    assert signed_in(server, WORKER).get("/referrals/99999999999999999999/conversation").status_code == 404


def test_filters_find_crisis_sms_conversations(server):
    client = signed_in(server, WORKER)
    page = client.get("/conversations?crisis=1&channel=sms").text
    assert shown(WALSALL_SMS_CRISIS) in page and shown(WALSALL_WEB_GAP) not in page
    page = client.get("/conversations?fallback=1").text
    assert shown(WALSALL_WEB_GAP) in page and shown(WALSALL_SMS_CRISIS) not in page
    page = client.get("/conversations?topic=money&channel=rest").text
    assert shown(WALSALL_WEB_GAP) in page and shown(WALSALL_WEB_HAPPY) in page and shown(WALSALL_SMS_CRISIS) not in page
    assert shown(WALSALL_WEB_GAP) not in client.get("/conversations?from=2030-01-01").text


def test_transcript_is_redacted_and_shows_topic_and_confidence(server):
    client = signed_in(server, WORKER)
    page = client.get(f"/conversations/{shown(WALSALL_SMS_CRISIS)}").text
    assert SECRET_PHONE not in page and SECRET_NAME not in page and WALSALL_SMS_CRISIS not in page
    assert SECRET_LANDLINE not in page and SECRET_CONTACT not in page
    assert "text me on [contact details]" in page and "or e-mail [contact details]" in page
    assert "[name] here, I live at [address] [postcode], landline [phone]" in page
    assert "crisis" in page and "0.99" in page
    csv_text = client.get(f"/conversations/{shown(WALSALL_SMS_CRISIS)}/transcript.csv").text
    assert "landline [phone]" in csv_text and SECRET_PHONE not in csv_text and SECRET_NAME not in csv_text


def test_tags_need_a_csrf_token_and_then_filter_the_list(server, engine):
    client = signed_in(server, WORKER)
    path = f"/conversations/{shown(WALSALL_WEB_GAP)}"
    assert client.post(path + "/tags", {"tag": "gym gap"}).status_code == 403
    assert client.post(path + "/tags", {"tag": "gym gap", "csrf_token": "forged"}).status_code == 403
    with Session(engine) as session:
        assert not session.execute(select(ConversationTag).where(ConversationTag.tag == "gym gap")).first()
    assert client.get(path + "/tags").status_code in (404, 405)  # never changed by GET
    reply = client.post(path + "/tags", {"tag": "gym gap", "csrf_token": client.csrf_token(path)})
    assert reply.status_code == 303
    assert shown(WALSALL_WEB_GAP) in client.get("/conversations?tag=gym+gap").text
    assert shown(WALSALL_WEB_HAPPY) not in client.get("/conversations?tag=gym+gap").text


def test_notes_are_redacted_when_shown(server):
    client = signed_in(server, WORKER)
    path = f"/conversations/{shown(WALSALL_WEB_HAPPY)}"
    client.post(path + "/notes", {"note": "called back on 07700 900999", "csrf_token": client.csrf_token(path)})
    page = client.get(path).text
    assert "called back on [phone]" in page and "900999" not in page


def test_referrals_are_for_managers_of_the_council(server, engine):
    assert signed_in(server, WORKER).get("/referrals").status_code == 403
    manager = signed_in(server, MANAGER)
    page = manager.get("/referrals").text
    assert "urgent" in page and SECRET_PHONE not in page and shown(WALSALL_SMS_CRISIS) in page
    with Session(engine) as session:
        mine = session.execute(select(Referral.id).where(Referral.council_id == "walsall")).scalar_one()
        theirs = session.execute(select(Referral.id).where(Referral.council_id == "nottingham")).scalar_one()
    token = manager.csrf_token("/referrals")
    assert manager.post(f"/referrals/{theirs}/status", {"status": "closed", "csrf_token": token}).status_code == 404
    assert manager.post(f"/referrals/{mine}/status", {"status": "acknowledged"}).status_code == 403
    for huge in ("99999999999999999999", "2147483648"):  # #16: an id past the database's integer was a 500
        assert manager.post(f"/referrals/{huge}/status", {"status": "closed", "csrf_token": token}).status_code == 404
    assert manager.post(f"/referrals/{mine}/status", {"status": "acknowledged", "csrf_token": token}).status_code == 303
    with Session(engine) as session:
        referral = session.get(Referral, mine)
        assert referral.status == "acknowledged" and referral.acknowledged_at is not None
        assert session.get(Referral, theirs).status == "new"


def test_a_manager_can_see_a_referrals_contact_details_on_purpose_and_it_is_audited(server, engine):
    """The referral e-mail leaves the number out, so the dashboard must give it to the team."""
    with Session(engine) as session:
        mine = session.execute(select(Referral.id).where(Referral.council_id == "walsall")).scalar_one()
        theirs = session.execute(select(Referral.id).where(Referral.council_id == "nottingham")).scalar_one()
    worker = signed_in(server, WORKER)
    assert worker.post(f"/referrals/{mine}/contact", {"csrf_token": worker.csrf_token("/conversations")}).status_code == 403
    manager = signed_in(server, MANAGER)
    token = manager.csrf_token("/referrals")
    assert manager.get(f"/referrals/{mine}/contact").status_code in (404, 405), "never by GET"
    assert manager.post(f"/referrals/{mine}/contact", {}).status_code == 403
    assert manager.post(f"/referrals/{theirs}/contact", {"csrf_token": token}).status_code == 404
    shown_page = manager.post(f"/referrals/{mine}/contact", {"csrf_token": token})
    assert shown_page.status_code == 200 and SECRET_PHONE in shown_page.text and SECRET_NAME in shown_page.text
    with Session(engine) as session:
        actions = session.execute(select(AuditEntry.action, AuditEntry.target)).all()
    assert ("view_referral_contact", f"referral {mine}") in actions


def test_an_urgent_referral_not_emailed_in_time_says_not_delivered(server, engine):
    """The seeded urgent referrals are two days old and were never e-mailed (issue #13)."""
    manager = signed_in(server, MANAGER)
    page = manager.get("/referrals").text
    assert "1 urgent referral not delivered" in page and "not delivered</span>" in page
    with Session(engine) as session, session.begin():
        mine = session.execute(select(Referral).where(Referral.council_id == "walsall")).scalar_one()
        mine.notified_at = dt.datetime.utcnow()
    try:
        page = manager.get("/referrals").text
        assert "not delivered" not in page and "sent " in page
    finally:
        with Session(engine) as session, session.begin():
            session.execute(update(Referral).where(Referral.council_id == "walsall").values(notified_at=None))


def test_reports_page_chart_and_csv(server):
    client = signed_in(server, WORKER)
    page = client.get("/reports").text
    assert "Containment" in page and "Satisfaction" in page and "<th scope=\"col\">week</th>" in page
    chart = client.get("/reports/topics.png")
    assert chart.headers["Content-Type"] == "image/png" and chart.content.startswith(b"\x89PNG")
    unanswered = client.get("/reports/csv/unanswered")
    assert unanswered.headers["Content-Type"].startswith("text/csv")
    body = unanswered.text
    assert "gym membership" in body and "money for my gym" in body and "free swimming" in body
    assert "nottingham only secret question" not in body
    gym_rows = [line for line in body.splitlines() if "gym" in line]
    assert len({row.split(",")[0] for row in gym_rows}) == 1  # the two gym questions share one theme
    swimming_theme = next(line for line in body.splitlines() if "swimming" in line).split(",")[0]
    assert swimming_theme != gym_rows[0].split(",")[0]
    assert "handoffs" in client.get("/reports/csv/all").text.lower() or "Hand-offs" in client.get("/reports/csv/all").text


def test_audit_log_records_views_exports_and_changes_and_is_append_only(server, engine):
    client = signed_in(server, WORKER)
    client.get(f"/conversations/{shown(WALSALL_WEB_HAPPY)}")
    client.get("/reports/csv/topics")
    with Session(engine) as session:
        entries = session.execute(select(AuditEntry).where(AuditEntry.staff_email == WORKER)).scalars().all()
        actions = {e.action for e in entries}
        assert {"login", "view_conversation", "export_report"} <= actions
        assert all(WALSALL_WEB_HAPPY not in (e.target or "") for e in entries)
        entries[0].action = "rewritten"
        with pytest.raises(AuditLogIsAppendOnly):
            session.flush()


def test_idle_and_absolute_session_timeouts(server, engine):
    for column, age in ((StaffSession.last_seen_at, dt.timedelta(minutes=31)), (StaffSession.created_at, dt.timedelta(hours=9))):
        client = signed_in(server, WORKER)
        assert client.get("/conversations").status_code == 200
        with Session(engine) as session, session.begin():
            session.execute(update(StaffSession).values({column: dt.datetime.utcnow() - age}))
        assert client.get("/conversations").status_code == 302


def test_subject_access_and_erasure_are_admin_only_and_audited(server, engine):
    target = shown(WALSALL_WEB_HAPPY)
    worker = signed_in(server, WORKER)
    assert worker.get(f"/admin/subject/{target}/export").status_code == 403
    admin = signed_in(server, ADMIN)
    exported = json.loads(admin.get(f"/admin/subject/{target}/export").text)
    assert exported["conversation_id"] == WALSALL_WEB_HAPPY and any(e["type"] == "user" for e in exported["events"])
    token = admin.csrf_token(f"/conversations/{target}")
    assert admin.post(f"/admin/subject/{target}/erase", {"csrf_token": token, "confirm": "wrong"}).status_code == 400
    assert admin.post(f"/admin/subject/{target}/erase", {"csrf_token": token, "confirm": target}).status_code == 200
    assert admin.get(f"/conversations/{target}").status_code == 404
    with Session(engine) as session:
        actions = [e.action for e in session.execute(select(AuditEntry).where(AuditEntry.target == target)).scalars()]
    assert "subject_access_export" in actions and "subject_erasure" in actions


def test_admin_filters_by_council_and_reads_the_audit_log(server):
    admin = signed_in(server, ADMIN)
    page = admin.get("/conversations?council=nottingham").text
    assert shown(NOTTINGHAM_SMS_CRISIS) in page and shown(WALSALL_SMS_CRISIS) not in page
    log = admin.get("/admin/audit")
    assert log.status_code == 200 and "view list" in log.text and ADMIN in log.text
    assert signed_in(server, WORKER).get("/admin/audit").status_code == 403
    assert signed_in(server, MANAGER).get("/admin/users").status_code == 403


def test_an_absurdly_long_email_is_just_a_failed_sign_in(server):
    reply = Client(server.url).login("x" * 5000 + "@walsall.gov.uk", "y" * 5000)
    assert reply.status_code == 401 and LOGIN_ERROR in reply.text
