"""What every channel does to user input and to failed turns, whatever the channel.

- Text starting with "/" is parsed by Rasa as `/intent{"slot": value}`: a user could force
  an intent or set slots that way, so the leading slashes are removed before Rasa sees it.
- If a turn fails (action server down, database error) or produces no reply, the user still
  gets a message with a phone number they can call.
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional

import yaml

from bot.config import ROOT, load_settings
from knowledge.safety.crisis import default_matcher
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase

logger = logging.getLogger(__name__)
_LEADING_SLASHES = re.compile(r"^[\s/\\]*/+")
COUNCIL_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
SENDER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
NOT_A_TURN = "send JSON with 'sender' (letters, digits, -_.:, up to 128) and 'message' (text)"
MAX_TEXT = 2000


def neutralise(text: Optional[str]) -> str:
    """User text made safe to parse: no leading '/', bounded length."""
    cleaned = _LEADING_SLASHES.sub("", text or "")
    return cleaned[:MAX_TEXT]


def turn_sender(body: Any) -> Optional[str]:
    """The sender id of a well-formed chat turn {"sender": id, "message": text}, else None."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), str):
        return None
    sender = str(body.get("sender") or "")
    return sender if SENDER_ID.match(sender) else None


def clean_metadata(raw: Any) -> Dict[str, Any]:
    """Only the metadata keys the bot uses, in the shape it expects (others are dropped).

    `council`: the council id the page or number belongs to. `notice_seen`: the client
    showed the full privacy notice before this message (the web widget does), so the
    bot need not repeat its one-line version.
    """
    if not isinstance(raw, dict):
        return {}
    cleaned: Dict[str, Any] = {}
    council = raw.get("council")
    if council is not None:
        value = str(council).strip().lower()[:40]
        cleaned["council"] = value if COUNCIL_ID.match(value) else "(invalid)"
    if raw.get("notice_seen") is True:
        cleaned["notice_seen"] = True
    return cleaned


@lru_cache(maxsize=1)
def _knowledge() -> KnowledgeBase:
    return KnowledgeBase(make_engine(load_settings().database_url))


@lru_cache(maxsize=1)
def _crisis_help() -> str:
    """The crisis reply as written in domain.yml (one source for the wording)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    return domain["responses"]["utter_crisis_help"][0]["text"]


def failure_replies(text: str, council_id: Optional[str]) -> List[str]:
    """What to say when a turn failed: the crisis help first if the message signals danger
    (the rule layer runs here too, so no failure can swallow a crisis), then a number to call."""
    replies = []
    try:
        if default_matcher().match(text):
            replies.append(_crisis_help())
    except Exception:  # noqa: BLE001 - never let the safety net itself fail the reply
        logger.exception("crisis check failed in the failure path")
        replies.append(_crisis_help())
    replies.append(failure_message(council_id))
    return replies


def failure_message(council_id: Optional[str]) -> str:
    """The reply when the bot could not answer: always a number to call."""
    team = ""
    try:
        contact = _knowledge().contact(council_id, "leaving_care_team")
        if contact and contact.phone:
            team = f" You can call {contact.name} on {contact.phone}."
    except Exception:  # noqa: BLE001 - the database may be the thing that failed
        logger.exception("could not read the leaving-care contact for a failure reply")
    return (
        "Sorry, something went wrong on our side and I can't answer right now." + team
        + " If you're in danger, call 999. Samaritans are free any time on 116 123."
    )
