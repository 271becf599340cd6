"""Retention with a fixed clock, and erasure on request, on SQLite and PostgreSQL."""
from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot.dashboard.conversations import EVENTS
from bot.dashboard.retention import apply_retention
from bot.dashboard.subject import erase, export
from knowledge.db import make_engine
from services.models import Referral, SmsOutbound, SmsState, UnansweredQuestion
from services.staff import ConversationNote, ConversationTag
from tests.conftest import PYTHON, ROOT, base_env
from tests.dashboard_helpers import (
    NOTTINGHAM_SMS_CRISIS,
    NOW,
    OLD_WALSALL,
    WALSALL_SMS_CRISIS,
    WALSALL_WEB_GAP,
    fresh_database,
    seed_scenario,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request, tmp_path):
    url, drop = fresh_database(request.param, tmp_path)
    seed_scenario(url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    drop()


def event_count(engine, sender: str) -> int:
    with Session(engine) as session:
        return session.execute(select(func.count()).select_from(EVENTS).where(EVENTS.c.sender_id == sender)).scalar_one()


def add_rows_for(engine, sender: str, at: dt.datetime) -> None:
    """SMS, tag, note and unanswered rows belonging to a conversation, all written at `at`."""
    with Session(engine) as session, session.begin():
        session.add(SmsOutbound(sender=sender, body="reply", status="recorded", created_at=at, updated_at=at))
        session.add(SmsState(sender=sender, options='{"1": "/greet"}', updated_at=at))
        session.add(ConversationTag(conversation_id=sender, tag="old", created_by="w@x.gov.uk", created_at=at))
        session.add(ConversationNote(conversation_id=sender, text="note", created_by="w@x.gov.uk", created_at=at))
        session.add(UnansweredQuestion(conversation_id=sender, council_id="walsall", text="old question", created_at=at))


def test_retention_deletes_only_conversations_past_the_period(database):
    _, engine = database
    add_rows_for(engine, OLD_WALSALL, NOW - dt.timedelta(days=120))
    assert event_count(engine, OLD_WALSALL) > 0
    totals = apply_retention(engine, days=90, referral_days=365, now=NOW)
    assert totals["conversations"] == 1 and totals["events"] > 0
    assert event_count(engine, OLD_WALSALL) == 0
    assert event_count(engine, WALSALL_WEB_GAP) > 0 and event_count(engine, WALSALL_SMS_CRISIS) > 0
    with Session(engine) as session:
        for model, column in ((SmsOutbound, SmsOutbound.sender), (SmsState, SmsState.sender),
                              (ConversationTag, ConversationTag.conversation_id),
                              (ConversationNote, ConversationNote.conversation_id),
                              (UnansweredQuestion, UnansweredQuestion.conversation_id)):
            assert session.execute(select(model).where(column == OLD_WALSALL)).first() is None, model.__name__
        assert session.execute(select(func.count()).select_from(UnansweredQuestion)).scalar_one() == 2  # recent ones stay


def test_retention_is_idempotent_and_follows_the_clock(database):
    _, engine = database
    assert apply_retention(engine, days=90, referral_days=365, now=NOW)["conversations"] == 1
    assert apply_retention(engine, days=90, referral_days=365, now=NOW)["conversations"] == 0
    # A week later nothing recent has expired; 100 days later everything has.
    assert apply_retention(engine, days=90, referral_days=365, now=NOW + dt.timedelta(days=7))["conversations"] == 0
    assert apply_retention(engine, days=90, referral_days=365, now=NOW + dt.timedelta(days=100))["conversations"] == 4


def test_retention_works_in_batches(database):
    _, engine = database
    totals = apply_retention(engine, days=1, referral_days=365, now=NOW, batch=2)
    assert totals["conversations"] == 5
    with Session(engine) as session:
        assert session.execute(select(func.count()).select_from(EVENTS)).scalar_one() == 0


def test_referrals_follow_their_own_period_and_an_sms_opt_out_stays(database):
    _, engine = database
    closed_at = NOW - dt.timedelta(days=400)
    with Session(engine) as session, session.begin():
        session.add(Referral(conversation_id="web-closed", council_id="walsall", reason="handoff_pa", status="closed",
                             created_at=closed_at, updated_at=closed_at, closed_at=closed_at))
        session.add(Referral(conversation_id="web-open", council_id="walsall", reason="handoff_pa", status="new",
                             created_at=closed_at, updated_at=closed_at))
        session.add(SmsState(sender=OLD_WALSALL, opted_out_at=NOW - dt.timedelta(days=200)))
    totals = apply_retention(engine, days=90, referral_days=365, now=NOW)
    assert totals["referrals"] == 1
    with Session(engine) as session:
        remaining = set(session.execute(select(Referral.conversation_id)).scalars())
        assert "web-closed" not in remaining and "web-open" in remaining and WALSALL_SMS_CRISIS in remaining
        assert session.get(SmsState, OLD_WALSALL) is not None  # a STOP outlives the conversation


def test_retention_refuses_a_period_of_zero(database):
    _, engine = database
    with pytest.raises(ValueError):
        apply_retention(engine, days=0, referral_days=365, now=NOW)


def test_subject_access_export_and_erasure_cover_every_table(database):
    _, engine = database
    add_rows_for(engine, NOTTINGHAM_SMS_CRISIS, NOW)
    held = export(engine, NOTTINGHAM_SMS_CRISIS)
    assert held["events"] and held["referrals"] and held["sms_outbound"] and held["tags"] and held["notes"]
    assert held["unanswered_questions"]
    counts = erase(engine, NOTTINGHAM_SMS_CRISIS)
    assert counts["events"] > 0 and counts["referrals"] == 1
    after = export(engine, NOTTINGHAM_SMS_CRISIS)
    assert all(not rows for key, rows in after.items() if key != "conversation_id")
    assert event_count(engine, WALSALL_SMS_CRISIS) > 0  # nobody else's data went


def test_retention_command_prints_counts(database, tmp_path):
    url, engine = database
    env = base_env(PATHFINDER_DB_URL=url, PATHFINDER_VAR_DIR=str(tmp_path / "var"), PYTHONWARNINGS="ignore")
    result = subprocess.run([PYTHON, "-m", "bot.dashboard.retention", "--days", "90"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    # The scenario is dated around NOW (2026-11-25); by the real clock the old conversation is past 90 days.
    assert "Deleted past 90 days" in result.stdout and "conversations" in result.stdout
    bad = subprocess.run([PYTHON, "-m", "bot.dashboard.retention", "--days", "0"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and "at least 1" in bad.stderr


def test_sign_in_records_go_after_a_day(database):
    from services.staff import LoginAttempt

    _, engine = database
    with Session(engine) as session, session.begin():
        session.add(LoginAttempt(email="a@b.gov.uk", ip="127.0.0.1", success=False, at=NOW - dt.timedelta(days=2)))
        session.add(LoginAttempt(email="a@b.gov.uk", ip="127.0.0.1", success=False, at=NOW - dt.timedelta(hours=1)))
    assert apply_retention(engine, days=90, referral_days=365, now=NOW)["login_attempts"] == 1


def test_the_audit_log_refuses_changes_even_in_plain_sql(database):
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    from bot.dashboard.auth import audit

    _, engine = database
    audit(engine, "w@walsall.gov.uk", "view_conversation", "YP-00000000")
    for statement in ("UPDATE staff_audit_log SET action = 'nothing'", "DELETE FROM staff_audit_log"):
        with pytest.raises(DatabaseError, match="append-only"):
            with engine.begin() as connection:
                connection.execute(text(statement))
    with engine.connect() as connection:
        assert connection.execute(text("SELECT action FROM staff_audit_log")).scalars().all() == ["view_conversation"]


def test_audit_guards_can_be_applied_again(database):
    from services.models import create_all

    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    from bot.dashboard.auth import audit

    _, engine = database
    create_all(engine)  # a second start: nothing to create, nothing fails
    create_all(engine)
    audit(engine, "w@walsall.gov.uk", "view_conversation", "YP-00000000")  # SQLite's triggers are per row
    with pytest.raises(DatabaseError, match="append-only"):  # and the guard is still there
        with engine.begin() as connection:
            connection.execute(text("DELETE FROM staff_audit_log"))
