"""SMS bookkeeping: de-duplication, opt-outs, numbered options, outbound log and status."""
from __future__ import annotations

import hashlib
import hmac
import json
from typing import Dict, Optional

from sqlalchemy import and_, or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from services.models import Referral, SmsInbound, SmsOutbound, SmsState, utcnow
from services.referrals import NewReferral, create_referral

SENDER_PREFIX = "sms-"
# On a referral, until the SMS channel writes the texter's number in its place (fill_sms_contact).
THIS_NUMBER = "(the number they texted from)"


def sender_id(number: str, key: bytes) -> str:
    """The pseudonymous conversation id for a phone number (keyed hash: not reversible without the key)."""
    digest = hmac.new(key, number.strip().encode(), hashlib.sha256).hexdigest()
    return SENDER_PREFIX + digest[:32]


def claim_message(engine: Engine, message_sid: str, sender: str) -> bool:
    """True the first time a message id is seen (in any process), False for a retry."""
    try:
        with Session(engine) as session, session.begin():
            session.add(SmsInbound(message_sid=message_sid, sender=sender))
        return True
    except IntegrityError:
        return False


def _state(session: Session, sender: str) -> SmsState:
    state = session.get(SmsState, sender)
    if state is None:
        state = SmsState(sender=sender)
        session.add(state)
    return state


def set_opted_out(engine: Engine, sender: str, opted_out: bool) -> None:
    with Session(engine) as session, session.begin():
        _state(session, sender).opted_out_at = utcnow() if opted_out else None


def is_opted_out(engine: Engine, sender: str) -> bool:
    with Session(engine) as session:
        state = session.get(SmsState, sender)
        return bool(state and state.opted_out_at)


def remember_options(engine: Engine, sender: str, options: Dict[str, str]) -> None:
    with Session(engine) as session, session.begin():
        _state(session, sender).options = json.dumps(options) if options else None


def option_payload(engine: Engine, sender: str, reply: str) -> Optional[str]:
    """The payload behind a numbered option ("2" -> "Walsall"), if the last reply offered it."""
    with Session(engine) as session:
        state = session.get(SmsState, sender)
        options = json.loads(state.options) if state and state.options else {}
    return options.get(reply.strip().rstrip(".").strip())


def record_outbound(engine: Engine, sender: str, council_id: Optional[str], body: str, is_crisis: bool, status: str) -> int:
    with Session(engine) as session, session.begin():
        row = SmsOutbound(sender=sender, council_id=council_id, body=body, is_crisis=int(is_crisis), status=status)
        session.add(row)
        session.flush()
        return row.id


def mark_sent(engine: Engine, outbound_id: int, provider_sid: Optional[str], status: str, error: Optional[str] = None) -> None:
    """Store the provider's id and status of a reply (a failed crisis reply is flagged)."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = session.get(SmsOutbound, outbound_id)
        row.provider_sid, row.status, row.error = provider_sid, status, error
    _flag_failed_crisis(engine, row)


def record_status(engine: Engine, provider_sid: str, status: str, error: Optional[str] = None) -> Optional[SmsOutbound]:
    """Store a delivery status callback; a crisis reply that failed raises an urgent flag."""
    with Session(engine, expire_on_commit=False) as session, session.begin():
        row = session.execute(select(SmsOutbound).where(SmsOutbound.provider_sid == provider_sid)).scalar_one_or_none()
        if row is None:
            return None
        row.status, row.error = status, error
    _flag_failed_crisis(engine, row)
    return row


def _flag_failed_crisis(engine: Engine, row: SmsOutbound) -> None:
    if row.status in ("failed", "undelivered") and row.is_crisis:
        create_referral(
            engine,
            NewReferral(
                conversation_id=row.sender, reason="crisis", council_id=row.council_id, channel="sms",
                priority="urgent", detail=f"crisis reply by SMS was {row.status}: {row.error or 'no reason given'}",
            ),
        )


def fill_sms_contact(engine: Engine, sender: str, number: str) -> int:
    """Put the texter's number on referrals they just asked to be texted, or called on it, about.

    The number is never stored with the conversation; it is written only here, on a
    referral the young person confirmed with "text me on this number" or with yes to "call
    the number you're texting from?" (the action leaves THIS_NUMBER in its place).
    """
    asked = or_(and_(Referral.contact_method == "sms", Referral.contact_value.is_(None)),
                and_(Referral.contact_method == "phone", Referral.contact_value == THIS_NUMBER))
    with Session(engine) as session, session.begin():
        result = session.execute(
            update(Referral).where(Referral.conversation_id == sender, asked).values(contact_value=number)
        )
        return result.rowcount
