"""The hand-off form: collect only what a worker needs, confirm it, and create a referral.

Every question can be skipped and "stop" ends the form (a rule). The referral is written
before the e-mail is tried; if even the database is down it goes to a spool file that
`python -m bot.referrals retry` imports later, so it is never lost, and the young person is
always told a number they can call.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    INTERRUPTING_INTENTS, buttons, channel_of, engine, knowledge_base, latest_confidence, latest_intent, latest_text,
    said_last_turn,
)
from actions.eligibility import yes_no_unsure
from actions.offer import QUESTION_INTENTS, team_line
from bot.config import load_settings
from bot.notify import notify_in_background
from bot.referral_spool import spool_referral
from knowledge.eligibility import YES
from knowledge.hours import describe_hours, is_open
from services.referrals import NewReferral, create_referral, has_open_urgent
from services.sms import THIS_NUMBER

logger = logging.getLogger(__name__)

FORM_SLOTS = (
    "handoff_name", "handoff_contact_method", "handoff_contact_value", "handoff_time", "handoff_message", "handoff_confirm",
)
SKIPPED = "skipped"
_SKIP = re.compile(r"^\s*(skip|pass|no thanks|rather not|don'?t want to say|next)\b", re.I)
_PHONE = re.compile(r"^(?:\+44\s?|0)(?:\d\s?){9,10}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[a-z]{2,}$", re.I)
# Over SMS, "call me": yes to "the number you're texting from?"
_THIS_NUMBER = re.compile(r"^\s*(?:y|ye|yes|yeah|yep|yh|ya|ok|okay|sure|please|this (?:number|one)|that one|same(?: number| one)?|"
                          r"the one i'?m texting (?:from|on)|this)\b", re.I)
_METHODS = (  # first match wins: "text me on this number" is a text, not this chat
    ("email", re.compile(r"\b(e-?mail|mail)\b", re.I)),
    ("sms", re.compile(r"\b(text|sms)\b", re.I)),
    ("phone", re.compile(r"\b(phone|call|ring|bell)\b", re.I)),
    ("chat", re.compile(r"\b(here|chat|this|message me|online)\b", re.I)),
)
_NAME_PREFIX = re.compile(r"^\s*(my name is|my name's|name'?s|i'?m|i am|it'?s|call me)\s+", re.I)
# Said between the form's questions, never an answer to one: "thanks" is not a first name.
ASIDES = frozenset({"thank", "greet", "bot_challenge", "who_sees_this"})
SURE_ENOUGH = 0.6  # at "Shall I send it?", the NLU's yes or no counts only this sure: digits read as "affirm"
QUESTION_WORDS = 4  # a question of at least this many words (or with "?") is a question, not a name or a time
_QUESTION_START = re.compile(
    r"^\W*(?:wait|sorry|also|oh|btw|and|but|ok|okay)?\W*(?:what|whats|what's|how|can|could|do|does|did|is|are|will|would|"
    r"where|when|who|why|am|should|wat|wot|cn|wen|hw)\b", re.I)
METHOD_WORDS = {"phone": "by phone", "email": "by email", "chat": "here in this chat", "sms": "by text", SKIPPED: "when they can"}


# Words that start an answer but are never a first name ("Hmm", "He took it off me...").
NOT_NAMES = frozenset(
    "hmm hm um erm er uh he she they them him her it i me my the a an no nope yes yeah yep ok okay k "
    "thanks thank ta cheers bye hi hello hey hiya idk dunno what why how who when where sure fine lol "
    "nah sorry please pls just so well oh and but".split()
)


def clean_name(text: str) -> Optional[str]:
    """A first name from 'my name is jo' / 'Jo' / 'im jo'; None if it doesn't look like one."""
    words = _NAME_PREFIX.sub("", text).strip().split()
    if not words or not re.match(r"^[A-Za-z][A-Za-z'\-]{0,39}$", words[0]) or words[0].lower() in NOT_NAMES:
        return None
    return words[0][:1].upper() + words[0][1:]


