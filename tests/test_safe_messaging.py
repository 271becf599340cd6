"""Every response and every offer answer follows safe-messaging guidance."""
from __future__ import annotations

import re

import pytest
import yaml

from knowledge.content import load_offers
from knowledge.safety.kinds import KIND_IDS, default_kinds
from knowledge.safety.reply import CouncilContacts, compose
from tests.conftest import ROOT

AVOID = yaml.safe_load((ROOT / "knowledge" / "safety" / "safe_messaging.yml").read_text())["avoid"]


def bot_texts():
    """(where, text) for every domain response, offer answer, string in the actions, and
    crisis reply of every kind (knowledge/safety/kinds.yml, composed by knowledge/safety/reply.py)."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for name, variants in domain["responses"].items():
        for variant in variants:
            yield f"domain.yml {name}", variant.get("text", "")
    for entry in load_offers().entitlements:
        yield f"offer {entry.id}", " ".join((entry.title, entry.answer, entry.how_to_get))
    for path in (ROOT / "actions").glob("*.py"):
        for literal in re.findall(r'"([^"\n]{12,})"', path.read_text()):
            yield f"{path.name}", literal
    # the per-kind crisis replies: every line in kinds.yml, and each reply as composed
    for where, text in default_kinds().texts():
        yield f"kinds.yml {where}", text
    for kind in KIND_IDS:
        for channel in ("rest", "sms"):
            for message in compose(kind, CouncilContacts(), channel).messages:
                yield f"crisis reply {kind} ({channel})", message.text
                for button in message.buttons:
                    yield f"crisis reply {kind} ({channel}) button", button.title


@pytest.mark.parametrize("rule", AVOID, ids=lambda r: r["phrase"])
def test_no_unsafe_wording(rule):
    hits = [where for where, text in bot_texts() if rule["phrase"] in text.lower()]
    assert not hits, f"'{rule['phrase']}' ({rule['why']}) in: {hits}"


def test_crisis_reply_names_the_right_services():
    text = yaml.safe_load((ROOT / "domain.yml").read_text())["responses"]["utter_crisis_help"][0]["text"]
    for needed in ("999", "116 123", "SHOUT", "85258", "Childline", "0800 1111", "NHS 111"):
        assert needed in text, needed
    assert len(text) < 600  # short and calm


def test_every_kind_of_crisis_reply_is_scanned():
    scanned = {where.split(" (")[0] for where, _ in bot_texts() if where.startswith("crisis reply")}
    assert scanned == {f"crisis reply {kind}" for kind in KIND_IDS}
