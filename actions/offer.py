"""Answering offer questions from the knowledge base for the user's council and age."""
from __future__ import annotations

import datetime as dt
import re
from typing import Any, Dict, List, Optional, Sequence, Text, Tuple

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.advocacy import asks_how_to_reach_the_advocate, say_how_to_reach_the_advocate
from actions.common import buttons, channel_of, council_label, engine, knowledge_base, said_before
from actions.concern import say_concern
from knowledge.content import NATIONAL, Entitlement
from knowledge.feelings import feeling_line
from knowledge.followup import lives_elsewhere, read_follow_up
from knowledge.hours import describe_hours
from knowledge.retrieval import Hit
from knowledge.sources import document_of, is_old, is_seed
from services.unanswered import record_unanswered

PAGE_SIZE = 3

# The topic of each question intent: the NLU names the section, retrieval picks the entry.
QUESTION_INTENTS: Dict[str, str] = {
    "ask_eligibility": "eligibility",
    "ask_entitlements": "eligibility",
    **{f"ask_{topic}": topic for topic in (
        "personal_adviser", "money", "housing", "health", "education", "work", "relationships", "participation", "leisure",
    )},
}

# Sections whose entries also answer a question, beyond its own section: "can I still get
# help at 22?" is an eligibility question, but the answer is PA support up to 25.
ALSO_SEARCH: Dict[str, tuple] = {"eligibility": ("personal_adviser",)}
# A second topic whose probability is at least this share of the first's is a real
# candidate: retrieval looks in both, and the user is asked when both answer equally well.
CLOSE_TOPIC = 0.5
CLARIFY_MARGIN = 0.85  # the runner-up entry of another topic scores within 15% of the best
CLARIFY_TOPIC_SHARE = 0.7  # ... and the NLU was nearly as sure of that topic: only then ask which
NOTHING_SCORE = 0.12  # below this, no entry shares enough with the question to be its answer
# An entry of another topic that matches this well (one of its questions nearly word for word)
# beats the router's guess: a question a council or worker added answers on the next reload.
KNOWN_QUESTION_SCORE = 0.7
ELSEWHERE_SHARE = 0.5  # the section's best scores under half the best of all: answer from the best of all
# Below this confidence in its best topic, the NLU's guess only weighs the ranking of every
# entry (score x (1 + topic share)) instead of choosing the section to look in: "is there a
# drugs service i can just turn up to" read 0.35 relationships, 0.34 participation.
UNSURE_SHARE = 0.5


# A section name longer than this is a citation for staff ("Corporate Parenting Strategy, How
# the Strategy will be monitored: Achieving (...); Minutes of ..."): the young person is told
# the document and its date, and the offer file keeps the rest.
SHORT_SECTION = 60


def source_name(entitlement: Entitlement) -> str:
    """Where a fact came from, in words: the document with its date and section, or the law."""
    document = document_of(entitlement)
    if document is None and (entitlement.council == NATIONAL or not is_seed(entitlement.source_document)):
        origin = entitlement.source_document  # the law or guidance by name (a council entry may cite the Act)
        if entitlement.council == NATIONAL:
            return origin
    elif document is not None:
        origin = document.label
    else:
        council = knowledge_base().council(entitlement.council)
        origin = (council.offer_name or council.name) if council else entitlement.council
    section = entitlement.source_section
    return f"{origin}, {section}" if section and len(section) <= SHORT_SECTION else origin


def source_detail(entitlement: Entitlement, today: Optional[dt.date] = None) -> str:
    """"Where is this from?": the document, its age when that matters, and the last check."""
    document = document_of(entitlement)
    parts = [f"That comes from {source_name(entitlement)}."]
    if is_old(document, today or dt.date.today()):
        parts.append(f"It was written {document.when_phrase}, so things may have changed. Ask your PA what you can get now.")
    parts.append(f"It was last checked on {entitlement.last_checked:%-d %b %Y}.")
    if entitlement.link:
        parts.append(f"More: {entitlement.link}")
    return " ".join(parts)


