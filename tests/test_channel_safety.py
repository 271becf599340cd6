"""Input safety shared by every channel (unit level; the live tests are in test_conversation)."""
from __future__ import annotations

import pytest

from bot.channels.safety import MAX_TEXT, clean_metadata, neutralise
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
