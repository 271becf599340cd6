"""The eligibility checker: a form asks the facts, knowledge/eligibility.py decides the status."""
from __future__ import annotations

import re
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import INTERRUPTING_INTENTS, buttons, latest_intent, latest_text
from actions.offer import QUESTION_INTENTS, team_line
from knowledge.eligibility import NO, UNSURE, YES, care_leaver_status, needs_still_in_care_question

YES_NO_SLOTS = ("in_care_after_16", "thirteen_weeks", "still_in_care")
_UNSURE = re.compile(r"\b(not sure|unsure|dunno|don'?t know|dont no|no idea|idk|maybe|can'?t remember)\b")
_YES = re.compile(r"^\s*(y|yes|yeah|yh|ye|yep|yup|i was|i am|correct)\b")
_NO = re.compile(r"^\s*(n|no|nah|nope|i wasn'?t|i'?m not|not really)\b")


def yes_no_unsure(text: str, intent: Optional[str]) -> Optional[str]:
    """'yes' / 'no' / 'unsure' from a reply to a yes-or-no question, or None if unclear."""
    lowered = text.lower()
    if _UNSURE.search(lowered):
        return UNSURE
    if intent == "affirm" or _YES.search(lowered):
        return YES
    if intent == "deny" or _NO.search(lowered):
        return NO
    return None


class ValidateEligibilityForm(FormValidationAction):
    """Reads yes / no / not sure answers and skips 'still in care' unless 16 or 17."""

    def name(self) -> Text:
        return "validate_eligibility_form"

    async def required_slots(
        self, domain_slots: List[Text], dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> List[Text]:
        age = tracker.get_slot("age")
        slots = ["age", "in_care_after_16", "thirteen_weeks"]
        if needs_still_in_care_question(int(age) if age is not None else None):
            slots.append("still_in_care")
        return slots

    async def _extract_answer(self, slot: str, dispatcher: CollectingDispatcher, tracker: Tracker) -> Dict[Text, Any]:
        if tracker.get_slot("requested_slot") != slot or latest_intent(tracker) in INTERRUPTING_INTENTS:
            return {}
        answer = yes_no_unsure(latest_text(tracker), latest_intent(tracker))
        if answer is None and latest_intent(tracker) in QUESTION_INTENTS:
            return {}  # a question asked in the middle: the form steps aside and a rule answers it
        if answer is None:
            dispatcher.utter_message(response="utter_yes_no_not_understood")
            return {slot: None}  # asked again (an empty answer would end the form)
        return {slot: answer}

    async def extract_in_care_after_16(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._extract_answer("in_care_after_16", dispatcher, tracker)

    async def extract_thirteen_weeks(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._extract_answer("thirteen_weeks", dispatcher, tracker)

    async def extract_still_in_care(self, dispatcher, tracker, domain) -> Dict[Text, Any]:
        return await self._extract_answer("still_in_care", dispatcher, tracker)


class ActionExplainStatus(Action):
    """Says which status applies and what follows, with a person to ask if unsure."""

    def name(self) -> Text:
        return "action_explain_status"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        age = tracker.get_slot("age")
        status = care_leaver_status(
            int(age) if age is not None else None,
            tracker.get_slot("in_care_after_16"),
            tracker.get_slot("thirteen_weeks"),
            tracker.get_slot("still_in_care"),
        )
        dispatcher.utter_message(text=f"{status.title}.\n{status.explanation}\n{status.what_follows}")
        dispatcher.utter_message(
            text=f"If you're not sure about any of this, ask. {team_line(tracker.get_slot('council'))}",
            buttons=buttons(("Money help", "money help"), ("Somewhere to live", "help with housing"), ("Talk to a person", "I want to talk to a person")),
        )
        # Answers are cleared so the checker can be run again; the age is kept.
        return [SlotSet(slot, None) for slot in YES_NO_SLOTS]
