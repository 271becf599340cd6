"""The unknown-words gate: nonsense falls back whatever DIET's score, real words never do."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from bot.nlu.unknown_words import Vocabulary, english_words, words

TESTS = Path(__file__).resolve().parent

TRAINED = ["cn", "i", "get", "help", "wiv", "rent", "volunteering", "walsall", "innit", "gym"]


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return Vocabulary(TRAINED, english_words())


def test_words_are_lower_case_letters_without_single_letters():
    assert words("Cn I get help wiv RENT?? £20 :)") == ["cn", "get", "help", "wiv", "rent"]


@pytest.mark.parametrize("text", ["zxqv blorp", "asdfgh jklqw", "qwrtp", "ffffff zzzzzz", "xkcdq plmnb vbnmz"])
def test_nonsense_is_unknown(vocabulary, text):
    assert vocabulary.unknown(text) == words(text)


@pytest.mark.parametrize(
    "text",
    [
        "cn i get help wiv rent",  # text speak the bot was trained on
        "innit",
        "wanna volunteer sumwhere",  # "volunteer" is English, though untrained
        "mortgage",  # an English word the bot was never taught
        "volunteerng",  # one letter from a trained word
        "rnet",  # two letters swapped
        "walsal",  # a council name mistyped
    ],
)
def test_messages_with_any_known_word_are_left_to_the_classifier(vocabulary, text):
    assert vocabulary.unknown(text) is None


@pytest.mark.parametrize("text", ["19", "?", "👍", "k", "£2,000", ""])
def test_messages_without_words_are_left_to_the_classifier(vocabulary, text):
    """Numbers answer questions (an age), and one letter or an emoji says too little."""
    assert vocabulary.unknown(text) is None


def test_short_words_are_not_matched_loosely(vocabulary):
    """'gmy' is not taken for 'gym': three-letter words are one edit from too much."""
    assert vocabulary.unknown("gmy") == ["gmy"]


def test_english_words_come_from_the_lemma_table():
    english = english_words()
    assert {"volunteer", "mortgage", "swimming"} <= english
    assert "blorp" not in english and "zxqv" not in english


@pytest.fixture(scope="module")
def project_vocabulary() -> Vocabulary:
    """The vocabulary the component learns from the project's own NLU data."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(TESTS.parent / "data" / "nlu"))
    trained = {w for example in data.training_examples for w in words(example.get("text") or "")}
    return Vocabulary(trained, english_words())


@pytest.mark.parametrize("eval_set", ["crisis.yml", "dev.yml", "holdout.yml"])
def test_no_evaluation_message_is_taken_for_nonsense(project_vocabulary, eval_set):
    """In particular no crisis message, however it is spelt, is silenced as nonsense before
    DIET could see it (the crisis layer also runs after the gate, for its patterns)."""
    cases = yaml.safe_load((TESTS / "eval" / eval_set).read_text())["cases"]
    gated = [case["text"] for case in cases if project_vocabulary.unknown(case["text"])]
    assert gated == []
