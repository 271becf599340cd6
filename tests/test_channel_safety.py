"""Input safety shared by every channel (unit level; the live tests are in test_conversation)."""
from __future__ import annotations

import pytest

from bot.channels.safety import MAX_TEXT, clean_metadata, clean_text, neutralise
from bot.cors import checked_origins


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("/crisis", "crisis"),
        ('/handoff_pa{"council":"walsall"}', 'handoff_pa{"council":"walsall"}'),
        ("  //restart", "restart"),
        ("\\/greet", "greet"),
        ("cn i get help wiv rent", "cn i get help wiv rent"),
        ("rent is £500/month", "rent is £500/month"),
        (None, ""),
    ],
)
def test_leading_slashes_are_neutralised(raw, expected):
    assert neutralise(raw) == expected


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("I want to kill myself\ud83d", "I want to kill myself"),  # a lone surrogate (JSON "\ud83d")
        ("\udc00kill myself", "kill myself"),
        ("ok \ud83d\ude00", "ok \U0001f600"),  # a pair left as two code points becomes the emoji
        ("ok \U0001f600", "ok \U0001f600"),
        ("I want to\x00 die", "I want to die"),
        ("red \x1b[31mtext\x7f", "red [31mtext"),
        ("line one\r\nline two\rthree\tfour", "line one\nline two\nthree\tfour"),
        ("café naïve 💷", "café naïve 💷"),
        (None, ""),
    ],
)
def test_characters_that_break_nlu_or_the_database_are_removed(raw, expected):
    assert clean_text(raw) == expected


def test_neutralise_cleans_characters_too():
    assert neutralise("/crisis\x00\ud83d") == "crisis"


def test_long_text_is_bounded():
    assert len(neutralise("a" * 10_000)) == MAX_TEXT


@pytest.mark.parametrize(
    "raw, expected",
    [
        ({"council": "walsall"}, {"council": "walsall"}),
        ({"council": " Walsall "}, {"council": "walsall"}),
        ({"council": "<script>"}, {"council": "(invalid)"}),
        ({"council": "walsall", "is_admin": True}, {"council": "walsall"}),
        ({"council": "walsall", "notice_seen": True}, {"council": "walsall", "notice_seen": True}),
        ({"notice_seen": "yes"}, {}),  # only a real true counts
        ({"notice_seen": True}, {"notice_seen": True}),
        ({}, {}),
        ("not a dict", {}),
        (None, {}),
    ],
)
def test_metadata_is_reduced_to_known_keys(raw, expected):
    assert clean_metadata(raw) == expected


def test_cors_accepts_exact_origins():
    assert checked_origins(["https://www.walsall.gov.uk", "http://localhost:8080"]) == [
        "https://www.walsall.gov.uk",
        "http://localhost:8080",
    ]


@pytest.mark.parametrize("origin", ["*", r"https://.*\.example\.com", "https://x.example.com/path", "example.com"])
def test_cors_refuses_patterns_and_partial_origins(origin):
    with pytest.raises(ValueError, match="exact origins"):
        checked_origins([origin])
