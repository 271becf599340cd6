"""One SQLAlchemy database for the knowledge base and the service tables.

SQLite (a file) is the embedded default; PostgreSQL is the production backend. Every
table the project owns hangs off `Base`, so one `create_schema` call sets up a fresh store.
"""
from __future__ import annotations

import contextlib
import os
from typing import List, Optional

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    Float,
    ForeignKey,
    Integer,
    String,
    Text,
    create_engine,
    event,
    inspect,
    text,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.orm import declarative_base

Base = declarative_base()


class CouncilRow(Base):
    __tablename__ = "kb_councils"
    id = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    offer_name = Column(String(200), nullable=False, default="")
    website = Column(String(500))
    aliases = Column(Text, nullable=False, default="")  # "|"-joined, lower case
    source_file = Column(String(200), nullable=False)


class ContactRow(Base):
    __tablename__ = "kb_contacts"
    council_id = Column(String(40), ForeignKey("kb_councils.id", ondelete="CASCADE"), primary_key=True)
    kind = Column(String(40), primary_key=True)
    name = Column(String(200), nullable=False)
    phone = Column(String(40))
    email = Column(String(200))
    website = Column(String(500))
    hours = Column(Text)  # JSON: "always", null or {"mon": "09:00-17:00"}
    placeholder = Column(Boolean, nullable=False, default=False)
    source = Column(Text, nullable=False, default="")


class EntitlementRow(Base):
    __tablename__ = "kb_entitlements"
    id = Column(String(120), primary_key=True)
    council_id = Column(String(40), ForeignKey("kb_councils.id", ondelete="CASCADE"), nullable=False, index=True)
    topic = Column(String(40), nullable=False, index=True)
    title = Column(String(200), nullable=False)
    answer = Column(Text, nullable=False)
    how_to_get = Column(Text, nullable=False)
    keywords = Column(Text, nullable=False, default="")  # "|"-joined, lower case
    questions = Column(Text, nullable=False, default="[]")  # JSON list: a question may hold any character
    min_age = Column(Integer)
    max_age = Column(Integer)
    statuses = Column(Text, nullable=False, default="")  # "|"-joined
    amount_value = Column(Float)
    amount_per = Column(String(20))
    amount_up_to = Column(Boolean)
    contact_kind = Column(String(40))
    link = Column(String(500))
    availability = Column(String(20), nullable=False, default="available")
    source_document = Column(String(300), nullable=False)
    source_section = Column(String(300), nullable=False, default="")
    last_checked = Column(Date, nullable=False)
    position = Column(Integer, nullable=False, default=0)  # order in the file: authors put the key entry first


class ContentVersion(Base):
    """A counter bumped on each publish, so running processes notice a reload."""

    __tablename__ = "kb_content_version"
    id = Column(Integer, primary_key=True)
    version = Column(Integer, nullable=False, default=0)


def make_engine(url: str) -> Engine:
    """An engine with settings fit for the backend (pooling for PostgreSQL, WAL for SQLite)."""
    if url.startswith("sqlite"):
        create_private_file(make_url(url).database)
        engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30}, future=True)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_size=5, max_overflow=10, pool_pre_ping=True, future=True)


def create_private_file(path: Optional[str]) -> None:
    """Create a new file readable by its owner only (0600), in a folder that exists: the
    SQLite database (transcripts, referral phone numbers, staff password hashes; SQLite gives
    its -wal and -shm files the same mode) and the referral spool. An existing file is left
    as its operator set it; a missing folder stays an error for whoever opens the file."""
    if not path or path == ":memory:" or os.path.exists(path) or not os.path.isdir(os.path.dirname(os.path.abspath(path))):
        return
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    """WAL lets the web app read while the action server writes; foreign keys are off by default."""
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


KNOWLEDGE_TABLES = (CouncilRow.__table__, ContactRow.__table__, EntitlementRow.__table__, ContentVersion.__table__)


# Any fixed number: PostgreSQL advisory locks are keyed by an integer, not a name.
_SCHEMA_LOCK_KEY = 0x50415448


def create_schema(engine: Engine) -> None:
    """Create the knowledge tables that are missing (service tables are created by `services`).

    `create_all` never alters a table, so a database made by older code would lack newer
    columns. The knowledge tables hold only what is published from the offer files, so an
    out-of-date set is dropped and recreated empty (version 0), and the next `ensure_loaded`
    or `reload` republishes it; service tables are never touched. On PostgreSQL the check and
    rebuild run under a lock, so two processes starting together rebuild once.
    """
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":
            connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _SCHEMA_LOCK_KEY})
        if stale_knowledge_tables(connection):
            Base.metadata.drop_all(connection, tables=list(KNOWLEDGE_TABLES))
        Base.metadata.create_all(connection, tables=list(KNOWLEDGE_TABLES))


def stale_knowledge_tables(connection: Connection) -> List[str]:
    """Names of knowledge tables whose columns differ from the models (missing tables are not stale)."""
    inspector = inspect(connection)
    existing = set(inspector.get_table_names())
    return [
        table.name
        for table in KNOWLEDGE_TABLES
        if table.name in existing
        and {column["name"] for column in inspector.get_columns(table.name)} != set(table.columns.keys())
    ]
