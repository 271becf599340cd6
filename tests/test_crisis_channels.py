"""The channels' failure path gives the help for the kind of danger (bot/channels/safety.py)."""
from __future__ import annotations

import pytest

import bot.channels.safety as safety
from bot.sms_text import is_gsm7
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase


@pytest.fixture
def knowledge(tmp_path, monkeypatch):
    kb = KnowledgeBase(make_engine(f"sqlite:///{tmp_path / 'kb.db'}"))
    kb.reload()
    monkeypatch.setattr(safety, "_knowledge", lambda: kb)
    return kb


def test_exploitation_gets_its_own_help_first_when_the_turn_fails(knowledge):
    replies = safety.failure_replies("they keep making me carry packages to other towns for them", "walsall", "rest")
    help_text = replies[0]
    assert help_text.splitlines()[1].startswith("Crimestoppers: call 0800 555 111")
    assert "Samaritans" not in help_text
    assert "Emergency Duty Team" in replies[1] and "can't be sure a worker will see this" in replies[1]
    assert replies[-1] == safety.failure_message("walsall")


def test_suicide_still_gets_samaritans_first_when_the_turn_fails(knowledge):
    replies = safety.failure_replies("i want to kill myself", "walsall")
    assert replies[0].startswith("I'm really glad you told me") and "116 123" in replies[0].splitlines()[1]


def test_the_classifier_counts_in_the_failure_path_too(knowledge):
    text = "my partner went for me again and I've got marks on my neck"
    assert safety.default_matcher().match(text) is None
    signal = safety.crisis_signal(text)
    assert signal and signal["kind"] and signal["pattern"].startswith("classifier")
    assert len(safety.failure_replies(text, None)) == 3


def test_no_danger_no_crisis_help(knowledge):
    assert safety.failure_replies("how much is the setting up home grant", "walsall") == [safety.failure_message("walsall")]


def test_sms_failure_help_is_gsm7_and_says_call_999(knowledge):
    replies = safety.failure_replies("some lads took over my flat to deal from it", "nottingham", "sms")
    assert all(is_gsm7(reply) for reply in replies)
    assert "call 999" in replies[0]


def test_a_broken_detector_falls_back_to_the_patterns(knowledge, monkeypatch):
    def broken():
        raise RuntimeError("no classifier")

    monkeypatch.setattr(safety, "default_detector", broken)
    assert safety.crisis_signal("i want to kill myself")["kind"] == "suicide"
    assert safety.crisis_signal("how do i get a bus pass") is None


def test_unknown_kind_gets_the_generic_reply(knowledge):
    replies = safety.crisis_help(None, "walsall")
    assert replies[0] == safety._crisis_help()


def test_database_down_still_gives_the_kinds_help(monkeypatch):
    def down():
        raise RuntimeError("database down")

    monkeypatch.setattr(safety, "_knowledge", down)
    replies = safety.failure_replies("i've got nowhere to sleep tonight", "walsall")
    assert "Shelter" in replies[0] and "Call your council's out-of-hours number" in replies[0]


def test_the_failure_path_keeps_the_tap_to_call_buttons_on_the_web(knowledge):
    messages = safety.failure_messages("i want to kill myself", "walsall", "rest")
    assert {"title": "Call 999", "payload": "tel:999"} in messages[0]["buttons"]
    assert all("buttons" not in m for m in safety.failure_messages("i want to kill myself", "walsall", "sms")[:1])
