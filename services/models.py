"""Service tables: referrals to a person and questions the offer could not answer."""
from __future__ import annotations

import datetime as dt

from sqlalchemy import Column, DateTime, Integer, String, Text
from sqlalchemy.engine import Engine

from knowledge.db import Base, create_schema


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(tzinfo=None)


class UnansweredQuestion(Base):
    """A question the offer had nothing on: the council's list of gaps in its offer."""

    __tablename__ = "unanswered_questions"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    council_id = Column(String(40), index=True)
    topic = Column(String(40), index=True)
    intent = Column(String(80))
    text = Column(Text, nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)


class Referral(Base):
    """A young person passed on to a person: their PA / leaving-care team or an advocate."""

    __tablename__ = "referrals"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(200), nullable=False, index=True)
    channel = Column(String(40), nullable=False, default="rest")
    council_id = Column(String(40), index=True)
    reason = Column(String(40), nullable=False)  # a topic id: handoff_pa, advocacy, crisis, ...
    priority = Column(String(20), nullable=False, default="normal")  # normal | urgent
    status = Column(String(20), nullable=False, default="new")  # new | acknowledged | closed
    first_name = Column(String(100))
    contact_method = Column(String(20))  # phone | email | chat | sms | none
    contact_value = Column(String(200))
    contact_time = Column(String(200))
    message = Column(Text)
    detail = Column(Text)  # e.g. which crisis pattern matched; never shown to the young person
    notified_at = Column(DateTime)
    notify_attempts = Column(Integer, nullable=False, default=0)
    last_error = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)
    acknowledged_at = Column(DateTime)
    closed_at = Column(DateTime)


class SmsInbound(Base):
    """One row per provider message id: a retried webhook finds its id taken and is dropped.

    The unique key is in the shared database, so two server processes that each receive a
    copy of the same webhook still process it once.
    """

    __tablename__ = "sms_inbound"
    message_sid = Column(String(64), primary_key=True)
    sender = Column(String(80), nullable=False, index=True)  # keyed hash, never the number
    received_at = Column(DateTime, nullable=False, default=utcnow)


class SmsOutbound(Base):
    """Every reply sent (or, in outbox mode, only recorded) and its delivery status."""

    __tablename__ = "sms_outbound"
    id = Column(Integer, primary_key=True)
    sender = Column(String(80), nullable=False, index=True)  # keyed hash of the young person's number
    council_id = Column(String(40))
    body = Column(Text, nullable=False)
    provider_sid = Column(String(64), index=True)
    status = Column(String(20), nullable=False, default="queued")  # queued | recorded | sent | delivered | failed | undelivered
    is_crisis = Column(Integer, nullable=False, default=0)
    error = Column(Text)
    created_at = Column(DateTime, nullable=False, default=utcnow, index=True)
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


class SmsState(Base):
    """Per texter: opted out (STOP) and the numbered options of the last reply."""

    __tablename__ = "sms_state"
    sender = Column(String(80), primary_key=True)
    opted_out_at = Column(DateTime)
    options = Column(Text)  # JSON {"1": payload}
    updated_at = Column(DateTime, nullable=False, default=utcnow, onupdate=utcnow)


def create_all(engine: Engine) -> None:
    """Create every missing table: knowledge and service tables alike."""
    from services.staff import guard_audit_log  # registers the dashboard's tables on Base

    create_schema(engine)
    Base.metadata.create_all(engine)
    guard_audit_log(engine)
