"""Referrals on SQLite and PostgreSQL (issue #13, "never lose the alert"): one urgent referral
per conversation and kind, e-mail back-off without a maximum, "not delivered" shown, spooled
flags merged, and an older database given the new columns."""
from __future__ import annotations

import contextlib
import datetime as dt
import threading
import time

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.orm import Session

import bot.referral_spool as spool
from bot.config import Settings
from bot.notify import notify_in_background
from bot.referrals import describe
from knowledge.db import Base, make_engine
from knowledge.store import KnowledgeBase
from services.models import Referral, add_missing_columns, create_all, utcnow
from services.referrals import (
    RELAY_DOWN,
    RENOTIFY_AFTER,
    SENT,
    MailSettings,
    NewReferral,
    create_or_update_urgent,
    create_referral,
    is_undelivered,
    notify_pending,
    notify_referral,
    referral_email,
    retry_delay,
    set_status,
)
from tests.conftest import free_port, hung_relay, smtp_collector
from tests.test_store import postgres_engine

INBOX = lambda council: "team@localhost"  # noqa: E731 - a one-line stand-in for the team's inbox
DASHBOARD = "http://dash"
T0 = dt.datetime(2026, 12, 1, 9, 0, 0)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def backend(request, tmp_path_factory):
    """(kind, maker of empty databases): every test gets its own database on the back end."""
    made, made_engines = [], []

    def fresh():
        if request.param == "sqlite":
            engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('referrals') / 'db.sqlite'}")
        else:
            admin, name, engine = postgres_engine()
            made.append((admin, name))
        made_engines.append(engine)
        return engine

    yield request.param, fresh
    for engine in made_engines:
        engine.dispose()
    for admin, name in made:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def engine(backend):
    db = backend[1]()
    create_all(db)
    return db


def urgent(conversation="c1", kind="suicide", detail="pattern=p1", council="walsall") -> NewReferral:
    return NewReferral(conversation_id=conversation, reason="crisis", council_id=council, channel="rest",
                       priority="urgent", detail=detail, kind=kind)


def row(engine, referral_id) -> Referral:
    with Session(engine) as session:
        found = session.get(Referral, referral_id)
        session.expunge(found)
        return found


def urgent_rows(engine, conversation="c1"):
    with Session(engine) as session:
        rows = list(session.execute(select(Referral).where(Referral.conversation_id == conversation,
                                                          Referral.priority == "urgent").order_by(Referral.id)).scalars())
        session.expunge_all()
        return rows


def mark_sent(engine, referral_id, when):
    with Session(engine) as session, session.begin():
        session.get(Referral, referral_id).notified_at = when


@contextlib.contextmanager
def relay_down():
    """MailSettings for a port where nothing listens (connection refused at once)."""
    yield MailSettings(host="127.0.0.1", port=free_port(), mail_from="bot@localhost", timeout=2)


# ---- one urgent referral per conversation and kind ----------------------------------------------
def test_a_second_crisis_message_updates_the_open_urgent_referral(engine):
    first = create_or_update_urgent(engine, urgent(detail="pattern=p1"), now=T0)
    second = create_or_update_urgent(engine, urgent(detail="pattern=p2"), now=T0 + dt.timedelta(minutes=1))
    third = create_or_update_urgent(engine, urgent(detail="pattern=p3"), now=T0 + dt.timedelta(minutes=2))
    assert first.created and not second.created and not third.created
    assert first.referral_id == second.referral_id == third.referral_id
    [only] = urgent_rows(engine)
    assert only.detail.splitlines() == ["pattern=p1", "2026-12-01 09:01 pattern=p2", "2026-12-01 09:02 pattern=p3"]
    assert only.updated_at == T0 + dt.timedelta(minutes=2) and only.created_at == T0


def test_other_kinds_conversations_and_closed_referrals_get_their_own(engine):
    suicide = create_or_update_urgent(engine, urgent(kind="suicide")).referral_id
    exploitation = create_or_update_urgent(engine, urgent(kind="criminal_exploitation")).referral_id
    unknown = create_or_update_urgent(engine, urgent(kind=None)).referral_id
    assert create_or_update_urgent(engine, urgent(kind=None)).referral_id == unknown  # None matches None
    assert len({suicide, exploitation, unknown}) == 3
    assert create_or_update_urgent(engine, urgent(conversation="c2")).referral_id not in {suicide, exploitation, unknown}
    set_status(engine, suicide, "closed")
    reopened = create_or_update_urgent(engine, urgent(kind="suicide"))
    assert reopened.created and reopened.referral_id != suicide


