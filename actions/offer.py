"""Answering offer questions from the knowledge base for the user's council and age."""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Sequence, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.common import buttons, channel_of, council_label, engine, knowledge_base, last_question
from knowledge.content import NATIONAL, Entitlement
from knowledge.hours import describe_hours
from knowledge.topics import topic_title
from services.unanswered import record_unanswered

PAGE_SIZE = 3

# Which offer section each question intent belongs to, and the words that pick out its
# sub-topic inside that section (e.g. council tax within money). The topic slot itself is
# set by the domain's from_intent mappings; this table must agree with them (tested).
QUESTION_INTENTS: Dict[str, tuple] = {
    "ask_eligibility": ("eligibility", ()),
    "ask_support_after_21": ("eligibility", ("21", "25", "come back", "personal adviser")),
    "ask_personal_adviser": ("personal_adviser", ("personal adviser", "pa")),
    "ask_pathway_plan": ("personal_adviser", ("pathway plan", "plan", "needs assessment")),
    "ask_council_tax": ("money", ("council tax",)),
    "ask_setting_up_home_grant": ("money", ("setting up home", "grant", "furniture", "leaving care grant")),
    "ask_allowance": ("money", ("allowance", "birthday", "festival", "weekly")),
    "ask_benefits": ("money", ("benefits", "universal credit", "jobcentre")),
    "ask_budgeting": ("money", ("budgeting", "debt", "bank account")),
    "ask_id_documents": ("money", ("passport", "driving licence", "id")),
    "ask_staying_put": ("housing", ("staying put", "foster carers")),
    "ask_housing": ("housing", ("housing", "accommodation", "somewhere to live")),
    "ask_rent_bills": ("housing", ("rent", "bills", "tenancy")),
    "ask_gp_dentist": ("health", ("gp", "dentist", "doctor")),
    "ask_mental_health": ("health", ("mental health", "counselling", "kooth")),
    "ask_health_services": ("health", ("sexual health", "substance", "drugs", "health passport")),
    "ask_university": ("education", ("university", "bursary", "higher education")),
    "ask_college": ("education", ("college", "further education", "school", "books")),
    "ask_apprenticeship": ("work", ("apprenticeship", "apprenticeships")),
    "ask_job_support": ("work", ("job", "cv", "interview", "work experience")),
    "ask_family_contact": ("relationships", ("family", "contact", "travel")),
    "ask_relationships_support": ("relationships", ("befriending", "lonely", "young parent")),
    "ask_participation": ("participation", ("participation", "forum", "have your say")),
    "ask_leisure": ("leisure", ("gym", "swimming", "leisure", "travel pass")),
}


# Sections whose entries also answer a question, beyond its own section: "can I still get
# help at 22?" is an eligibility question, but the answer is PA support up to 25.
ALSO_SEARCH: Dict[str, tuple] = {"ask_support_after_21": ("personal_adviser",)}


def source_name(entitlement: Entitlement) -> str:
    """Where a fact came from, in words: the council's offer and section, or the law."""
    if entitlement.council == NATIONAL:
        return entitlement.source_document
    council = knowledge_base().council(entitlement.council)
    origin = (council.offer_name or council.name) if council else entitlement.council
    return f"{origin}, {entitlement.source_section}" if entitlement.source_section else origin


def short_source(entitlement: Entitlement) -> str:
    """'Walsall Council offer' / 'Universal Credit Regulations 2013': the source in a few words."""
    if entitlement.council != NATIONAL:
        council = knowledge_base().council(entitlement.council)
        return f"{council.name if council else entitlement.council} offer"
    return re.split(r"[:;(]", entitlement.source_document)[0].strip()[:45]


def render_entitlement(entitlement: Entitlement, compact: bool = False) -> str:
    """One entitlement as a short message: what, how much, who, how to get it, where from.

    `compact` is the SMS shape: the same facts in fewer characters (no title, short source).
    """
    lead = "Coming soon: " if entitlement.availability == "planned" else ""
    who = who_can_get(entitlement)
    amount = f"How much: {entitlement.amount.describe()}." if entitlement.amount else ""
    if compact:
        parts = [lead + entitlement.answer, amount, f"Who: {who}." if who else "", entitlement.how_to_get,
                 f"(Source: {short_source(entitlement)}, checked {entitlement.last_checked:%b %Y})"]
        return " ".join(part for part in parts if part)
    lines = [f"{lead}{entitlement.title}", entitlement.answer, amount, f"Who can get it: {who}." if who else "",
             f"How to get it: {entitlement.how_to_get}", entitlement.link or "",
             f"From: {source_name(entitlement)}. Checked {entitlement.last_checked:%-d %b %Y}."]
    return "\n".join(line for line in lines if line)


STATUS_WORDS = {
    "care_leaver": "care leavers",
    "former_foster_child": "young people who lived with foster carers",
    "in_higher_education": "students at university",
    "in_further_education": "students at college",
    "young_parent": "young parents",
    "uasc": "young people who came to the UK alone to seek asylum",
    "left_residential_care": "young people who lived in a children's home",
    "not_in_work_or_education": "young people not in work, college or training",
    "apprentice": "apprentices",
    "still_in_care": "young people still in care",
}


def who_can_get(entitlement: Entitlement) -> str:
    """'young parents, aged 18 to 24' (empty when it is every care leaver of any age)."""
    parts = [STATUS_WORDS[s] for s in entitlement.statuses if s != "care_leaver"]
    low, high = entitlement.min_age, entitlement.max_age
    if low is not None and high is not None:
        parts.append(f"aged {low} to {high}")
    elif high is not None:
        parts.append(f"up to age {high}")
    elif low is not None:
        parts.append(f"aged {low} or over")
    return ", ".join(parts)


