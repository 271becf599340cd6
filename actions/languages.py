"""Replies for a young person who writes in, or asks for, a language other than English.

A thin adapter: the NLU gate (bot/nlu/language_gate.py) puts `language` in the parse result
and sends the message to action_fallback, which calls `answer_in_language` first; the crisis
action calls `crisis_in_language` after the English help. What to say is knowledge's
(knowledge/languages/replies.py over the language files); this module only reads the tracker,
keeps the `language` slot and hands the messages to the dispatcher.
"""
from __future__ import annotations

from typing import List, Optional, Sequence

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from knowledge.languages.catalog import default_catalog
from knowledge.languages.detect import ENGLISH, Detection
from knowledge.languages.replies import (
    Choice, core_reply, crisis_reply, list_reply, reply_language, unsure_reply,
)
from knowledge.safety.reply import ReplyMessage

LANGUAGE_SLOT = "language"


def _reading(tracker: Tracker) -> Optional[dict]:
    return (tracker.latest_message or {}).get("language") or None


def _detection(found: dict) -> Detection:
    return Detection(found.get("code") or ENGLISH, bool(found.get("sure")), tuple(found.get("candidates") or ()))


def _choice(found: dict) -> Optional[Choice]:
    if found.get("asked_list"):
        return Choice(None)
    return Choice(found["choice"]) if found.get("choice") else None


def _say(dispatcher: CollectingDispatcher, messages: Sequence[ReplyMessage]) -> None:
    for message in messages:
        dispatcher.utter_message(**message.as_dict())


def answer_in_language(dispatcher: CollectingDispatcher, tracker: Tracker) -> Optional[List[EventType]]:
    """The core replies in the message's language (or the choice of languages), or None
    when the message is English and nothing was asked about languages."""
    found = _reading(tracker)
    if found is None:
        return None
    catalog, current = default_catalog(), tracker.get_slot(LANGUAGE_SLOT)
    choice = _choice(found)
    if choice is not None and choice.code is None:
        _say(dispatcher, list_reply(catalog))
        return []
    if choice is not None and choice.code == ENGLISH:
        dispatcher.utter_message(response="utter_language_english")
        return [SlotSet(LANGUAGE_SLOT, ENGLISH)]
    detection = _detection(found)
    code = reply_language(detection, choice, current)
    if code is None:
        if not detection.candidates:
            return None
        _say(dispatcher, unsure_reply(catalog, detection.candidates))
        return []
    _say(dispatcher, core_reply(catalog, code, first=(current != code or choice is not None)))
    return [SlotSet(LANGUAGE_SLOT, code)]


def crisis_in_language(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """After the English crisis help: the same help in the young person's language (this
    message's, or the one they chose), or the urgent line in each language it may be."""
    found = _reading(tracker) or {}
    catalog, current = default_catalog(), tracker.get_slot(LANGUAGE_SLOT)
    detection = _detection(found) if found else Detection(ENGLISH, True)
    code = reply_language(detection, _choice(found), current)
    if code is None and not found and current not in (None, ENGLISH):
        code = current  # an English crisis message from someone who chose another language
    if code is not None:
        _say(dispatcher, crisis_reply(catalog, code))
        return [SlotSet(LANGUAGE_SLOT, code)]
    if detection.candidates:
        _say(dispatcher, unsure_reply(catalog, detection.candidates)[:-1])
    return []
