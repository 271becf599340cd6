"""Rasa NLU component that raises the `crisis` intent when the safety layer finds danger.

The intent classifier alone can miss indirect wording ("whats the point anymore"), so this
layer runs last and overrides whatever came before it (deny_crisis and nlu_fallback too:
a disclosure typed after "i'm fine" is still a disclosure) when either the patterns in
knowledge/safety/crisis_patterns.yml or the classifier fitted from data/safety/examples.yml
fires (knowledge.safety.detect). The parse result gets
`crisis: {kind, source, pattern, score, with_previous, ...}`: the kind chooses the help.

Danger typed across two messages: Rasa 3.6 runs the NLU graph with the conversation's
tracker as an input (`MessageProcessor.parse_message(message, tracker)` passes it as the
`__tracker__` placeholder, and the default recipe hands it to any NLU component whose
`process` takes a `tracker` argument). Before this message is logged, the tracker's last
user event is the previous message, so it is read with this one. Only a recent previous
message counts, and not one that was a crisis itself (that was answered then). /model/parse
and NLU-only runs pass an empty tracker, so there the layer sees one message at a time.

What comes straight after a crisis reply is mostly more of the same danger ("im at the bus
station", "he's still outside"), and read alone it can look like an offer question (a bus
station is travel). So the message after an alert stays with the crisis (the kind's help
again, "I'm still here", the referral updated) unless it is one of the replies the crisis
answer expects (thanks, yes or no to a worker, "you got it wrong", stop) or a full new
question about the offer. Only one message is carried so: the one after it is read afresh.

The classifier is fitted when the component is created (about a second, once per process):
there is no model file to train or go stale. Why not a trainable Rasa component: the
channels' failure path (bot/channels/safety.py) and the web app, which run outside the NLU
graph, need the same detector, and knowledge/ must not depend on Rasa.
"""
from __future__ import annotations

import time
from typing import Any, Dict, List, Optional

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.shared.core.events import UserUttered
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.nlu.constants import INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from bot.nlu.intent_override import override_intent
from knowledge.followup import carries_a_question
from knowledge.safety.detect import ALERT, CONCERN, Assessment, CrisisDetector, default_detector

CRISIS_INTENT = "crisis"
CRISIS_KEY = "crisis"  # extra key in the parse result: which kind, and what fired, for the reply and staff
PREVIOUS_WINDOW_SECONDS = 15 * 60  # a message typed this soon after the last one may finish it
CONTINUATION = "continuation"  # the `source` of a crisis carried over from the message before
# Replies the crisis answer itself asks for or expects: they keep their own handling.
_LEAVES_THE_CRISIS = frozenset({
    "greet", "goodbye", "thank", "affirm", "deny", "deny_crisis", "stop", "request_human", "request_advocate",
    "make_complaint", "rate_helpful", "rate_unhelpful", "who_sees_this", "bot_challenge",
})


def _recent_user_event(tracker: Optional[DialogueStateTracker], now: Optional[float]) -> Optional[UserUttered]:
    """The user's last message before this one, if it has text and came within the window."""
    if tracker is None:
        return None
    for event in reversed(tracker.events):
        if not isinstance(event, UserUttered):
            continue
        if not event.text or (now if now is not None else time.time()) - (event.timestamp or 0) > PREVIOUS_WINDOW_SECONDS:
            return None
        return event
    return None


def previous_user_text(tracker: Optional[DialogueStateTracker], now: Optional[float] = None) -> Optional[str]:
    """The user's last message before this one, if recent and not itself a crisis, else None."""
    event = _recent_user_event(tracker, now)
    if event is None or (event.intent or {}).get("name") == CRISIS_INTENT:
        return None
    return event.text


def crisis_just_before(tracker: Optional[DialogueStateTracker], now: Optional[float] = None) -> Optional[Dict[str, Any]]:
    """The crisis reading of the user's last message when it was an alert found in it (not
    one carried over itself) and recent, else None."""
    event = _recent_user_event(tracker, now)
    if event is None or (event.intent or {}).get("name") != CRISIS_INTENT:
        return None
    crisis = (event.parse_data or {}).get(CRISIS_KEY) or {}
    if crisis.get("source") == CONTINUATION or crisis.get("level", ALERT) != ALERT:
        return None
    return crisis


LEAVE_CONFIDENCE = 0.5  # "i dont want to make a fuss" read as `stop` at 0.09 is not a stop


def stays_with_the_crisis(message: Message) -> bool:
    """Whether a message after the crisis reply is more of it, not an expected reply or a new question."""
    intent = (message.get(INTENT) or {}).get("name") or ""
    if intent in _LEAVES_THE_CRISIS and float((message.get(INTENT) or {}).get("confidence") or 0.0) >= LEAVE_CONFIDENCE:
        return False
    return not (intent.startswith("ask_") and carries_a_question(message.get(TEXT) or ""))


@DefaultV1Recipe.register([DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER], is_trainable=False)
class CrisisLayer(GraphComponent):
    """Sets intent `crisis` (confidence 1.0) when the patterns or the classifier find danger."""

    def __init__(self, detector: Optional[CrisisDetector] = None) -> None:
        self.detector = detector or default_detector()

    @classmethod
    def create(
        cls,
        config: Dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> "CrisisLayer":
        return cls()

    def process(self, messages: List[Message], tracker: Optional[DialogueStateTracker] = None) -> List[Message]:
        previous = previous_user_text(tracker)
        before = crisis_just_before(tracker)
        for message in messages:
            self._flag(message, previous)
            if before is not None and (message.get(INTENT) or {}).get("name") != CRISIS_INTENT and stays_with_the_crisis(message):
                self._carry_over(message, before)
        return messages

    def process_training_data(self, training_data):  # noqa: D401 - Rasa hook
        """Nothing to learn here: the patterns and examples are data, read when created."""
        return training_data

    def _flag(self, message: Message, previous: Optional[str] = None) -> None:
        found = self.detector.assess(message.get(TEXT) or "", previous)
        before = message.get(INTENT) or {}
        if found is None and before.get("name") != CRISIS_INTENT:
            return
        if found is not None and found.is_alert:
            override_intent(message, CRISIS_INTENT, 1.0)
        else:
            # A concern keeps the router's reading: the question is answered, numbers first.
            # The router's own `crisis` intent is only a concern too: on the team's hard
            # look-alikes (tests/eval/crisis.yml) it raised false alarms from 2% to 16% and
            # added 2 points of recall on the blind crisis set, so the next intent answers.
            found = found or Assessment(kind=None, source="router", pattern=None, score=float(before.get("confidence") or 0.0), level=CONCERN)
            if before.get("name") == CRISIS_INTENT:
                self._answer_instead(message)
        message.set(
            CRISIS_KEY,
            {**found.as_dict(), "category": found.kind, "classifier_intent": before.get("name")},
            add_to_output=True,
        )

    @staticmethod
    def _carry_over(message: Message, before: Dict[str, Any]) -> None:
        """Read this message as more of the crisis just answered, of the same kind."""
        override_intent(message, CRISIS_INTENT, 1.0)
        kind = before.get("kind")
        carried = Assessment(kind=kind, source=CONTINUATION, pattern=None, score=0.0, with_previous=True)
        message.set(CRISIS_KEY, {**carried.as_dict(), "category": kind, "classifier_intent": None}, add_to_output=True)

    @staticmethod
    def _answer_instead(message: Message) -> None:
        """Make the router's best intent other than crisis the message's intent."""
        ranking = [r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != CRISIS_INTENT]
        if ranking:
            override_intent(message, ranking[0]["name"], float(ranking[0].get("confidence") or 0.0))
