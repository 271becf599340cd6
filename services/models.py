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


def create_all(engine: Engine) -> None:
    """Create every missing table: knowledge and service tables alike."""
    create_schema(engine)
    Base.metadata.create_all(engine)
