"""Every response and every offer answer follows safe-messaging guidance."""
from __future__ import annotations

import re

import pytest
import yaml

from knowledge.content import load_offers
from tests.conftest import ROOT

AVOID = yaml.safe_load((ROOT / "knowledge" / "safety" / "safe_messaging.yml").read_text())["avoid"]


def bot_texts():
    """(where, text) for every domain response, offer answer and string in the actions."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for name, variants in domain["responses"].items():
        for variant in variants:
            yield f"domain.yml {name}", variant.get("text", "")
    for entry in load_offers().entitlements:
        yield f"offer {entry.id}", " ".join((entry.title, entry.answer, entry.how_to_get))
    for path in (ROOT / "actions").glob("*.py"):
        for literal in re.findall(r'"([^"\n]{12,})"', path.read_text()):
            yield f"{path.name}", literal


@pytest.mark.parametrize("rule", AVOID, ids=lambda r: r["phrase"])
def test_no_unsafe_wording(rule):
    hits = [where for where, text in bot_texts() if rule["phrase"] in text.lower()]
    assert not hits, f"'{rule['phrase']}' ({rule['why']}) in: {hits}"


def test_crisis_reply_names_the_right_services():
    text = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_crisis_help"][0]["text"]
    for needed in ("999", "116 123", "SHOUT", "85258", "Childline", "0800 1111", "NHS 111"):
        assert needed in text, needed
    assert len(text) < 600  # short and calm
