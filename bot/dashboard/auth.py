"""Signing staff in and out: users, server-side sessions, throttling and the audit log.

Sessions live in the database (a random token in the cookie, only its SHA-256 stored),
so signing out or an admin removing a user ends them at once. A session ends after 30
minutes without a request and 8 hours after sign-in, whichever comes first; every
sign-in gets a new token (no session fixation).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.dashboard.settings import DashboardSettings
from services.models import utcnow
from services.passwords import DUMMY_HASH, hash_password, verify_password
from services.staff import ROLES, AuditEntry, LoginAttempt, StaffSession, StaffUser

MANAGER_ROLES = ("leaving_care_manager", "admin")
# Write a session's last-seen time at most this often: one write a minute, not one per click.
TOUCH_EVERY = dt.timedelta(seconds=60)


@dataclass(frozen=True)
class Staff:
    """The signed-in member of staff, as the pages need them."""

    id: int
    email: str
    role: str
    council_id: Optional[str]
    csrf_token: str

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def is_manager(self) -> bool:
        return self.role in MANAGER_ROLES

    @property
    def scope_council(self) -> Optional[str]:
        """The only council whose conversations this person may see (None: all, for admins)."""
        return None if self.is_admin else self.council_id


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def add_user(engine: Engine, email: str, password: str, role: str, council_id: Optional[str]) -> int:
    """Create a staff account; raises ValueError (with a plain-English reason) for bad input."""
    email = normalise_email(email)
    if "@" not in email or len(email) > 254:
        raise ValueError(f"{email!r} is not an e-mail address")
    if role not in ROLES:
        raise ValueError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if role != "admin" and not council_id:
        raise ValueError("a participation worker or leaving-care manager needs a council (--council)")
    password_hash = hash_password(password, email)
    with Session(engine) as session, session.begin():
        if session.execute(select(StaffUser.id).where(StaffUser.email == email)).first():
            raise ValueError(f"there is already a user with the e-mail {email}")
        user = StaffUser(email=email, password_hash=password_hash, role=role, council_id=council_id or None)
        session.add(user)
        session.flush()
        return user.id


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf8")).hexdigest()


def too_many_failures(engine: Engine, settings: DashboardSettings, email: str, ip: str, now: dt.datetime) -> bool:
    """True if this account or address has failed too often recently (sign-in is refused)."""
    since = now - dt.timedelta(minutes=settings.login_window_minutes)
    with Session(engine) as session:
        def count(column, value) -> int:
            query = select(func.count()).select_from(LoginAttempt).where(
                column == value, LoginAttempt.success.is_(False), LoginAttempt.at >= since
            )
            return session.execute(query).scalar_one()

        return (count(LoginAttempt.email, email) >= settings.max_failures_per_account
                or count(LoginAttempt.ip, ip) >= settings.max_failures_per_address)


def record_attempt(engine: Engine, email: str, ip: str, success: bool, now: dt.datetime) -> None:
    with Session(engine) as session, session.begin():
        session.add(LoginAttempt(email=email[:254], ip=ip[:64], success=success, at=now))


def check_password(engine: Engine, email: str, password: str) -> Optional[StaffUser]:
    """The active user with this e-mail and password, or None (same work either way)."""
    with Session(engine) as session:
        user = session.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()
        if user is None or not user.active:
            verify_password(DUMMY_HASH, password)
            return None
        if not verify_password(user.password_hash, password):
            return None
        session.expunge(user)
        return user


def start_session(engine: Engine, user_id: int, now: dt.datetime) -> str:
    """A new session for a user who just signed in; returns the cookie value."""
    token = secrets.token_urlsafe(32)
    with Session(engine) as session, session.begin():
        session.add(StaffSession(token_hash=token_hash(token), user_id=user_id, csrf_token=secrets.token_urlsafe(32),
                                 created_at=now, last_seen_at=now))
    return token


def end_session(engine: Engine, token: Optional[str]) -> None:
    if token:
        with Session(engine) as session, session.begin():
            session.execute(delete(StaffSession).where(StaffSession.token_hash == token_hash(token)))


def current_staff(engine: Engine, settings: DashboardSettings, token: Optional[str], now: dt.datetime) -> Optional[Staff]:
    """The staff member a session cookie belongs to, or None if it is unknown or has expired."""
    if not token:
        return None
    with Session(engine) as session, session.begin():
        stored = session.get(StaffSession, token_hash(token))
        if stored is None:
            return None
        idle = now - stored.last_seen_at > dt.timedelta(minutes=settings.session_idle_minutes)
        too_old = now - stored.created_at > dt.timedelta(hours=settings.session_absolute_hours)
        user = session.get(StaffUser, stored.user_id)
        if idle or too_old or user is None or not user.active:
            session.delete(stored)
            return None
        if now - stored.last_seen_at > TOUCH_EVERY:
            stored.last_seen_at = now
        return Staff(user.id, user.email, user.role, user.council_id, stored.csrf_token)


def csrf_ok(expected: Optional[str], given: Optional[str]) -> bool:
    """Constant-time comparison of the form's CSRF token with the session's."""
    return bool(expected and given) and hmac.compare_digest(expected, given)


def audit(engine: Engine, who: str, action: str, target: Optional[str] = None, detail: Optional[str] = None,
          ip: Optional[str] = None) -> None:
    """Append one entry to the audit log (UTC time); over-long values (typed by anyone at the
    sign-in form) are cut to the column sizes rather than failing the request."""
    with Session(engine) as session, session.begin():
        session.add(AuditEntry(at=utcnow(), staff_email=who[:254], action=action[:60],
                               target=target[:200] if target else target, detail=detail, ip=ip[:64] if ip else ip))
