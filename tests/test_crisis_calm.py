"""Danger that is over, a course, or a joke: a concern (answered, numbers first), not an alert."""
from __future__ import annotations

import pytest

from knowledge.safety.calm import default_calm, load_calm
from knowledge.safety.detect import default_detector


@pytest.mark.parametrize("text", [
    "i took an overdose when i was 16 but im doing loads better now, can my PA help me get into college",
    "my foster dad used to hit me growing up, can i see my care records",
    "i was groomed years ago and it went to court, im safe now. is there a care leavers forum",
    "doing my dissertation on county lines, does the council have any stats on care leavers",
])
def test_the_past_or_a_course_is_a_concern_not_an_alert(text):
    found = default_detector().assess(text)
    assert found is not None and not found.is_alert, found


@pytest.mark.parametrize("text", [
    "i used to self harm and i started again last night",
    "he used to hit me and he still does when hes drunk",
    "my uncle did stuff to me when i was little and i never told anyone",
    "when i was 15 i ran away and now ive done it again, im at the bus station",
    "i'm being used to carry stuff to other towns for some lads",
])
def test_anything_happening_now_keeps_the_alert(text):
    found = default_detector().assess(text)
    assert found is not None and found.is_alert, found


def test_a_joke_calms_everyday_threat_words_only():
    calm = default_calm()
    assert calm.is_calm("gonna kill my sister lol she finished the milk", "immediate_danger")
    assert not calm.is_calm("an older man says i can live with him and earn loads lol", "sexual_exploitation")
    assert calm.is_calm("my mum will actually murder me \U0001F602", "domestic_abuse")


def test_a_broken_calm_file_names_the_file_and_the_list(tmp_path):
    bad = tmp_path / "calm.yml"
    bad.write_text("version: 1\npast: ['(unclosed']\nnot_now: []\nstill: []\njest: []\njest_emoji: []\njest_kinds: []\n")
    with pytest.raises(ValueError, match=r"calm.yml: past item 1"):
        load_calm(bad)
