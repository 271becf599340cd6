"""The project's own spaCy pipeline: built from code and data, correct on our words."""
from __future__ import annotations

import json

import pytest
import spacy

from bot.nlu import spacy_pipeline
from bot.nlu.spacy_pipeline import STAMP, ensure_built, lemma_exceptions


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    target = tmp_path_factory.mktemp("spacy") / "en_pathfinder"
    ensure_built(target, force=True)
    return target


@pytest.fixture(scope="module")
def nlp(built):
    return spacy.load(built)  # from disk, exactly as Rasa's SpacyNLP loads it


def test_pipeline_has_our_components(nlp):
    assert nlp.pipe_names == ["lemmatizer", "entity_ruler"]
    assert nlp.meta["name"] == "pathfinder"


@pytest.mark.parametrize("word, lemma", sorted(lemma_exceptions().items()))
def test_lemma_exceptions_are_applied(nlp, word, lemma):
    assert nlp(word)[0].lemma_ == lemma


@pytest.mark.parametrize(
    "text, lemmas",
    [
        ("cn i get help wiv rent", {"rent": "rent"}),
        ("is he dying", {"dying": "die"}),
        ("grants for universities", {"grants": "grant", "universities": "university"}),
    ],
)
def test_domain_sentences_lemmatise_correctly(nlp, text, lemmas):
    found = {token.text: token.lemma_ for token in nlp(text)}
    for word, lemma in lemmas.items():
        assert found[word] == lemma


@pytest.mark.parametrize(
    "text, council_id",
    [
        ("I was in care in Walsall", "walsall"),
        ("it was cambs", "cambridgeshire"),
        ("looked after by Nottingham City", "nottingham"),
        ("i live in bloxwich now", "walsall"),
    ],
)
def test_entity_ruler_finds_councils_with_their_id(nlp, text, council_id):
    entities = [(ent.label_, ent.ent_id_) for ent in nlp(text).ents]
    assert ("council", council_id) in entities


def test_no_council_entity_in_unrelated_text(nlp):
    assert not nlp("how much is the setting up home grant").ents


def test_build_is_skipped_when_inputs_are_unchanged(built, monkeypatch):
    calls = []
    monkeypatch.setattr(spacy_pipeline, "build_pipeline", lambda: calls.append(1))
    ensure_built(built)
    assert calls == []
    stamp = json.loads((built / STAMP).read_text())
    assert stamp["fingerprint"] == spacy_pipeline.fingerprint()
