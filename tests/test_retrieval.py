"""Retrieval over the offer, follow-up reading and council claims: plain Python, no bot."""
from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from knowledge.content import NATIONAL, Entitlement, load_offers
from knowledge.followup import claims_council, read_follow_up
from knowledge.retrieval import OfferIndex, query_words


@pytest.fixture(scope="module")
def index() -> OfferIndex:
    return OfferIndex(load_offers().entitlements)


def entry(entry_id: str, council: str = "walsall", topic: str = "money", **fields) -> Entitlement:
    base = dict(
        id=entry_id, council=council, topic=topic, title=entry_id, answer="An answer.", how_to_get="Ask.",
        source_document="test", source_section="", last_checked=dt.date(2026, 1, 1),
    )
    return Entitlement(**{**base, **fields})


@pytest.mark.parametrize(
    "council, text, expected",
    [
        ("walsall", "do i av 2 pay counciltax", "walsall-council-tax-exemption"),
        ("walsall", "money for a sofa and a bed when i move into my own flat", "walsall-setting-up-home-grant"),
        ("walsall", "free swimming?", "walsall-free-leisure-centres"),
        ("cambridgeshire", "can i stay with my foster carers after 18", "cambridgeshire-staying-put"),
    ],
)
def test_young_peoples_words_find_the_right_entry(index, council, text, expected):
    [best, *_] = index.search(text, council)
    assert best.entitlement.id == expected, best.entitlement.id


def test_only_the_users_council_and_the_national_layer_are_searched(index):
    councils = {hit.entitlement.council for hit in index.search("council tax", "nottingham")}
    assert councils <= {"nottingham", NATIONAL}


def test_topic_and_age_filters(index):
    hits = index.search("help with money", "walsall", topics=["money"], age=17)
    assert hits and all(h.entitlement.topic == "money" and h.entitlement.applies_at(17) for h in hits)


def test_a_new_question_changes_the_ranking_without_training():
    plain = [entry("walsall-a", title="Help A"), entry("walsall-b", title="Help B")]
    taught = [plain[0], dataclasses.replace(plain[1], questions=("can i get money for driving lessons",))]
    assert OfferIndex(plain).search("money for driving lessons", "walsall")[0].score < 0.3
    assert OfferIndex(taught).search("money for driving lessons", "walsall")[0].entitlement.id == "walsall-b"


def test_the_councils_entry_wins_over_a_national_one_saying_the_same():
    same = dict(title="Setting up home grant", questions=("money for furniture",))
    hits = OfferIndex([entry("national-x", council=NATIONAL, **same), entry("walsall-x", **same)]).search("money for furniture", "walsall")
    assert hits[0].entitlement.id == "walsall-x" and hits[0].score > hits[1].score


def test_stopwords_and_text_speak_carry_no_weight():
    assert query_words("wat can u do 4 me pls") == "4"
    assert query_words("Council TAX!!") == "tax"


@pytest.mark.parametrize(
    "text, wants, age",
    [
        ("how do i get it", "how", None),
        ("how much is it", "amount", None),
        ("and if im 22?", "again", 22),
        ("wot if im 23 tho", "again", 23),
        ("where is that from", "source", None),
        ("anything else", "more", None),
        ("who do i ask", "how", None),
    ],
)
def test_follow_ups_are_read(text, wants, age):
    asked = read_follow_up(text)
    assert (asked.wants, asked.age) == (wants, age)


@pytest.mark.parametrize(
    "text, council_word, has_council, claimed",
    [
        ("I'm from Walsall", "walsall", True, True),
        ("walsall care leaver here, do i get free gym", "walsall", True, True),
        ("walsall - whats the grant", "walsall", True, True),
        ("i was in care in walsall til 18", "walsall", True, True),
        ("walsall", "walsall", True, True),
        ("what about walsall?", "walsall", True, False),
        ("and in walsall?", "walsall", False, False),
        ("my mate in walsall got 2 grand, do i get that", "walsall", True, False),
        ("is it better than in walsall", "walsall", True, False),
        ("do care leavers get free gym in walsall", "walsall", False, True),
        ("do care leavers get free gym in walsall", "walsall", True, False),
        ("i was in care in birmingham but i live in walsall now", "walsall", True, False),
        ("i live in nottingham, can i get a grant", "nottingham", False, True),
    ],
)
def test_a_claimed_council_is_told_from_a_mention(text, council_word, has_council, claimed):
    start = text.lower().index(council_word)
    assert claims_council(text, start, start + len(council_word), has_council) is claimed


def test_a_national_entry_that_says_what_the_councils_says_comes_after_it(index):
    hits = index.search("my mate got 2 grand for furniture, do i get the same", "walsall")
    ids = [h.entitlement.id for h in hits]
    assert ids[0] == "walsall-setting-up-home-grant"
    assert hits[ids.index("national-setting-up-home")].score < 0.7 * hits[0].score  # not on the first page


def test_without_a_council_twin_the_national_entry_stays(index):
    ids = [h.entitlement.id for h in index.search("money for furniture for my first flat", "nottingham")]
    assert "national-setting-up-home" in ids[:2]


def test_a_question_about_an_age_limit_prefers_the_entries_that_state_one():
    from knowledge.content import load_offers
    from knowledge.retrieval import OfferIndex

    index = OfferIndex(load_offers().entitlements)
    for question in ("up to what age do i get a personal adviser", "how long do i keep my PA"):
        best = index.search(question, "cambridgeshire", ["personal_adviser", "eligibility"])[0].entitlement
        assert best.max_age is not None, (question, best.id)
    assert index.search("what is a PA", "cambridgeshire", ["personal_adviser"])[0].entitlement.max_age is None


def test_coverage_counts_the_question_words_an_entry_has():
    """One shared word is not an answer: "free glasses from the optician" meets the free
    advocate only on "free" (actions.offer.partly_matched then says it is the closest)."""
    from knowledge.retrieval import coverage
    assert coverage("free glasses optician", "free advocate complain") == (1, 1 / 3)
    assert coverage("acommodation rent", "accommodation rent deposit") == (2, 1.0)  # a typo still counts
    assert coverage("", "anything") == (0, 1.0)
