"""Who to contact for an independent advocate: said with the advocacy answer, and again when
the next message asks how to reach them ("how do i contact them" read alone matched the
Independent Reviewing Officer's card)."""
from __future__ import annotations

from typing import List, Optional

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.common import knowledge_base, latest_text, said_last_turn
from knowledge.content import NATIONAL
from knowledge.followup import read_follow_up

ADVOCACY_ANSWER = "utter_what_is_advocate"  # the advocacy reply says this first
_REACH = ("contact", "ring", "call", "phone", "email", "text", "reach", "get hold", "speak to", "talk to")
FOLLOW_UP_WORDS = 8


def advocacy_lines(council: Optional[str]) -> List[str]:
    """The council's advocacy service and the national one, each once, with phone and website."""
    kb, lines = knowledge_base(), []
    for source in (council, NATIONAL):
        contact = kb.council(source).contacts.get("advocacy") if kb.council(source) else None
        if contact and contact.phone and all(contact.phone not in line for line in lines):
            lines.append(f"{contact.name}: {contact.phone}" + (f", {contact.website}" if contact.website else ""))
    return lines


def asks_how_to_reach_the_advocate(tracker: Tracker) -> bool:
    """A few words straight after the advocacy answer asking how to reach them."""
    text = latest_text(tracker).lower()
    if len(text.split()) > FOLLOW_UP_WORDS or not said_last_turn(tracker, ADVOCACY_ANSWER):
        return False
    return read_follow_up(text).wants == "how" or any(word in text for word in _REACH)


def say_how_to_reach_the_advocate(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    lines = advocacy_lines(tracker.get_slot("council"))
    dispatcher.utter_message(text="You can contact them yourself, for free:\n" + "\n".join(lines) if lines else
                             "Your personal adviser (PA) or the leaving care team can put you in touch with an advocate.")