def short_source(entitlement: Entitlement) -> str:
    """'Walsall draft offer, 2018' / 'Universal Credit Regulations 2013': the source in a few words."""
    document = document_of(entitlement)
    if document is not None:
        return document.short
    if entitlement.council != NATIONAL:
        council = knowledge_base().council(entitlement.council)
        return f"{council.name if council else entitlement.council} offer"
    return re.split(r"[:;(]", entitlement.source_document)[0].strip()[:45]


def planned_lead(entitlement: Entitlement, today: Optional[dt.date] = None) -> str:
    """How a planned item starts: "Coming soon" only while the plan is recent; a plan from years
    ago says when it was planned, since it may have happened, changed or been dropped."""
    if entitlement.availability != "planned":
        return ""
    document = document_of(entitlement)
    if is_old(document, today or dt.date.today()):
        return f"Planned in {document.when}: "
    return "Coming soon: "


# Characters of one SMS answer: three 153-character parts (bot/sms_text.py) less the numbered
# options after it ("Reply 1 More, 2 Talk to a person").
SMS_CARD_LIMIT = 3 * 153 - 45
SMS_HOW_HINT = 'Text "how do I get it" to find out how.'


def sms_card(entitlement: Entitlement) -> str:
    """One entitlement as one text: what, how much, who, how to get it, where from (short).

    A texter can't tap "How do I get it?", and every extra text costs them, so the SMS
    answer carries all of it in few characters. When that is more than three texts, the
    "Who" line goes first (the answer mostly says who), then the how-to becomes a hint to
    text for it (the follow-up answers it from this card)."""
    lead = planned_lead(entitlement)
    who = who_can_get(entitlement)
    amount = f"How much: {entitlement.amount.describe()}." if entitlement.amount else ""
    source = f"(From {short_source(entitlement)})"
    for who_line, how in ((f"Who: {who}." if who else "", entitlement.how_to_get),
                          ("", entitlement.how_to_get), ("", SMS_HOW_HINT)):
        text = " ".join(part for part in (lead + entitlement.answer, amount, who_line, how, source) if part)
        if len(text) <= SMS_CARD_LIMIT:
            break
    return text


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
    """'young parents, aged 18 until you're 25' (empty when it is every care leaver of any age).

    max_age is the last age that counts (24 for "up to 25"), so it is said as the birthday
    it ends on: "aged 16 to 24" on a card titled "until you're 25" read as a contradiction."""
    parts = [STATUS_WORDS[s] for s in entitlement.statuses if s != "care_leaver"]
    low, high = entitlement.min_age, entitlement.max_age  # max_age 24: until the 25th birthday
    if low is not None and high is not None:
        parts.append(f"from {low} until you're {high + 1}")
    elif high is not None:
        parts.append(f"under {high + 1}")
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


def question_event(tracker: Tracker) -> Dict[str, Any]:
    """The parse data of the user's latest offer question ({} when there is none)."""
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        if ((parse.get("intent") or {}).get("name") or "") in QUESTION_INTENTS:
            return {**parse, "text": event.get("text") or parse.get("text") or ""}
    return {}


def candidate_topics(parse: Dict[str, Any]) -> List[str]:
    """The question's topic, and a second one when the NLU found it nearly as likely."""
    ranking = [r for r in parse.get("intent_ranking") or [] if r.get("name") in QUESTION_INTENTS]
    intent = (parse.get("intent") or {}).get("name")
    if intent not in QUESTION_INTENTS:
        return [QUESTION_INTENTS[ranking[0]["name"]]] if ranking else []
    topics = [QUESTION_INTENTS[intent]]
    best = next((r["confidence"] for r in ranking if r["name"] == intent), 1.0)
    for other in ranking:
        topic = QUESTION_INTENTS[other["name"]]
        if topic not in topics and other["confidence"] >= CLOSE_TOPIC * best:
            topics.append(topic)
            break
    return topics


CONTEXT_SHARE = 0.3  # a short question stays on the last answer's topic if the NLU gave it this share of the top
SHORT_QUESTION_WORDS = 10
# "is it free?", "can they help with that": a pronoun in a few words points back at the answer
# just given, so a much smaller share of the NLU's belief is enough to stay on its topic.
POINTING_BACK = re.compile(r"\b(?:it|that|this|them|they|there|one|those|these)\b")
POINTING_SHARE, POINTING_WORDS = 0.1, 6
TINY_POINTING_WORDS = 4  # "is it free?", "how do they work": only the last answer can be meant


