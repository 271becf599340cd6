"""Referrals: passing a young person on to a person, and telling the team by e-mail.

A referral is written to the database first and e-mailed second, so a mail server that is
down never loses one:
- a new referral's e-mail is sent on its own (`notify_referral`), never the whole backlog,
  so one turn costs at most one SMTP timeout, in the background (bot.notify);
- a failed e-mail leaves the referral pending; `python -m bot.referrals retry` (cron)
  tries it again with back-off counted from the last attempt (`retry_delay`: 2, 4, 8 ...
  minutes, at most an hour) and never gives up: there is no maximum of attempts;
- an urgent referral still not e-mailed `undelivered_after` minutes after it was asked for
  is shown as "not delivered" (`is_undelivered`: dashboard and `bot.referrals list`);
- one conversation has one open urgent referral per reason and safeguarding kind
  (`create_or_update_urgent`): later crisis messages are added to it, not repeated.
"""
from __future__ import annotations

import datetime as dt
import smtplib
from dataclasses import asdict, dataclass
from email.message import EmailMessage
from typing import Callable, List, Optional, Tuple

from sqlalchemy import select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from services.models import Referral, utcnow

STATUSES = ("new", "acknowledged", "closed")
MAX_RETRY_DELAY = dt.timedelta(hours=1)
# A later crisis message in the same conversation e-mails the team again only if the last
# e-mail went out this long ago. Sooner, the team has just been alerted and is (or should
# be) acting on it: a stream of messages from one conversation in crisis would otherwise
# flood the inbox and bury other young people's alerts; the new messages are on the
# referral and in the transcript. Later, it is a fresh signal that the danger goes on,
# worth a new e-mail even if the first one was read and filed.
RENOTIFY_AFTER = dt.timedelta(minutes=30)
# SMTP errors about this one message (a refused recipient, a rejected body): the relay
# works, so a retry run goes on with the other referrals. Any other error means the relay
# is down or refusing everything, and the run stops rather than wait out a timeout each.
MESSAGE_ERRORS = (smtplib.SMTPRecipientsRefused, smtplib.SMTPDataError)

SENT, NOT_DUE, FAILED, RELAY_DOWN = "sent", "not_due", "failed", "relay_down"


@dataclass(frozen=True)
class MailSettings:
    host: str
    port: int
    mail_from: str
    user: Optional[str] = None
    password: Optional[str] = None
    starttls: bool = False
    timeout: float = 10.0  # seconds per SMTP operation: a relay that never answers fails fast


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
    kind: Optional[str] = None  # safeguarding kind of an urgent referral (suicide, ...); None: unknown


@dataclass(frozen=True)
class UrgentReferral:
    """What `create_or_update_urgent` did: which referral, new or not, and whether an
    e-mail is owed for it now (the caller sends it, e.g. in the background)."""

    referral_id: int
    created: bool
    email_owed: bool


def create_referral(engine: Engine, new: NewReferral) -> int:
    """Store a referral (status `new`) and return its id."""
    with Session(engine) as session, session.begin():
        row = Referral(**asdict(new))
        session.add(row)
        session.flush()
        return row.id


def create_or_update_urgent(engine: Engine, new: NewReferral, now: Optional[dt.datetime] = None) -> UrgentReferral:
    """The urgent referral for this conversation, reason and kind: the open one updated, or a new one.

    A conversation in crisis sends several alarming messages; each used to make its own
    referral and e-mail, so the team saw three cases for one young person. The open (not
    closed) referral of the same conversation, reason and kind gets the new detail
    appended (with the time) and `updated_at`; a new e-mail is owed only if none is
    pending and the last one went more than RENOTIFY_AFTER ago. A closed referral is not
    reopened: a new crisis after that is a new referral. `kind` None matches None only.
    """
    now = now or utcnow()
    with Session(engine) as session, session.begin():
        _lock_conversation(session, new.conversation_id)
        same_kind = Referral.kind.is_(None) if new.kind is None else Referral.kind == new.kind
        query = (
            select(Referral)
            .where(Referral.conversation_id == new.conversation_id, Referral.reason == new.reason,
                   Referral.priority == "urgent", Referral.status != "closed", same_kind)
            .order_by(Referral.id.desc())
            .limit(1)
            .with_for_update()
        )
        row = session.execute(query).scalars().first()
        if row is None:
            row = Referral(**{**asdict(new), "priority": "urgent"}, created_at=now, updated_at=now)
            session.add(row)
            session.flush()
            return UrgentReferral(row.id, created=True, email_owed=True)
        row.detail = "\n".join(part for part in (row.detail, f"{now:%Y-%m-%d %H:%M} {new.detail or 'another crisis message'}") if part)
        row.council_id = row.council_id or new.council_id
        row.updated_at = now
        if row.notified_at is not None and now - row.notified_at > RENOTIFY_AFTER:
            row.notified_at, row.last_attempt_at, row.last_error, row.notify_requested_at = None, None, None, now
        return UrgentReferral(row.id, created=False, email_owed=row.notified_at is None)


