"""Staff take over a conversation live, and hand it back.

    python -m bot.takeover pause   CONVERSATION_ID [--referral N]   # bot goes quiet
    python -m bot.takeover say     CONVERSATION_ID "text" [--staff NAME]
    python -m bot.takeover resume  CONVERSATION_ID                  # bot answers again

Uses the Rasa HTTP API (token from PATHFINDER_AUTH_TOKEN or var/auth_token). A staff reply is
stored in the conversation as a bot message marked `staff`: the web widget shows it, and for
an SMS conversation it is texted to the number on the young person's referral (the only
place a number is kept).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import urllib.parse
import urllib.request
from typing import List, Optional

import yaml
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import ROOT, VAR_DIR, load_settings
from bot.sms_text import to_gsm7
from knowledge.db import make_engine
from services.models import Referral, create_all
from services.referrals import set_status
from services.sms import SENDER_PREFIX, record_outbound


def api_token() -> str:
    token = load_settings().auth_token
    if token:
        return token
    path = VAR_DIR / "auth_token"
    if path.exists():
        return path.read_text().strip()
    raise SystemExit("no API token: set PATHFINDER_AUTH_TOKEN or start the bot once with scripts/run.sh")


def post_events(conversation_id: str, events: List[dict], url: Optional[str] = None, token: Optional[str] = None) -> None:
    """Append events to a conversation through the Rasa HTTP API."""
    base = (url or load_settings().rasa_url).rstrip("/")
    query = urllib.parse.urlencode({"token": token or api_token()})
    request = urllib.request.Request(
        f"{base}/conversations/{urllib.parse.quote(conversation_id)}/tracker/events?{query}",
        data=json.dumps(events).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as reply:
        reply.read()


def pause(conversation_id: str, referral_id: Optional[int] = None, **api) -> None:
    """Stop the bot answering this conversation; the referral (if given) is acknowledged.

    Any form the bot was running is ended too, so that after `resume` the young person's next
    message is not taken as an answer to a question asked before the worker stepped in.
    """
    end_form = [{"event": "active_loop", "name": None}, {"event": "slot", "name": "requested_slot", "value": None}]
    post_events(conversation_id, [*end_form, {"event": "pause"}], **api)
    if referral_id is not None:
        set_status(make_engine(load_settings().database_url), referral_id, "acknowledged")


def resume(conversation_id: str, **api) -> None:
    post_events(conversation_id, [{"event": "resume"}], **api)


def say(conversation_id: str, text: str, staff: str = "worker", **api) -> str:
    """Store a staff reply in the conversation and, for SMS, text it. Returns how it was delivered."""
    post_events(conversation_id, [{"event": "bot", "text": text, "metadata": {"staff": staff}}], **api)
    if not conversation_id.startswith(SENDER_PREFIX):
        return "shown in the web chat"
    return text_staff_reply(conversation_id, text)


def text_staff_reply(conversation_id: str, text: str) -> str:
    """Text a staff reply to the number on the young person's referral, if they gave one."""
    engine = make_engine(load_settings().database_url)
    create_all(engine)
    with Session(engine) as session:
        referral = session.execute(
            select(Referral)
            .where(Referral.conversation_id == conversation_id, Referral.contact_method == "sms", Referral.contact_value.isnot(None))
            .order_by(Referral.id.desc())
        ).scalars().first()
    if referral is None:
        return "not texted: the young person has not agreed to be texted (no referral with their number)"
    body = to_gsm7(text)
    record_outbound(engine, conversation_id, referral.council_id, body, False, "recorded")
    if os.environ.get("PATHFINDER_SMS_MODE", "outbox") == "twilio":
        from twilio.rest import Client

        client = Client(os.environ["PATHFINDER_SMS_ACCOUNT_SID"], os.environ["PATHFINDER_SMS_AUTH_TOKEN"])
        client.messages.create(to=referral.contact_value, from_=council_number(referral.council_id), body=body)
        return "texted"
    return "recorded in the SMS outbox"


def council_number(council_id: Optional[str]) -> str:
    """The council's texting number, from credentials.yml."""
    numbers = (yaml.safe_load((ROOT / "credentials.yml").read_text()).get("bot.channels.sms.SmsInput") or {}).get("numbers") or {}
    for number, council in numbers.items():
        if council == council_id:
            return number
    raise SystemExit(f"no SMS number for council {council_id!r} in credentials.yml")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Take over a conversation from the bot, and hand it back.")
    parser.add_argument("command", choices=["pause", "say", "resume"])
    parser.add_argument("conversation_id")
    parser.add_argument("text", nargs="?", help="the reply, for 'say'")
    parser.add_argument("--staff", default="worker", help="who is replying (kept in the conversation)")
    parser.add_argument("--referral", type=int, help="with 'pause': mark this referral acknowledged")
    args = parser.parse_args(argv)
    if args.command == "pause":
        pause(args.conversation_id, args.referral)
        print("paused: the bot will not answer until you resume")
    elif args.command == "resume":
        resume(args.conversation_id)
        print("resumed: the bot answers again")
    else:
        if not args.text:
            parser.error("say needs the text of the reply")
        print(say(args.conversation_id, args.text, args.staff))
    return 0


if __name__ == "__main__":
    sys.exit(main())
