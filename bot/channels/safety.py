"""What every channel does to user input and to failed turns, whatever the channel.

- Text starting with "/" is parsed by Rasa as `/intent{"slot": value}`: a user could force
  an intent or set slots that way, so the leading slashes are removed before Rasa sees it.
- Lone surrogates (JSON can carry "\ud83d"), NUL and other control characters are removed
  before NLU: one of them used to crash the turn in spaCy or the tracker store, and the
  crisis message with it.
- If a turn fails (action server down, database error) or produces no reply, the user still
  gets a message with a phone number they can call, and if the message signals danger an
  urgent referral is spooled (the turn may have failed before it made one). The danger is
  judged as the crisis layer judges it (patterns and classifier, knowledge.safety.detect)
  and the help is the kind's own, composed as the action would (knowledge.safety.reply).
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any, Dict, List, Optional

import yaml

from bot.config import ROOT, load_settings
from bot.referral_spool import spool_referral
from knowledge.safety.crisis import default_matcher
from knowledge.safety.detect import default_detector
from knowledge.safety.reply import CRISIS, FAILURE, SAFETY, CouncilContacts, compose, failure_text
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase
from services.referrals import NewReferral

logger = logging.getLogger(__name__)
_LEADING_SLASHES = re.compile(r"^[\s/\\]*/+")
COUNCIL_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")
SENDER_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
NOT_A_TURN = "send JSON with 'sender' (letters, digits, -_.:, up to 128) and 'message' (text)"
MAX_TEXT = 2000
# C0 controls but tab and new line, and DEL; carriage returns become new lines first.
_CONTROLS = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")
_LINE_BREAKS = re.compile(r"\r\n?")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(text: Optional[str]) -> str:
    """Text any NLU component and database can take: surrogate pairs joined, lone surrogates,
    NUL and other control characters (not tab or new line) removed.

    Every channel calls this before NLU (REST, SMS, the site's proxy): a lone surrogate
    crashed spaCy and NUL is refused by PostgreSQL, so one stray character lost the turn,
    a crisis reply and its urgent referral."""
    text = text or ""
    if _SURROGATES.search(text):  # rare: only then pay for the round trip
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
    return _CONTROLS.sub("", _LINE_BREAKS.sub("\n", text))


def neutralise(text: Optional[str]) -> str:
    """User text made safe to parse: clean characters, no leading '/', bounded length."""
    cleaned = _LEADING_SLASHES.sub("", clean_text(text))
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


def crisis_signal(text: str) -> Optional[Dict[str, Optional[str]]]:
    """The crisis layer's verdict for the channels: None when the message signals no danger,
    else {"category", "pattern", "kind"}. A check that fails counts as danger: the channels
    use this to decide on safety help, and wrongly giving it costs far less than withholding it."""
    try:
        found = default_detector().assess(text)
    except Exception:  # noqa: BLE001 - the classifier failed: the patterns alone decide
        logger.exception("crisis detector failed in a channel; using the patterns alone")
        try:
            hit = default_matcher().match(text)
        except Exception:  # noqa: BLE001 - never let the safety net itself fail
            logger.exception("crisis check failed in a channel")
            return {"category": None, "pattern": "crisis check failed", "kind": None}
        return None if hit is None else {"category": hit.category, "pattern": hit.pattern_id, "kind": hit.kind}
    if found is None:
        return None
    return {"category": found.kind, "pattern": found.pattern or f"classifier {found.score:.2f}", "kind": found.kind}


def crisis_help(kind: Optional[str], council_id: Optional[str], channel: str = "rest") -> List[str]:
    """The words of crisis_messages (for channels that send text only)."""
    return [message["text"] for message in crisis_messages(kind, council_id, channel)]


def crisis_messages(kind: Optional[str], council_id: Optional[str], channel: str = "rest") -> List[Dict[str, Any]]:
    """The kind's help and the council's out-of-hours team, as the action would say them (on
    the web with its tap-to-call buttons), but honest that a failed turn cannot promise a
    worker soon (and no offer: nothing would handle the answer). The generic reply when the
    kind is unknown or composing fails."""
    try:
        reply = compose(kind, _contacts(council_id), channel, worker_told=False, offer=False)
    except Exception:  # noqa: BLE001 - never let the safety net itself fail
        logger.exception("could not compose the crisis help for a failed turn")
        return [{"text": _crisis_help(), SAFETY: CRISIS}]
    first = reply.help.as_dict() if reply.help else {"text": _crisis_help(), SAFETY: CRISIS}
    return [first, reply.council.as_dict()]


def _contacts(council_id: Optional[str]) -> CouncilContacts:
    try:
        kb = _knowledge()
        return CouncilContacts(kb.contact(council_id, "emergency_duty_team"), kb.contact(council_id, "leaving_care_team"))
    except Exception:  # noqa: BLE001 - the database may be the thing that failed
        logger.exception("could not read the council's contacts for a failed crisis turn")
        return CouncilContacts()


def failure_replies(text: str, council_id: Optional[str], channel: str = "rest",
                    signal: Optional[Dict[str, Optional[str]]] = None) -> List[str]:
    """The words of failure_messages (for channels that send text only)."""
    return [message["text"] for message in failure_messages(text, council_id, channel, signal)]


def failure_messages(text: str, council_id: Optional[str], channel: str = "rest",
                     signal: Optional[Dict[str, Optional[str]]] = None) -> List[Dict[str, Any]]:
    """What to say when a turn failed: the help for the kind of danger first if the message
    signals danger (the crisis check runs here too, so no failure can swallow a crisis), then
    a number to call."""
    signal = signal if signal is not None else crisis_signal(text)
    replies = crisis_messages(signal.get("kind"), council_id, channel) if signal else []
    replies.append({"text": failure_message(council_id), SAFETY: FAILURE})
    return replies


def failed_turn_messages(sender: str, text: str, council_id: Optional[str], channel: str) -> List[Dict[str, Any]]:
    """The failure replies (marked `safety`, crisis numbers with their buttons on the web), and
    an urgent referral spooled when the message signals danger.

    A turn that failed may have failed before `action_crisis` wrote its referral, so the
    channel spools one (bot.referral_spool; `python -m bot.referrals retry` imports it). If
    the turn did make one, the import adds to it instead (one open urgent referral per
    conversation and kind), so spooling when unsure costs nothing.
    """
    signal = crisis_signal(text)
    if signal:
        spool_failed_crisis(sender, text, council_id, channel, signal)
    return failure_messages(text, council_id, channel, signal)


def spool_failed_crisis(sender: str, text: str, council_id: Optional[str], channel: str,
                        signal: Dict[str, Optional[str]]) -> None:
    """Spool the urgent referral of a failed turn; never raises (the reply must still go).

    The message goes into `detail` (kept on the referral, never e-mailed): a failed turn
    may not have been stored, so the transcript may lack it."""
    referral = NewReferral(
        conversation_id=sender, reason="crisis", council_id=council_id, channel=channel, priority="urgent",
        kind=signal.get("kind"),
        detail=f"turn failed in the {channel} channel; pattern={signal.get('pattern')} "
               f"category={signal.get('category')}; message: {text[:500]}",
    )
    try:
        spool_referral(referral)
    except Exception:  # noqa: BLE001 - nowhere left to write it: the log is the last record
        logger.critical("urgent flag LOST for %s: the turn failed and the spool could not be written", sender, exc_info=True)


def failure_message(council_id: Optional[str]) -> str:
    """The reply when the bot could not answer: always a number that answers now (out of hours
    the emergency duty team), then 999 and Samaritans (knowledge.safety.reply.failure_text)."""
    return failure_text(_contacts(council_id))