def last_shown(tracker: Tracker) -> Optional[Entitlement]:
    """The entry shown last (what "it" means in "how do I get it")."""
    shown = tracker.get_slot("shown_ids") or []
    if not shown:
        return None
    return next((e for e in knowledge_base().all_entitlements() if e.id == shown[-1]), None)


# "is there a free gym", "theres a grant?": "there" that points at nothing
_NOT_POINTING = re.compile(r"\b(?:is|are|was|were|any) there\b|\bthere(?:'s|s| is| are| was| were)\b")


def card_pointed_at(tracker: Tracker, text: str) -> Optional[Entitlement]:
    """The card just shown, when a few words point back at it ("is that for me", "what do
    they do there"), else None."""
    lowered = _NOT_POINTING.sub(" ", text.lower())
    if len(text.split()) > POINTING_WORDS or not POINTING_BACK.search(lowered):
        return None
    return last_shown(tracker)


DETAILS = ("how", "amount", "source", "who")  # what a follow-up can ask of the card just shown
FOLLOW_UP_CONFIDENCE = 0.5  # a few words asking "how do i sign up" the router reads less surely than this are a follow-up


def detail(entry: Entitlement, wants: str) -> str:
    """One detail of an entry, said plainly."""
    if wants == "amount":
        if entry.amount:
            return f"{entry.title}: {entry.amount.describe()}."
        return f"The offer doesn't give an amount for that. {entry.how_to_get}"
    if wants == "source":
        return source_detail(entry)
    if wants == "who":
        who = who_can_get(entry)
        return f"{entry.title}. Who: {who}." if who else f"{entry.title}: the offer gives it to every care leaver, of any age."
    return f"How to get it: {entry.how_to_get}"


def age_fit(entry: Entitlement, age: int) -> Optional[str]:
    """Whether the card just shown is for someone of `age` ("and if im 22?"), said plainly, or
    None when it is for every age (the trial: "At 22:" and the same card again said nothing)."""
    if not entry.depends_on_age:
        return None
    if entry.applies_at(age):
        return f"At {age}: yes, \"{entry.title}\" is still for you. Who: {who_can_get(entry)}."
    return f"At {age}: \"{entry.title}\" is not for you any more. Who: {who_can_get(entry)}."


def say_detail(dispatcher: CollectingDispatcher, tracker: Tracker, entry: Entitlement, wants: str) -> None:
    """The detail asked of the card, and who to ask for the rest."""
    dispatcher.utter_message(text=detail(entry, wants) + f" {team_line(tracker.get_slot('council'))}")


def detail_asked_of_last_card(tracker: Tracker, parse: Dict[str, Any]) -> Optional[Tuple[Entitlement, str]]:
    """A few words asking one detail of the card just shown, read as a question by the router
    ("what age is it for", "how do i sign up" after the befriending card): the card and the detail."""
    text = parse.get("text", "")
    entry = last_shown(tracker)
    wants = read_follow_up(text).wants
    if entry is None or wants not in DETAILS or len(text.split()) > POINTING_WORDS:
        return None
    confidence = float((parse.get("intent") or {}).get("confidence") or 0.0)
    if card_pointed_at(tracker, text) is None and confidence >= FOLLOW_UP_CONFIDENCE:
        return None  # "how much is council tax": a question of its own
    return entry, wants


def read_against_last_card(tracker: Tracker, text: str, topics: Sequence[str]) -> str:
    """A few words pointing back ("what do they actually do there" after the forum card) are
    searched with that card's title: alone, they matched whatever entry says "do" and "there".
    Not when the question's topic (read in context) is another one."""
    entry = card_pointed_at(tracker, text)
    if entry is None or (topics and entry.topic not in with_related(topics[:1])):
        return text
    return f"{entry.title} {text}"


def previous_topic(tracker: Tracker) -> Optional[str]:
    """The topic of the answer just given (its first entry), if any."""
    entry = last_shown(tracker)
    return entry.topic if entry else None


