"""Sending referral e-mails with the project's settings (shared by the action server and tools).

A turn never waits for an e-mail: `notify_in_background` sends one new referral's e-mail
from a daemon thread and returns at once. A thread, not an asyncio task, because the SMTP
call blocks and must not hold the action server's event loop or wait on its executor; a
daemon one, because a process that is stopping must not wait out a hung relay. Nothing is
lost if the process exits mid-send: the referral is in the database, still pending, and
`python -m bot.referrals retry` sends it.
"""
from __future__ import annotations

import logging
import threading
import time
from typing import Callable, Optional

from sqlalchemy.engine import Engine

from bot.config import Settings, dashboard_url
from knowledge.store import KnowledgeBase
from services.referrals import MailSettings, notify_pending, notify_referral

logger = logging.getLogger(__name__)
# At most this many SMTP connections at once from one process; a burst of referrals while the
# relay hangs queues here (cheaply) instead of opening hundreds of sockets.
_SENDERS = threading.BoundedSemaphore(4)


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        mail_from=settings.mail_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
        timeout=settings.smtp_timeout,
    )


def inbox_finder(kb: KnowledgeBase, settings: Settings) -> Callable[[Optional[str]], str]:
    """The team inbox for a council: its leaving-care team's e-mail, else the default inbox."""

    def inbox_for(council_id: Optional[str]) -> str:
        contact = kb.contact(council_id, "leaving_care_team")
        return contact.email if contact and contact.email else settings.team_inbox

    return inbox_for


def notify_teams(engine: Engine, kb: KnowledgeBase, settings: Settings, force: bool = False) -> int:
    """E-mail every pending referral that is due (the backlog: `bot.referrals retry`)."""
    return notify_pending(engine, mail_settings(settings), inbox_finder(kb, settings), dashboard_url(), force=force)


def notify_one(engine: Engine, kb: KnowledgeBase, settings: Settings, referral_id: int) -> str:
    """E-mail this one referral if it is due; the outcome (services.referrals SENT, ...)."""
    return notify_referral(engine, mail_settings(settings), referral_id, inbox_finder(kb, settings), dashboard_url())


def notify_in_background(engine: Engine, kb_of: Callable[[], KnowledgeBase], settings: Settings,
                         referral_id: int) -> threading.Thread:
    """Start sending this referral's e-mail and return at once (the thread, for tests to join).

    `kb_of` is called in the thread: opening the knowledge base may itself touch the database.
    Failures are logged and stay on the referral for the retry; none reaches the caller.
    """

    def send() -> None:
        with _SENDERS:
            started = time.monotonic()
            try:
                outcome = notify_one(engine, kb_of(), settings, referral_id)
            except Exception:  # noqa: BLE001 - the referral is stored; `bot.referrals retry` sends it
                logger.exception("referral #%s: e-mail not sent now; it stays pending", referral_id)
                return
            logger.info("referral #%s: e-mail %s in %.1fs", referral_id, outcome, time.monotonic() - started)

    thread = threading.Thread(target=send, name=f"referral-email-{referral_id}", daemon=True)
    thread.start()
    return thread
