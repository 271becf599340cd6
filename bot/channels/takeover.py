"""Live takeover by staff, as the channels see it.

Staff pause the bot for one conversation (Rasa's ConversationPaused event, through
`python -m bot.takeover`); while paused the bot stays silent and the channels do not treat
that silence as a failure; staff replies are BotUttered events marked `staff`, which the web
widget fetches from GET /webhooks/rest/updates and which are texted to SMS users.
"""
from __future__ import annotations

from typing import List, Optional

from sanic.request import Request

WORKER_HAS_IT = "A worker is reading your messages and will reply here."


async def _tracker(request: Request, sender: str):
    agent = getattr(request.app.ctx, "agent", None)
    if agent is None or agent.tracker_store is None:
        return None
    return await agent.tracker_store.retrieve(sender)


async def is_paused(request: Request, sender: str) -> bool:
    tracker = await _tracker(request, sender)
    return bool(tracker and tracker.is_paused())


async def staff_messages(request: Request, sender: str, since: float = 0.0) -> List[dict]:
    """Staff replies in this conversation after `since` (a UNIX timestamp), oldest first."""
    tracker = await _tracker(request, sender)
    if tracker is None:
        return []
    return [
        {"text": event.text, "timestamp": event.timestamp, "from": "worker"}
        for event in tracker.events
        if getattr(event, "type_name", "") == "bot" and (event.metadata or {}).get("staff") and event.timestamp > since
    ]


def parse_since(value: Optional[str]) -> float:
    try:
        return max(0.0, float(value or 0))
    except ValueError:
        return 0.0
