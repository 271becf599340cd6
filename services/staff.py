"""Tables for the staff dashboard: staff users, sessions, login attempts, the audit log,
and the tags and notes staff put on conversations.

The audit log is append-only: the ORM refuses to update or delete its rows, and database
triggers (SQLite and PostgreSQL) refuse it to plain SQL too, so no code path of the
project can rewrite who looked at what.
"""
from __future__ import annotations

from sqlalchemy import Boolean, Column, DateTime, ForeignKey, Integer, String, Text, UniqueConstraint, event
from sqlalchemy.engine import Engine

from knowledge.db import Base
from services.models import utcnow

ROLES = ("participation_worker", "leaving_care_manager", "admin")


class StaffUser(Base):
    """A member of staff who may sign in to the dashboard (one council, or all for admins)."""

    __tablename__ = "staff_users"
    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, unique=True)
    password_hash = Column(String(200), nullable=False)
    role = Column(String(40), nullable=False)
    council_id = Column(String(40))  # None only for admins, who see every council
    active = Column(Boolean, nullable=False, default=True)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class StaffSession(Base):
    """A signed-in browser. Only a hash of the cookie value is stored, so a copy of the
    database cannot be used to sign in."""

    __tablename__ = "staff_sessions"
    token_hash = Column(String(64), primary_key=True)
    user_id = Column(Integer, ForeignKey("staff_users.id", ondelete="CASCADE"), nullable=False, index=True)
    csrf_token = Column(String(64), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)
    last_seen_at = Column(DateTime, nullable=False, default=utcnow)


class LoginAttempt(Base):
    """One sign-in attempt, for throttling repeated failures by account and by address."""

    __tablename__ = "staff_login_attempts"
    id = Column(Integer, primary_key=True)
    email = Column(String(254), nullable=False, index=True)
    ip = Column(String(64), nullable=False, index=True)
    success = Column(Boolean, nullable=False)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)


class AuditEntry(Base):
    """Who did what to which target, when (UTC). Targets are display ids, never raw ids."""

    __tablename__ = "staff_audit_log"
    id = Column(Integer, primary_key=True)
    at = Column(DateTime, nullable=False, default=utcnow, index=True)
    staff_email = Column(String(254), nullable=False)
    action = Column(String(60), nullable=False, index=True)
    target = Column(String(200))
    detail = Column(Text)
    ip = Column(String(64))


class ConversationTag(Base):
    """A short label staff put on a conversation ("follow up", "housing gap")."""

    __tablename__ = "conversation_tags"
    __table_args__ = (UniqueConstraint("conversation_id", "tag"),)
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    tag = Column(String(60), nullable=False, index=True)
    created_by = Column(String(254), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class ConversationNote(Base):
    """A free-text note on a conversation (shown redacted like everything else)."""

    __tablename__ = "conversation_notes"
    id = Column(Integer, primary_key=True)
    conversation_id = Column(String(255), nullable=False, index=True)
    text = Column(Text, nullable=False)
    created_by = Column(String(254), nullable=False)
    created_at = Column(DateTime, nullable=False, default=utcnow)


class AuditLogIsAppendOnly(Exception):
    """Raised when code tries to change or delete an audit entry."""


def _refuse_change(_mapper, _connection, _target) -> None:
    raise AuditLogIsAppendOnly("the audit log is append-only: entries cannot be changed or deleted")


event.listen(AuditEntry, "before_update", _refuse_change)
event.listen(AuditEntry, "before_delete", _refuse_change)


_SQLITE_GUARDS = [
    f"CREATE TRIGGER IF NOT EXISTS staff_audit_log_no_{verb} BEFORE {verb.upper()} ON staff_audit_log "
    "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
    for verb in ("update", "delete")
]
# One block, and only when the trigger is missing: servers starting together do not race
# to replace the function.
_POSTGRES_GUARDS = [
    "DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_trigger WHERE tgname = 'staff_audit_log_append_only') THEN "
    "CREATE OR REPLACE FUNCTION staff_audit_log_append_only() RETURNS trigger AS $f$ "
    "BEGIN RAISE EXCEPTION 'the audit log is append-only'; END; $f$ LANGUAGE plpgsql; "
    "CREATE TRIGGER staff_audit_log_append_only BEFORE UPDATE OR DELETE OR TRUNCATE ON staff_audit_log "
    "FOR EACH STATEMENT EXECUTE FUNCTION staff_audit_log_append_only(); END IF; END $$",
]


def guard_audit_log(engine: Engine) -> None:
    """Database triggers that refuse any UPDATE or DELETE of audit entries (idempotent, so a
    database whose audit table came before the triggers gets them on the next start)."""
    statements = {"sqlite": _SQLITE_GUARDS, "postgresql": _POSTGRES_GUARDS}.get(engine.dialect.name, [])
    with engine.begin() as connection:
        for statement in statements:
            connection.exec_driver_sql(statement)
