"""When something breaks, the young person still gets a number to call and no referral is lost."""
from __future__ import annotations

import asyncio
import stat
import datetime as dt
import json
import re
import subprocess
import time

import pytest
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

import actions.common
import bot.channels.safety
import bot.referral_spool as spool
from actions.handoff import ActionSubmitReferral
from bot.channels.rest import PathfinderRestInput
from bot.web.app import _checked_turn, _failure_turn
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase
from services.models import Referral, create_all, utcnow
from services.referrals import MailSettings, NewReferral, create_referral, notify_pending
from tests.conftest import (
    PYTHON, ROOT, base_env, free_port, gives_walsall_a_number_that_answers_now, hung_relay, new_sender, start_bot, stop_bot,
    texts, wait_for,
)

PHONE = re.compile(r"\b(0\d{3,4} ?\d{3} ?\d{3,4}|116 123|999)\b")
CRISIS_FIRST_LINE = "I'm really glad you told me"


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
    due = utcnow() + dt.timedelta(minutes=2)  # the retry after the first back-off (services.referrals.retry_delay)
    assert notify_pending(database, up, lambda council: "team@localhost", "http://dash", now=due) == 1
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
    assert stat.S_IMODE(spool.SPOOL.stat().st_mode) == 0o600  # #16: referrals hold names and numbers


@pytest.fixture(scope="module")
def bot_without_actions(trained_model, tmp_path_factory):
    server = start_bot(trained_model, tmp_path_factory.mktemp("no-actions"), free_port(), with_actions=False)
    yield server
    stop_bot(server)


def test_action_server_down_still_gives_a_number(bot_without_actions):
    reply = texts(bot_without_actions.say(new_sender(), "how much is the setting up home grant", council="walsall"))
    assert gives_walsall_a_number_that_answers_now(reply) and "999" in reply


def test_action_server_down_crisis_reply_still_comes_first(bot_without_actions):
    messages = bot_without_actions.say(new_sender(), "i want to kill myself", council="walsall")
    assert messages[0]["text"].startswith("I'm really glad you told me")
    assert "116 123" in messages[0]["text"]


def urgent_flags(engine, sender):
    with Session(engine) as session:
        rows = list(session.execute(select(Referral).where(Referral.conversation_id == sender, Referral.priority == "urgent")).scalars())
        session.expunge_all()
    return rows


# ---- issue #13: never lose the alert ----------------------------------------------------------
@pytest.fixture(scope="module")
def bot_with_hung_relay(trained_model, tmp_path_factory):
    """A bot whose mail relay accepts connections and never answers (3 s SMTP timeout)."""
    with hung_relay() as port:
        folder = tmp_path_factory.mktemp("hung-relay")
        server = start_bot(trained_model, folder, port, extra_env={"PATHFINDER_SMTP_TIMEOUT": "3"})
        yield server, folder
        stop_bot(server)


def test_a_hung_mail_relay_never_holds_up_the_crisis_reply_and_retry_sends_the_email_later(bot_with_hung_relay, smtp_server):
    server, folder = bot_with_hung_relay
    sender = new_sender()
    server.say(sender, "how much is the setting up home grant", council="walsall")  # warm up: action server, database
    started = time.monotonic()
    messages = server.say(sender, "i want to kill myself", council="walsall")
    took = time.monotonic() - started
    assert messages[0]["text"].startswith(CRISIS_FIRST_LINE) and took < 2, f"the crisis turn took {took:.1f}s"
    engine = make_engine(server.database_url)
    [flag] = wait_for(lambda: [r for r in urgent_flags(engine, sender) if r.last_error], timeout=30)
    assert flag.notified_at is None and flag.notify_attempts == 1 and "timed out" in flag.last_error
    controller, handler = smtp_server  # the relay answers again

    def retry() -> str:
        env = base_env(PATHFINDER_DB_URL=server.database_url, PATHFINDER_SMTP_HOST="127.0.0.1",
                       PATHFINDER_SMTP_PORT=str(controller.port), PATHFINDER_VAR_DIR=str(folder / "var"))
        return subprocess.run([PYTHON, "-m", "bot.referrals", "retry"], cwd=ROOT, env=env, capture_output=True,
                              text=True, check=True).stdout

    assert "e-mailed 0" in retry()  # its back-off: due two minutes after the failed attempt
    with Session(engine) as session, session.begin():
        session.get(Referral, flag.id).last_attempt_at -= dt.timedelta(minutes=2)  # two minutes pass
    assert "e-mailed 1" in retry()
    assert [m for m in handler.messages if f"URGENT: Pathfinder referral #{flag.id} " in m["data"]]
    engine.dispose()


