"""The REST channel used by the web widget and the evaluation harness.

Rasa's RestInput plus the protections every Pathfinder channel needs: no `/intent`
injection, no characters that break NLU, only known metadata, the channel name fixed by the
server (not the client), and a reply with a phone number even when the turn fails (with an
urgent referral spooled if the message signals danger).
"""
from __future__ import annotations

import logging
from typing import Any, Awaitable, Callable, Dict, Optional, Text

from rasa.core.channels.channel import UserMessage
from rasa.core.channels.rest import RestInput
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from bot.channels.collector import ChannelCollector
from bot.channels.safety import NOT_A_TURN, SENDER_ID, clean_metadata, failed_turn_messages, neutralise, turn_sender
from bot.channels.takeover import WORKER_HAS_IT, is_paused, parse_since, staff_update

logger = logging.getLogger(__name__)


class RestCollector(ChannelCollector):
    """The web widget's replies: `channel: rest` variants (e.g. tap-to-call crisis links)."""

    channel = "rest"


class PathfinderRestInput(RestInput):
    """POST /webhooks/rest/webhook {"sender": id, "message": text, "metadata": {"council": id}}."""

    @classmethod
    def name(cls) -> Text:
        return "rest"

    def _extract_message(self, req: Request) -> Optional[Text]:
        return neutralise(req.json.get("message"))

    def _extract_input_channel(self, req: Request) -> Text:
        return self.name()

    def get_metadata(self, request: Request) -> Optional[Dict[Text, Any]]:
        return clean_metadata(request.json.get("metadata"))

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[None]]) -> Blueprint:
        webhook = Blueprint(f"custom_webhook_{type(self).__name__}", __name__)

        @webhook.route("/", methods=["GET"])
        async def health(_: Request) -> HTTPResponse:
            return response.json({"status": "ok"})

        @webhook.route("/updates", methods=["GET"])
        async def updates(request: Request) -> HTTPResponse:
            """Staff replies for a conversation (the widget polls this while a worker has it)."""
            sender = request.args.get("sender", "")
            if not SENDER_ID.match(sender):
                return response.json({"error": "give ?sender=<conversation id>"}, status=400)
            return response.json(await staff_update(request, sender, parse_since(request.args.get("since"))))

        @webhook.route("/webhook", methods=["POST"])
        async def receive(request: Request) -> HTTPResponse:
            sender = turn_sender(request.json)
            if sender is None:
                return response.json({"error": NOT_A_TURN}, status=400)
            metadata = self.get_metadata(request)
            text = self._extract_message(request)
            collector = RestCollector()
            failed = False
            try:
                await on_new_message(UserMessage(text, collector, sender, input_channel=self.name(), metadata=metadata))
            except Exception:  # noqa: BLE001 - whatever broke, the user gets a number to call
                logger.exception("turn failed for a REST message")
                failed = True
            if not failed and not collector.messages and await is_paused(request, sender):
                collector.messages.append({"recipient_id": sender, "text": WORKER_HAS_IT})
            if failed or not collector.messages:
                said = " ".join(m.get("text") or "" for m in collector.messages)
                for reply in failed_turn_messages(sender, text, metadata.get("council"), self.name()):
                    if reply["text"] not in said:
                        collector.messages.append({"recipient_id": sender, **reply})
            return response.json(collector.messages)

        return webhook
