"""Sending referral e-mails with the project's settings (shared by the action server and tools)."""
from __future__ import annotations

from sqlalchemy.engine import Engine

from bot.config import Settings, dashboard_url
from knowledge.store import KnowledgeBase
from services.referrals import MailSettings, notify_pending


def mail_settings(settings: Settings) -> MailSettings:
    return MailSettings(
        host=settings.smtp_host,
        port=settings.smtp_port,
        mail_from=settings.mail_from,
        user=settings.smtp_user,
        password=settings.smtp_password,
        starttls=settings.smtp_starttls,
    )


def notify_teams(engine: Engine, kb: KnowledgeBase, settings: Settings) -> int:
    """E-mail every pending referral to its council's leaving-care team inbox."""

    def inbox_for(council_id):
        contact = kb.contact(council_id, "leaving_care_team")
        return contact.email if contact and contact.email else settings.team_inbox

    return notify_pending(engine, mail_settings(settings), inbox_for, dashboard_url())