def team_line(council_id: Optional[str]) -> str:
    """'Walsall's leaving care team: 01632 960201 (Mon to Thu 9am to 5pm, ...)'."""
    contact = knowledge_base().contact(council_id, "leaving_care_team")
    if contact is None or not contact.phone:
        return "Your personal adviser (PA) or leaving care team can help."
    hours = describe_hours(contact.hours)
    return f"{contact.name}: {contact.phone}" + (f" ({hours})" if hours else "") + "."


def find_answers(tracker: Tracker) -> tuple:
    """(intent, text, [(score, entitlement)] best first) for the user's latest offer question."""
    intent, text = last_question(tracker)
    topic, hints = QUESTION_INTENTS.get(intent or "", (tracker.get_slot("topic"), ()))
    age = int(tracker.get_slot("age")) if tracker.get_slot("age") else None
    found = []
    for section in (topic, *ALSO_SEARCH.get(intent or "", ())):
        found += knowledge_base().search_scored(tracker.get_slot("council"), text, topic=section, age=age, hint_keywords=hints)
    found.sort(key=lambda pair: -pair[0])  # stable: equal scores keep council-first order
    return intent, text, found


def first_page_size(scored: Sequence[tuple]) -> int:
    """How many answers to show first: the clear matches (at least half the best score), 1 to 3.

    "Do I pay council tax?" gets the council tax answer alone, with the rest behind "More";
    a broad "what money help is there?" gets three.
    """
    if not scored or scored[0][0] <= 0:
        return PAGE_SIZE
    best = scored[0][0]
    return max(1, min(PAGE_SIZE, sum(1 for score, _ in scored if score >= best / 2)))


# Questions whose whole answer turns on the user's age ("what am I entitled to?", "can I
# still get help at 22?"): the form asks the age for these. Other answers state their own
# age limits, so a young person is not held up by a question before they get an answer.
AGE_QUESTIONS = frozenset({"ask_eligibility", "ask_support_after_21"})


def nothing_specific(intent: Optional[str], scored: Sequence[tuple]) -> bool:
    """True when the question names something specific (its intent has sub-topic words) and
    no entry in its section matched any of its words: the section is shown, but honestly."""
    hints = QUESTION_INTENTS.get(intent or "", (None, ()))[1]
    return bool(hints) and bool(scored) and scored[0][0] <= 0


def question_needs_age(tracker: Tracker) -> bool:
    intent, _ = last_question(tracker)
    return intent in AGE_QUESTIONS


def show_page(
    dispatcher: CollectingDispatcher, found: Sequence[Entitlement], shown: List[str], size: int = PAGE_SIZE, sms: bool = False
) -> List[str]:
    """Utter the next page of answers (one, compact, by SMS); returns the ids shown so far."""
    size = 1 if sms else size
    waiting = [e for e in found if e.id not in shown]
    page = waiting[:size]
    for index, entitlement in enumerate(page):
        extra = []
        if index == len(page) - 1:  # every answer ends with a way to a person, and "More" when there is more
            more = [("More", "more")] if len(waiting) > len(page) else []
            extra = buttons(*more, ("Talk to a person", "I want to talk to a person"))
        dispatcher.utter_message(text=render_entitlement(entitlement, compact=sms), buttons=extra)
    if page and not sms:  # one optional tap for the staff's satisfaction report; a text would cost the texter
        dispatcher.utter_message(response="utter_ask_rating")
    return shown + [e.id for e in page]


class ActionAnswerOffer(Action):
    """Answers the user's offer question with the 1-3 most relevant entitlements."""

    def name(self) -> Text:
        return "action_answer_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        intent, text, scored = find_answers(tracker)
        if not scored:
            return self.nothing_found(dispatcher, tracker, intent, text)
        if tracker.get_slot("council") == NATIONAL:
            dispatcher.utter_message(text="Here's what every care leaver in England can get. Your council may offer more.")
        if nothing_specific(intent, scored):
            # e.g. "register with a GP" where the offer's health section only has mental health:
            # say so rather than pass the section off as the answer, and show staff the gap.
            topic = QUESTION_INTENTS[intent][0]
            dispatcher.utter_message(
                text=f"I couldn't find that exactly in the offer for {council_label(tracker.get_slot('council'))}. "
                f"Here's what it has on {topic_title(topic).lower()}:"
            )
            record_unanswered(engine(), tracker.sender_id, text, tracker.get_slot("council"), tracker.get_slot("topic"), intent)
        sms = channel_of(tracker) == "sms"
        shown = show_page(dispatcher, [e for _, e in scored], [], first_page_size(scored), sms)
        return [SlotSet("shown_ids", shown)]

    @staticmethod
    def nothing_found(dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str], text: str) -> List[EventType]:
        council = tracker.get_slot("council")
        dispatcher.utter_message(
            text=(
                f"Sorry, I couldn't find anything about that in the offer for {council_label(council)}. "
                f"I've noted your question so the council can see what's missing. {team_line(council)}"
            ),
            buttons=buttons(("Talk to a person", "I want to talk to a person")),
        )
        record_unanswered(engine(), tracker.sender_id, text, council, tracker.get_slot("topic"), intent)
        return [SlotSet("shown_ids", [])]


class ActionMoreAnswers(Action):
    """The 'More' button: the next answers for the same question."""

    def name(self) -> Text:
        return "action_more_answers"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        shown = list(tracker.get_slot("shown_ids") or [])
        found = [e for _, e in find_answers(tracker)[2]]
        if not shown or not [e for e in found if e.id not in shown]:
            dispatcher.utter_message(
                text=f"That's everything I have on that. {team_line(tracker.get_slot('council'))}",
            )
            return []
        return [SlotSet("shown_ids", show_page(dispatcher, found, shown, sms=channel_of(tracker) == "sms"))]
