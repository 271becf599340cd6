"""Replies fit a phone screen: the first message of every answer card and every response.

300 characters is about what a 375 px phone shows without scrolling. (The crisis reply for a
kind of danger, composed from knowledge/safety/kinds.yml, is longer on purpose: its numbers
come whole; tests/test_crisis_reply.py checks it fits the SMS limits.)
"""
from __future__ import annotations

import statistics
from unittest import mock

import pytest
import yaml

import actions.offer as offer
from knowledge.content import load_offers
from tests.conftest import ROOT

PHONE_SCREEN = offer.PHONE_SCREEN
CONTENT = load_offers()


class _Councils:
    """Just enough of the knowledge base for the card's source words."""

    def council(self, council_id):
        return CONTENT.councils.get(council_id)


@pytest.fixture(autouse=True)
def councils():
    with mock.patch.object(offer, "knowledge_base", lambda: _Councils()):
        yield


@pytest.mark.parametrize("entry", CONTENT.entitlements, ids=lambda e: e.id)
def test_the_first_message_of_every_answer_card_fits_a_phone_screen(entry):
    card = offer.phone_card(entry)
    assert len(card) <= PHONE_SCREEN, f"{entry.id}: {len(card)} characters:\n{card}"
    assert entry.title in card and entry.answer in card


@pytest.mark.parametrize("entry", CONTENT.entitlements, ids=lambda e: e.id)
def test_how_to_get_it_is_in_the_card_or_one_tap_away_and_the_source_one_tap_away(entry):
    card, taps = offer.phone_card(entry), [title for title, _ in offer.card_buttons(offer.phone_card(entry))]
    assert (f"How to get it: {entry.how_to_get}" in card) != ("How do I get it?" in taps)
    assert "Where is this from?" in taps and "Checked" not in card


def response_texts():
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for name, variants in domain["responses"].items():
        for variant in variants:
            if variant.get("text"):
                yield name, variant["text"]


@pytest.mark.parametrize("name, text", list(response_texts()))
def test_every_response_fits_a_phone_screen(name, text):
    assert len(text) <= PHONE_SCREEN, f"{name}: {len(text)} characters"


def test_card_lengths_for_the_readme():
    """The README quotes these; if they move, update it (README: 'Replies for a phone')."""
    lengths = [len(offer.phone_card(e)) for e in CONTENT.entitlements]
    print(f"answer cards: median {statistics.median(lengths)}, longest {max(lengths)} characters")
    assert max(lengths) <= PHONE_SCREEN
