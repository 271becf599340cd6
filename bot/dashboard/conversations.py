"""Reading conversations out of Rasa's SQL tracker store for staff.

The `events` table is Rasa's own (imported from Rasa, so the columns always match what
the bot writes). A conversation's facts (council, channel, topics, fallback, hand-off,
crisis) are worked out from its events each time they are read; redaction happens here
too, so nothing below this module hands clear text to a page or a CSV.
"""
from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from typing import Dict, Iterable, List, Optional, Sequence, Set

from rasa.core.tracker_store import SQLTrackerStore
from sqlalchemy import inspect, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from knowledge.db import make_engine
from services.models import Referral, create_all
from services.privacy import DISPLAY_PREFIX, display_id, looks_like_display_id
from services.redact import CONTACT, NAME, redact_text
from services.staff import ConversationNote, ConversationTag

EVENTS = SQLTrackerStore.SQLEvent.__table__
FALLBACK_INTENTS = {"nlu_fallback"}
FALLBACK_ACTIONS = {"action_fallback"}
HANDOFF_ACTIONS = {"action_submit_referral"}
RATING_INTENTS = {"rate_helpful": True, "rate_unhelpful": False}
NAME_SLOTS = ("handoff_name",)
CONTACT_SLOTS = ("handoff_contact_value",)
ALWAYS_HIDDEN = {**{slot: NAME for slot in NAME_SLOTS}, **{slot: CONTACT for slot in CONTACT_SLOTS}}
# Slots holding what the hand-off form asked for: always shown redacted.
PERSONAL_SLOTS = ("handoff_name", "handoff_contact_value", "handoff_time", "handoff_message")
CHANNEL_LABELS = {"rest": "web", "sms": "SMS"}


def ensure_events_table(engine: Engine) -> None:
    """Create Rasa's events table if the bot has not run yet (same definition Rasa uses)."""
    SQLTrackerStore.Base.metadata.create_all(engine)


def open_store(database_url: str) -> Engine:
    """The database with every table the dashboard reads (for the dashboard and its commands)."""
    engine = make_engine(database_url)
    create_all(engine)
    ensure_events_table(engine)
    return engine


def utc(timestamp: Optional[float]) -> Optional[dt.datetime]:
    """A naive UTC datetime from an event's epoch seconds."""
    if timestamp is None:
        return None
    return dt.datetime.fromtimestamp(timestamp, dt.timezone.utc).replace(tzinfo=None)


def epoch(moment: dt.datetime) -> float:
    return moment.replace(tzinfo=dt.timezone.utc).timestamp()


@dataclass
class Turn:
    """One thing said in a conversation: by the young person (`user`) or the bot/staff (`bot`)."""

    speaker: str
    at: dt.datetime
    text: str
    intent: Optional[str] = None
    confidence: Optional[float] = None
    topic: Optional[str] = None
    marker: Optional[str] = None  # "fallback", "crisis", "hand-off": why staff should notice it


@dataclass
class Conversation:
    conversation_id: str
    display_id: str
    council: Optional[str] = None
    channel: Optional[str] = None
    started: Optional[dt.datetime] = None
    last: Optional[dt.datetime] = None
    topics: Set[str] = field(default_factory=set)
    user_turns: int = 0
    fallback: bool = False
    handoff: bool = False
    crisis: bool = False
    names: List[str] = field(default_factory=list)  # given to the hand-off form: hidden everywhere
    contacts: List[str] = field(default_factory=list)
    tags: List[str] = field(default_factory=list)
    ratings: List[tuple] = field(default_factory=list)  # (topic, helpful)

    def redact(self, text: Optional[str]) -> str:
        """Text from this conversation as staff may see it."""
        return redact_text(text, self.names, self.contacts)

    @property
    def channel_label(self) -> str:
        return CHANNEL_LABELS.get(self.channel or "", self.channel or "unknown")


