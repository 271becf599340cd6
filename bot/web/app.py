"""The public site: widget files, demo pages per council, council facts, and the chat proxy.

Every response carries a strict Content-Security-Policy (scripts and styles only from this
site, no inline script, no plugins, framing only by the council sites we know) and
`X-Content-Type-Options: nosniff`. The proxy checks what it forwards, so the Rasa server
sees only well-formed turns, and it answers with a phone number when the bot cannot.
"""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any, Dict, List, Optional

import aiohttp
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.safety import (
    COUNCIL_ID, NOT_A_TURN, SENDER_ID, clean_metadata, clean_text, crisis_signal, failed_turn_messages, turn_sender,
)
from bot.config import Settings, load_settings, secret_key
from bot.cors import checked_origins
from bot.rate_limit import RateLimiter
from bot.web.conversation_ids import TOKEN_HEADER, ConversationIds
from knowledge.content import Council
from knowledge.db import make_engine
from knowledge.hours import describe_hours
from knowledge.safety.reply import CouncilContacts, failure_help
from knowledge.store import KnowledgeBase
from knowledge.topics import offer_sections

logger = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
STATIC = HERE / "static"
MAX_BODY = 16 * 1024  # a chat turn is at most 2,000 characters; anything bigger is not one
_STATIC_TYPES = {".js": "text/javascript; charset=utf-8", ".css": "text/css; charset=utf-8"}


def security_headers(origins: List[str]) -> Dict[str, str]:
    """Headers on every response: the CSP forbids inline script and foreign assets outright."""
    ancestors = " ".join(["'self'"] + origins)
    policy = "; ".join(
        [
            "default-src 'none'",
            "script-src 'self'",
            "style-src 'self'",
            "img-src 'self'",
            "connect-src 'self'",
            "font-src 'self'",
            "form-action 'self'",
            "base-uri 'none'",
            "object-src 'none'",
            f"frame-ancestors {ancestors}",
        ]
    )
    return {
        "Content-Security-Policy": policy,
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
        "Cross-Origin-Opener-Policy": "same-origin",
    }


def council_facts(council: Council, retention_days: int) -> Dict[str, Any]:
    """What the widget shows without asking the bot: names, the team's number, privacy facts."""
    team = council.contacts.get("leaving_care_team")
    emergency = council.contacts.get("emergency_duty_team")
    return {
        "id": council.id,
        "name": council.name,
        "offer_name": council.offer_name,
        "team": _contact_facts(team),
        "out_of_hours": _contact_facts(emergency),
        # what the widget says when it cannot reach this site: the same words as the bot's
        # failure reply, for any time of day (the widget shows them later, maybe at night)
        "unreachable_help": failure_help(CouncilContacts(emergency, team), at_any_time=True),
        "retention_days": retention_days,
    }


def _contact_facts(contact) -> Optional[Dict[str, str]]:
    if contact is None or not contact.phone:
        return None
    return {"name": contact.name, "phone": contact.phone, "hours": describe_hours(contact.hours)}


def static_assets() -> Dict[str, tuple]:
    """The widget's files, read once at start-up: name -> (bytes, content type). Only these
    names are ever served, so no request path can reach another file."""
    return {
        path.name: (path.read_bytes(), _STATIC_TYPES[path.suffix])
        for path in STATIC.iterdir()
        if path.suffix in _STATIC_TYPES and path.is_file()
    }


NO_TOKEN = (f"this conversation needs its token: POST /webhooks/rest/session for an id and a token, "
            f"then send the token in the {TOKEN_HEADER} header")
WRONG_TOKEN = "this token is not the one this site issued for that conversation id: start a new conversation"
TOO_FAST = ("You're sending messages very fast. Please wait a minute, then try again. "
            "If you're in danger, call 999. Samaritans are free any time on 116 123.")


def id_refusal(ids: ConversationIds, request: Request, sender: str) -> Optional[HTTPResponse]:
    """None when the request carries the token this site issued for `sender`, else the 4xx to
    send: 401 without a token, 403 with one that is not that id's (a guessed, made-up or
    someone else's id). Checked before anything else counts the turn, so a stranger cannot
    use up a young person's message allowance either."""
    token = request.headers.get(TOKEN_HEADER, "").strip()
    if not token:
        return response.json({"error": NO_TOKEN}, status=401)
    if not ids.verify(sender, token):
        return response.json({"error": WRONG_TOKEN}, status=403)
    return None