def _lock_conversation(session: Session, conversation_id: str) -> None:
    """On PostgreSQL, serialise urgent-referral writes for one conversation until commit, so
    two at once (a turn and a spool import) cannot both create one. SQLite writes one at a time."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:space, hashtext(:id))"), {"space": 0x5246, "id": conversation_id})


def has_open_urgent(engine: Engine, conversation_id: str) -> bool:
    """True when this conversation already has an urgent referral that is not closed."""
    with Session(engine) as session:
        query = select(Referral.id).where(
            Referral.conversation_id == conversation_id, Referral.priority == "urgent", Referral.status != "closed"
        )
        return session.execute(query.limit(1)).first() is not None


NOT_ON_THIS_PHONE = "not on this phone: they said it is not safe"
NO_CONTACT = "none: they said no to being contacted"


def record_contact_wish(engine: Engine, conversation_id: str, wish: str, *, tell_again: bool = False,
                        now: Optional[dt.datetime] = None) -> Optional[UrgentReferral]:
    """Write how the young person wants (or does not want) to be contacted onto the
    conversation's latest open urgent referral, as its contact method, with a line in its detail.

    Why it matters: for abuse at home, "don't use this phone" must reach the worker before
    they ring it. `tell_again` asks for a new e-mail even if the first one has gone (the
    team may already have it open with "Contact by: not given"). None when the conversation
    has no open urgent referral (nothing to add to)."""
    now = now or utcnow()
    with Session(engine) as session, session.begin():
        row = _latest_open_urgent(session, conversation_id)
        if row is None:
            return None
        row.contact_method = wish
        row.detail = "\n".join(part for part in (row.detail, f"{now:%Y-%m-%d %H:%M} contact: {wish}") if part)
        row.updated_at = now
        if tell_again and row.notified_at is not None:
            row.notified_at, row.last_attempt_at, row.last_error, row.notify_requested_at = None, None, None, now
        return UrgentReferral(row.id, created=False, email_owed=tell_again and row.notified_at is None)


def _latest_open_urgent(session: Session, conversation_id: str) -> Optional[Referral]:
    """The conversation's newest open urgent referral, locked for this transaction."""
    _lock_conversation(session, conversation_id)
    query = (
        select(Referral)
        .where(Referral.conversation_id == conversation_id, Referral.priority == "urgent", Referral.status != "closed")
        .order_by(Referral.id.desc())
        .limit(1)
        .with_for_update()
    )
    return session.execute(query).scalars().first()


def add_urgent_note(engine: Engine, conversation_id: str, note: str, now: Optional[dt.datetime] = None) -> Optional[int]:
    """A dated line on the conversation's open urgent referral ("they said it was a mistake"):
    the worker still sees the alert, and what the young person said about it. None when
    there is no open urgent referral."""
    now = now or utcnow()
    with Session(engine) as session, session.begin():
        row = _latest_open_urgent(session, conversation_id)
        if row is None:
            return None
        row.detail = "\n".join(part for part in (row.detail, f"{now:%Y-%m-%d %H:%M} {note}") if part)
        row.updated_at = now
        return row.id


