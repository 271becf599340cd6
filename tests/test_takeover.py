"""Staff take over a conversation live (web and SMS) and hand it back to the bot."""
from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

import pytest
from sqlalchemy.orm import Session

from bot import takeover
from bot.channels.takeover import WORKER_HAS_IT
from knowledge.db import make_engine
from services.models import Referral
from services.referrals import NewReferral, create_referral
from tests.conftest import new_sender, texts
from tests.test_sms import Texter


@pytest.fixture
def api(bot, monkeypatch):
    monkeypatch.setenv("PATHFINDER_DB_URL", bot.database_url)
    return {"url": bot.url, "token": bot.token}


def updates(bot, sender, since=0.0):
    query = urllib.parse.urlencode({"sender": sender, "since": since})
    with urllib.request.urlopen(f"{bot.url}/webhooks/rest/updates?{query}", timeout=30) as reply:
        return json.loads(reply.read())


def test_web_conversation_is_paused_answered_by_staff_and_resumed(bot, api):
    sender = new_sender()
    bot.say(sender, "can i talk to my pa", council="walsall")
    takeover.pause(sender, **api)
    assert texts(bot.say(sender, "hello? is anyone there")) == WORKER_HAS_IT
    assert updates(bot, sender)["paused"] is True
    assert takeover.say(sender, "Hi, it's Sam from the leaving care team.", staff="Sam", **api) == "shown in the web chat"
    got = updates(bot, sender)
    assert [m["text"] for m in got["messages"]] == ["Hi, it's Sam from the leaving care team."]
    assert updates(bot, sender, since=got["messages"][0]["timestamp"])["messages"] == []
    takeover.resume(sender, **api)
    assert "Pathfinder" in texts(bot.say(sender, "hi"))
    assert updates(bot, sender)["paused"] is False


def test_updates_need_a_valid_conversation_id(bot):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{bot.url}/webhooks/rest/updates?sender=a%20b", timeout=30)
    assert error.value.code == 400


def test_sms_conversation_staff_reply_is_texted_to_the_agreed_number(bot, api):
    texter = Texter(bot)
    texter.converse("hi")
    engine = make_engine(bot.database_url)
    referral_id = create_referral(engine, NewReferral(
        conversation_id=texter.sender, reason="handoff_pa", council_id="walsall", channel="sms",
        contact_method="sms", contact_value=texter.number,
    ))
    takeover.pause(texter.sender, referral_id, **api)
    with Session(engine) as session:
        assert session.get(Referral, referral_id).status == "acknowledged"
    before = len(texter.outbox())
    texter.text("are you there")
    time.sleep(2)
    assert len(texter.outbox()) == before  # the bot stays quiet while a worker has it
    assert takeover.say(texter.sender, "Hi Jo, Sam here. I'll call you at 3.", **api) == "recorded in the SMS outbox"
    assert texter.outbox()[-1].body == "Hi Jo, Sam here. I'll call you at 3."
    takeover.resume(texter.sender, **api)
    assert "Pathfinder" in texter.converse("hello")


def test_sms_staff_reply_is_not_texted_without_consent(bot, api):
    texter = Texter(bot)
    texter.converse("hi")
    takeover.pause(texter.sender, **api)
    assert takeover.say(texter.sender, "hello", **api).startswith("not texted")
