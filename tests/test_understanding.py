"""Understanding what was asked: everything in one message, follow-ups, clarifying, age only
when it matters, and retrieval that learns a new question on reload (issue 12)."""
from __future__ import annotations

import asyncio
import datetime as dt
import shutil
import subprocess
from typing import List

import pytest

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

import actions.offer as offer
from knowledge.content import Entitlement
from knowledge.retrieval import OfferIndex
from tests.conftest import PYTHON, ROOT, base_env, cards, new_sender, texts


def answers(messages: List[dict]) -> List[str]:
    return cards(messages)


def test_a_council_and_a_question_in_one_message_set_the_council_and_answer(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "cambs care leaver, can i stay on with my foster carers when im 18?"))
    assert bot.slot(sender, "council") == "cambridgeshire"
    assert "Staying Put" in reply and "Which council" not in reply
    assert bot.slot(sender, "topic") == "housing"


def test_a_greeting_and_a_question_in_one_message_answer_the_question(bot):
    sender = new_sender()
    reply = bot.say(sender, "hiya, do i have to pay council tax?", council="walsall")
    assert answers(reply) and "council tax" in answers(reply)[0].lower()
    assert bot.slot(sender, "topic") == "money"


def test_what_about_another_council_answers_for_it_without_switching(bot):
    sender = new_sender()
    bot.say(sender, "do i have to pay council tax", council="walsall")
    reply = texts(bot.say(sender, "what about in nottingham?"))
    assert "Nottingham" in reply
    assert bot.slot(sender, "council") == "walsall"


def test_a_mate_in_another_council_does_not_change_whose_offer_is_used(bot):
    sender = new_sender()
    bot.say(sender, "hi", council="walsall")
    bot.say(sender, "my mate in nottingham got a grant for furniture, can i get one")
    assert bot.slot(sender, "council") == "walsall"


def test_saying_a_new_council_changes_it_and_says_so(bot):
    sender = new_sender()
    bot.say(sender, "I was in care in Walsall")
    reply = texts(bot.say(sender, "actually I'm from Nottingham, do i pay council tax"))
    assert bot.slot(sender, "council") == "nottingham"
    assert "Nottingham" in reply and "from now on" in reply


def test_a_council_correction_answers_the_last_question_again_for_it(bot):
    sender = new_sender()
    bot.say(sender, "how much is the setting up home grant in walsall")
    reply = texts(bot.say(sender, "oh wait no, actually its nottingham"))
    assert bot.slot(sender, "council") == "nottingham"
    assert "Nottingham" in reply and "What would you like to know" not in reply
    assert "set" in reply.lower() and "home" in reply.lower()  # the grant question, answered again


def test_how_do_i_get_it_follows_up_the_last_answer(bot):
    sender = new_sender()
    first = answers(bot.say(sender, "how much is the setting up home grant", council="walsall"))
    assert first and "2,000" in first[0]
    reply = texts(bot.say(sender, "how do i get it"))
    assert "How to get it" in reply and "Transition and Leaving Care" in reply
    assert bot.slot(sender, "topic") == "money"


def test_and_if_im_a_different_age_re_answers_for_that_age(bot):
    sender = new_sender()
    bot.say(sender, "can i keep my personal adviser", council="walsall")
    reply = texts(bot.say(sender, "and if im 23?"))
    assert "At 23" in reply and "25" in reply
    assert bot.slot(sender, "age") is None  # a question about an age is not the user's age


@pytest.mark.parametrize("question, said", [
    ("do i pay council tax", 'At 22: yes, "No council tax until you\'re 25" is still for you'),
    ("do i still get birthday money", "is not for you any more. Who: under 21"),
])
def test_and_if_im_22_says_whether_the_card_just_shown_is_for_that_age(bot, question, said):
    sender = new_sender()
    bot.say(sender, question, council="walsall")
    assert said in texts(bot.say(sender, "and if im 22"))


def test_an_age_question_is_answered_with_its_limits_not_with_how_old_are_you(bot):
    sender = new_sender()
    messages = bot.say(sender, "up to what age do i get a personal adviser", council="cambridgeshire")
    assert any("25" in text for text in answers(messages)), texts(messages)
    assert "How old are you" not in texts(messages)


def test_a_new_question_on_an_entry_changes_the_answer_after_reload_without_retraining(bot, tmp_path):
    """The offer files are copied, one entry learns a new way of asking, `bot.content reload`
    publishes it into the running bot's database, and the same message now gets that entry."""
    question = "can the council pay for my zumba classes"
    before = answers(bot.say(new_sender(), question, council="walsall"))
    offers = tmp_path / "offers"
    shutil.copytree(ROOT / "knowledge" / "offers", offers)
    walsall = offers / "walsall.yml"
    text = walsall.read_text(encoding="utf8")
    anchor = "  - id: walsall-leisure-card\n"
    assert anchor in text
    start = text.index("    questions:\n", text.index(anchor)) + len("    questions:\n")
    walsall.write_text(text[:start] + f"      - {question}\n" + text[start:], encoding="utf8")
    env = base_env(PATHFINDER_DB_URL=bot.database_url)
    subprocess.run([PYTHON, "-m", "bot.content", "reload", "--dir", str(offers)], cwd=ROOT, env=env, check=True, capture_output=True)
    try:
        after = answers(bot.say(new_sender(), question, council="walsall"))
        assert after and after[0].startswith("Getting or replacing your leisure card"), after[:1]
        assert not before or before[0] != after[0]
    finally:
        subprocess.run([PYTHON, "-m", "bot.content", "reload"], cwd=ROOT, env=env, check=True, capture_output=True)


