"""Follow-ups read against the last question: "how do I get it", "and if I'm 22", "and in Nottingham?"."""
from __future__ import annotations

from typing import List, Optional, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.advocacy import asks_how_to_reach_the_advocate, say_how_to_reach_the_advocate
from actions.common import council_label, knowledge_base, latest_text
from actions.concern import say_concern
from actions.offer import (
    DETAILS, QUESTION_INTENTS, age_fit, answer, candidate_topics, card_pointed_at, last_shown, more_answers, question_event,
    say_detail, team_line,
)
from knowledge.followup import read_follow_up


NEW_TOPIC_CONFIDENCE = 0.25  # a follow-up the router also reads this surely as a question names its own topic


def names_a_topic(tracker: Tracker) -> bool:
    """Whether a "what about ..." names something of its own ("what about council tax")."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return any(r.get("name") in QUESTION_INTENTS and float(r.get("confidence") or 0.0) >= NEW_TOPIC_CONFIDENCE for r in ranking)


def fresh_question(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """A "follow-up" with nothing before it ("cambs. im 21 now, do i still get a PA") is a
    question: answer it in the likeliest question topic the NLU saw."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    intent = next((r["name"] for r in ranking if r.get("name") in QUESTION_INTENTS), None)
    if intent is None:
        dispatcher.utter_message(response="utter_fallback")
        return []
    topic = QUESTION_INTENTS[intent]
    return [SlotSet("topic", topic), *answer(dispatcher, tracker, latest_text(tracker), intent, [topic])]


class ActionFollowUp(Action):
    """Answers a follow-up from the last question and the entries just shown."""

    def name(self) -> Text:
        return "action_follow_up"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        say_concern(dispatcher, tracker)
        if asks_how_to_reach_the_advocate(tracker):
            say_how_to_reach_the_advocate(dispatcher, tracker)
            return [SlotSet("topic", "advocacy")]
        parse = question_event(tracker)
        if not parse:
            return fresh_question(dispatcher, tracker)
        text = latest_text(tracker)
        question, intent = parse["text"], (parse.get("intent") or {}).get("name")
        topics = candidate_topics(parse)
        asked = read_follow_up(text)
        mention = knowledge_base().council_mention(text)
        other = mention[0] if mention and mention[0] != tracker.get_slot("council") else None
        if other:
            dispatcher.utter_message(text=f"In {council_label(other)}:")
            return answer(dispatcher, tracker, question, intent, topics, council=other)
        if asked.age is not None:
            shown = last_shown(tracker)
            fit = age_fit(shown, asked.age) if shown is not None else None
            if fit is not None and shown.applies_at(asked.age):
                dispatcher.utter_message(text=f"{fit} {team_line(tracker.get_slot('council'))}")
                return []
            dispatcher.utter_message(text=fit or f"At {asked.age}:")
            return answer(dispatcher, tracker, question, intent, topics, age=asked.age)
        entry = last_shown(tracker)
        if entry and asked.wants in DETAILS:
            say_detail(dispatcher, tracker, entry, asked.wants)
            return []
        if asked.wants == "more":
            return more_answers(dispatcher, tracker)
        if names_a_topic(tracker):
            return fresh_question(dispatcher, tracker)  # "what about council tax" asks something new
        return answer(dispatcher, tracker, f"{question} {text}", intent, topics)


def points_back(tracker: Tracker) -> bool:
    """A few words about the answer just shown ("what time can i use it", "is that for me"),
    which the NLU could not place: a follow-up, not out of scope."""
    return card_pointed_at(tracker, latest_text(tracker)) is not None


async def follow_up_pointing_back(dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> Optional[List[EventType]]:
    """The follow-up reading of a message that points back at the card just shown (the topic
    stays the card's), or None when it does not."""
    if not points_back(tracker):
        return None
    entry = last_shown(tracker)
    return [SlotSet("topic", entry.topic), *await ActionFollowUp().run(dispatcher, tracker, domain)]


class ActionOutOfScope(Action):
    """Out of scope, unless it is a short follow-up pointing back at the answer just shown."""

    def name(self) -> Text:
        return "action_out_of_scope"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        events = await follow_up_pointing_back(dispatcher, tracker, domain)
        if events is not None:
            return events
        dispatcher.utter_message(response="utter_out_of_scope")
        return []