def contact_method(text: str) -> Optional[str]:
    for method, pattern in _METHODS:
        if pattern.search(text):
            return method
    return None


def offers_this_number(tracker: Tracker) -> bool:
    """A call back asked over SMS: the number they're texting from can be offered (we have it,
    and the channel writes it on the referral: services.sms.fill_sms_contact)."""
    return tracker.get_slot("handoff_contact_method") == "phone" and channel_of(tracker) == "sms"


_EMAIL_IN = re.compile(r"[^@\s,;:()<>]+@[^@\s,;:()<>]+\.[a-z]{2,}", re.I)
_NUMBER_IN = re.compile(r"(?:\+44|0)[\d\s()\-]{8,16}\d")


def contact_value(text: str, method: Optional[str]) -> Optional[str]:
    """The phone number or email address in `text` ("oops its liam@example.com"), in the
    expected shape, else None. A mobile (07...) needs all 11 digits: a digit short, a worker
    would ring nobody."""
    if method == "email":
        found = _EMAIL_IN.search(text)
        return found.group(0).rstrip(".") if found and _EMAIL.match(found.group(0).rstrip(".")) else None
    found = _NUMBER_IN.search(text)
    compact = re.sub(r"[\s()\-]", "", found.group(0)) if found else ""
    if compact.startswith("07") and len(compact) != 11:
        return None
    return compact if _PHONE.match(compact) else None


def is_aside(text: str, intent: Optional[str]) -> bool:
    """"thanks!!", "hi" or "who will see this?" between the questions. A short name ("Sam",
    "my name is Jo") can read as a greeting to the NLU, so it is an aside only when the words
    hold no possible name, or are too many for one."""
    if intent not in ASIDES or _NAME_PREFIX.match(text):
        return False
    return clean_name(text) is None or len(text.split()) >= QUESTION_WORDS


def is_question(text: str, intent: Optional[str]) -> bool:
    """An offer question typed while the form waits ("wait how much is the grant"), not an answer."""
    if intent not in QUESTION_INTENTS or _NAME_PREFIX.match(text):
        return False
    return "?" in text or (len(text.split()) >= QUESTION_WORDS and bool(_QUESTION_START.match(text)))


def needs_number(tracker: Tracker) -> bool:
    """Whether the way they chose needs a number or address: a call or an e-mail always; a
    text only from the web chat (over SMS, "text me" means this number, which we have)."""
    method = tracker.get_slot("handoff_contact_method")
    return method in ("phone", "email") or (method == "sms" and channel_of(tracker) != "sms")


CHANGES = {  # "change ..." at the read-back: the slots it clears, so the form asks them again
    "name": ("handoff_name",),
    "contact": ("handoff_contact_method", "handoff_contact_value"),
    "time": ("handoff_time",),
    "message": ("handoff_message",),
}
_CHANGE = re.compile(r"\b(?:change|edit|fix|wrong|correct|update)\b", re.I)
_CHANGE_WHAT = (
    ("name", re.compile(r"\bname\b", re.I)),
    ("contact", re.compile(r"\b(?:contact|number|phone|email|e-mail|text|how)\b", re.I)),
    ("time", re.compile(r"\b(?:time|when|day|morning|afternoon|evening)\b", re.I)),
    ("message", re.compile(r"\b(?:message|help with|what i need|reason)\b", re.I)),
)


def change_asked(text: str, menu_shown: bool = False) -> Optional[str]:
    """None (not a change), "" (a change, but of what?) or a CHANGES key. Right after "What
    would you like to change?" the answer needs no "change": "The best time", "the number"."""
    if not (_CHANGE.search(text) or menu_shown):
        return None
    return next((what for what, pattern in _CHANGE_WHAT if pattern.search(text)), None if menu_shown else "")