@dataclass(frozen=True)
class Filters:
    """What the conversation list is narrowed to (all optional)."""

    since: Optional[dt.date] = None
    until: Optional[dt.date] = None
    council: Optional[str] = None
    channel: Optional[str] = None  # "rest" | "sms"
    topic: Optional[str] = None
    fallback: bool = False
    handoff: bool = False
    crisis: bool = False
    tag: Optional[str] = None


def _data(row) -> dict:
    try:
        return json.loads(row.data or "{}")
    except ValueError:
        return {}


def _apply_event(conversation: Conversation, row, data: dict, state: dict) -> None:
    """Update a conversation's facts with one event (state carries the current topic)."""
    at = utc(row.timestamp)
    if at is not None:
        conversation.started = min(conversation.started or at, at)
        conversation.last = max(conversation.last or at, at)
    if row.type_name == "user":
        conversation.user_turns += 1
        conversation.channel = conversation.channel or data.get("input_channel")
        intent = row.intent_name
        conversation.fallback |= intent in FALLBACK_INTENTS
        conversation.crisis |= intent == "crisis"
        if intent in RATING_INTENTS:
            conversation.ratings.append((state.get("topic"), RATING_INTENTS[intent]))
    elif row.type_name == "slot":
        name, value = data.get("name"), data.get("value")
        if name == "council" and value:
            conversation.council = value
        elif name == "topic" and value:
            state["topic"] = value
            conversation.topics.add(value)
            conversation.crisis |= value == "crisis"
        elif name in NAME_SLOTS and isinstance(value, str):
            conversation.names.append(value)
        elif name in CONTACT_SLOTS and isinstance(value, str):
            conversation.contacts.append(value)
    elif row.type_name == "action":
        conversation.fallback |= row.action_name in FALLBACK_ACTIONS
        conversation.handoff |= row.action_name in HANDOFF_ACTIONS


def _event_rows(session: Session, sender_ids=None, types=("user", "slot", "action"), council: Optional[str] = None):
    """Event rows in conversation order: of the given conversations and/or the given council's."""
    query = select(EVENTS.c.sender_id, EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.intent_name,
                   EVENTS.c.action_name, EVENTS.c.data).where(EVENTS.c.type_name.in_(types))
    if sender_ids is not None:
        query = query.where(EVENTS.c.sender_id.in_(list(sender_ids)))
    if council is not None:
        query = query.where(or_(*[EVENTS.c.sender_id.in_(senders) for senders in council_senders(council)]))
    return session.execute(query.order_by(EVENTS.c.sender_id, EVENTS.c.id))


def council_senders(council: str) -> list:
    """SQL for the conversations that ever named this council (a `council` slot event; Rasa
    stores the slot name in action_name and the event as json.dumps text) or have a referral
    for it. This scopes what is read in the query; `visible_to` then applies the exact rule
    (the council named last) to what was read."""
    named = select(EVENTS.c.sender_id).where(
        EVENTS.c.type_name == "slot", EVENTS.c.action_name == "council",
        EVENTS.c.data.like(f'%"value": {json.dumps(council)}%'))
    referred = select(Referral.conversation_id).where(Referral.council_id == council)
    return [named, referred]


def _add_referral_facts(session: Session, conversations: Dict[str, Conversation], ids: Optional[List[str]]) -> None:
    """Referral rows also mark a hand-off (and an urgent one a crisis), and carry the council.
    `ids`: only these conversations' referrals are read (None: every referral)."""
    if not conversations:
        return
    query = select(Referral.conversation_id, Referral.council_id, Referral.priority, Referral.reason,
                   Referral.first_name, Referral.contact_value).order_by(Referral.id)
    if ids is not None:
        query = query.where(Referral.conversation_id.in_(ids))
    for row in session.execute(query):
        conversation = conversations.get(row.conversation_id)
        if conversation is None:
            continue
        conversation.handoff = True
        conversation.crisis |= row.priority == "urgent" or row.reason == "crisis"
        conversation.council = conversation.council or row.council_id
        if row.first_name:
            conversation.names.append(row.first_name)
        if row.contact_value:
            conversation.contacts.append(row.contact_value)


