"""SMS channel for Twilio's messaging webhooks (POST /webhooks/sms/webhook).

Rasa 3.6's own twilio channel checks no signature, does not de-duplicate retries, answers
only after the whole turn and drops blank form fields. This one:
- checks X-Twilio-Signature (official library) against the public URL (configurable base
  URL, for a proxy in front) and answers 403 to anything unsigned or tampered;
- reads the form body itself so blank fields (a picture-only MMS has Body="") are kept;
- acknowledges at once with empty TwiML and sends the reply through the API afterwards,
  in order per texter;
- processes each MessageSid once, across processes (unique key in the shared database);
- knows the council from the number that was texted (`To`);
- handles STOP / START / HELP, turns buttons into numbered options, keeps replies in GSM-7
  (UCS-2, unchanged, for a reply in another script) and within 3 segments (the crisis reply excepted);
- STOP stops follow-ups, never safety help: a texter who opted out and then sends a message
  that signals danger still gets the crisis reply and an urgent referral;
- never stores the phone number with the conversation: the conversation id is a keyed hash.

`mode: outbox` (the default) records replies in the sms_outbound table instead of sending
them, so no provider account is needed to try it.
"""
from __future__ import annotations

import asyncio
import logging
import os
import re
from typing import Any, Awaitable, Callable, Dict, Optional, Text, Tuple
from urllib.parse import parse_qsl

from rasa.core.channels.channel import InputChannel, UserMessage
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from twilio.request_validator import RequestValidator

from bot.channels.collector import ChannelCollector
from bot.channels.safety import clean_text, crisis_signal, failed_turn_messages, neutralise
from bot.channels.takeover import agent_is_paused, agent_of
from bot.config import load_settings
from bot.rate_limit import RateLimiter
from bot.sms_text import MAX_SEGMENTS, fit, for_sms, render, to_gsm7
from knowledge.db import make_engine
from knowledge.safety.reply import CRISIS
from knowledge.store import KnowledgeBase
from services import sms as store
from services.models import create_all

logger = logging.getLogger(__name__)
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response></Response>'
STOP_WORDS = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit"}
START_WORDS = {"start", "unstop", "yes"}
HELP_WORDS = {"help", "info"}
TOO_FAST = "You're sending texts very fast, so I've skipped some. Wait a minute, then text again. In danger now? Call 999."


def texted_number(params: Dict[str, str]) -> str:
    """The number the young person texted (which says the council), without spaces."""
    return re.sub(r"\s", "", params.get("To", ""))


class SmsCollector(ChannelCollector):
    """A text's replies: `channel: sms` variants (e.g. "Text me on this number")."""

    channel = "sms"


