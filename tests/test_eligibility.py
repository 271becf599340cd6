"""The eligibility rules, table-driven against the statutory definitions."""
from __future__ import annotations

import pytest

from knowledge.eligibility import NO, UNSURE, YES, care_leaver_status, needs_still_in_care_question

CASES = [
    # age, in care after 16, 13 weeks since 14, still in care -> status
    (17, YES, YES, YES, "eligible"),
    (16, YES, YES, YES, "eligible"),
    (17, YES, YES, NO, "relevant"),
    (16, YES, YES, NO, "relevant"),
    (18, YES, YES, None, "former_relevant"),
    (21, YES, YES, None, "former_relevant"),
    (25, YES, YES, None, "former_relevant"),
    (19, YES, NO, None, "qualifying"),
    (16, YES, NO, YES, "qualifying"),
    (24, YES, NO, None, "qualifying"),
    (20, NO, YES, None, "not_a_care_leaver"),
    (17, NO, NO, NO, "not_a_care_leaver"),
    (15, YES, YES, YES, "too_young"),
    (26, YES, YES, None, "too_old"),
    (None, YES, YES, None, "not_sure"),
    (19, UNSURE, YES, None, "not_sure"),
    (19, YES, UNSURE, None, "not_sure"),
    (19, None, None, None, "not_sure"),
    (17, YES, YES, UNSURE, "not_sure"),
]


@pytest.mark.parametrize("age, after_16, weeks, still, expected", CASES)
def test_status(age, after_16, weeks, still, expected):
    assert care_leaver_status(age, after_16, weeks, still).id == expected


@pytest.mark.parametrize("age, asked", [(15, False), (16, True), (17, True), (18, False), (None, False)])
def test_still_in_care_is_asked_only_at_16_and_17(age, asked):
    assert needs_still_in_care_question(age) is asked


def test_every_status_says_what_follows_in_plain_words():
    for status in {care_leaver_status(*case[:4]) for case in CASES}:
        assert status.what_follows and status.explanation
        assert "s23" not in status.explanation + status.what_follows
