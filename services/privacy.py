"""Pseudonymous display ids: what staff see instead of a conversation id.

An SMS conversation id is already a keyed hash of the phone number, and a web id is
random, but neither should be what staff copy into notes, e-mails or board papers. The
display id is a second keyed hash (HMAC-SHA256 with a dashboard key kept apart from the
SMS key), so it is stable for one conversation and says nothing about the phone number.
"""
from __future__ import annotations

import hashlib
import hmac
import re

DISPLAY_PREFIX = "YP-"
DISPLAY_ID_PATTERN = re.compile(r"^YP-[0-9A-F]{8}$")


def display_id(conversation_id: str, key: bytes) -> str:
    """A short, stable pseudonym such as YP-7F3A2C1B (32 bits: collisions are unlikely at a council's scale)."""
    if not key:
        raise ValueError("a display-id key is needed (PATHFINDER_DASHBOARD_ID_KEY)")
    digest = hmac.new(key, conversation_id.encode("utf8"), hashlib.sha256).hexdigest()
    return DISPLAY_PREFIX + digest[:8].upper()


def looks_like_display_id(text: str) -> bool:
    return bool(DISPLAY_ID_PATTERN.match(text))
