"""When something breaks, the young person still gets a number to call and no referral is lost."""
from __future__ import annotations

import asyncio
import re

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

import actions.common
import bot.referral_spool as spool
from actions.handoff import ActionSubmitReferral
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase
from services.models import Referral, create_all
from services.referrals import MailSettings, NewReferral, create_referral, notify_pending
from tests.conftest import free_port, new_sender, start_bot, stop_bot, texts

PHONE = re.compile(r"\b(0\d{3,4} ?\d{3} ?\d{3,4}|116 123|999)\b")


@pytest.fixture
def database(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'db.sqlite'}")
    create_all(engine)
    KnowledgeBase(engine).reload()
    yield engine
    engine.dispose()


def test_failed_email_keeps_the_referral_and_a_retry_sends_it(database, smtp_server):
    controller, handler = smtp_server
    referral_id = create_referral(database, NewReferral(conversation_id="c1", reason="handoff_pa", council_id="walsall"))
    down = MailSettings(host="127.0.0.1", port=free_port(), mail_from="bot@localhost", timeout=2)
    assert notify_pending(database, down, lambda council: "team@localhost", "http://dash") == 0
    with Session(database) as session:
        row = session.get(Referral, referral_id)
        assert row.notified_at is None and row.notify_attempts == 1 and "Error" in row.last_error
    up = MailSettings(host="127.0.0.1", port=controller.port, mail_from="bot@localhost")
    assert notify_pending(database, up, lambda council: "team@localhost", "http://dash") == 1
    with Session(database) as session:
        assert session.get(Referral, referral_id).notified_at is not None
    assert any(f"referral #{referral_id} " in m["data"] for m in handler.messages)


def tracker_with_confirmed_form(sender: str) -> Tracker:
    slots = {
        "council": "walsall", "handoff_reason": "handoff_pa", "handoff_name": "Jo", "handoff_contact_method": "phone",
        "handoff_contact_value": "07700900123", "handoff_time": "mornings", "handoff_message": "rent", "handoff_confirm": "yes",
    }
    return Tracker(sender, slots, {"intent": {"name": "affirm"}, "text": "yes"}, [], False, None, {}, "yes")


def test_database_down_spools_the_referral_and_still_gives_a_number(database, tmp_path, monkeypatch):
    broken = make_engine(f"sqlite:///{tmp_path / 'missing' / 'dir' / 'x.db'}")
    monkeypatch.setattr(actions.common, "engine", lambda: broken)
    monkeypatch.setattr("actions.handoff.engine", lambda: broken)
    monkeypatch.setattr("actions.handoff.knowledge_base", lambda: KnowledgeBase(broken))
    monkeypatch.setattr(spool, "SPOOL", tmp_path / "spool.jsonl")
    dispatcher, sender = CollectingDispatcher(), new_sender()
    asyncio.run(ActionSubmitReferral().run(dispatcher, tracker_with_confirmed_form(sender), {}))
    reply = " ".join(m.get("text") or "" for m in dispatcher.messages)
    assert PHONE.search(reply), reply
    assert sender in spool.SPOOL.read_text()
    assert spool.import_spool(database) == 1
    with Session(database) as session:
        [row] = session.execute(select(Referral).where(Referral.conversation_id == sender)).scalars()
        assert row.first_name == "Jo" and row.contact_value == "07700900123"
    assert spool.SPOOL.read_text() == ""


@pytest.fixture(scope="module")
def bot_without_actions(trained_model, tmp_path_factory):
    server = start_bot(trained_model, tmp_path_factory.mktemp("no-actions"), free_port(), with_actions=False)
    yield server
    stop_bot(server)


def test_action_server_down_still_gives_a_number(bot_without_actions):
    reply = texts(bot_without_actions.say(new_sender(), "how much is the setting up home grant", council="walsall"))
    assert "01632 960201" in reply and "999" in reply


def test_action_server_down_crisis_reply_still_comes_first(bot_without_actions):
    messages = bot_without_actions.say(new_sender(), "i want to kill myself", council="walsall")
    assert messages[0]["text"].startswith("I'm really glad you told me")
    assert "116 123" in messages[0]["text"]
