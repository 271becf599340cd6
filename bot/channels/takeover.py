"""Live takeover by staff, as the channels see it.

Staff pause the bot for one conversation (Rasa's ConversationPaused event, through
`python -m bot.takeover`); while paused the bot stays silent and the channels do not treat
that silence as a failure; staff replies are BotUttered events marked `staff`, which the web
widget fetches from GET /webhooks/rest/updates and which are texted to SMS users.
"""
from __future__ import annotations

from typing import Any, Dict, Optional

from sanic.request import Request

WORKER_HAS_IT = "A worker is reading your messages and will reply here."


def agent_of(request: Request):
    """The Rasa agent the server keeps on the app (None before the model is loaded)."""
    return getattr(request.app.ctx, "agent", None)


async def _tracker(agent, sender: str):
    if agent is None or agent.tracker_store is None:
        return None
    return await agent.tracker_store.retrieve(sender)


async def agent_is_paused(agent, sender: str) -> bool:
    tracker = await _tracker(agent, sender)
    return bool(tracker and tracker.is_paused())


async def is_paused(request: Request, sender: str) -> bool:
    return await agent_is_paused(agent_of(request), sender)


async def staff_update(request: Request, sender: str, since: float = 0.0) -> Dict[str, Any]:
    """What the widget polls for, from one tracker read: whether a worker has the conversation,
    and their replies after `since` (a UNIX timestamp), oldest first."""
    tracker = await _tracker(agent_of(request), sender)
    if tracker is None:
        return {"paused": False, "messages": []}
    messages = [
        {"text": event.text, "timestamp": event.timestamp, "from": "worker"}
        for event in tracker.events
        if getattr(event, "type_name", "") == "bot" and (event.metadata or {}).get("staff") and event.timestamp > since
    ]
    return {"paused": bool(tracker.is_paused()), "messages": messages}


def parse_since(value: Optional[str]) -> float:
    try:
        return max(0.0, float(value or 0))
    except ValueError:
        return 0.0