def topic_shares(parse: Dict[str, Any]) -> Dict[str, float]:
    """How sure the NLU was of each offer topic: its question intents' confidence, summed."""
    shares: Dict[str, float] = {}
    for ranked in parse.get("intent_ranking") or []:
        topic = QUESTION_INTENTS.get(ranked.get("name") or "")
        if topic:
            shares[topic] = shares.get(topic, 0.0) + float(ranked.get("confidence") or 0.0)
    return shares


def in_context(parse: Dict[str, Any], topics: List[str], previous: Optional[str]) -> List[str]:
    """Read a short question against the last answer: "do I have to pay them anything?"
    after Staying Put is still about housing, though "pay" alone says money."""
    words = parse.get("text", "").lower().split()
    if not previous or not topics or topics[0] == previous or len(words) > SHORT_QUESTION_WORDS:
        return topics
    share = topic_shares(parse)
    pointing = len(words) <= POINTING_WORDS and POINTING_BACK.search(" ".join(words))
    if pointing and len(words) <= TINY_POINTING_WORDS:
        return [previous]
    needed = POINTING_SHARE if pointing else CONTEXT_SHARE
    if share.get(topics[0]) and share.get(previous, 0.0) >= needed * share[topics[0]]:
        return [previous]
    return topics


def unsure_between(parse: Dict[str, Any], topics: Sequence[str]) -> bool:
    """Whether the NLU was nearly as sure of the second topic as of the first."""
    if len(topics) < 2:
        return False
    share = topic_shares(parse)
    return bool(share.get(topics[0])) and share.get(topics[1], 0.0) >= CLARIFY_TOPIC_SHARE * share[topics[0]]


def with_related(topics: Sequence[str]) -> List[str]:
    """The topics to search: each candidate and the sections that also answer it."""
    found: List[str] = []
    for topic in topics:
        for section in (topic, *ALSO_SEARCH.get(topic, ())):
            if section not in found:
                found.append(section)
    return found


def tracker_age(tracker: Tracker) -> Optional[int]:
    age = tracker.get_slot("age")
    return int(age) if age else None


def find_hits(
    tracker: Tracker, text: str, topics: Sequence[str], council: Optional[str] = None, age: Optional[int] = None
) -> List[Hit]:
    """The entries of the user's (or the named) council and the national layer, best first."""
    council = council or tracker.get_slot("council")
    return knowledge_base().index().search(text, council, with_related(topics) or None, age if age is not None else tracker_age(tracker))


def first_page_size(hits: Sequence[Hit]) -> int:
    """How many answers to show first: the clear matches (at least 70% of the best), 1 to 3.

    "Do I pay council tax?" gets the council tax answer alone, with the rest behind "More";
    a broad "what money help is there?" gets up to three.
    """
    if not hits or hits[0].score <= NOTHING_SCORE:
        return PAGE_SIZE
    best = hits[0].score
    return max(1, min(PAGE_SIZE, sum(1 for hit in hits if hit.score >= 0.7 * best)))


def clarification(hits: Sequence[Hit]) -> List[Entitlement]:
    """Two or three entries of different topics that answer about equally well: ask which."""
    if len(hits) < 2 or hits[0].score <= NOTHING_SCORE:
        return []
    best = hits[0]
    rivals = [h for h in hits[1:] if h.entitlement.topic != best.entitlement.topic and h.score >= CLARIFY_MARGIN * best.score]
    return [best.entitlement, rivals[0].entitlement] if rivals else []


def age_matters(hits: Sequence[Hit]) -> bool:
    """True when the best answers differ by age: e.g. PA support to 21 and a return from 21."""
    if not hits or hits[0].score <= NOTHING_SCORE:
        return False
    close = [h.entitlement for h in hits[:3] if h.score >= 0.8 * hits[0].score]
    ranges = {(e.min_age, e.max_age) for e in close if e.depends_on_age}
    if len(ranges) < 2:
        return False
    return any(not _overlap(a, b) for a in ranges for b in ranges if a != b)


def _overlap(a: tuple, b: tuple) -> bool:
    low = max(a[0] if a[0] is not None else 0, b[0] if b[0] is not None else 0)
    high = min(a[1] if a[1] is not None else 99, b[1] if b[1] is not None else 99)
    return low <= high