def create_app(settings: Optional[Settings] = None, name: str = "pathfinder_site",
               ids: Optional[ConversationIds] = None) -> Sanic:
    """The site as a Sanic app (tests start it as a process through `python -m bot.web`)."""
    settings = settings or load_settings()
    ids = ids or ConversationIds(secret_key("PATHFINDER_SITE_KEY", "site_key"))
    rasa_url = settings.rasa_url.rstrip("/")
    council_origins = checked_origins(settings.cors_origins)
    knowledge = KnowledgeBase(make_engine(settings.database_url))
    templates = Environment(loader=FileSystemLoader(str(HERE / "templates")), autoescape=select_autoescape(["html"]))
    app = Sanic(name)
    app.config.REQUEST_MAX_SIZE = MAX_BODY
    headers = security_headers(council_origins)
    per_conversation = RateLimiter(settings.messages_per_minute)
    per_address = RateLimiter(settings.messages_per_minute_per_address)
    new_conversations = RateLimiter(settings.messages_per_minute_per_address)

    def within_limits(turn: Dict[str, Any], address: str) -> bool:
        """Both counts are kept, so one conversation can't use up its address's allowance unseen."""
        conversation_ok = per_conversation.allow(turn["sender"])
        return per_address.allow(address or "unknown") and conversation_ok

    @app.listener("before_server_start")
    async def open_client(app_: Sanic, _loop) -> None:
        app_.ctx.http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))

    @app.listener("after_server_stop")
    async def close_client(app_: Sanic, _loop) -> None:
        await app_.ctx.http.close()

    @app.middleware("response")
    async def add_headers(request: Request, reply: HTTPResponse) -> None:
        reply.headers.update(headers)
        origin = request.headers.get("origin", "").lower()
        if request.path.startswith("/webhooks/") and origin in council_origins:
            reply.headers.update(
                {"Access-Control-Allow-Origin": origin, "Vary": "Origin",
                 "Access-Control-Allow-Methods": "GET, POST", "Access-Control-Allow-Headers": f"Content-Type, {TOKEN_HEADER}"}
            )

    def page(template: str, status: int = 200, **values: Any) -> HTTPResponse:
        return response.html(templates.get_template(template).render(**values), status=status)

    @app.get("/")
    async def index(_: Request) -> HTTPResponse:
        return page("index.html", councils=knowledge.local_councils())

    @app.get("/demo/<council_id>")
    async def demo(_: Request, council_id: str) -> HTTPResponse:
        councils = knowledge.local_councils()
        council = next((c for c in councils if c.id == council_id), None)
        if council is None:
            return page("not_found.html", status=404, councils=councils)
        facts = council_facts(council, settings.retention_days)
        return page("demo.html", council=council, facts=facts, sections=offer_sections())

    @app.get("/widget/councils/<filename>")
    async def council_json(_: Request, filename: str) -> HTTPResponse:
        council_id = filename[: -len(".json")] if filename.endswith(".json") else ""
        council = knowledge.council(council_id) if COUNCIL_ID.match(council_id) else None
        if council is None:
            return response.json({"error": f"no council with id '{council_id[:40]}'"}, status=404)
        return response.json(council_facts(council, settings.retention_days))

    assets = static_assets()

    @app.get("/widget/<filename>")
    async def widget_file(_: Request, filename: str) -> HTTPResponse:
        if filename not in assets:
            return response.text("Not found", status=404)
        body, kind = assets[filename]
        return response.raw(body, content_type=kind, headers={"Cache-Control": "no-cache"})

    @app.route("/webhooks/rest/session", methods=["POST", "OPTIONS"])
    async def new_session(request: Request) -> HTTPResponse:
        """A new conversation: its id and the token that goes with every turn and poll."""
        if request.method == "OPTIONS":
            return response.empty()
        if not new_conversations.allow(request.ip or "unknown"):
            return response.json({"error": "too many new conversations from this address; wait a minute"},
                                 status=429, headers={"Retry-After": "60"})
        return response.json(ids.issue().as_dict(), headers={"Cache-Control": "no-store"})

    @app.route("/webhooks/rest/webhook", methods=["POST", "OPTIONS"])
    async def chat(request: Request) -> HTTPResponse:
        if request.method == "OPTIONS":
            return response.empty()
        if (request.content_type or "").split(";")[0].strip().lower() != "application/json":
            # a page elsewhere can post text/plain from a visitor's browser without a preflight
            return response.json({"error": "send the turn as Content-Type: application/json"}, status=415)
        turn = _checked_turn(request)
        if turn is None:
            return response.json({"error": NOT_A_TURN}, status=400)
        refused = id_refusal(ids, request, turn["sender"])
        if refused is not None:
            return refused
        if not within_limits(turn, request.ip) and crisis_signal(turn["message"]) is None:
            return response.json([{"recipient_id": turn["sender"], "text": TOO_FAST}], status=429,
                                 headers={"Retry-After": "60"})
        try:
            async with request.app.ctx.http.post(f"{rasa_url}/webhooks/rest/webhook", json=turn) as reply:
                if reply.status == 200:
                    return response.json(await reply.json())
                logger.error("the bot answered %s", reply.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
            logger.exception("could not reach the bot at %s", rasa_url)
        return response.json(_failure_turn(turn), headers={"X-Pathfinder-Fallback": "1"})

    @app.route("/webhooks/rest/updates", methods=["GET", "OPTIONS"])
    async def updates(request: Request) -> HTTPResponse:
        if request.method == "OPTIONS":
            return response.empty()
        sender = request.args.get("sender", "")
        if not SENDER_ID.match(sender):
            return response.json({"error": "give ?sender=<conversation id>"}, status=400)
        refused = id_refusal(ids, request, sender)
        if refused is not None:
            return refused
        query = {"sender": sender, "since": request.args.get("since", "0")}
        try:
            async with request.app.ctx.http.get(f"{rasa_url}/webhooks/rest/updates", params=query) as reply:
                return response.json(await reply.json(), status=reply.status)
        except (aiohttp.ClientError, asyncio.TimeoutError, json.JSONDecodeError):
            return response.json({"paused": False, "messages": []}, status=503)

    return app


def _checked_turn(request: Request) -> Optional[Dict[str, Any]]:
    """The turn to forward, rebuilt from known fields only; None when the body is not a turn."""
    try:
        body = request.json
    except Exception:  # noqa: BLE001 - Sanic raises its own error type for bad JSON
        return None
    sender = turn_sender(body)
    if sender is None:
        return None
    return {"sender": sender, "message": clean_text(body["message"]), "metadata": clean_metadata(body.get("metadata"))}


def _failure_turn(turn: Dict[str, Any]) -> List[Dict[str, Any]]:
    """The REST channel's failure replies (crisis numbers first when needed), in its format;
    a message that signals danger is spooled as an urgent referral (the bot may not have seen it)."""
    replies = failed_turn_messages(turn["sender"], turn["message"], turn["metadata"].get("council"), "rest")
    return [{"recipient_id": turn["sender"], **reply} for reply in replies]