def test_one_rule_for_closing_a_referral_closing_again_keeps_the_date_reopening_clears_it(engine):
    """#16: set_status restamped closed_at at every close, the dashboard kept the first one
    (referral retention counts from it). Now both use services.referrals.apply_status."""
    referral = create_referral(engine, NewReferral(conversation_id="c1", reason="handoff_pa"))
    set_status(engine, referral, "closed", now=T0)
    set_status(engine, referral, "closed", now=T0 + dt.timedelta(days=3))
    assert row(engine, referral).closed_at == T0
    set_status(engine, referral, "acknowledged", now=T0 + dt.timedelta(days=4))
    assert row(engine, referral).closed_at is None and row(engine, referral).acknowledged_at == T0 + dt.timedelta(days=4)
    set_status(engine, referral, "closed", now=T0 + dt.timedelta(days=5))
    assert row(engine, referral).closed_at == T0 + dt.timedelta(days=5)
    with pytest.raises(ValueError):
        set_status(engine, referral, "lost")


def test_an_urgent_hand_off_is_not_merged_with_a_crisis_flag(engine):
    hand_off = create_referral(engine, NewReferral(conversation_id="c1", reason="handoff_pa", priority="urgent"))
    assert create_or_update_urgent(engine, urgent(kind=None)).referral_id != hand_off


def test_a_new_email_only_when_the_last_went_more_than_the_renotify_interval_ago(engine):
    first = create_or_update_urgent(engine, urgent(), now=T0)
    assert first.email_owed
    assert create_or_update_urgent(engine, urgent(), now=T0 + dt.timedelta(minutes=1)).email_owed  # still pending
    mark_sent(engine, first.referral_id, T0 + dt.timedelta(minutes=2))
    soon = T0 + dt.timedelta(minutes=2) + RENOTIFY_AFTER - dt.timedelta(minutes=1)
    assert not create_or_update_urgent(engine, urgent(), now=soon).email_owed
    assert row(engine, first.referral_id).notified_at is not None
    later = T0 + dt.timedelta(minutes=3) + RENOTIFY_AFTER
    assert create_or_update_urgent(engine, urgent(), now=later).email_owed
    again = row(engine, first.referral_id)
    assert again.notified_at is None and again.notify_requested_at == later
    assert referral_email(again, DASHBOARD)[0].startswith(f"URGENT: new messages on Pathfinder referral #{again.id} ")


def test_the_email_links_to_the_referral_never_the_conversation_id(engine):
    """#16: raw conversation ids appeared in referral e-mails (and a web id was its only key)."""
    conversation = "web-" + "5e" * 16
    first = create_or_update_urgent(engine, urgent(conversation=conversation), now=T0)
    subject, body = referral_email(row(engine, first.referral_id), DASHBOARD)
    assert conversation not in subject + body and "5e5e5e" not in body
    assert f"Conversation: {DASHBOARD}/referrals/{first.referral_id}/conversation" in body


# ---- e-mail: one at a time, back-off, never given up ---------------------------------------------
def test_backoff_doubles_from_two_minutes_to_at_most_an_hour():
    assert [retry_delay(n).total_seconds() / 60 for n in (1, 2, 3, 4, 5, 6, 7, 50)] == [2, 4, 8, 16, 32, 60, 60, 60]


def test_a_failed_email_is_retried_after_its_backoff_and_then_sent(engine):
    referral_id = create_or_update_urgent(engine, urgent(), now=T0).referral_id
    with relay_down() as down:
        assert notify_referral(engine, down, referral_id, INBOX, DASHBOARD, now=T0) == RELAY_DOWN
    failed = row(engine, referral_id)
    assert failed.notify_attempts == 1 and failed.last_attempt_at == T0 and "Error" in failed.last_error
    with smtp_collector() as (controller, handler):
        up = MailSettings(host="127.0.0.1", port=controller.port, mail_from="bot@localhost")
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(minutes=1)) == 0  # not due yet
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(minutes=2)) == 1
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(hours=5)) == 0  # sent once
    assert [m for m in handler.messages if f"URGENT: Pathfinder referral #{referral_id} " in m["data"]]
    assert row(engine, referral_id).notified_at is not None and row(engine, referral_id).last_error is None