class SmsInput(InputChannel):
    """Twilio-compatible SMS input; replies through Twilio's API or the outbox table."""

    @classmethod
    def name(cls) -> Text:
        return "sms"

    @classmethod
    def from_credentials(cls, credentials: Optional[Dict[Text, Any]]) -> InputChannel:
        credentials = credentials or {}
        return cls(
            auth_token=str(credentials.get("auth_token") or os.environ.get("PATHFINDER_SMS_AUTH_TOKEN", "")),
            account_sid=str(credentials.get("account_sid") or os.environ.get("PATHFINDER_SMS_ACCOUNT_SID", "")),
            base_url=str(credentials.get("base_url") or os.environ.get("PATHFINDER_SMS_BASE_URL", "")),
            mode=str(credentials.get("mode") or os.environ.get("PATHFINDER_SMS_MODE", "outbox")),
            numbers={str(k): str(v) for k, v in (credentials.get("numbers") or {}).items()},
            hash_key=str(credentials.get("hash_key") or os.environ.get("PATHFINDER_SMS_HASH_KEY", "")),
        )

    def __init__(self, auth_token: str, account_sid: str, base_url: str, mode: str, numbers: Dict[str, str], hash_key: str):
        if not auth_token:
            raise ValueError("the sms channel needs auth_token (credentials.yml or PATHFINDER_SMS_AUTH_TOKEN)")
        if not hash_key:
            raise ValueError("the sms channel needs hash_key (PATHFINDER_SMS_HASH_KEY): it pseudonymises phone numbers")
        if mode not in ("outbox", "twilio"):
            raise ValueError(f"sms mode must be 'outbox' or 'twilio', not {mode!r}")
        self.validator = RequestValidator(auth_token)
        self.auth_token, self.account_sid, self.mode = auth_token, account_sid, mode
        self.base_url = base_url.rstrip("/")
        self.numbers = {re.sub(r"\s", "", k): v for k, v in numbers.items()}
        self.hash_key = hash_key.encode()
        self.engine = make_engine(load_settings().database_url)
        create_all(self.engine)
        self.kb = KnowledgeBase(self.engine)
        self._locks: Dict[str, Tuple[asyncio.Lock, int]] = {}  # texter -> (lock, texts holding or waiting)
        self.texts_limit = RateLimiter(load_settings().texts_per_minute)
        self.told_too_fast = RateLimiter(1)
        self._client = None
        self.agent = None

    # ---- HTTP --------------------------------------------------------------------------
    def public_url(self, request: Request) -> str:
        """The URL Twilio signed: the configured public base (behind a proxy) + path + query."""
        base = self.base_url or f"{request.scheme}://{request.host}"
        query = f"?{request.query_string}" if request.query_string else ""
        return f"{base}{request.path}{query}"

    def signed_params(self, request: Request) -> Optional[Dict[str, str]]:
        """The form fields (blank ones kept) if the signature is right, else None."""
        params = dict(parse_qsl(request.body.decode("utf-8", "replace"), keep_blank_values=True))
        signature = request.headers.get("X-Twilio-Signature", "")
        if not signature or not self.validator.validate(self.public_url(request), params, signature):
            return None
        return params

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        hook = Blueprint("pathfinder_sms", __name__)

        @hook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @hook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            params = self.signed_params(request)
            if params is None:
                return response.text("invalid signature", status=403)
            number = params.get("From", "").strip()
            message_id = params.get("MessageSid") or request.headers.get("I-Twilio-Idempotency-Token", "")
            if not number or not message_id:
                # Twilio always sends both: without From every such text would land in one
                # shared conversation, and without an id a retried text would be answered twice
                return response.text("From and MessageSid are required", status=400)
            sender = store.sender_id(number, self.hash_key)
            if not store.claim_message(self.engine, message_id, sender):
                return response.text(EMPTY_TWIML, content_type="text/xml")
            if not self.texts_limit.allow(sender) and crisis_signal(clean_text(params.get("Body"))) is None:
                # a flood from one number is not passed on (a crisis text always is); they are
                # told once a minute why, in case it is a young person texting fast
                if self.told_too_fast.allow(sender):
                    texted = texted_number(params)
                    request.app.add_task(self.send(sender, number, texted, self.numbers.get(texted), TOO_FAST))
                return response.text(EMPTY_TWIML, content_type="text/xml")
            self.agent = agent_of(request)  # for the paused check in the background task
            request.app.add_task(self.handle(on_new_message, params, sender))
            return response.text(EMPTY_TWIML, content_type="text/xml")

        @hook.route("/status", methods=["POST"])
        async def status(request: Request) -> HTTPResponse:
            params = self.signed_params(request)
            if params is None:
                return response.text("invalid signature", status=403)
            store.record_status(self.engine, params.get("MessageSid", ""), params.get("MessageStatus", ""), params.get("ErrorCode"))
            return response.text("", status=204)

        return hook

    # ---- one inbound text --------------------------------------------------------------
    async def handle(self, on_new_message, params: Dict[str, str], sender: str) -> None:
        """Process one text, in order with the texter's other texts."""
        lock, waiting = self._locks.get(sender, (asyncio.Lock(), 0))
        self._locks[sender] = (lock, waiting + 1)
        try:
            async with lock:
                try:
                    await self._handle(on_new_message, params, sender)
                except Exception:  # noqa: BLE001 - logged; the safety replies are inside _handle
                    logger.exception("sms turn failed")
        finally:
            lock, waiting = self._locks[sender]
            if waiting <= 1:
                del self._locks[sender]  # one lock per texter with texts in hand, not one per texter ever
            else:
                self._locks[sender] = (lock, waiting - 1)

    async def _handle(self, on_new_message, params: Dict[str, str], sender: str) -> None:
        number, texted = params.get("From", ""), texted_number(params)
        council = self.numbers.get(texted)
        body = clean_text(params.get("Body")).strip()
        keyword = body.lower().strip(" .!")
        if keyword in STOP_WORDS:
            store.set_opted_out(self.engine, sender, True)
            return await self.send(sender, number, texted, council, "You won't get any more messages from Pathfinder. Text START to use it again.")
        if store.is_opted_out(self.engine, sender) and not crisis_signal(body):
            if keyword not in START_WORDS:
                return None
            store.set_opted_out(self.engine, sender, False)
            return await self.send(sender, number, texted, council, "Welcome back to Pathfinder. What would you like to know?")
        if keyword in HELP_WORDS:
            return await self.send(sender, number, texted, council, self.help_text(council))
        if not body:
            text = "Sorry, I can only read text, not pictures or files. Please type your question."
            return await self.send(sender, number, texted, council, text)
        text = store.option_payload(self.engine, sender, body) or neutralise(body)
        collector = SmsCollector()
        try:
            await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata={"council": council} if council else {}))
            if not collector.messages and await agent_is_paused(self.agent, sender):
                return None  # a worker has this conversation and replies by text themselves
            messages = collector.messages or failed_turn_messages(sender, text, council, self.name())
        except Exception:  # noqa: BLE001
            logger.exception("sms turn failed")
            messages = collector.messages + failed_turn_messages(sender, text, council, self.name())
        store.fill_sms_contact(self.engine, sender, number)
        reply = render(messages)
        store.remember_options(self.engine, sender, reply.options)
        for index, body in enumerate(reply.bodies):
            await self.send(sender, number, texted, council, body, reply.mark(index))

    def help_text(self, council: Optional[str]) -> str:
        team = self.kb.contact(council, "leaving_care_team")
        call = f" To talk to a person call {team.name}: {team.phone}." if team and team.phone else ""
        return to_gsm7("Pathfinder answers questions about help for care leavers. Just text your question." + call
                       + " In danger now? Call 999. To talk any time: Samaritans 116 123, free. Text STOP to stop.")

    async def send(self, sender: str, number: str, texted: str, council: Optional[str], body: str,
                   safety: Optional[str] = None) -> None:
        """Send (or record) one reply. `safety` is the text's mark (knowledge.safety.reply): a
        safety message is never cut (the crisis reply may be longer than 3 segments), and a
        crisis text is flagged on its outbound row, so a failed one is noticed. By the mark,
        not the words: the failure reply, HELP and 'too fast' all say 'call 999' too."""
        is_crisis = safety == CRISIS
        body = for_sms(body)  # another script goes as it is (UCS-2), never stripped to nothing
        if safety is None:
            body = fit(body, MAX_SEGMENTS)
        outbound = store.record_outbound(self.engine, sender, council, body, is_crisis, "recorded" if self.mode == "outbox" else "queued")
        if self.mode == "outbox":
            return
        try:
            message = await asyncio.to_thread(self.client().messages.create, to=number, from_=texted, body=body,
                                              status_callback=f"{self.base_url}/webhooks/sms/status" if self.base_url else None)
            store.mark_sent(self.engine, outbound, message.sid, "sent")
        except Exception as error:  # noqa: BLE001 - recorded; a failed crisis reply is flagged
            logger.exception("sms send failed")
            store.mark_sent(self.engine, outbound, None, "failed", str(error)[:300])

    def client(self):
        if self._client is None:
            from twilio.rest import Client

            self._client = Client(self.account_sid, self.auth_token)
        return self._client
