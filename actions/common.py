"""What every action needs: the knowledge base, the service database, and tracker helpers.

Actions stay thin: they read the tracker, call knowledge/ or services/, and turn the result
into messages. No SQL and no entitlement rules live in this package.
"""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any, Dict, List, Optional, Tuple

from rasa_sdk import Tracker
from sqlalchemy.engine import Engine

from bot.config import load_settings
from knowledge.content import NATIONAL
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase
from services.models import create_all

# Intents that are never taken as an answer to a form's question: the form is rejected and
# the rules for them run instead (crisis help, stopping, leaving). Anything else may be an
# answer, e.g. "phone" to "how should they contact you?" is often classified as request_human.
INTERRUPTING_INTENTS = frozenset({"crisis", "stop", "goodbye"})


@lru_cache(maxsize=1)
def engine() -> Engine:
    """The one database engine of this action server process (pooled connections)."""
    db_engine = make_engine(load_settings().database_url)
    create_all(db_engine)
    return db_engine


@lru_cache(maxsize=1)
def knowledge_base() -> KnowledgeBase:
    """The knowledge base, loaded from the offer files on first use if the database is empty."""
    kb = KnowledgeBase(engine())
    kb.ensure_loaded()
    return kb


def said_before(tracker: Tracker, opening: str) -> bool:
    """Whether the bot already said a message starting with `opening` in this conversation
    (lines said once a conversation: the concern line, the moved-away line)."""
    return any(e.get("event") == "bot" and (e.get("text") or "").startswith(opening) for e in tracker.events)


def said_last_turn(tracker: Tracker, response: str) -> bool:
    """Whether the bot said the `utter_*` `response` in its reply to the message before this one."""
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif users_seen == 1 and event.get("event") == "bot" and (event.get("metadata") or {}).get("utter_action") == response:
            return True
    return False


def latest_intent(tracker: Tracker) -> Optional[str]:
    return (tracker.latest_message or {}).get("intent", {}).get("name")


def latest_confidence(tracker: Tracker) -> float:
    """How sure the NLU was of the latest message's intent (0 when unknown)."""
    return float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)


def latest_text(tracker: Tracker) -> str:
    return (tracker.latest_message or {}).get("text") or ""


def latest_metadata(tracker: Tracker) -> Dict[str, Any]:
    return (tracker.latest_message or {}).get("metadata") or {}


def channel_of(tracker: Tracker) -> str:
    """The input channel of the latest message ('rest', 'sms', ...)."""
    return (tracker.latest_message or {}).get("input_channel") or tracker.get_latest_input_channel() or "rest"


def last_question(tracker: Tracker, intent_prefix: str = "ask_") -> Tuple[Optional[str], str]:
    """The intent and text of the user's most recent offer question (e.g. before a form)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        if intent and intent.startswith(intent_prefix):
            return intent, event.get("text") or ""
    return None, ""


def council_label(council_id: Optional[str]) -> str:
    """How to name the user's council in a reply ('Walsall Council', 'England')."""
    council = knowledge_base().council(council_id)
    if council is None or council.id == NATIONAL:
        return "England"
    return council.name


_NUMBER_WORDS = {
    "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19, "twenty": 20,
    "twenty one": 21, "twenty two": 22, "twenty three": 23, "twenty four": 24, "twenty five": 25,
}
_AGE_PHRASE = re.compile(
    r"\b(?:i'?m|i am|im|age[d]?|at|turned|turning|now)\s+(\d{2})\b|\b(\d{2})\s*(?:years? old|yrs? old|yo|y/o)\b"
)

# Ages that tell a story, not how old they are now: "in care from age 12 to 18", "since 14",
# "when i was 15". Taken out before an age is looked for.
_PAST_AGES = re.compile(
    r"\b(?:from|since|between|when i was|till|until|untill|before|after)\s+(?:age[d]?\s+|the age of\s+)?\d{1,2}"
    r"(?:\s*(?:to|and|till|until|-)\s*\d{1,2})?\b|\b\d{1,2}\s*(?:to|till|until)\s*\d{1,2}\b"
)


def parse_age(text: str, answer_expected: bool) -> Optional[int]:
    """An age from free text.

    When the bot has just asked for the age (`answer_expected`), a bare number will do
    ("19", "nineteen"); otherwise only a clear phrase counts ("I'm 22", "at 22"), so that
    "£2000" or "24 hours" are never taken for an age.
    """
    lowered = text.lower().replace("-", " ")
    if not answer_expected:
        lowered = _PAST_AGES.sub(" ", lowered)
    match = _AGE_PHRASE.search(lowered)
    if match:
        return int(match.group(1) or match.group(2))
    if answer_expected:
        number = re.search(r"\b(\d{1,2})\b", lowered)
        if number:
            return int(number.group(1))
        for words, value in sorted(_NUMBER_WORDS.items(), key=lambda item: -len(item[0])):
            if re.search(rf"\b{words}\b", lowered):
                return value
    return None


def plausible_age(age: Optional[float]) -> bool:
    return age is not None and 10 <= age <= 30


def buttons(*titles_and_payloads: Tuple[str, str]) -> List[Dict[str, str]]:
    """Quick-reply buttons; payloads are plain text the NLU understands on every channel."""
    return [{"title": title, "payload": payload} for title, payload in titles_and_payloads]