# ---- in-process: the answer action from a tracker, with a small made-up offer ----------
def entry(entry_id: str, topic: str, title: str, questions: tuple) -> Entitlement:
    return Entitlement(
        id=entry_id, council="walsall", topic=topic, title=title, answer="An answer.", how_to_get="Ask your PA.",
        source_document="test", source_section="", last_checked=dt.date(2026, 1, 1), questions=questions,
    )


class FakeKnowledge:
    def __init__(self, entries):
        self._index = OfferIndex(entries)

    def index(self):
        return self._index

    def council(self, council_id):
        return None

    def contact(self, council_id, kind):
        return None


def run_answer(monkeypatch, entries, text: str, ranking: list) -> tuple:
    recorded = []
    monkeypatch.setattr(offer, "knowledge_base", lambda: FakeKnowledge(entries))
    monkeypatch.setattr(offer, "engine", lambda: None)
    monkeypatch.setattr(offer, "record_unanswered", lambda engine, *row: recorded.append(row))
    parse = {"text": text, "intent": ranking[0], "intent_ranking": ranking}
    tracker = Tracker(
        "someone", {"council": "walsall", "topic": ranking[0]["name"][4:], "shown_ids": []}, parse,
        [{"event": "user", "text": text, "parse_data": parse}], False, None, {}, "action_listen",
    )
    dispatcher = CollectingDispatcher()
    events = asyncio.run(offer.ActionAnswerOffer().run(dispatcher, tracker, {}))
    return dispatcher.messages, events, recorded


def test_two_topics_that_answer_equally_well_are_offered_as_buttons(monkeypatch):
    entries = [
        entry("walsall-travel-family", "relationships", "Travel to see your family", ("help with travel costs",)),
        entry("walsall-travel-study", "education", "Travel to college", ("help with travel costs",)),
    ]
    ranking = [{"name": "ask_relationships", "confidence": 0.4}, {"name": "ask_education", "confidence": 0.35}]
    messages, events, recorded = run_answer(monkeypatch, entries, "help with travel costs", ranking)
    titles = [b["title"] for m in messages for b in m.get("buttons") or []]
    assert "Which did you mean" in messages[0]["text"]
    assert {"Travel to see your family", "Travel to college"} <= set(titles)
    assert recorded and recorded[0][-1] == "clarify:ask_relationships"  # shown to staff in the gap report


def test_a_clear_answer_is_not_a_clarification(monkeypatch):
    entries = [
        entry("walsall-travel-family", "relationships", "Travel to see your family", ("money to visit my family",)),
        entry("walsall-travel-study", "education", "Travel to college", ("bus fare to college",)),
    ]
    ranking = [{"name": "ask_relationships", "confidence": 0.7}, {"name": "ask_education", "confidence": 0.4}]
    messages, _, recorded = run_answer(monkeypatch, entries, "money to visit my family", ranking)
    assert messages[0]["text"].startswith("Travel to see your family") and recorded == []