def apply_status(row: Referral, status: str, now: dt.datetime) -> None:
    """The one rule for moving a referral (the dashboard and `bot.takeover` both use it).

    Acknowledged is stamped once. Closed is stamped when the referral becomes closed, and
    closing it again keeps that date; reopening clears it, so a referral closed, reopened and
    closed again is kept a full retention period from its last closing. (There were two
    rules: this function restamped every time, the dashboard kept the first date.)"""
    if status not in STATUSES:
        raise ValueError(f"unknown referral status {status!r}; use one of {', '.join(STATUSES)}")
    if status == "acknowledged" and row.acknowledged_at is None:
        row.acknowledged_at = now
    if status == "closed" and (row.status != "closed" or row.closed_at is None):
        row.closed_at = now
    elif status != "closed":
        row.closed_at = None
    row.status = status


def set_status(engine: Engine, referral_id: int, status: str, now: Optional[dt.datetime] = None) -> None:
    """Move a referral to acknowledged/closed (apply_status), by its id."""
    with Session(engine) as session, session.begin():
        row = session.get(Referral, referral_id)
        if row is None:
            raise LookupError(f"no referral {referral_id}")
        apply_status(row, status, now or utcnow())


# ---- when to try an e-mail, and when to say it has not gone ----------------------------------
def retry_delay(attempts: int) -> dt.timedelta:
    """How long after a failed attempt the next is due: 2^attempts minutes, at most an hour.

    Quick retries catch a relay that blipped; the cap keeps a long outage to one attempt an
    hour per referral, for as long as it takes (never a fixed number of attempts)."""
    return min(dt.timedelta(minutes=2 ** min(attempts, 12)), MAX_RETRY_DELAY)


def next_attempt_at(referral: Referral) -> Optional[dt.datetime]:
    """When this referral's e-mail may next be tried (None: it has been sent or is closed)."""
    if referral.notified_at is not None or referral.status == "closed":
        return None
    if referral.last_attempt_at is None:
        return referral.notify_requested_at or referral.created_at
    return referral.last_attempt_at + retry_delay(referral.notify_attempts)


def is_undelivered(referral: Referral, now: dt.datetime, after: dt.timedelta) -> bool:
    """An open urgent referral whose e-mail has been owed for longer than `after`: the team
    may not know, so staff screens say so instead of the retries going on unseen."""
    owed_since = referral.notify_requested_at or referral.created_at
    return (referral.priority == "urgent" and referral.status != "closed" and referral.notified_at is None
            and owed_since is not None and now - owed_since >= after)


# ---- the e-mail ----------------------------------------------------------------------------------
def referral_email(referral: Referral, dashboard_url: str) -> Tuple[str, str]:
    """Subject and body of the e-mail to the team: enough to act, nothing more."""
    urgent = referral.priority == "urgent"
    again = referral.notify_requested_at is not None  # an open urgent referral with new messages
    subject = f"{'URGENT: ' if urgent else ''}{'new messages on ' if again else ''}Pathfinder referral #{referral.id} ({referral.reason})"
    lines = [
        "A young person asked Pathfinder for help." if not urgent else
        "URGENT: a young person's message may mean they are in danger. Please review now.",
        "",
        f"Referral: #{referral.id}",
        f"Council: {referral.council_id or 'not given'}",
        f"Reason: {referral.reason}" + (f" ({referral.kind})" if referral.kind else ""),
        f"Channel: {referral.channel}",
        f"First name: {referral.first_name or 'not given'}",
        # The number or address itself stays in the dashboard: e-mail is not the place for it.
        f"Contact by: {referral.contact_method or 'not given'}" + (" (details in the dashboard)" if referral.contact_value else ""),
        f"Best time: {referral.contact_time or 'not given'}",
        f"Their message: {referral.message or '(none)'}",
        "",
        # By the referral's number, never the conversation id: e-mail is forwarded and kept, and
        # an id must not travel where a web conversation's id could be used to find it
        f"Conversation: {dashboard_url.rstrip('/')}/referrals/{referral.id}/conversation",
        f"Created (UTC): {referral.created_at:%Y-%m-%d %H:%M}",
    ]
    if again:  # (updated_at is not quoted: every e-mail attempt moves it too)
        lines.append(f"New crisis messages since the last e-mail (from {referral.notify_requested_at:%Y-%m-%d %H:%M} UTC): see the conversation.")
    return subject, "\n".join(lines)


