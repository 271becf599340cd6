"""The topic contract: every intent routes to a topic id from offer-topics.yml."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from actions.offer import QUESTION_INTENTS
from bot.evaluate import load_cases
from knowledge.topics import TOPICS_FILE, all_topic_ids, offer_sections

ROOT = Path(__file__).resolve().parent.parent
SHARED_TOPICS = ROOT.parent / "shared" / "offer-topics.yml"
DOMAIN = yaml.safe_load((ROOT / "domain.yml").read_text())
# Intents that answer a question the bot asked, or chit-chat that a free-text answer is
# easily mistaken for ("my name is Jo" reads like bot_challenge): inside a form they keep the
# topic of the form's question, so their mappings apply only with no form running.
CONTEXT_INTENTS = {
    "inform_council", "inform_age", "affirm", "deny", "stop", "ask_more", "deny_crisis",
    "greet", "bot_challenge", "out_of_scope", "nlu_fallback",
}  # not goodbye: "bye" ends any form (data/rules/conversation.yml), so it is never an answer;
# nor thank and who_sees_this: no form takes them as an answer (the hand-off form answers
# them and asks its question again, data/rules/people.yml). greet stays: a name ("Sam")
# given to the form can read as a greeting, and the turn's topic is the form's.


def topic_mappings():
    return DOMAIN["slots"]["topic"]["mappings"]


@pytest.mark.skipif(not SHARED_TOPICS.exists(), reason="../shared/ is not beside this checkout")
def test_topics_file_is_in_sync_with_shared_contract():
    assert TOPICS_FILE.read_text() == SHARED_TOPICS.read_text()


def test_topic_slot_values_are_the_contract():
    assert DOMAIN["slots"]["topic"]["values"] == all_topic_ids()


def test_every_mapping_gives_a_contract_topic():
    for mapping in topic_mappings():
        assert mapping["type"] == "from_intent"
        assert mapping["value"] in all_topic_ids(), mapping


def test_every_intent_routes_to_a_topic():
    mapped = {m["intent"] for m in topic_mappings()}
    unmapped = set(DOMAIN["intents"]) - mapped - {"ask_more", "follow_up", "deny_crisis", "rate_helpful", "rate_unhelpful"}  # keep the answer's topic
    assert not unmapped, f"intents with no topic: {sorted(unmapped)}"


def test_context_intents_only_map_outside_forms():
    for mapping in topic_mappings():
        if mapping["intent"] in CONTEXT_INTENTS:
            assert mapping.get("conditions") == [{"active_loop": None}], mapping
        else:
            assert "conditions" not in mapping, mapping


def test_question_intents_agree_with_domain_mappings():
    by_intent = {m["intent"]: m["value"] for m in topic_mappings()}
    for intent, topic in QUESTION_INTENTS.items():
        assert by_intent[intent] == topic, intent
        assert topic in offer_sections()
    asks = {i for i in DOMAIN["intents"] if i.startswith("ask_") and i != "ask_more"}
    assert asks == set(QUESTION_INTENTS)


@pytest.mark.parametrize("path", sorted((ROOT / "tests" / "eval").glob("*.yml")), ids=lambda p: p.name)
def test_evaluation_files_use_contract_topics(path):
    assert load_cases(path)
