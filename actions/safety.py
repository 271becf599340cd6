"""The crisis reply for the kind of danger, the council's numbers, an offer of a worker, and an urgent flag.

The reply is composed by knowledge.safety.reply from knowledge/safety/kinds.yml for the kind
the crisis layer found (`crisis.kind` in the parse result): that kind's help first, then the
council's out-of-hours team and who is told when, then the offer of a worker (for abuse at
home: is this phone safe). With no kind (the intent classifier alone said crisis) the generic
`utter_crisis_help` comes first. If this server is down the turn fails and the channels'
failure path (bot/channels/safety.py) composes the same help. The flag is written after the
reply and a failure to write it is logged, never shown.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import channel_of, engine, knowledge_base, latest_text
from actions.followup import fresh_question
from actions.languages import crisis_in_language
from bot.config import load_settings
from bot.notify import notify_in_background
from bot.referral_spool import spool_referral
from knowledge.followup import carries_a_question
from knowledge.safety.kinds import default_kinds
from knowledge.safety.reply import CRISIS, SAFETY, CouncilContacts, compose, contact_declined
from services.referrals import (
    NO_CONTACT, NOT_ON_THIS_PHONE, NewReferral, add_urgent_note, create_or_update_urgent, record_contact_wish,
)

logger = logging.getLogger(__name__)


def council_contacts(council_id: Optional[str]) -> CouncilContacts:
    """The council's out-of-hours and leaving care contacts; none when the database is down
    (the national numbers in the reply need no database)."""
    try:
        kb = knowledge_base()
        return CouncilContacts(kb.contact(council_id, "emergency_duty_team"), kb.contact(council_id, "leaving_care_team"))
    except SQLAlchemyError:
        logger.exception("knowledge base unavailable during a crisis reply")
        return CouncilContacts()


def office_line(council_id: Optional[str], now: Optional[dt.datetime] = None) -> str:
    """Honest words on who is told and when a worker can see it, and the offer of one."""
    reply = compose(None, council_contacts(council_id), now=now)
    return f"{reply.council.text.splitlines()[-1]} {reply.offer.text}"


class ActionCrisis(Action):
    """The kind's help, the council's numbers and an offer of a worker; stops any form; flags urgent."""

    def name(self) -> Text:
        return "action_crisis"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        council = tracker.get_slot("council")
        kind = ((tracker.latest_message or {}).get("crisis") or {}).get("kind")
        stop_form = [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("handoff_reason", "crisis")]
        before = kind_just_answered(tracker)
        if before is not None and kind in (before, None, "immediate_danger") and not new_immediate_danger(kind, before):
            # The help was just given: a second message ("no its not safe he checks my phone",
            # "i cant ring the police") gets an answer to it, not the same block again.
            await answer_after_crisis(dispatcher, tracker, before)
            await flag_urgent(tracker, council, kind=before)
            return stop_form
        reply = compose(kind, council_contacts(council), channel_of(tracker), age=tracker.get_slot("age"))
        if reply.help is None:
            dispatcher.utter_message(response="utter_crisis_help", **{SAFETY: CRISIS})
        for message in reply.messages:
            dispatcher.utter_message(**message.as_dict())
        in_language = crisis_in_language(dispatcher, tracker)  # the same help in their language, after the English
        await flag_urgent(tracker, council, kind=kind)
        return stop_form + in_language


# "No, it's not safe" typed rather than tapped, after "is it safe to contact you on this phone?"
_PHONE_NOT_SAFE = re.compile(
    r"^\W*no\b|\bnot safe\b|\bisn'?t safe\b|\bunsafe\b|\b(?:checks|reads|looks at|goes through|has|takes) my (?:phone|messages|texts)\b",
    re.I,
)


def new_immediate_danger(kind: Optional[str], before: str) -> bool:
    """Danger now after a reply for something else (a knife at the door after a suicide
    disclosure) needs its own full help, 999 first."""
    return kind == "immediate_danger" and before != "immediate_danger" and not default_kinds().kind(before).immediate_danger


def kind_just_answered(tracker: Tracker) -> Optional[str]:
    """The kind of danger of the crisis reply that came just before this message, if one did."""
    events = list(tracker.events)
    users = [i for i, event in enumerate(events) if event.get("event") == "user"]
    if len(users) < 2:
        return None
    for event in reversed(events[users[-2]:users[-1]]):
        if event.get("event") == "action" and event.get("name") not in ("action_listen", "action_validate_slot_mappings"):
            if event.get("name") != "action_crisis":
                return None
            return (((events[users[-2]].get("parse_data") or {}).get("crisis")) or {}).get("kind") or last_crisis_kind(tracker)
    return None


async def answer_after_crisis(dispatcher: CollectingDispatcher, tracker: Tracker, kind_id: Optional[str]) -> None:
    """A second message straight after the crisis reply: for abuse at home, "not safe" means
    don't use this phone; otherwise say we're still here and keep the kind's help one tap away."""
    kind = default_kinds().kind(kind_id)
    if kind is not None and kind.ask_phone_safe and _PHONE_NOT_SAFE.search(latest_text(tracker)):
        await decline_contact(dispatcher, tracker, kind_id)
        return
    help_message = compose(kind_id, council_contacts(tracker.get_slot("council")), channel_of(tracker)).help
    text = default_kinds().lines["still_here"]
    if help_message is not None and channel_of(tracker) == "sms":
        text += "\n" + "\n".join(help_message.text.splitlines()[1:3])  # the first numbers again, as text
    dispatcher.utter_message(text=text, buttons=[{"title": b.title, "payload": b.payload} for b in help_message.buttons] if help_message else [],
                             **{SAFETY: CRISIS})


