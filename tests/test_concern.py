"""Possible danger the classifier saw but no pattern confirmed: an answer with the numbers first."""
from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.concern as concern
from knowledge.safety.classifier import ALERT_THRESHOLD, CONCERN_THRESHOLD, THRESHOLD
from knowledge.safety.detect import CrisisDetector
from knowledge.safety.kinds import default_kinds
from knowledge.safety.reply import concern_line


class FixedClassifier:
    """Scores every message the same: the detector's levels are what is tested."""

    def __init__(self, score: float, kind: str = "suicide"):
        self._score, self._kind = score, kind

    def score(self, text):
        return self._score, self._kind

    def fires(self, text, score):
        return score >= THRESHOLD and len(text.split()) >= 3


class NoPatterns:
    def match(self, text):
        return None


def test_a_classifier_score_under_the_alert_level_is_a_concern_not_an_alert():
    found = CrisisDetector(NoPatterns(), FixedClassifier(CONCERN_THRESHOLD)).assess("things have been hard lately")
    assert found is not None and found.level == "concern" and not found.is_alert


def test_a_low_classifier_score_raises_nothing():
    """Under CONCERN_THRESHOLD the line would come before ordinary questions ("where is this from?")."""
    assert CrisisDetector(NoPatterns(), FixedClassifier(CONCERN_THRESHOLD - 0.01)).assess("where is this from") is None


def test_a_high_classifier_score_is_an_alert():
    found = CrisisDetector(NoPatterns(), FixedClassifier(ALERT_THRESHOLD)).assess("things have been hard lately")
    assert found.is_alert


def test_a_pattern_is_always_an_alert():
    found = CrisisDetector(classifier=FixedClassifier(0.0)).assess("i want to kill myself")
    assert found.is_alert and found.source == "rule"


def test_the_concern_line_gives_999_and_samaritans():
    line = concern_line(default_kinds())
    assert line.startswith(concern.CONCERN_OPENING + ", call 999.") and "116 123" in line


def tracker_with(parse: dict, events: list) -> Tracker:
    return Tracker("someone", {"council": "walsall"}, parse, events, False, None, {}, "action_listen")


def test_a_concern_puts_the_line_first_and_notes_it_for_staff_once(monkeypatch):
    notes = []
    monkeypatch.setattr(concern, "engine", lambda: None)
    monkeypatch.setattr(concern, "create_referral", lambda engine, referral: notes.append(referral))
    parse = {"text": "x", "intent": {"name": "ask_money"}, "crisis": {"level": "concern", "kind": "suicide", "score": 0.7}}
    dispatcher = CollectingDispatcher()
    concern.say_concern(dispatcher, tracker_with(parse, [{"event": "user", "text": "x", "parse_data": parse}]))
    assert dispatcher.messages[0]["text"].startswith(concern.CONCERN_OPENING)
    [note] = notes
    assert note.priority == "normal" and note.kind == "suicide" and note.reason == "crisis"
    said = [{"event": "user", "text": "x", "parse_data": parse}, {"event": "bot", "text": dispatcher.messages[0]["text"]}]
    again = CollectingDispatcher()
    concern.say_concern(again, tracker_with(parse, said + [{"event": "user", "text": "y", "parse_data": parse}]))
    assert again.messages == [] and len(notes) == 1


def test_no_concern_says_nothing(monkeypatch):
    monkeypatch.setattr(concern, "create_referral", lambda *a: (_ for _ in ()).throw(AssertionError("no note")))
    dispatcher = CollectingDispatcher()
    parse = {"text": "x", "intent": {"name": "ask_money"}}
    concern.say_concern(dispatcher, tracker_with(parse, []))
    assert dispatcher.messages == []


def test_the_routers_crisis_intent_alone_is_a_concern_and_the_next_intent_answers():
    from rasa.shared.nlu.training_data.message import Message

    from bot.nlu.crisis_layer import CrisisLayer

    ranking = [{"name": "crisis", "confidence": 0.6}, {"name": "ask_leisure", "confidence": 0.3}]
    message = Message(data={"text": "how do i get a bus pass", "intent": ranking[0], "intent_ranking": ranking})
    CrisisLayer(CrisisDetector(NoPatterns(), FixedClassifier(0.0))).process([message])
    assert message.get("intent")["name"] == "ask_leisure"
    assert message.get("crisis")["level"] == "concern" and message.get("crisis")["source"] == "router"
