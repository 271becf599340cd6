"""Start the action server on localhost only (rasa_sdk binds 0.0.0.0 unless told).

In production it first refuses to start on what `bot.config.check_production` refuses (demo
placeholder contacts in the offer files, no API token, SQLite): a fresh start publishes the
offer files on its first answer, so the check cannot be left to `bot.content reload` alone.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import zlib
from typing import Any, Optional

import pluggy
from sanic import Sanic, response
from sanic.exceptions import SanicException
from sanic.request import Request
from sanic.response import HTTPResponse

logger = logging.getLogger(__name__)
hookimpl = pluggy.HookimplMarker("rasa_sdk")
NOT_AN_ACTION_CALL = "send the action call Rasa sends: JSON with 'next_action' (text) and 'tracker' (an object)"


def production_refusals() -> list:
    """Why this start must be refused (empty outside production, or when all is in order)."""
    from bot.config import check_production, load_settings
    from knowledge.content import load_offers

    settings = load_settings()
    if not settings.production:
        return []
    return check_production(settings, load_offers().placeholder_contacts())


def action_call_problem(request: Request) -> Optional[str]:
    """Why a POST to /webhook is not an action call (None when it is one).

    rasa_sdk answered 500 to a body that was JSON but not an action call (a list, a string)
    and 200 `null` to `{}`; only Rasa calls this server, so anything else is a client error."""
    try:
        raw = zlib.decompress(request.body) if request.headers.get("Content-Encoding") == "deflate" else request.body
        call: Any = json.loads(raw or b"null")
    except (zlib.error, ValueError):
        return "the body is not JSON"
    if not isinstance(call, dict) or not isinstance(call.get("next_action"), str) or not isinstance(call.get("tracker"), dict):
        return NOT_AN_ACTION_CALL
    return None


def harden(app: Sanic) -> None:
    """Stray requests get a clean 4xx from the action server, never a 500, and no 500 repeats
    the request: rasa_sdk's catch-all turned an unknown route, a wrong method or a bad body
    into a 500 whose body echoed the request (a whole tracker: a young person's messages)."""

    @app.middleware("request")
    async def refuse_what_is_not_an_action_call(request: Request) -> Optional[HTTPResponse]:
        if request.path == "/webhook" and request.method == "POST":
            problem = action_call_problem(request)
            if problem:
                return response.json({"error": problem}, status=400)
        return None

    @app.exception(SanicException)
    async def client_error(request: Request, error: SanicException) -> HTTPResponse:
        status = getattr(error, "status_code", 500) or 500
        return response.json({"error": str(error) if status < 500 else "server error"}, status=status)

    @app.exception(Exception)
    async def server_error(request: Request, error: Exception) -> HTTPResponse:
        logger.error("action server: %s on %s %s", type(error).__name__, request.method, request.path, exc_info=error)
        return response.json({"error": "server error"}, status=500)


@hookimpl
def attach_sanic_app_extensions(app: Sanic) -> None:
    """rasa_sdk's hook for extending its app, called by `rasa_sdk.endpoint.run` before serving."""
    harden(app)


def main() -> None:
    refusals = production_refusals()
    if refusals:
        print("Refusing to start in production:\n  " + "\n  ".join(refusals), file=sys.stderr)
        raise SystemExit(1)
    os.environ.setdefault("SANIC_HOST", os.environ.get("PATHFINDER_ACTION_HOST", "127.0.0.1"))
    from rasa_sdk.endpoint import run
    from rasa_sdk.plugin import plugin_manager

    plugin_manager().register(sys.modules[__name__])
    port = int(os.environ.get("PATHFINDER_ACTION_PORT", "5055"))
    run("actions", port=port, cors_origins=None)


if __name__ == "__main__":
    main()