def test_an_urgent_referral_is_never_given_up_on(engine):
    referral_id = create_or_update_urgent(engine, urgent(), now=T0).referral_id
    with Session(engine) as session, session.begin():
        stored = session.get(Referral, referral_id)
        stored.notify_attempts, stored.last_attempt_at = 170, T0
    with smtp_collector() as (controller, _):
        up = MailSettings(host="127.0.0.1", port=controller.port, mail_from="bot@localhost")
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(minutes=59)) == 0
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(minutes=61)) == 1


def test_a_retry_run_stops_at_a_relay_that_is_down_instead_of_waiting_on_each(engine):
    ids = [create_or_update_urgent(engine, urgent(conversation=f"c{n}"), now=T0).referral_id for n in range(5)]
    with relay_down() as down:
        assert notify_pending(engine, down, INBOX, DASHBOARD, now=T0) == 0
    assert [row(engine, i).notify_attempts for i in ids] == [1, 0, 0, 0, 0]


def test_a_new_referral_is_emailed_alone_not_with_the_backlog(engine):
    backlog = create_or_update_urgent(engine, urgent(conversation="old"), now=T0).referral_id
    new = create_or_update_urgent(engine, urgent(conversation="new")).referral_id
    with smtp_collector() as (controller, handler):
        up = MailSettings(host="127.0.0.1", port=controller.port, mail_from="bot@localhost")
        assert notify_referral(engine, up, new, INBOX, DASHBOARD) == SENT
    assert len(handler.messages) == 1 and f"referral #{new} " in handler.messages[0]["data"]
    assert row(engine, backlog).notify_attempts == 0


def test_the_background_send_returns_at_once_and_gives_up_on_a_hung_relay_after_the_timeout(engine):
    referral_id = create_or_update_urgent(engine, urgent()).referral_id
    kb = KnowledgeBase(engine)
    with hung_relay() as port:
        settings = Settings(smtp_host="127.0.0.1", smtp_port=port, smtp_timeout=1)
        started = time.monotonic()
        thread = notify_in_background(engine, lambda: kb, settings, referral_id)
        assert time.monotonic() - started < 0.5 and thread.daemon
        thread.join(timeout=10)
    stuck = row(engine, referral_id)
    assert not thread.is_alive() and stuck.notified_at is None and stuck.notify_attempts == 1
    assert "timed out" in stuck.last_error


def test_an_urgent_referral_not_emailed_after_n_minutes_is_not_delivered(engine):
    referral_id = create_or_update_urgent(engine, urgent(), now=T0).referral_id
    late = dt.timedelta(minutes=10)
    assert not is_undelivered(row(engine, referral_id), T0 + dt.timedelta(minutes=9), late)
    assert is_undelivered(row(engine, referral_id), T0 + dt.timedelta(minutes=10), late)
    mark_sent(engine, referral_id, T0 + dt.timedelta(minutes=11))
    assert not is_undelivered(row(engine, referral_id), T0 + dt.timedelta(minutes=20), late)
    normal = create_referral(engine, NewReferral(conversation_id="c9", reason="handoff_pa"))
    assert not is_undelivered(row(engine, normal), utcnow() + dt.timedelta(days=1), late)


def test_retry_all_ignores_the_backoff_once_the_relay_is_fixed(engine):
    referral_id = create_or_update_urgent(engine, urgent(), now=T0).referral_id
    with relay_down() as down:
        notify_referral(engine, down, referral_id, INBOX, DASHBOARD, now=T0)
    with smtp_collector() as (controller, _):
        up = MailSettings(host="127.0.0.1", port=controller.port, mail_from="bot@localhost")
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(seconds=30)) == 0
        assert notify_pending(engine, up, INBOX, DASHBOARD, now=T0 + dt.timedelta(seconds=30), force=True) == 1


