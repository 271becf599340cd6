"""Who is asking: the user's council and age, from channel metadata, their words or a form."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker, ValidationAction
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import (
    INTERRUPTING_INTENTS,
    council_label,
    knowledge_base,
    latest_intent,
    latest_metadata,
    latest_text,
    parse_age,
    plausible_age,
    said_last_turn,
)
from actions.followup import fresh_question
from actions.offer import ActionRatedUnhelpful, answer, candidate_topics, question_event, question_needs_age
from knowledge.content import NATIONAL
from knowledge.followup import carries_a_question, claims_council

_NOT_SURE = re.compile(r"\b(not sure|dunno|don'?t know|dont no|no idea|unsure|idk)\b")
_METADATA_ID = re.compile(r"^[a-z][a-z0-9_-]{1,39}$")


def council_from_metadata(tracker: Tracker) -> Dict[str, Any]:
    """Slots to set from `metadata.council`: the council, or a note that it is unknown."""
    raw = latest_metadata(tracker).get("council")
    if raw is None:
        return {}
    value = str(raw).strip().lower()
    if _METADATA_ID.match(value) and value != NATIONAL and knowledge_base().council(value):
        return {"council": value, "bad_council": None}
    return {"bad_council": value[:40] or "(empty)"}


def council_from_text(tracker: Tracker, answer_expected: bool) -> Optional[str]:
    """A council the user says is theirs ("I'm from Walsall", "walsall care leaver here").

    When the bot has just asked which council, any council named (or "not sure") answers
    it. Otherwise a council only mentioned ("what about Walsall?", "my mate in Walsall got
    2 grand") does not change whose offer is used once one is known.
    """
    text = latest_text(tracker)
    mention = knowledge_base().council_mention(text)
    if mention:
        council_id, start, end = mention
        if answer_expected or claims_council(text, start, end, has_council=bool(tracker.get_slot("council"))):
            return council_id
        return None
    if answer_expected and _NOT_SURE.search(text.lower()):
        return NATIONAL
    return None


class ValidatePredefinedSlots(ValidationAction):
    """Runs every turn (action_validate_slot_mappings): fills council and age when given.

    Only extract_council and extract_age, no validate_ methods: the Rasa server skips this
    call when bot.slot_context.slot_extraction_may_act, which mirrors them, says they
    cannot act (tests/test_context_skip.py holds the two together).
    """

    def extract_council(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        from_metadata = council_from_metadata(tracker)
        if latest_intent(tracker) in INTERRUPTING_INTENTS:
            # The channel's council still counts (the crisis reply needs the council's
            # emergency number), but nothing is read from the words and nothing is said.
            return {"council": from_metadata["council"]} if from_metadata.get("council") else {}
        bad = from_metadata.get("bad_council")
        if bad and bad != tracker.get_slot("bad_council"):
            dispatcher.utter_message(response="utter_council_not_known")
        found = council_from_text(tracker, answer_expected=tracker.get_slot("requested_slot") == "council")
        current = tracker.get_slot("council")
        site = from_metadata.get("council")
        if site:
            # The site's council is the start, not the last word: a young person on
            # Cambridgeshire's page who says "i was in care with walsall" gets Walsall's offer,
            # and keeps it on the next messages (which still carry the site's council).
            if found and found != NATIONAL and found != (current or site):
                dispatcher.utter_message(text=f"OK, I'll use {council_label(found)}'s offer from now on.")
                return {**from_metadata, "council": found}
            if current and current != site and found in (None, current):
                return {**from_metadata, "council": current}
            return from_metadata
        if found and current and found != current and found != NATIONAL:
            dispatcher.utter_message(text=f"OK, I'll use {council_label(found)}'s offer from now on.")
        return {**from_metadata, "council": found} if found else from_metadata

    def extract_age(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if latest_intent(tracker) in INTERRUPTING_INTENTS or latest_intent(tracker) == "follow_up":
            # "and if I'm 23?" asks about an age; it does not tell us the user's age.
            return {}
        expected = tracker.get_slot("requested_slot") == "age" or latest_intent(tracker) == "inform_age"
        age = parse_age(latest_text(tracker), answer_expected=expected)
        return {"age": float(age)} if plausible_age(age) else {}


class ValidateOfferContextForm(FormValidationAction):
    """Asks for the council always, and the age only for questions whose answer turns on it."""

    def name(self) -> Text:
        return "validate_offer_context_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        if not tracker.get_slot("council"):
            return ["council"]
        return ["council", "age"] if question_needs_age(tracker) else ["council"]

    def validate_council(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if value and knowledge_base().council(value):
            return {"council": value}
        dispatcher.utter_message(response="utter_council_not_known")
        return {"council": None}

    def validate_age(self, value: Any, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Dict[Text, Any]:
        if plausible_age(value):
            return {"age": value}
        dispatcher.utter_message(response="utter_age_not_understood")
        return {"age": None}


class ActionSessionStart(Action):
    """Starts each conversation with the short privacy notice, keeping context slots.

    The notice is left out when the channel says its client already showed the full one
    (metadata `notice_seen`, sent by the web widget): saying it twice is just noise.
    """

    def name(self) -> Text:
        return "action_session_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events: List[EventType] = [SessionStarted()]
        for slot in ("council", "age", "topic"):
            value = tracker.get_slot(slot)
            if value is not None:
                events.append(SlotSet(slot, value))
        started_with = tracker.get_slot("session_started_metadata") or {}
        if started_with.get("notice_seen") is not True:
            dispatcher.utter_message(response="utter_privacy_notice")
        events.append(ActionExecuted("action_listen"))
        return events


def council_before_this_turn(tracker: Tracker) -> Optional[str]:
    """The council slot as it stood before the user's latest message (None if never set)."""
    seen_latest_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_latest_user:
                continue
            seen_latest_user = True
            continue
        if seen_latest_user and event.get("event") == "slot" and event.get("name") == "council":
            return event.get("value")
    return None


class ActionConfirmContext(Action):
    """When a user says their council or age outside a question, or yes/no with nothing asked:
    answer the last question again if the council just changed, else confirm and invite one."""

    def name(self) -> Text:
        return "action_confirm_context"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if latest_intent(tracker) in ("inform_council", "inform_age") and carries_a_question(latest_text(tracker)):
            return fresh_question(dispatcher, tracker)  # the question in it, for the council it names
        council, age = tracker.get_slot("council"), tracker.get_slot("age")
        question = question_event(tracker)
        if council and question and council != council_before_this_turn(tracker):
            # "sorry, I meant Nottingham" after a question: answer it again for that council
            # (the switch was said back in extract_council), rather than ask for it again.
            intent = (question.get("intent") or {}).get("name")
            return answer(dispatcher, tracker, question["text"], intent, candidate_topics(question))
        if latest_intent(tracker) in ("affirm", "deny") and said_last_turn(tracker, "utter_ask_rating"):
            # a typed "no" to "Did that help?" is the rating, as the button would have been
            if latest_intent(tracker) == "deny":
                return await ActionRatedUnhelpful().run(dispatcher, tracker, domain)
            dispatcher.utter_message(response="utter_rated_helpful")
            return []
        if latest_intent(tracker) in ("affirm", "deny"):  # "yes" / "no" with nothing asked
            dispatcher.utter_message(response="utter_anything_else")
            return []
        if council:
            where = council_label(council)
            about = f" for {where}" + (f" at age {int(age)}" if age else "")
            dispatcher.utter_message(text=f"Thanks. I'll answer{about}. What would you like to know?")
        else:
            dispatcher.utter_message(response="utter_ask_council")
        return []