@pytest.mark.parametrize("stray", ["\ud83d", "\x00", "\x1b"])
def test_one_bad_character_does_not_lose_the_crisis_turn(bot, stray):
    sender = new_sender()
    # JSON carries the character escaped ("\\ud83d"); the widget showed the privacy notice
    messages = bot.say(sender, f"I want to kill myself{stray}", metadata={"council": "walsall", "notice_seen": True})
    assert messages[0]["text"].startswith(CRISIS_FIRST_LINE), texts(messages)
    engine = make_engine(bot.database_url)
    assert wait_for(lambda: urgent_flags(engine, sender)), "no urgent referral"
    engine.dispose()
    said = [event["text"] for event in bot.tracker(sender)["events"] if event["event"] == "user"]
    assert said == ["I want to kill myself"]


class FakeRequest:
    """What the channels read of a Sanic request for a chat turn: its JSON body."""

    def __init__(self, body: dict):
        self.json = body


def rest_webhook(on_new_message):
    """The REST channel's POST /webhook handler, to call without a server."""
    blueprint = PathfinderRestInput().blueprint(on_new_message)
    return next(route.handler for route in blueprint._future_routes if route.uri == "/webhook")


@pytest.fixture
def spooled(database, tmp_path, monkeypatch):
    """The spool in a temporary file and the failure replies reading the test's database."""
    monkeypatch.setattr(spool, "SPOOL", tmp_path / "spool.jsonl")
    monkeypatch.setattr(bot.channels.safety, "_knowledge", lambda: KnowledgeBase(database))
    return database


def test_a_failed_rest_turn_that_signals_danger_spools_an_urgent_referral(spooled):
    async def broken(message):
        raise RuntimeError("the turn failed inside NLU")

    sender = new_sender()
    reply = asyncio.run(rest_webhook(broken)(FakeRequest({"sender": sender, "message": "i want to kill myself", "metadata": {"council": "walsall"}})))
    messages = json.loads(reply.body)
    assert messages[0]["text"].startswith(CRISIS_FIRST_LINE) and gives_walsall_a_number_that_answers_now(messages[-1]["text"])
    assert spool.import_spool(spooled) == 1
    [flag] = urgent_flags(spooled, sender)
    assert (flag.reason, flag.channel, flag.council_id) == ("crisis", "rest", "walsall")
    assert "turn failed" in flag.detail and "kill myself" in flag.detail


def test_a_failed_turn_without_danger_spools_nothing(spooled):
    async def broken(message):
        raise RuntimeError("the turn failed")

    reply = asyncio.run(rest_webhook(broken)(FakeRequest({"sender": new_sender(), "message": "how much is the grant"})))
    assert "999" in json.loads(reply.body)[-1]["text"]
    assert spool.import_spool(spooled) == 0


def test_the_sites_proxy_cleans_the_text_and_spools_a_crisis_it_could_not_pass_on(spooled):
    sender = new_sender()
    turn = _checked_turn(FakeRequest({"sender": sender, "message": "I want to\x00 kill myself\ud83d"}))
    assert turn["message"] == "I want to kill myself"
    assert _failure_turn(turn)[0]["text"].startswith(CRISIS_FIRST_LINE)
    assert spool.import_spool(spooled) == 1 and urgent_flags(spooled, sender)