def _add_tags(session: Session, conversations: Dict[str, Conversation], ids: Optional[List[str]]) -> None:
    query = select(ConversationTag.conversation_id, ConversationTag.tag).order_by(ConversationTag.tag)
    if ids is not None:
        query = query.where(ConversationTag.conversation_id.in_(ids))
    for row in session.execute(query):
        if row.conversation_id in conversations:
            conversations[row.conversation_id].tags.append(row.tag)


def load_conversations(engine: Engine, key: bytes, sender_ids: Optional[Iterable[str]] = None,
                       council: Optional[str] = None) -> Dict[str, Conversation]:
    """Conversations with their facts, keyed by conversation id: all of them, or only the
    given ids, or only those that named `council` (None: every council)."""
    conversations: Dict[str, Conversation] = {}
    if not inspect(engine).has_table(EVENTS.name):
        return conversations
    with Session(engine) as session:
        state: dict = {}
        for row in _event_rows(session, sender_ids, council=council):
            conversation = conversations.get(row.sender_id)
            if conversation is None:
                conversation = conversations[row.sender_id] = Conversation(row.sender_id, display_id(row.sender_id, key))
                state = {}
            data = _data(row) if row.type_name in ("user", "slot") else {}  # actions need no JSON parsing
            _apply_event(conversation, row, data, state)
        # Asked for a few conversations: read only their referrals and tags, not every one.
        ids = list(conversations) if sender_ids is not None else None
        _add_referral_facts(session, conversations, ids)
        _add_tags(session, conversations, ids)
    return conversations


def visible_to(conversation: Conversation, council: Optional[str]) -> bool:
    """Council scoping: staff of one council see that council's conversations; None means all (admins)."""
    return council is None or conversation.council == council


def matches(conversation: Conversation, filters: Filters) -> bool:
    """True if the conversation passes every filter that is set (dates compare the start, in UTC)."""
    started = conversation.started.date() if conversation.started else None
    checks = [
        filters.since is None or (started is not None and started >= filters.since),
        filters.until is None or (started is not None and started <= filters.until),
        filters.council is None or conversation.council == filters.council,
        filters.channel is None or conversation.channel == filters.channel,
        filters.topic is None or filters.topic in conversation.topics,
        not filters.fallback or conversation.fallback,
        not filters.handoff or conversation.handoff,
        not filters.crisis or conversation.crisis,
        filters.tag is None or filters.tag in conversation.tags,
    ]
    return all(checks)


def list_conversations(engine: Engine, key: bytes, scope_council: Optional[str], filters: Filters) -> List[Conversation]:
    """The conversations a staff member may see that pass the filters, newest first."""
    found = [
        conversation
        for conversation in load_conversations(engine, key, council=scope_council or filters.council).values()
        if conversation.user_turns and visible_to(conversation, scope_council) and matches(conversation, filters)
    ]
    return sorted(found, key=lambda c: c.last or dt.datetime.min, reverse=True)


def find_conversation(engine: Engine, key: bytes, scope_council: Optional[str], wanted: str) -> Optional[Conversation]:
    """The conversation with this display id (or raw id, as in referral e-mails) if the staff member may see it.

    A conversation of another council is reported as not found, exactly like one that
    does not exist, so guessing ids tells nothing.
    """
    sender_id = sender_for_display_id(engine, key, wanted) if wanted.startswith(DISPLAY_PREFIX) else wanted
    conversation = load_conversations(engine, key, [sender_id], council=scope_council).get(sender_id) if sender_id else None
    if conversation is None or not visible_to(conversation, scope_council):
        return None
    return conversation