def question_needs_age(tracker: Tracker) -> bool:
    """Ask the age only when it changes the answer (the checker always needs it)."""
    if tracker_age(tracker) is not None:
        return False
    parse = question_event(tracker)
    if not parse or not tracker.get_slot("council"):
        return False
    return age_matters(find_hits(tracker, parse["text"], candidate_topics(parse), age=None))


RATE_EVERY = 3  # "Did that help?" after the first answer of a conversation, then every third
CARD_BUTTONS = (("How do I get it?", "how do I get it"), ("Where is this from?", "where is this from"))
PERSON_BUTTON = ("Talk to a person", "I want to talk to a person")


PHONE_SCREEN = 300  # characters: about what a 375 px phone shows without scrolling
HOW_LABEL = "How to get it: "


def phone_card(entitlement: Entitlement) -> str:
    """The first message of an answer, for a phone screen: what it is, how much, who can get it,
    and how to get it when that still fits.

    Otherwise "How do I get it?" is a button (CARD_BUTTONS), as is where it comes from, so
    the first message stays within PHONE_SCREEN (tests/test_replies.py holds every entry to it)."""
    lead = planned_lead(entitlement)
    who = who_can_get(entitlement)
    amount = entitlement.amount.describe() if entitlement.amount else ""
    lines = [f"{lead}{entitlement.title}", entitlement.answer,
             f"How much: {amount}." if amount and amount not in entitlement.answer else "",  # said once
             f"Who: {who}." if who else ""]
    card = "\n".join(line for line in lines if line)
    with_how = f"{card}\n{HOW_LABEL}{entitlement.how_to_get}"
    return with_how if len(with_how) <= PHONE_SCREEN else card


def card_buttons(card: str) -> List[tuple]:
    """The one-tap details of this card's text: how to get it (unless it already says) and where from."""
    if HOW_LABEL in card:
        return [CARD_BUTTONS[1]]
    return list(CARD_BUTTONS)


def seen_again(entitlement: Entitlement, just_shown: bool, council: Optional[str]) -> str:
    """A card the young person has already seen, asked about again: not the card twice, but
    what it didn't say up front (how to get it), and who can answer what the offer doesn't.

    Just shown (the answer before this one): the new question is about it ("when is it
    paid?"). Seen earlier: name it, so they can scroll back, and still give the how-to."""
    opening = f"About \"{entitlement.title}\":" if just_shown else f"That's \"{entitlement.title}\", which I showed you above."
    amount = f" How much: {entitlement.amount.describe()}." if entitlement.amount else ""  # "how much is it?" again
    return f"{opening}{amount} How to get it: {entitlement.how_to_get} If that doesn't answer it, ask: {team_line(council)}"


def show_page(
    dispatcher: CollectingDispatcher, found: Sequence[Entitlement], shown: List[str], size: int = PAGE_SIZE,
    sms: bool = False, seen: Sequence[str] = (), previous: Sequence[str] = (), council: Optional[str] = None,
) -> List[str]:
    """Show the next answer and return the ids shown for this question so far.

    One card at a time, for a phone: on the web the other clear matches (up to `size` in
    all) follow as buttons by title, the rest behind "More". A card already shown earlier
    in the conversation (`seen`) is named, not repeated (seen_again). SMS gets the compact card (its
    facts and source in one text; numbered options would cost the texter)."""
    waiting = [e for e in found if e.id not in shown]
    if not waiting:
        return shown
    first, others = waiting[0], waiting[1:size]
    if first.id in seen:
        text = seen_again(first, just_shown=bool(previous) and first.id == previous[-1], council=council)
    else:
        text = sms_card(first) if sms else phone_card(first)
    more = [("More", "more")] if len(waiting) > 1 and not others else []
    details = card_buttons(text) if not sms and first.id not in seen else []
    dispatcher.utter_message(text=text, buttons=buttons(*details, *more, PERSON_BUTTON))
    if others and not sms:
        dispatcher.utter_message(text="Also in the offer:", buttons=buttons(*[(e.title, e.title) for e in others]))
    if not sms and len(seen) % RATE_EVERY == 0:  # a one-tap rating now and then, for the staff's report
        dispatcher.utter_message(response="utter_ask_rating")
    return shown + [first.id]


