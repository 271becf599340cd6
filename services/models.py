"""Service tables: referrals to a person and questions the offer could not answer."""
from __future__ import annotations

import datetime as dt

import logging
from typing import List

from sqlalchemy import Column, DateTime, Integer, String, Text, inspect, text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import OperationalError

from knowledge.db import KNOWLEDGE_TABLES, Base, create_schema

logger = logging.getLogger(__name__)
# Any fixed number (PostgreSQL advisory locks take an integer): two processes starting
# together add a missing column once.
_COLUMNS_LOCK_KEY = 0x50415449


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
    # The safeguarding kind of an urgent referral (suicide, criminal_exploitation, ...); None
    # when unknown. One open urgent referral per conversation and kind (services.referrals).
    kind = Column(String(40))
    notified_at = Column(DateTime)
    notify_attempts = Column(Integer, nullable=False, default=0)
    last_attempt_at = Column(DateTime)  # the back-off of the next e-mail attempt counts from here
    # When the e-mail now owed was asked for (None: at created_at); "not delivered" counts from here.
    notify_requested_at = Column(DateTime)
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
    add_missing_columns(engine)
    guard_audit_log(engine)


def add_missing_columns(engine: Engine) -> List[str]:
    """Add the nullable columns a service table made by older code lacks; returns "table.column"s.

    `create_all` creates missing tables but never alters one, and there are no migrations
    yet, so a new nullable column (e.g. referrals.last_attempt_at) is added here with
    `ALTER TABLE ... ADD COLUMN` at start-up. Service tables hold data that must not be
    lost, so nothing is ever dropped or changed; a missing NOT NULL column cannot be added
    this way and raises, naming it (that needs a real migration).
    """
    added: List[str] = []
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _COLUMNS_LOCK_KEY})
        inspector = inspect(connection)
        existing_tables = set(inspector.get_table_names())
        knowledge = {table.name for table in KNOWLEDGE_TABLES}
        for table in Base.metadata.sorted_tables:
            if table.name in knowledge or table.name not in existing_tables:
                continue  # knowledge tables are rebuilt by create_schema; new tables are complete
            present = {column["name"] for column in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name not in present:
                    _add_column(connection, table.name, column)
                    added.append(f"{table.name}.{column.name}")
    for name in added:
        logger.warning("added the missing column %s to an existing database", name)
    return added


def _add_column(connection: Connection, table: str, column: Column) -> None:
    """ALTER TABLE ... ADD COLUMN for one nullable column, in the back end's own type name."""
    if not column.nullable or column.primary_key:
        raise RuntimeError(f"{table}.{column.name} is missing and NOT NULL: it needs a migration, not ADD COLUMN")
    quote = connection.dialect.identifier_preparer.quote
    kind = column.type.compile(dialect=connection.dialect)
    statement = f"ALTER TABLE {quote(table)} ADD COLUMN {quote(column.name)} {kind}"
    if connection.dialect.name != "sqlite":
        connection.exec_driver_sql(statement)  # PostgreSQL: under the advisory lock, no race
        return
    try:  # SQLite has no lock to take first: another process may have added it a moment ago
        connection.exec_driver_sql(statement)
    except OperationalError as error:
        if "duplicate column" not in str(error):
            raise
