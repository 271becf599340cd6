"""The crisis follow-up: council numbers, an offer of a worker, and an urgent flag.

The 24/7 numbers themselves are the response `utter_crisis_help`, which the rules run
*before* this action: it needs no action server, so it reaches the young person even when
this server, the database or the mail server is down. The flag is written after the reply
and a failure to write it is logged, never shown.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict
from sqlalchemy.exc import SQLAlchemyError

from actions.common import buttons, channel_of, engine, knowledge_base
from bot.config import load_settings
from bot.notify import notify_in_background
from bot.referral_spool import spool_referral
from knowledge.hours import describe_hours, is_open
from services.referrals import NewReferral, create_or_update_urgent

logger = logging.getLogger(__name__)


def emergency_line(council_id: Optional[str]) -> str:
    """The council's out-of-hours emergency duty team, when the content has one, with its
    hours as the content gives them (not assumed)."""
    contact = knowledge_base().contact(council_id, "emergency_duty_team")
    if contact is None or not contact.phone:
        return ""
    hours = describe_hours(contact.hours)
    return f"{contact.name}" + (f" ({hours})" if hours else "") + f": {contact.phone}"


def office_line(council_id: Optional[str], now: Optional[dt.datetime] = None) -> str:
    """Honest words on whether a worker can see this now."""
    team = knowledge_base().contact(council_id, "leaving_care_team")
    if team and is_open(team, now):
        return "The leaving care team is open now. Would you like a worker to contact you?"
    return (
        "The leaving care office is closed right now, so no worker is reading this. "
        "Please use the numbers above. Would you like a worker to contact you when the office opens?"
    )


class ActionCrisis(Action):
    """Adds the council's emergency number and an offer of a worker; stops any form; flags urgent."""

    def name(self) -> Text:
        return "action_crisis"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        council = tracker.get_slot("council")
        try:
            line = emergency_line(council)
            if line:
                dispatcher.utter_message(text=line)
            dispatcher.utter_message(
                text=office_line(council),
                buttons=buttons(("Yes, contact me", "yes"), ("No thanks", "no")),
            )
        except SQLAlchemyError:
            logger.exception("knowledge base unavailable during a crisis reply")
        await flag_urgent(tracker, council)
        return [ActiveLoop(None), SlotSet("requested_slot", None), SlotSet("handoff_reason", "crisis")]


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
        try:
            notify_in_background(engine(), knowledge_base, load_settings(), urgent.referral_id)
        except Exception:  # noqa: BLE001 - the flag is stored; `bot.referrals retry` sends it later
            logger.exception("could not start the e-mail of urgent referral #%s", urgent.referral_id)