def sender_for_display_id(engine: Engine, key: bytes, wanted: str) -> Optional[str]:
    """The conversation id behind a display id: hashes the ids alone (one column), so that
    opening a transcript loads one conversation's events, not every conversation's."""
    if not looks_like_display_id(wanted) or not inspect(engine).has_table(EVENTS.name):
        return None
    with engine.connect() as connection:
        senders = connection.execute(select(EVENTS.c.sender_id).distinct()).scalars()
        return next((sender for sender in senders if display_id(sender, key) == wanted), None)


def _marker(intent: Optional[str], topic: Optional[str]) -> Optional[str]:
    if intent == "crisis" or topic == "crisis":
        return "crisis"
    if intent in FALLBACK_INTENTS:
        return "fallback"
    return None


def _turns(rows, conversation: Conversation) -> List[Turn]:
    """Redacted turns from one conversation's event rows (in order), each user turn with its topic."""
    turns: List[Turn] = []
    pending_topic: Optional[Turn] = None
    for row in rows:
        if row.type_name == "action":
            if row.action_name in HANDOFF_ACTIONS:
                turns.append(Turn("system", utc(row.timestamp), "Passed on to a person (referral)", marker="hand-off"))
            continue
        data = _data(row)
        if row.type_name == "user":
            intent = (data.get("parse_data") or {}).get("intent") or {}
            pending_topic = Turn("user", utc(row.timestamp), conversation.redact(data.get("text")),
                                 intent.get("name"), intent.get("confidence"))
            turns.append(pending_topic)
        elif row.type_name == "slot" and data.get("name") == "topic" and pending_topic is not None:
            pending_topic.topic = data.get("value")
            pending_topic = None
        elif row.type_name == "bot" and data.get("text"):
            speaker = "staff" if (data.get("metadata") or {}).get("staff") else "bot"
            turns.append(Turn(speaker, utc(row.timestamp), conversation.redact(data["text"])))
    for turn in turns:
        if turn.speaker == "user":
            turn.marker = _marker(turn.intent, turn.topic)
    return turns


TRANSCRIPT_EVENTS = ("user", "bot", "slot", "action")


def transcript(engine: Engine, conversation: Conversation) -> List[Turn]:
    """The redacted turns of one conversation, each user turn with its topic and confidence."""
    with Session(engine) as session:
        return _turns(_event_rows(session, [conversation.conversation_id], types=TRANSCRIPT_EVENTS), conversation)


def transcripts(engine: Engine, conversations: Sequence[Conversation], chunk: int = 500) -> Dict[str, List[Turn]]:
    """Many conversations' redacted turns, read in a few queries (for reports)."""
    found: Dict[str, List[Turn]] = {c.conversation_id: [] for c in conversations}
    by_id = {c.conversation_id: c for c in conversations}
    ids = list(by_id)
    with Session(engine) as session:
        for start in range(0, len(ids), chunk):
            rows = _event_rows(session, ids[start:start + chunk], types=TRANSCRIPT_EVENTS)
            for sender, group in itertools.groupby(rows, key=lambda row: row.sender_id):
                found[sender] = _turns(group, by_id[sender])
    return found


def personal_slot_values(engine: Engine, conversation: Conversation) -> Dict[str, str]:
    """The hand-off form's answers as staff may see them: redacted, name and contact always hidden."""
    values: Dict[str, str] = {}
    with Session(engine) as session:
        for row in _event_rows(session, [conversation.conversation_id], types=("slot",)):
            data = _data(row)
            name, value = data.get("name"), data.get("value")
            if name in PERSONAL_SLOTS and value not in (None, ""):
                values[name] = ALWAYS_HIDDEN.get(name) or conversation.redact(str(value))
    return values


def notes(engine: Engine, conversation: Conversation) -> List[ConversationNote]:
    """Staff notes on a conversation, redacted (staff may have pasted a number in)."""
    with Session(engine) as session:
        rows = session.execute(
            select(ConversationNote).where(ConversationNote.conversation_id == conversation.conversation_id)
            .order_by(ConversationNote.id)
        ).scalars().all()
        for row in rows:
            session.expunge(row)
            row.text = conversation.redact(row.text)
    return rows