async def flag_urgent(tracker: Tracker, council: Optional[str], kind: Optional[str] = None) -> None:
    """Write (or add to) the conversation's urgent referral and start its e-mail; never raises.

    The reply is already sent, so nothing here may fail or slow the turn: the database write
    runs off the event loop, the e-mail in a background thread (bot.notify) that sends only
    this referral. One open urgent referral per conversation and safeguarding kind
    (services.referrals.create_or_update_urgent); `kind` defaults to the crisis layer's.
    """
    crisis = (tracker.latest_message or {}).get("crisis") or {}
    kind = kind or crisis.get("kind")
    detail = f"pattern={crisis.get('pattern')} category={crisis.get('category')}" if crisis else "classifier"
    referral = NewReferral(
        conversation_id=tracker.sender_id,
        reason="crisis",
        council_id=council,
        channel=channel_of(tracker),
        priority="urgent",
        detail=detail + (f" kind={kind}" if kind else ""),
        kind=kind,
    )
    try:
        urgent = await asyncio.to_thread(create_or_update_urgent, engine(), referral)
    except Exception:  # noqa: BLE001 - the database may be down: keep the flag on disk
        logger.exception("database unavailable: spooling the urgent flag for %s", tracker.sender_id)
        try:
            spool_referral(referral)
        except Exception:  # noqa: BLE001 - nowhere left to write it: the log is the last record
            logger.critical("urgent flag LOST for %s: database and spool both failed: %r", tracker.sender_id, referral, exc_info=True)
        return
    if urgent.email_owed:
        start_email(urgent.referral_id)


def start_email(referral_id: int) -> None:
    """Start the referral's e-mail in the background; never raises (it stays pending for the retry)."""
    try:
        notify_in_background(engine(), knowledge_base, load_settings(), referral_id)
    except Exception:  # noqa: BLE001 - the flag is stored; `bot.referrals retry` sends it later
        logger.exception("could not start the e-mail of urgent referral #%s", referral_id)


def last_crisis_kind(tracker: Tracker) -> Optional[str]:
    """The kind of danger the crisis layer found in the latest user message that had one."""
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            kind = (((event.get("parse_data") or {}).get("crisis")) or {}).get("kind")
            if kind:
                return kind
    return None


# "you got it wrong", "i was joking", "i meant my rent": the bot misread them. Anything else
# after the crisis reply ("its fine", "i can handle it") plays the danger down.
_MISREAD = re.compile(
    r"\b(?:wrong|mistake|misunderstood|misread|mis understood|joke|joking|jk|kidding|didn'?t mean|did not mean|dont mean|don'?t mean|"
    r"not what i meant|i meant|i mean|was talking about|talking about|was about|not about|not like that|not serious|"
    r"figure of speech|expression|saying|lol|lmao|haha)\b", re.I)


def says_it_was_misread(text: str) -> bool:
    """Whether "i'm fine" comes with a reason the bot misread them, not only a brush-off."""
    return bool(_MISREAD.search(text))


class ActionCrisisMistaken(Action):
    """"you got it wrong, i'm fine": sorry, honestly what happens (the alert stays with the
    team, now with their words on it, for a worker to judge), and the question they asked
    instead, if they asked one ("i just mean debt, who can help with debts")."""

    def name(self) -> Text:
        return "action_crisis_mistaken"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = latest_text(tracker)
        misread = says_it_was_misread(text)
        note = "they said it was a mistake" if misread else "they played it down"
        try:
            noted = await asyncio.to_thread(add_urgent_note, engine(), tracker.sender_id, f"{note}: \"{text[:200]}\"")
        except Exception:  # noqa: BLE001 - the reply is given; the transcript still holds their words
            logger.exception("could not note the mistake on %s's urgent referral", tracker.sender_id)
            noted = None
        if not misread:
            # "its fine i can handle it" after an exploitation disclosure is how it is often
            # played down (the trials): no apology and no "mistake", the help stays open.
            dispatcher.utter_message(text=default_kinds().lines["played_down"])
        elif noted:
            dispatcher.utter_message(response="utter_crisis_mistaken_noted")
        else:
            dispatcher.utter_message(response="utter_crisis_ack")
        if carries_a_question(text):
            return fresh_question(dispatcher, tracker)
        return []


class ActionCrisisNoContact(Action):
    """"No" to the offer after the crisis reply: for abuse at home, "this phone is not safe";
    otherwise "no thanks". Said back honestly, and written on the urgent referral so the
    worker knows before they pick up the phone (a new e-mail for "not safe")."""

    def name(self) -> Text:
        return "action_crisis_no_contact"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        await decline_contact(dispatcher, tracker, last_crisis_kind(tracker))
        return []


async def decline_contact(dispatcher: CollectingDispatcher, tracker: Tracker, kind_id: Optional[str]) -> None:
    """Say the "no" back and write it on the urgent referral (a fresh e-mail for "not safe")."""
    dispatcher.utter_message(**contact_declined(kind_id, channel_of(tracker)).as_dict())
    kind = default_kinds().kind(kind_id)
    not_safe = kind is not None and kind.ask_phone_safe
    try:
        urgent = await asyncio.to_thread(record_contact_wish, engine(), tracker.sender_id,
                                         NOT_ON_THIS_PHONE if not_safe else NO_CONTACT, tell_again=not_safe)
    except Exception:  # noqa: BLE001 - the reply is given; the transcript still holds the answer
        logger.exception("could not record the contact wish of %s", tracker.sender_id)
        return
    if urgent is not None and urgent.email_owed:
        start_email(urgent.referral_id)