def test_an_unsure_question_gets_the_closest_entries_not_a_dead_end(monkeypatch):
    import actions.people as people

    recorded = []
    entries = [entry("walsall-travel-family", "relationships", "Travel to see your family", ("money to visit my family",))]
    monkeypatch.setattr(offer, "knowledge_base", lambda: FakeKnowledge(entries))
    monkeypatch.setattr(people, "engine", lambda: None)
    monkeypatch.setattr(people, "record_unanswered", lambda engine, *row: recorded.append(row))
    text = "cash 4 visiting my fam"
    parse = {
        "text": text,
        "intent": {"name": "nlu_fallback", "confidence": 0.12},
        "intent_ranking": [{"name": "nlu_fallback", "confidence": 0.12}, {"name": "ask_relationships", "confidence": 0.1}],
    }
    tracker = Tracker("someone", {"council": "walsall"}, parse, [{"event": "user", "text": text, "parse_data": parse}], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(people.ActionFallback().run(dispatcher, tracker, {}))
    [message] = dispatcher.messages
    assert "Did you mean" in message["text"] and message["buttons"][0]["title"] == "Travel to see your family"
    assert recorded and recorded[0][-1] == "clarify:nlu_fallback"


def test_nonsense_still_gets_the_plain_fallback(monkeypatch):
    import actions.people as people

    monkeypatch.setattr(people, "record_unanswered", lambda *row: pytest.fail("nonsense is not a clarification"))
    parse = {"text": "zxqv blorp", "intent": {"name": "nlu_fallback", "confidence": 1.0}, "unknown_words": ["zxqv", "blorp"]}
    tracker = Tracker("someone", {"council": "walsall"}, parse, [{"event": "user", "text": "zxqv blorp", "parse_data": parse}], False, None, {}, "action_listen")
    dispatcher = CollectingDispatcher()
    asyncio.run(people.ActionFallback().run(dispatcher, tracker, {}))
    assert dispatcher.messages[0]["response"] == "utter_fallback"


@pytest.mark.parametrize("answer", ["Hmm", "he took it off me last night", "idk", "no", "ok thanks", "bye"])
def test_words_that_are_not_names_are_not_taken_as_a_name(answer):
    from actions.handoff import clean_name

    assert clean_name(answer) is None


@pytest.mark.parametrize("answer, name", [("Jo", "Jo"), ("my name is sam", "Sam"), ("im Priya", "Priya")])
def test_names_are_still_taken(answer, name):
    from actions.handoff import clean_name

    assert clean_name(answer) == name


def test_bye_during_the_hand_off_ends_it_without_sending(bot):
    sender = new_sender()
    bot.say(sender, "can someone from the team call me", council="walsall")
    assert bot.slot(sender, "requested_slot") == "handoff_name"
    reply = texts(bot.say(sender, "bye"))
    assert "haven't sent anything" in reply and "Bye" in reply
    assert not (bot.tracker(sender)["active_loop"] or {}).get("name")
    assert bot.slot(sender, "topic") == "smalltalk"


@pytest.mark.parametrize("text, age", [
    ("I was in care with Walsall from age 12 to 18", None),
    ("in foster care since 14, im 19 now", 19),
    ("when i was 15 i went into care, now im 20", 20),
    ("aged 17", 17),
    ("i'm 22", 22),
])
def test_an_age_in_a_story_is_not_taken_as_the_age_now(text, age):
    from actions.common import parse_age
    assert parse_age(text, answer_expected=False) == age


def test_a_short_follow_up_the_nlu_cannot_place_is_read_against_the_answer_just_shown(bot):
    sender = new_sender()
    bot.say(sender, "whats kooth", council="walsall")
    reply = texts(bot.say(sender, "what time can i use it"))
    assert "Sorry, I can't help with that" not in reply and "Kooth" in reply
    assert bot.slot(sender, "topic") == "health"


def test_a_few_words_pointing_back_stay_on_the_card_just_shown(bot):
    sender = new_sender()
    bot.say(sender, "is there a group where care leavers meet and have a say", council="cambridgeshire")
    reply = texts(bot.say(sender, "what do they do there"))
    assert "Forum" in reply and "local offer\"" not in reply, reply[:200]
    assert bot.slot(sender, "topic") == "participation"


@pytest.mark.parametrize("follow_up, wanted", [
    ("what age is it for", "Who: from 16 until you're 25"),
    ("how do i sign up", "How to get it: Ask your personal adviser (PA) to put your name forward"),
])
def test_one_detail_asked_of_the_card_just_shown_is_answered_from_it(bot, follow_up, wanted):
    sender = new_sender()
    bot.say(sender, "i get really lonely in my flat, is there a befriending thing", council="nottingham")
    reply = texts(bot.say(sender, follow_up))
    assert wanted in reply and "GP" not in reply, reply[:200]
    assert bot.slot(sender, "topic") == "relationships"


def test_how_to_reach_them_after_the_advocacy_answer_gets_the_advocates_number(bot):
    sender = new_sender()
    bot.say(sender, "i want to make a complaint about my leaving care worker", council="walsall")
    reply = texts(bot.say(sender, "how do i contact them"))
    assert "Coram Voice" in reply and "0808 800 5792" in reply, reply[:200]
    assert bot.slot(sender, "topic") == "advocacy"


def test_two_questions_in_one_message_get_both_answers(bot):
    sender = new_sender()
    reply = texts(bot.say(sender, "can i get help paying for my provisional licence and also does the council do anything for my birthday",
                          council="walsall"))
    assert "driving licence" in reply and "You also asked" in reply and "birthday" in reply.split("You also asked")[1]


@pytest.mark.parametrize("text", ["how much is the setting up home grant and what can i buy with it", "is the gym free"])
def test_one_question_is_not_read_as_two(text):
    from actions.offer import second_question
    assert second_question(text) is None


def test_someone_who_has_moved_is_told_who_owes_them_what_before_the_answer(bot):
    sender = new_sender()
    messages = bot.say(sender, "i moved to birmingham for work, do i still get council tax help", council="walsall")
    said = [m.get("text") or "" for m in messages]
    moved = next(i for i, text in enumerate(said) if text.startswith("As you've moved:"))
    assert "still gives your leaving care support" in said[moved]
    assert cards(messages) and moved < said.index(cards(messages)[0])
    again = texts(bot.say(sender, "i moved to birmingham, is the gym still free"))
    assert "As you've moved:" not in again  # once a conversation
