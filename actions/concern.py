"""A possible danger the classifier saw but no pattern confirmed: answer, numbers first, tell staff.

The crisis layer marks such a message `crisis.level: concern` and keeps the router's intent
(knowledge/safety/classifier.py says why: at that score most were ordinary hard-times
questions). The answering actions call `say_concern` first, so the young person sees where to
get help (999, Samaritans) before the answer, and a normal-priority referral lets a worker look at the
conversation. Once per conversation: the line again on every message would be noise.
"""
from __future__ import annotations

import logging
from typing import Any, Dict, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import channel_of, engine, said_before
from knowledge.safety.detect import CONCERN
from knowledge.safety.kinds import default_kinds
from knowledge.safety.reply import SAFETY, concern_line
from services.referrals import NewReferral, create_referral

logger = logging.getLogger(__name__)
CONCERN_OPENING = "If you're not safe right now"  # how concern_line begins: said once a conversation
# Every concern that reaches here leaves a note: the classifier raises one only from
# knowledge.safety.classifier.CONCERN_THRESHOLD (0.5), and a pattern read as calm or the
# router's own crisis reading are worth a worker's look.


def concern_in(parse: Optional[Dict[str, Any]]) -> Optional[Dict[str, Any]]:
    """The crisis layer's concern in this parse result, if it raised one."""
    crisis = (parse or {}).get("crisis") or {}
    return crisis if crisis.get("level") == CONCERN else None


def concern_said_before(tracker: Tracker) -> bool:
    """Whether the bot already gave the concern line in this conversation."""
    return said_before(tracker, CONCERN_OPENING)


def concern_detail(concern: Dict[str, Any]) -> str:
    """What staff are told about a concern: which signal saw it, in words they can act on."""
    if concern.get("pattern"):
        return (f"possible concern (pattern {concern['pattern']}, read as about the past, a course or a joke): "
                "please read the conversation")
    return f"possible concern (classifier {concern.get('score')}, no pattern): please read the conversation"


def say_concern(dispatcher: CollectingDispatcher, tracker: Tracker, parse: Optional[Dict[str, Any]] = None) -> None:
    """Put the kind's help line before the answer and note it for staff, once a conversation.

    `parse` is the message being answered (the question, when a form asked for the council
    in between); by default the latest message."""
    concern = concern_in(parse if parse is not None else tracker.latest_message)
    if concern is None or concern_said_before(tracker):
        return
    dispatcher.utter_message(text=concern_line(default_kinds()), **{SAFETY: CONCERN})
    referral = NewReferral(
        conversation_id=tracker.sender_id,
        reason="crisis",
        council_id=tracker.get_slot("council"),
        channel=channel_of(tracker),
        priority="normal",
        detail=concern_detail(concern),
        kind=concern.get("kind"),
    )
    try:
        create_referral(engine(), referral)
    except Exception:  # noqa: BLE001 - the line was said; a lost note must not fail the answer
        logger.exception("could not note a possible concern for %s", tracker.sender_id)