class ValidateHandoffForm(FormValidationAction):
    """Reads each answer only when it was asked for, and lets every step be skipped."""

    def name(self) -> Text:
        return "validate_handoff_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        return [s for s in FORM_SLOTS if s != "handoff_contact_value" or needs_number(tracker)]

    async def run(self, dispatcher, tracker, domain) -> List[EventType]:
        """As the base class, and an answer to the form keeps the hand-off's topic: "after 4"
        or "change time" can read as an offer question to the NLU (whose intent set the
        topic slot), but the message is the form's, and staff reports count it as such."""
        asked = tracker.get_slot("requested_slot")
        taken = asked is not None and self.answer(tracker, asked) is not None
        if taken and _DECLINE.search(latest_text(tracker)):
            # "no its ok ill ring them myself" / "actually dont send it": end here, nothing sent
            return [*(SlotSet(slot, SKIPPED) for slot in FORM_SLOTS if tracker.get_slot(slot) is None and slot != "handoff_confirm"),
                    SlotSet("handoff_confirm", "no"), SlotSet("requested_slot", None)]
        events = await super().run(dispatcher, tracker, domain)
        if taken:
            reason = tracker.get_slot("handoff_reason")
            events.append(SlotSet("topic", reason if reason in ("advocacy", "crisis") else "handoff_pa"))
        return events

    @staticmethod
    def answer(tracker: Tracker, slot: str) -> Optional[str]:
        """The raw answer to `slot`, or None when this message is not an answer to it.

        Not an answer (the form is rejected and a rule takes the message): a crisis, stop or
        bye; thanks or hello; and an offer question asked in the middle, except as the
        message for the worker, where a question is exactly what belongs."""
        intent = latest_intent(tracker)
        if tracker.get_slot("requested_slot") != slot or intent in INTERRUPTING_INTENTS:
            return None
        text = latest_text(tracker).strip()
        if slot == "handoff_confirm" and said_last_turn(tracker, "utter_what_to_change"):
            return text  # "How to contact me", the menu's own button title, is no question
        if is_aside(text, intent) or (slot != "handoff_message" and is_question(text, intent)):
            return None
        return text

    @staticmethod
    def corrected_contact(tracker: Tracker, text: str) -> Dict[Text, Any]:
        """A number or address in the text ("07700 900456", "oops its jo@example.com"): the
        contact, put right. A number keeps a text or a call as chosen; otherwise it is a call."""
        email = contact_value(text, "email")
        if email:
            return {"handoff_contact_method": "email", "handoff_contact_value": email}
        number = contact_value(text, "phone")
        if number:
            method = tracker.get_slot("handoff_contact_method")
            return {"handoff_contact_method": method if method in ("phone", "sms") else "phone", "handoff_contact_value": number}
        return {}

    @staticmethod
    def ask_again(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, response: str) -> Dict[Text, Any]:
        """An answer that isn't one ("hmm" for a name): say so and ask once more, the form
        staying where it is (a SlotSet, even to None, keeps the form from being rejected);
        unclear a second time, skip the question rather than loop."""
        if said_last_turn(tracker, response):
            return {slot: SKIPPED}
        dispatcher.utter_message(response=response)
        return {slot: None}

    def extract_handoff_name(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = self.answer(tracker, "handoff_name")
        if text is None:
            return {}
        if _SKIP.match(text):
            return {"handoff_name": SKIPPED}
        name = clean_name(text)
        return {"handoff_name": name} if name else self.ask_again(dispatcher, tracker, "handoff_name", response="utter_name_not_understood")

    def extract_handoff_contact_method(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = self.answer(tracker, "handoff_contact_method")
        if text is None:
            return {}
        if _SKIP.match(text):
            return {"handoff_contact_method": SKIPPED}
        given = self.corrected_contact(tracker, text)  # the number or address itself: "07700 900456"
        if given:
            return given
        method = contact_method(text)
        if method:
            return {"handoff_contact_method": method}
        return self.ask_again(dispatcher, tracker, "handoff_contact_method", response="utter_contact_method_not_understood")

    def extract_handoff_contact_value(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = self.answer(tracker, "handoff_contact_value")
        if text is None:
            return {}
        if _SKIP.match(text):
            return {"handoff_contact_value": SKIPPED}
        if offers_this_number(tracker) and _THIS_NUMBER.match(text):
            return {"handoff_contact_value": THIS_NUMBER}
        value = contact_value(text, tracker.get_slot("handoff_contact_method"))
        if value is None:
            dispatcher.utter_message(response="utter_contact_not_understood")
            return {"handoff_contact_value": None}  # asked again: a typo must not end the form
        return {"handoff_contact_value": value}

    def extract_handoff_time(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = self.answer(tracker, "handoff_time")
        if text is None:
            return {}
        corrected = self.corrected_contact(tracker, text)  # "oh wait its 07700 900123"
        if corrected:
            return {**corrected, "handoff_time": None}
        return {"handoff_time": SKIPPED if _SKIP.match(text) else text[:100]}

    def extract_handoff_message(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = self.answer(tracker, "handoff_message")
        if text is None:
            return {}
        change = change_asked(text)
        if change and change != "message":  # "actually change the time, mornings are better"
            return {**{slot: None for slot in CHANGES[change]}, "handoff_message": None}
        return {"handoff_message": SKIPPED if _SKIP.match(text) else text[:500]}

    def extract_handoff_confirm(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        text = self.answer(tracker, "handoff_confirm")
        if text is None:
            return {}
        change = change_asked(text, menu_shown=said_last_turn(tracker, "utter_what_to_change"))
        if change:  # clear that answer: the form asks it again, then reads everything back
            return {slot: None for slot in CHANGES[change]}
        corrected = self.corrected_contact(tracker, text)
        if corrected:  # "07700 900123" typed at "Shall I send it?": the number, put right
            return corrected
        if change == "":
            return {"handoff_confirm": None}  # the read-back action asks which answer to change
        answer = yes_no_unsure(text, latest_intent(tracker) if latest_confidence(tracker) >= SURE_ENOUGH else None)
        if answer is None:
            dispatcher.utter_message(response="utter_send_not_understood")
            return {"handoff_confirm": None}  # read back again: nothing is sent, or lost, on an unclear reply
        return {"handoff_confirm": answer}


def given(tracker: Tracker, slot: str) -> Optional[str]:
    value = tracker.get_slot(slot)
    return None if value in (None, SKIPPED) else value


# "my PA never answers": asking for the PA is not the answer when the PA is the problem.
_PA_PROBLEM = re.compile(
    r"\b(?:pa|personal adviser|personal advisor|worker|social worker)\b.{0,40}\b(?:never|doesn'?t|dont|don'?t|won'?t|wont|not|ignor\w*|"
    r"no reply|no answer|useless|rubbish|can'?t get hold)\b|\b(?:new|different|change|another) (?:pa|personal adviser|worker)\b",
    re.I,
)


class ActionAskHandoffName(Action):
    """The form's first question; when the PA is the problem, first say who else will see it."""

    def name(self) -> Text:
        return "action_ask_handoff_name"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        text = latest_text(tracker)
        if latest_intent(tracker) == "request_human" and _NUMBER_ASKED.search(text):
            dispatcher.utter_message(text=f"{team_line(tracker.get_slot('council'))} Or I can ask them to contact you.")
        if _PA_PROBLEM.search(text):
            dispatcher.utter_message(text=pa_problem_line(tracker.get_slot("council")))
        sent = earlier_reference(tracker)
        if sent and _ABOUT_THE_REQUEST.search(text):
            # "when will they ring me?" after sending: the request stands; a second is optional
            dispatcher.utter_message(text=f"Your request #{sent} has been sent. The team will contact you the way you asked. "
                                          f"{team_line(tracker.get_slot('council'))} To send another request, carry on; "
                                          "or say stop.")
        dispatcher.utter_message(response="utter_ask_handoff_name")
        return []


class ActionAskHandoffContactValue(Action):
    """Asks for the number or address; over SMS a call back is offered on the texting number."""

    def name(self) -> Text:
        return "action_ask_handoff_contact_value"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        method = tracker.get_slot("handoff_contact_method")
        if offers_this_number(tracker):
            dispatcher.utter_message(response="utter_ask_handoff_call_this_number")
        elif method == "email":
            dispatcher.utter_message(response="utter_ask_handoff_email")
        elif method in ("phone", "sms"):
            dispatcher.utter_message(response="utter_ask_handoff_number")
        else:
            dispatcher.utter_message(response="utter_ask_handoff_contact_value")
        return []


class ActionHandoffNotSent(Action):
    """The form was stopped: say nothing was sent, and forget its answers, so a later request
    starts afresh instead of picking up the old form where it stopped."""

    def name(self) -> Text:
        return "action_handoff_not_sent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        sent = earlier_reference(tracker)
        if sent:  # "I haven't sent anything" would read as if the earlier request was lost
            dispatcher.utter_message(response="utter_handoff_stopped_earlier_sent", reference=sent)
        else:
            dispatcher.utter_message(response="utter_handoff_not_sent")
        return [SlotSet(slot, None) for slot in FORM_SLOTS]


_REFERENCE = re.compile(r"Your reference is #(\d+)")


def earlier_reference(tracker: Tracker) -> Optional[str]:
    """The reference of a request already sent in this conversation, if one was."""
    for event in reversed(tracker.events):
        found = _REFERENCE.search(event.get("text") or "") if event.get("event") == "bot" else None
        if found:
            return found.group(1)
    return None


# Changing one's mind in the middle of the form: it ends, and nothing is sent.
_DECLINE = re.compile(
    r"^\s*stop\b|\b(?:don'?t|do not|dont) (?:send|bother)\b|\bnever ?mind\b|\bforget (?:it|about it)\b|"
    r"\bi'?ll (?:ring|call|phone|text|contact|email|message) (?:them|her|him|my pa)(?: myself)?\b|"
    r"\bno (?:it'?s|its) (?:ok|okay|fine)\b|\bi (?:don'?t|dont) want (?:anyone|someone|them) to (?:contact|ring|call)\b", re.I)
# A question about a request already sent ("when will they ring me", "how will i know they replied").
_ABOUT_THE_REQUEST = re.compile(
    r"\b(?:when|how long|how will|how do i know|have they|did they|will they|has it|did it)\b.{0,40}"
    r"\b(?:ring|call|phone|text|message|email|contact|reply|replied|get back|get in touch|sent|send|see it)\b", re.I)
# "what's the number for the leaving care team": the number, then the offer of a call back.
_NUMBER_ASKED = re.compile(r"\b(?:number|phone number|contact details|how do i (?:contact|ring|call|get hold of))\b", re.I)


def pa_problem_line(council: Optional[str]) -> str:
    """Who else gets the request when the PA does not answer: the team's duty worker or a
    manager, and an advocate who is not from the council (numbers from the content)."""
    kb = knowledge_base()
    team = kb.contact(council, "leaving_care_team")
    advocate = kb.contact(council, "advocacy")
    text = f"I'll send this to the {team.name if team else 'leaving care team'}, not only your PA, so a duty worker or a manager can pick it up."
    if advocate and advocate.phone:
        text += f" An advocate can also help you be heard, free: {advocate.name}, {advocate.phone}."
    return text


def contact_words(tracker: Tracker, method: str) -> str:
    """'by phone (07700 900456)', 'by text (this number)': how they will be reached, read back."""
    value = given(tracker, "handoff_contact_value")
    on_this_number = value == THIS_NUMBER or (method == "sms" and channel_of(tracker) == "sms")
    shown = "this number" if on_this_number else value
    return METHOD_WORDS.get(method, method) + (f" ({shown})" if shown else "")


class ActionAskHandoffConfirm(Action):
    """Reads back what will be sent, before anything is sent."""

    def name(self) -> Text:
        return "action_ask_handoff_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if tracker.get_slot("requested_slot") == "handoff_confirm" and change_asked(latest_text(tracker)) == "":
            dispatcher.utter_message(response="utter_what_to_change")
            return []
        method = tracker.get_slot("handoff_contact_method") or SKIPPED
        lines = [
            "Here's what I'll send to the team:",
            f"Name: {given(tracker, 'handoff_name') or 'not given'}",
            f"Contact: {contact_words(tracker, method)}",
            f"Best time: {given(tracker, 'handoff_time') or 'any time'}",
            f"Message: {given(tracker, 'handoff_message') or 'none'}",
            "Shall I send it?",
        ]
        dispatcher.utter_message(text="\n".join(lines), buttons=buttons(
            ("Yes, send it", "yes"), ("Change something", "change something"), ("No, don't send", "no")))
        return []


def what_happens_next(council: Optional[str], method: str, now: Optional[dt.datetime] = None) -> str:
    """Honest words from the content: who will contact them, when the office is open, and who to call now."""
    kb = knowledge_base()
    team = kb.contact(council, "leaving_care_team")
    if team is None:
        return "A worker will contact you."
    hours = describe_hours(team.hours)
    text = f"{team.name} will contact you {METHOD_WORDS.get(method, 'when they can')}"
    text += f" when the office is open ({hours})." if hours else "."
    if team.phone:
        text += f" You can also call them on {team.phone}."
    if not is_open(team, now):
        emergency = kb.contact(council, "emergency_duty_team")
        if emergency and emergency.phone:
            text += f" The office is closed now. If it's urgent, call the {emergency.name} on {emergency.phone}, any time."
    return text


class ActionSubmitReferral(Action):
    """Creates the referral (never lost), e-mails the team, and says what happens next."""

    def name(self) -> Text:
        return "action_submit_referral"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        clear = [SlotSet(slot, None) for slot in FORM_SLOTS]
        if tracker.get_slot("handoff_confirm") != YES:
            dispatcher.utter_message(response="utter_handoff_not_sent")
            return clear
        council = tracker.get_slot("council")
        referral = self.referral(tracker)
        try:
            referral_id = await asyncio.to_thread(create_referral, engine(), referral)
        except Exception:  # noqa: BLE001 - the database may be down: keep it on disk instead
            logger.exception("database unavailable: spooling referral for %s", tracker.sender_id)
            spool_referral(referral)
            referral_id = None
        reference = f" Your reference is #{referral_id}." if referral_id is not None else ""
        dispatcher.utter_message(text=f"Done, I've sent it.{reference} " + self.safe_next_steps(council, referral.contact_method or SKIPPED))
        if referral_id is not None:
            self.notify(referral_id)
        return clear

    @staticmethod
    def referral(tracker: Tracker) -> NewReferral:
        council = tracker.get_slot("council")
        reason = tracker.get_slot("handoff_reason") or "handoff_pa"
        try:
            urgent = reason == "crisis" or has_open_urgent(engine(), tracker.sender_id)
        except Exception:  # noqa: BLE001
            urgent = reason == "crisis"
        method = tracker.get_slot("handoff_contact_method") or SKIPPED
        return NewReferral(
            conversation_id=tracker.sender_id,
            reason=reason,
            council_id=council,
            channel=channel_of(tracker),
            priority="urgent" if urgent else "normal",
            first_name=given(tracker, "handoff_name"),
            contact_method=method,
            contact_value=given(tracker, "handoff_contact_value"),
            contact_time=given(tracker, "handoff_time"),
            message=given(tracker, "handoff_message"),
        )

    @staticmethod
    def safe_next_steps(council: Optional[str], method: str) -> str:
        try:
            return what_happens_next(council, method)
        except Exception:  # noqa: BLE001
            logger.exception("could not read contacts for next steps")
            return "A worker will contact you. If it's urgent, call 999, or Samaritans on 116 123, any time."

    @staticmethod
    def notify(referral_id: int) -> None:
        """E-mail this referral in the background (only this one: the backlog is `retry`'s),
        so the young person's reply never waits on the mail server."""
        try:
            notify_in_background(engine(), knowledge_base, load_settings(), referral_id)
        except Exception:  # noqa: BLE001 - retried by `python -m bot.referrals retry`
            logger.exception("referral #%s: e-mail not started; it stays pending", referral_id)
