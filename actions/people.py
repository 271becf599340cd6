"""Getting a young person to a person: their PA / leaving-care team, or an advocate."""
from __future__ import annotations

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.advocacy import advocacy_lines
from actions.common import buttons, engine, latest_intent, latest_text
from actions.concern import say_concern
from actions.followup import follow_up_pointing_back
from actions.languages import answer_in_language
from actions.offer import NOTHING_SCORE, candidate_topics, find_hits, team_line
from services.unanswered import record_unanswered


class ActionAdvocacy(Action):
    """What an advocate is, who to contact, and how to complain."""

    def name(self) -> Text:
        return "action_advocacy"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        council = tracker.get_slot("council")
        if latest_intent(tracker) == "make_complaint":
            dispatcher.utter_message(response="utter_how_to_complain")
        dispatcher.utter_message(response="utter_what_is_advocate")
        lines = advocacy_lines(council)
        if lines:
            dispatcher.utter_message(text="\n".join(lines))
        dispatcher.utter_message(
            text="Would you like me to ask someone to contact you about this?",
            buttons=buttons(("Yes please", "yes"), ("No thanks", "no")),
        )
        return []


class ActionFallback(Action):
    """When the bot did not understand: say what it can help with and offer a person; a message
    in another language, or asking for one, gets the replies in that language (actions/languages.py)."""

    def name(self) -> Text:
        return "action_fallback"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        if latest_intent(tracker) == "nlu_fallback":
            events = answer_in_language(dispatcher, tracker)  # another language, or a request for one
            if events is not None:
                return events
        say_concern(dispatcher, tracker)
        if latest_intent(tracker) != "nlu_fallback":
            # Called by the policies (no rule fits, e.g. an answer a form could not use):
            # say so, and undo the message so the conversation waits for the next one.
            dispatcher.utter_message(response="utter_fallback")
            return [UserUtteranceReverted()]
        events = await follow_up_pointing_back(dispatcher, tracker, domain)  # "wat about that one"
        if events is not None:
            return events
        if consecutive_fallbacks(tracker) >= 2:
            dispatcher.utter_message(
                text=f"Sorry, I'm still not getting it. A person might help better. {team_line(tracker.get_slot('council'))}",
                buttons=buttons(("Talk to a person", "I want to talk to a person")),
            )
        elif not offer_guesses(dispatcher, tracker):
            dispatcher.utter_message(response="utter_fallback")
        return []


def offer_guesses(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """A real question the NLU was unsure of ("not nonsense": it has known words) gets the
    two entries that match it best as buttons, instead of a dead end. Recorded as a
    clarification for the gap report. False when nothing matches well enough."""
    parse = tracker.latest_message or {}
    if parse.get("unknown_words"):
        return False
    topics = candidate_topics(parse)
    if not topics or not tracker.get_slot("council"):
        return False
    hits = [h for h in find_hits(tracker, latest_text(tracker), topics) if h.score > NOTHING_SCORE][:2]
    if not hits:
        return False
    dispatcher.utter_message(
        text="I'm not sure I understood. Did you mean one of these?",
        buttons=buttons(*[(h.entitlement.title, h.entitlement.title) for h in hits], ("Talk to a person", "I want to talk to a person")),
    )
    council = tracker.get_slot("council")
    record_unanswered(engine(), tracker.sender_id, latest_text(tracker), council, tracker.get_slot("topic"), "clarify:nlu_fallback")
    return True


def consecutive_fallbacks(tracker: Tracker) -> int:
    """How many fallbacks in a row, counting this one (user turns since the last answer)."""
    count = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            intent = ((event.get("parse_data") or {}).get("intent") or {}).get("name")
            if intent != "nlu_fallback":
                break
            count += 1
    return max(count, 1)
