"""Deleting what Pathfinder no longer needs: run it daily from cron.

    python -m bot.dashboard.retention            # PATHFINDER_RETENTION_DAYS, default 90
    python -m bot.dashboard.retention --days 30 --referral-days 365

- A conversation goes when its *last* event is older than the retention period: its
  events, unanswered questions, SMS rows (an SMS opt-out stays), tags and notes.
- A referral goes PATHFINDER_REFERRAL_RETENTION_DAYS (default 365) after it was closed;
  an open referral is never deleted (someone still has to act on it).
- Sign-in records (ended sessions, login attempts) go after a day.
- Safe on a schedule: it deletes in batches, each its own transaction, so a second run
  (or a run after a crash) simply finds less to do. It prints what it deleted.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections import Counter
from typing import Dict, List, Optional

from sqlalchemy import delete, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from bot.dashboard.conversations import EVENTS, epoch
from bot.dashboard.subject import delete_conversations
from services.models import Referral, SmsInbound, SmsOutbound, UnansweredQuestion, utcnow
from services.staff import LoginAttempt, StaffSession

BATCH = 500
# Sign-in bookkeeping is only needed for minutes or hours (sessions end after 8 hours at most).
SIGN_IN_RECORDS_KEPT = dt.timedelta(days=1)


def expired_conversations(engine: Engine, cutoff: dt.datetime, limit: int) -> List[str]:
    """Conversation ids whose last event is older than the cutoff."""
    query = (select(EVENTS.c.sender_id).group_by(EVENTS.c.sender_id)
             .having(func.max(EVENTS.c.timestamp) < epoch(cutoff)).order_by(EVENTS.c.sender_id).limit(limit))
    with Session(engine) as session:
        return [row.sender_id for row in session.execute(query)]


def delete_old_rows(session: Session, cutoff: dt.datetime) -> Dict[str, int]:
    """Rows past the cutoff that no conversation holds any more (e.g. the events went first)."""
    return {
        "unanswered_questions": session.execute(delete(UnansweredQuestion).where(UnansweredQuestion.created_at < cutoff)).rowcount,
        "sms_inbound": session.execute(delete(SmsInbound).where(SmsInbound.received_at < cutoff)).rowcount,
        "sms_outbound": session.execute(delete(SmsOutbound).where(SmsOutbound.created_at < cutoff)).rowcount,
    }


def apply_retention(engine: Engine, days: int, referral_days: int, now: Optional[dt.datetime] = None,
                    batch: int = BATCH) -> Counter:
    """Delete everything past its retention period; returns rows deleted per table."""
    if days <= 0 or referral_days <= 0:
        raise ValueError("retention periods must be at least one day")
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=days)
    totals: Counter = Counter()
    while True:
        ids = expired_conversations(engine, cutoff, batch)
        if not ids:
            break
        with Session(engine) as session, session.begin():
            totals["conversations"] += len(ids)
            totals.update(delete_conversations(session, ids, include_referrals=False, keep_opt_outs=True))
    with Session(engine) as session, session.begin():
        totals.update(delete_old_rows(session, cutoff))
        referral_cutoff = now - dt.timedelta(days=referral_days)
        totals["referrals"] += session.execute(
            delete(Referral).where(Referral.status == "closed", Referral.closed_at < referral_cutoff)
        ).rowcount
        totals["staff_sessions"] += session.execute(
            delete(StaffSession).where(StaffSession.created_at < now - SIGN_IN_RECORDS_KEPT)).rowcount
        totals["login_attempts"] += session.execute(
            delete(LoginAttempt).where(LoginAttempt.at < now - SIGN_IN_RECORDS_KEPT)).rowcount
    return totals


def main(argv: Optional[List[str]] = None) -> int:
    from bot.dashboard.settings import load_dashboard_settings

    settings = load_dashboard_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.dashboard.retention", description=__doc__.split("\n")[0])
    parser.add_argument("--days", type=int, default=settings.retention_days, help="keep conversations this many days (default %(default)s)")
    parser.add_argument("--referral-days", type=int, default=settings.referral_retention_days,
                        help="keep closed referrals this many days after closing (default %(default)s)")
    args = parser.parse_args(argv)
    if args.days <= 0 or args.referral_days <= 0:
        parser.error("--days and --referral-days must be at least 1")

    from bot.dashboard.auth import audit
    from bot.dashboard.conversations import open_store

    engine = open_store(settings.database_url)
    totals = apply_retention(engine, args.days, args.referral_days)
    summary = ", ".join(f"{label} {totals.get(label, 0)}" for label in
                        ("conversations", "events", "unanswered_questions", "sms_inbound", "sms_outbound", "sms_state",
                         "tags", "notes", "referrals"))
    audit(engine, "(retention)", "retention", None, summary)
    print(f"Deleted past {args.days} days (closed referrals past {args.referral_days}): {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