def seen_after(tracker: Tracker, shown: Sequence[str]) -> List[str]:
    """Every entry shown in this conversation, with the ones just shown."""
    seen = list(tracker.get_slot("seen_ids") or [])
    return seen + [i for i in shown if i not in seen]


class ActionAnswerOffer(Action):
    """Answers the user's offer question with the entries that match its words best."""

    def name(self) -> Text:
        return "action_answer_offer"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        parse = question_event(tracker)
        if asks_how_to_reach_the_advocate(tracker):
            say_how_to_reach_the_advocate(dispatcher, tracker)
            return [SlotSet("topic", "advocacy")]
        asked = detail_asked_of_last_card(tracker, parse)
        if asked is not None:
            say_concern(dispatcher, tracker, parse)
            say_detail(dispatcher, tracker, *asked)
            return [SlotSet("topic", asked[0].topic)]
        feeling = feeling_line(parse.get("text"), turn=len(tracker.get_slot("seen_ids") or []))
        if feeling:  # a feeling they named comes before the facts (and before the safety line)
            dispatcher.utter_message(text=feeling)
        say_concern(dispatcher, tracker, parse)
        text, intent = parse.get("text", ""), (parse.get("intent") or {}).get("name")
        say_moved_away(dispatcher, tracker, text)
        topics = in_context(parse, candidate_topics(parse), previous_topic(tracker)) or [tracker.get_slot("topic")]
        text = read_against_last_card(tracker, text, topics)
        events = answer(dispatcher, tracker, text, intent, topics, may_ask=unsure_between(parse, topics),
                        shares=topic_shares(parse))
        say_who_instead_of_the_pa(dispatcher, tracker)
        if topics[0] != tracker.get_slot("topic") and not any(e.get("name") == "topic" for e in events):
            events = [SlotSet("topic", topics[0]), *events]
        return events


# "i dont have a PA", "my pa never replies": "ask your PA" is then no help (the trials).
_NO_PA = re.compile(
    r"\b(?:don'?t|dont|do not|haven'?t|havent|never) (?:have|got|had|get) (?:a |an |my |any )?(?:pa|personal advis[eo]r)\b|"
    r"\bno pa\b|\bwithout a pa\b|\b(?:pa|personal advis[eo]r)\b.{0,30}\b(?:never|doesn'?t|dont|won'?t|wont) "
    r"(?:answer|answers|reply|replies|respond|ring|call|text|get back)\b", re.I)
NO_PA_OPENING = "No PA, or yours doesn't reply?"