def test_the_list_says_not_delivered_with_the_tries_the_error_and_the_next_try(engine):
    referral_id = create_or_update_urgent(engine, urgent(), now=T0).referral_id
    with relay_down() as down:
        notify_referral(engine, down, referral_id, INBOX, DASHBOARD, now=T0)
    line = describe(row(engine, referral_id), T0 + dt.timedelta(minutes=15), dt.timedelta(minutes=10))
    assert line.startswith(f"#{referral_id} NOT DELIVERED URGENT new crisis (suicide) walsall")
    assert "not sent (1 tries, last error: ConnectionRefusedError" in line and "next try 09:02 UTC" in line
    assert "NOT DELIVERED" not in describe(row(engine, referral_id), T0 + dt.timedelta(minutes=5), dt.timedelta(minutes=10))


# ---- the spool and the schema ---------------------------------------------------------------------
def test_a_spooled_urgent_flag_joins_the_open_referral_on_import(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(spool, "SPOOL", tmp_path / "spool.jsonl")
    referral_id = create_or_update_urgent(engine, urgent(kind=None, detail="from the action")).referral_id
    spool.spool_referral(urgent(kind=None, detail="from a failed turn"))
    spool.spool_referral(NewReferral(conversation_id="c1", reason="handoff_pa", first_name="Jo"))
    assert spool.import_spool(engine) == 2
    [flag] = [r for r in urgent_rows(engine) if r.reason == "crisis"]
    assert flag.id == referral_id and "from a failed turn" in flag.detail
    assert spool.SPOOL.read_text() == ""


OLD_REFERRALS = """CREATE TABLE referrals (
    id INTEGER PRIMARY KEY, conversation_id VARCHAR(200) NOT NULL, channel VARCHAR(40) NOT NULL,
    council_id VARCHAR(40), reason VARCHAR(40) NOT NULL, priority VARCHAR(20) NOT NULL, status VARCHAR(20) NOT NULL,
    first_name VARCHAR(100), contact_method VARCHAR(20), contact_value VARCHAR(200), contact_time VARCHAR(200),
    message TEXT, detail TEXT, notified_at TIMESTAMP, notify_attempts INTEGER NOT NULL, last_error TEXT,
    created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, acknowledged_at TIMESTAMP, closed_at TIMESTAMP)"""


def test_a_database_made_before_the_new_columns_gets_them_at_start_up(backend):
    old = backend[1]()
    with old.begin() as connection:  # the referrals table as the code before issue #13 made it
        connection.exec_driver_sql(OLD_REFERRALS)
        connection.exec_driver_sql(
            "INSERT INTO referrals (id, conversation_id, channel, reason, priority, status, notify_attempts, created_at, updated_at)"
            " VALUES (1, 'c1', 'sms', 'crisis', 'urgent', 'new', 20, '2026-11-01 10:00:00', '2026-11-01 10:00:00')")
    create_all(old)
    columns = {column["name"] for column in inspect(old).get_columns("referrals")}
    assert {"kind", "last_attempt_at", "notify_requested_at"} <= columns
    assert add_missing_columns(old) == []  # idempotent: the next start adds nothing
    kept = row(old, 1)
    assert kept.notify_attempts == 20 and kept.kind is None and kept.last_attempt_at is None
    assert create_or_update_urgent(old, urgent(kind=None)).referral_id == 1
    with smtp_collector() as (controller, _):  # the 20 tries of the old maximum are no limit now
        up = MailSettings(host="127.0.0.1", port=controller.port, mail_from="bot@localhost")
        assert notify_pending(old, up, INBOX, DASHBOARD) == 1


def test_two_processes_starting_together_add_a_column_once(backend):
    old = backend[1]()
    with old.begin() as connection:
        connection.exec_driver_sql(OLD_REFERRALS)
    Base.metadata.create_all(old)  # every other table as it is now: the race under test is the column
    url = old.url.render_as_string(hide_password=False)
    errors = []

    def start():
        other = make_engine(url)
        try:
            create_all(other)
        except Exception as error:  # noqa: BLE001 - collected for the assertion
            errors.append(error)
        finally:
            other.dispose()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == [] and "kind" in {column["name"] for column in inspect(old).get_columns("referrals")}

