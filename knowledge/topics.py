"""The topic contract (offer-topics.yml): ids every turn, evaluation case and report uses."""
from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Dict

import yaml

TOPICS_FILE = Path(__file__).with_name("offer-topics.yml")


@lru_cache(maxsize=1)
def _contract() -> dict:
    with TOPICS_FILE.open(encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def offer_sections() -> Dict[str, dict]:
    """Offer sections (money, housing, ...): the topics an entitlement can belong to."""
    return dict(_contract()["offer_sections"])


def conversation_topics() -> Dict[str, dict]:
    """Topics about the conversation itself (crisis, handoff_pa, smalltalk, ...)."""
    return dict(_contract()["conversation"])


def all_topic_ids() -> list[str]:
    """Every id the `topic` slot may take, offer sections first."""
    return list(offer_sections()) + list(conversation_topics())


def topic_title(topic_id: str) -> str:
    """The human title of a topic, for reports and buttons."""
    merged = {**offer_sections(), **conversation_topics()}
    return merged[topic_id]["title"]
