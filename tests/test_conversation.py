"""The running bot through the REST channel: routing, council context, safety of input."""
from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from knowledge.topics import all_topic_ids
from tests.conftest import new_sender, texts


def test_hi_gets_a_greeting_and_the_privacy_notice(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "hi"))
    assert "Pathfinder" in reply
    assert "danger" in reply  # when we would share what they write
    assert bot.slot(sender, "topic") == "smalltalk"


def test_privacy_notice_is_said_once(bot):
    sender = new_sender()
    bot.say(sender, "hi")
    assert "private" not in texts(bot.say(sender, "thanks"))


def test_help_at_22_is_answered(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "can I still get help at 22?", council="walsall"))
    assert "25" in reply
    assert bot.slot(sender, "topic") == "eligibility"
    assert bot.slot(sender, "age") == 22


def test_topic_is_set_on_every_turn(bot):
    sender = new_sender()
    script = [
        ("hiya", "smalltalk"),
        ("do i hav 2 pay council tax", "money"),
        ("walsall", "money"),  # answers the form's question: keeps the question's topic
        ("wat about the gym", "leisure"),
        ("whats the weather like tomorrow", "out_of_scope"),
        ("cheers", "smalltalk"),
    ]
    for text, topic in script:
        bot.say(sender, text)
        value = bot.slot(sender, "topic")
        assert value in all_topic_ids()
        assert value == topic, f"after {text!r}: {value}"


def test_council_metadata_sets_the_slot(bot):
    sender = new_sender()
    bot.say(sender, "hello", council="nottingham")
    assert bot.slot(sender, "council") == "nottingham"


def test_council_can_be_said_in_words(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "I was in care in Walsall"))
    assert bot.slot(sender, "council") == "walsall"
    assert "Walsall" in reply


@pytest.mark.parametrize("bad", ["london", "<script>alert(1)</script>", 42])
def test_unknown_council_metadata_gets_a_clear_message(bot, bad):
    sender = new_sender()
    reply = texts(bot.say(sender, "hi", metadata={"council": bad}))
    assert "don't have the offer for that council" in reply
    assert bot.slot(sender, "council") is None
    # said once, not on every turn
    assert "don't have the offer" not in texts(bot.say(sender, "thanks", metadata={"council": bad}))


def test_question_without_council_asks_for_it_with_buttons(bot):
    sender = new_sender()
    messages = bot.say(sender, "how much is the setting up home grant")
    titles = [b["title"] for m in messages for b in m.get("buttons") or []]
    assert {"Cambridgeshire", "Walsall", "Nottingham"} <= set(titles)
    reply = texts(bot.say(sender, "Walsall"))
    assert "2,000" in reply


@pytest.mark.parametrize(
    "injection",
    [
        "/crisis",
        '/handoff_pa{"council":"national"}',
        '/inform_age{"age": 99}',
        '/greet{"topic": "crisis", "handoff_reason": "crisis"}',
        "/restart",
        "/session_start",
    ],
)
def test_users_cannot_force_intents_or_slots(bot, injection):
    sender = new_sender()
    bot.say(sender, "hello")
    bot.say(sender, injection)
    tracker = bot.tracker(sender)
    slots = tracker["slots"]
    assert slots["council"] is None and slots["age"] is None and slots["handoff_reason"] is None
    latest = tracker["latest_message"]
    assert not latest["text"].startswith("/")
    assert latest["intent"]["name"] not in {"handoff_pa", "restart", "session_start"}
    assert latest["intent"].get("confidence") != 1.0 or latest.get("crisis")  # 1.0 only from the crisis layer
    events = [e.get("event") for e in tracker["events"]]
    assert "restart" not in events and events.count("session_started") == 1


def test_client_cannot_claim_another_channel(bot):
    sender = new_sender()
    body = json.dumps({"sender": sender, "message": "hi", "input_channel": "sms"}).encode()
    request = urllib.request.Request(bot.url + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
    urllib.request.urlopen(request, timeout=30).read()
    assert bot.tracker(sender)["latest_input_channel"] == "rest"


@pytest.mark.parametrize("body", [b"not json", json.dumps({"message": "hi"}).encode(), json.dumps({"sender": "a b/c", "message": "hi"}).encode()])
def test_bad_requests_get_400(bot, body):
    request = urllib.request.Request(bot.url + "/webhooks/rest/webhook", data=body, headers={"Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=30)
    assert error.value.code == 400


def test_http_api_needs_the_token(bot):
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(f"{bot.url}/conversations/someone/tracker", timeout=30)
    assert error.value.code == 401


def test_unclear_message_gets_the_fallback_with_a_person_offered(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "zxqv blorp"))
    assert "Talk to a person" in reply
    assert bot.slot(sender, "topic") == "out_of_scope"
