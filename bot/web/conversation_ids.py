"""Conversation ids the public site issues, and the token that proves a browser was given one.

Why: the conversation id used to be the only credential, and the site took any id the
browser made up. Anyone who knew or guessed an id (`12345`, `True`, one letter) could post
into that conversation or read a worker's reply to that young person from
/webhooks/rest/updates.

Now the site mints the id (`web-` + 128 random bits) and, with it, a token: an HMAC of the id
under the site's key (PATHFINDER_SITE_KEY, else a random key kept in var/site_key). The widget
keeps both in sessionStorage (this tab only) and sends the token in the `X-Pathfinder-Token`
header with every turn and every poll for staff replies; the site checks it before anything
reaches the bot. Nothing is stored on the server, so any site replica can check any token.

Why a header and not a cookie: the widget runs on council sites, so a cookie from this site
would be a third-party cookie, which browsers increasingly drop. The token never goes to
the Rasa server, its tracker store or a referral: staff who see the id cannot post as the
young person.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from typing import Optional

TOKEN_HEADER = "X-Pathfinder-Token"
ISSUED_ID = re.compile(r"^web-[0-9a-f]{32}$")
_PURPOSE = b"pathfinder web conversation\x00"  # the key signs nothing else under this prefix


@dataclass(frozen=True)
class IssuedConversation:
    sender: str
    token: str

    def as_dict(self) -> dict:
        return {"sender": self.sender, "token": self.token}


class ConversationIds:
    """Mints conversation ids with their tokens, and checks a (sender, token) pair."""

    def __init__(self, key: bytes):
        if len(key) < 16:
            raise ValueError("the site's conversation key must be at least 16 bytes")
        self._key = key

    def token_for(self, sender: str) -> str:
        digest = hmac.new(self._key, _PURPOSE + sender.encode("utf8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).decode("ascii").rstrip("=")

    def issue(self) -> IssuedConversation:
        sender = "web-" + secrets.token_hex(16)
        return IssuedConversation(sender, self.token_for(sender))

    def verify(self, sender: str, token: Optional[str]) -> bool:
        """True only for an id this site issued, with its own token (compared in constant time)."""
        if not token or not ISSUED_ID.match(sender or ""):
            return False
        return hmac.compare_digest(self.token_for(sender), token)