def say_who_instead_of_the_pa(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """Once a conversation, after an answer that says "ask your PA" to someone who said they
    have no PA or theirs doesn't reply: who else to ask, with the number."""
    said_pa = any("PA" in (message.get("text") or "") for message in dispatcher.messages)
    no_pa = any(e.get("event") == "user" and _NO_PA.search(e.get("text") or "") for e in tracker.events)
    if said_pa and no_pa and not said_before(tracker, NO_PA_OPENING):
        dispatcher.utter_message(text=f"{NO_PA_OPENING} The leaving care team can help instead. "
                                      f"{team_line(tracker.get_slot('council'))}")


MOVED_ENTRY = "national-moved-to-another-area"  # knowledge/offers/national.yml
MOVED_PREFACE = "As you've moved:"


def say_moved_away(dispatcher: CollectingDispatcher, tracker: Tracker, text: str) -> None:
    """Someone who now lives elsewhere asks about their offer ("i moved to brum, do i still get
    council tax help"): once a conversation, before the answer, who owes them what (the
    content's own entry), unless that entry is the answer anyway."""
    if not lives_elsewhere(text) or said_before(tracker, MOVED_PREFACE):
        return
    entry = next((e for e in knowledge_base().all_entitlements() if e.id == MOVED_ENTRY), None)
    hits = find_hits(tracker, text, [])
    if entry is None or (hits and hits[0].entitlement.id == MOVED_ENTRY):
        return
    dispatcher.utter_message(text=f"{MOVED_PREFACE} {entry.answer}")


def answer(
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    text: str,
    intent: Optional[str],
    topics: Sequence[str],
    council: Optional[str] = None,
    age: Optional[int] = None,
    may_ask: bool = False,
    shares: Optional[Dict[str, float]] = None,
) -> List[EventType]:
    """Show the best entries for `text` in these topics, ask which was meant (when `may_ask`:
    the NLU was unsure between two topics), or say honestly that the offer has nothing on it
    (and record that for the gap report)."""
    council = council or tracker.get_slot("council")
    everything = find_hits(tracker, text, [], council, age)
    if everything and everything[0].score >= KNOWN_QUESTION_SCORE and everything[0].entitlement.topic not in with_related(topics):
        topics = [everything[0].entitlement.topic]
    wanted = set(with_related(topics))
    hits = [h for h in everything if h.entitlement.topic in wanted] if wanted else everything
    if everything and everything[0].score > NOTHING_SCORE and (not hits or hits[0].score < ELSEWHERE_SHARE * everything[0].score):
        # "help with rent" is housing, but the entry that answers it is filed under money: when
        # the section has nothing close, the best entry of any section answers.
        hits = everything
    if shares and max(shares.values(), default=0.0) < UNSURE_SHARE and everything and everything[0].score > NOTHING_SCORE:
        # The NLU is unsure of the topic: rather than look only in its guess, rank every entry
        # by its words, nudged by how likely the NLU found its topic.
        fused = [Hit(hit.score * (1.0 + shares.get(hit.entitlement.topic, 0.0)), hit.entitlement) for hit in everything]
        hits = sorted(fused, key=lambda hit: -hit.score)
        topics = [hits[0].entitlement.topic, *[t for t in topics if t != hits[0].entitlement.topic]]
    if not hits:
        return nothing_found(dispatcher, tracker, intent, text, council)
    events: List[EventType] = []
    options = clarification(hits) if may_ask else []
    if options:
        dispatcher.utter_message(
            text="I can help with a few things there. Which did you mean?",
            buttons=buttons(*[(e.title, e.title) for e in options], ("Something else", "I want to talk to a person")),
        )
        record_unanswered(engine(), tracker.sender_id, text, council, tracker.get_slot("topic"), f"clarify:{intent}")
        return [SlotSet("shown_ids", [])]
    if hits[0].entitlement.topic in topics and hits[0].entitlement.topic != tracker.get_slot("topic"):
        # The runner-up topic answered better: the conversation (and the reports) follow it.
        events.append(SlotSet("topic", hits[0].entitlement.topic))
    if council == NATIONAL:
        dispatcher.utter_message(text="Here's what every care leaver in England can get. Your council may offer more.")
    if raw_score(everything, hits[0]) <= NOTHING_SCORE or partly_matched(text, hits[0]):
        # e.g. "register with a GP" where the offer's health section has only mental health:
        # say so rather than pass the section off as the answer, and show staff the gap.
        dispatcher.utter_message(
            text=f"I couldn't find that exactly in the offer for {council_label(council)}. Here's what's closest:"
        )
        record_unanswered(engine(), tracker.sender_id, text, council, tracker.get_slot("topic"), intent)
    sms = channel_of(tracker) == "sms"
    seen = tracker.get_slot("seen_ids") or []
    shown = show_page(dispatcher, [h.entitlement for h in hits], [], first_page_size(hits), sms, seen,
                      previous=tracker.get_slot("shown_ids") or [], council=council)
    shown += answer_second_question(dispatcher, tracker, text, council, age, shown + list(seen), sms)
    return events + [SlotSet("shown_ids", shown), SlotSet("seen_ids", seen_after(tracker, shown))]


# "help paying for a provisional licence and also does the council do anything for ur
# birthday": two questions, and the words of the first outweighed the second's.
_SECOND_QUESTION = re.compile(
    r"\?\s+(?=\w)|\b(?:and also|also|plus|oh and|and another thing|and)\s+"
    r"(?=(?:do|does|can|could|is|are|will|would|what|how|where|who|when|any|is there|are there)\b)", re.I)
SECOND_QUESTION_WORDS = 4  # each part must ask something of its own


def second_question(text: str) -> Optional[str]:
    """The second of two questions in one message, or None."""
    parts = _SECOND_QUESTION.split(text, maxsplit=1)
    if len(parts) < 2 or min(len(part.split()) for part in parts) < SECOND_QUESTION_WORDS:
        return None
    if POINTING_BACK.search(parts[1].lower()):
        return None  # "how much is the grant and what can i buy with it": one question about one thing
    return parts[1]


def answer_second_question(dispatcher: CollectingDispatcher, tracker: Tracker, text: str, council: Optional[str],
                           age: Optional[int], already: Sequence[str], sms: bool) -> List[str]:
    """The card answering the second question of the message, when it is a clear answer not
    already shown: its id, or nothing."""
    question = second_question(text)
    hits = find_hits(tracker, question, [], council, age) if question else []
    if not hits or hits[0].score < PARTIAL_SCORE or hits[0].entitlement.id in already or partly_matched(question, hits[0]):
        return []
    entry = hits[0].entitlement
    dispatcher.utter_message(text="You also asked:\n" + (sms_card(entry) if sms else phone_card(entry)), buttons=buttons(PERSON_BUTTON))
    return [entry.id]


# An entry that scores under PARTIAL_SCORE and meets the question on one word only, under half
# of its words, is the closest thing in the offer, not its answer ("free glasses from the
# optician" -> "A free advocate"; "free gym in notts?" -> the same). Measured on the first
# blind set (a development set): the caveat then comes before 15 of 194 answers, most of
# them wrong cards.
PARTIAL_SCORE = 0.35
PARTIAL_COVERAGE = 0.5


def partly_matched(text: str, hit: Hit) -> bool:
    """Whether the best entry meets the question on too few of its words to be called the answer."""
    if hit.score >= PARTIAL_SCORE:
        return False
    shared, share = knowledge_base().index().coverage(text, hit.entitlement)
    return shared < 2 and share <= PARTIAL_COVERAGE


def raw_score(everything: Sequence[Hit], hit: Hit) -> float:
    """The entry's own retrieval score (a fused ranking scales it by the NLU's topic share)."""
    return next((h.score for h in everything if h.entitlement.id == hit.entitlement.id), hit.score)


def nothing_found(
    dispatcher: CollectingDispatcher, tracker: Tracker, intent: Optional[str], text: str, council: Optional[str]
) -> List[EventType]:
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
        return more_answers(dispatcher, tracker)


def more_answers(dispatcher: CollectingDispatcher, tracker: Tracker) -> List[EventType]:
    """The next page for the latest question, or an honest "that's everything"."""
    shown = list(tracker.get_slot("shown_ids") or [])
    parse = question_event(tracker)
    found = [h.entitlement for h in find_hits(tracker, parse.get("text", ""), candidate_topics(parse))] if parse else []
    if not shown or not [e for e in found if e.id not in shown]:
        dispatcher.utter_message(text=f"That's everything I have on that. {team_line(tracker.get_slot('council'))}")
        return []
    seen = tracker.get_slot("seen_ids") or []
    shown = show_page(dispatcher, found, shown, sms=channel_of(tracker) == "sms", seen=seen, council=tracker.get_slot("council"))
    return [SlotSet("shown_ids", shown), SlotSet("seen_ids", seen_after(tracker, shown))]


class ActionRatedUnhelpful(Action):
    """"No, that didn't help": the other entries that came close, a tip, and a person."""

    def name(self) -> Text:
        return "action_rated_unhelpful"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        parse = question_event(tracker)
        shown = set(tracker.get_slot("shown_ids") or [])
        found = [h.entitlement for h in find_hits(tracker, parse.get("text", ""), []) if h.score > NOTHING_SCORE] if parse else []
        others = [e for e in found if e.id not in shown][:2]
        if parse:  # the gap report shows what the offer answered badly, beside what it could not answer
            record_unanswered(engine(), tracker.sender_id, parse.get("text", ""), tracker.get_slot("council"),
                              tracker.get_slot("topic"), "rated_unhelpful")
        if others:
            dispatcher.utter_message(text="Sorry about that. Was it one of these? Or a person can help.",
                                     buttons=buttons(*[(e.title, e.title) for e in others], PERSON_BUTTON))
        else:
            dispatcher.utter_message(response="utter_rated_unhelpful")
        return []