def send_email(mail: MailSettings, to: str, subject: str, body: str) -> None:
    """Send one plain-text e-mail over SMTP; raises on any failure (`mail.timeout` per step)."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = mail.mail_from, to, subject
    message.set_content(body)
    with smtplib.SMTP(mail.host, mail.port, timeout=mail.timeout) as smtp:
        if mail.starttls:
            smtp.starttls()
        if mail.user:
            smtp.login(mail.user, mail.password or "")
        smtp.send_message(message)


def notify_referral(engine: Engine, mail: MailSettings, referral_id: int, inbox_for: Callable[[Optional[str]], str],
                    dashboard_url: str, now: Optional[dt.datetime] = None, force: bool = False) -> str:
    """Try this one referral's e-mail if it is due (any time with `force`); returns SENT,
    NOT_DUE, FAILED (this message was refused) or RELAY_DOWN.

    The attempt is claimed in the database before the SMTP call (attempts + 1, the time),
    so the background send of a new referral and a `retry` run never send it twice at
    once, and the back-off counts from the attempt even if this process dies mid-call (the
    referral stays pending: retry sends it). No database connection is held during SMTP.
    """
    now = now or utcnow()
    claimed = _claim(engine, referral_id, dashboard_url, now, force)
    if claimed is None:
        return NOT_DUE
    council_id, subject, body = claimed
    try:
        send_email(mail, inbox_for(council_id), subject, body)
    except Exception as error:  # noqa: BLE001 - recorded on the row; the referral stays pending
        _record_attempt(engine, referral_id, None, f"{type(error).__name__}: {error}"[:500])
        return FAILED if isinstance(error, MESSAGE_ERRORS) or not isinstance(error, OSError) else RELAY_DOWN
    _record_attempt(engine, referral_id, utcnow(), None)
    return SENT


def _claim(engine: Engine, referral_id: int, dashboard_url: str, now: dt.datetime,
           force: bool) -> Optional[Tuple[Optional[str], str, str]]:
    """Record an attempt on a pending, due referral and return (council, subject, body) to
    send; None if it is sent, closed, not due, or another process claimed it first."""
    with Session(engine) as session, session.begin():
        row = session.get(Referral, referral_id)
        due = next_attempt_at(row) if row is not None else None
        if due is None or (due > now and not force):
            return None
        claimed = session.execute(
            update(Referral)
            .where(Referral.id == referral_id, Referral.notified_at.is_(None), Referral.notify_attempts == row.notify_attempts)
            .values(notify_attempts=row.notify_attempts + 1, last_attempt_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        return (row.council_id, *referral_email(row, dashboard_url))


def _record_attempt(engine: Engine, referral_id: int, sent_at: Optional[dt.datetime], error: Optional[str]) -> None:
    """The outcome of a claimed attempt: sent (the time) or the error, on the row."""
    with Session(engine) as session, session.begin():
        row = session.get(Referral, referral_id)
        if row is None:
            return
        if sent_at is not None:
            row.notified_at, row.last_error = sent_at, None
        else:
            row.last_error = error


def notify_pending(engine: Engine, mail: MailSettings, inbox_for: Callable[[Optional[str]], str], dashboard_url: str,
                   now: Optional[dt.datetime] = None, force: bool = False) -> int:
    """E-mail every pending referral that is due (urgent first, oldest first); returns how many went.

    `force` ignores the back-off (e.g. right after the relay is fixed). The run stops at the
    first sign that the relay is down: the rest are tried on the next run, instead of one
    SMTP timeout each now. Nothing is ever given up on: a referral stays pending until sent.
    """
    now = now or utcnow()
    sent = 0
    for referral_id in pending_ids(engine, now, force):
        outcome = notify_referral(engine, mail, referral_id, inbox_for, dashboard_url, now=now, force=force)
        sent += outcome == SENT
        if outcome == RELAY_DOWN:
            break
    return sent


def pending_ids(engine: Engine, now: dt.datetime, force: bool = False) -> List[int]:
    """Ids of open referrals with an e-mail owed and due at `now` (all owed with `force`), urgent first."""
    with Session(engine) as session:
        rows = session.execute(
            select(Referral).where(Referral.notified_at.is_(None), Referral.status != "closed")
            .order_by(Referral.priority.desc(), Referral.id)
        ).scalars()
        return [row.id for row in rows if force or (next_attempt_at(row) or now) <= now]
