"""Referrals: passing a young person on to a person, and telling the team by e-mail.

A referral is written to the database first and e-mailed second. A failed e-mail leaves
the referral marked un-notified, and every later call to `notify_pending` (after each new
referral, and from `python -m bot.referrals retry` on a schedule) tries again, so a
referral is never lost because a mail server was down.
"""
from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Optional

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.models import Referral, utcnow

MAX_ATTEMPTS = 20
STATUSES = ("new", "acknowledged", "closed")


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    mail_from: str
    user: Optional[str] = None
    password: Optional[str] = None
    starttls: bool = False
    timeout: float = 10.0


@dataclass(frozen=True)
class NewReferral:
    conversation_id: str
    reason: str
    council_id: Optional[str] = None
    channel: str = "rest"
    priority: str = "normal"
    first_name: Optional[str] = None
    contact_method: Optional[str] = None
    contact_value: Optional[str] = None
    contact_time: Optional[str] = None
    message: Optional[str] = None
    detail: Optional[str] = None


def create_referral(engine: Engine, new: NewReferral) -> int:
    """Store a referral (status `new`) and return its id."""
    with Session(engine) as session, session.begin():
        row = Referral(**new.__dict__)
        session.add(row)
        session.flush()
        return row.id


def has_open_urgent(engine: Engine, conversation_id: str) -> bool:
    """True when this conversation already has an urgent referral that is not closed."""
    with Session(engine) as session:
        query = select(Referral.id).where(
            Referral.conversation_id == conversation_id, Referral.priority == "urgent", Referral.status != "closed"
        )
        return session.execute(query.limit(1)).first() is not None


def set_status(engine: Engine, referral_id: int, status: str, now: Optional[dt.datetime] = None) -> None:
    """Move a referral to acknowledged/closed, stamping when."""
    if status not in STATUSES:
        raise ValueError(f"unknown referral status {status!r}; use one of {', '.join(STATUSES)}")
    now = now or utcnow()
    with Session(engine) as session, session.begin():
        row = session.get(Referral, referral_id)
        if row is None:
            raise LookupError(f"no referral {referral_id}")
        row.status = status
        if status == "acknowledged" and row.acknowledged_at is None:
            row.acknowledged_at = now
        if status == "closed":
            row.closed_at = now


def referral_email(referral: Referral, dashboard_url: str) -> tuple[str, str]:
    """Subject and body of the e-mail to the team: enough to act, nothing more."""
    urgent = referral.priority == "urgent"
    subject = f"{'URGENT: ' if urgent else ''}Pathfinder referral #{referral.id} ({referral.reason})"
    lines = [
        "A young person asked Pathfinder for help." if not urgent else
        "URGENT: a young person's message may mean they are in danger. Please review now.",
        "",
        f"Referral: #{referral.id}",
        f"Council: {referral.council_id or 'not given'}",
        f"Reason: {referral.reason}",
        f"Channel: {referral.channel}",
        f"First name: {referral.first_name or 'not given'}",
        # The number or address itself stays in the dashboard: e-mail is not the place for it.
        f"Contact by: {referral.contact_method or 'not given'}" + (" (details in the dashboard)" if referral.contact_value else ""),
        f"Best time: {referral.contact_time or 'not given'}",
        f"Their message: {referral.message or '(none)'}",
        "",
        f"Conversation: {dashboard_url.rstrip('/')}/conversations/{referral.conversation_id}",
        f"Created (UTC): {referral.created_at:%Y-%m-%d %H:%M}",
    ]
    return subject, "\n".join(lines)


def send_email(mail: MailSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail over SMTP; raises on any failure."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail.mail_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout) as smtp:
        if mail.starttls:
            smtp.starttls()
        if mail.user:
            smtp.login(mail.user, mail.password or "")
        smtp.send_message(message)


def notify_pending(engine: Engine, mail: MailSettings, inbox_for, dashboard_url: str) -> int:
    """E-mail every referral not yet notified (urgent first); returns how many were sent.

    `inbox_for(council_id)` gives the team's address. Failures are recorded on the row and
    retried next time; a referral is given up on only after MAX_ATTEMPTS, and stays visible.
    """
    sent = 0
    with Session(engine) as session:
        query = (
            select(Referral)
            .where(Referral.notified_at.is_(None), Referral.notify_attempts < MAX_ATTEMPTS)
            .order_by(Referral.priority.desc(), Referral.id)
        )
        pending = list(session.execute(query).scalars())
        for referral in pending:
            referral.notify_attempts += 1
            try:
                send_email(mail, inbox_for(referral.council_id), *referral_email(referral, dashboard_url))
            except (OSError, smtplib.SMTPException) as error:
                referral.last_error = f"{type(error).__name__}: {error}"[:500]
            else:
                referral.notified_at, referral.last_error = utcnow(), None
                sent += 1
            session.commit()
    return sent
