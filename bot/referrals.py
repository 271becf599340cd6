"""Referral tool for staff and schedulers.

    python -m bot.referrals retry         # import spooled referrals, e-mail the pending ones that are due
    python -m bot.referrals retry --all   # ... all pending ones now, ignoring back-off (relay just fixed)
    python -m bot.referrals list          # referrals, newest first (urgent marked, NOT DELIVERED shown)

Run `retry` every minute from cron: each pending e-mail is tried again 2, 4, 8 ... minutes
after its last attempt (at most hourly), for as long as it takes.
"""
from __future__ import annotations

import argparse
import datetime as dt
import sys
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import load_settings
from bot.notify import notify_teams
from bot.referral_spool import import_spool
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase
from services.models import Referral, create_all, utcnow
from services.referrals import is_undelivered, next_attempt_at


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Retry or list referrals.")
    parser.add_argument("command", choices=["retry", "list"])
    parser.add_argument("--all", action="store_true", help="retry: every pending e-mail now, ignoring back-off")
    args = parser.parse_args(argv)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    create_all(engine)
    if args.command == "retry":
        imported = import_spool(engine)
        sent = notify_teams(engine, KnowledgeBase(engine), settings, force=args.all)
        print(f"imported {imported} spooled referral(s); e-mailed {sent}")
        return 0
    undelivered_after = dt.timedelta(minutes=settings.urgent_undelivered_minutes)
    now = utcnow()
    with Session(engine) as session:
        for row in session.execute(select(Referral).order_by(Referral.id.desc())).scalars():
            print(describe(row, now, undelivered_after))
    return 0


def describe(row: Referral, now: dt.datetime, undelivered_after: dt.timedelta) -> str:
    """One line of `list`: an urgent referral whose e-mail is overdue says NOT DELIVERED first."""
    flag = "URGENT " if row.priority == "urgent" else ""
    warning = "NOT DELIVERED " if is_undelivered(row, now, undelivered_after) else ""
    kind = f" ({row.kind})" if row.kind else ""
    return (f"#{row.id} {warning}{flag}{row.status} {row.reason}{kind} {row.council_id or '-'} "
            f"{row.created_at:%Y-%m-%d %H:%M} e-mail {email_state(row)}")


def email_state(row: Referral) -> str:
    """Sent, or not yet: how many tries, the last error and when the next try is due."""
    if row.notified_at:
        return "sent"
    due: Optional[dt.datetime] = next_attempt_at(row)
    error = f", last error: {row.last_error}" if row.last_error else ""
    when = f", next try {due:%H:%M} UTC" if due else ""
    return f"not sent ({row.notify_attempts} tries{error}{when})"


if __name__ == "__main__":
    sys.exit(main())
