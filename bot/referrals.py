"""Referral tool for staff and schedulers.

    python -m bot.referrals retry     # import spooled referrals, e-mail every pending one
    python -m bot.referrals list      # referrals, newest first (urgent marked)
"""
from __future__ import annotations

import argparse
import sys

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.config import load_settings
from bot.notify import notify_teams
from bot.referral_spool import import_spool
from knowledge.db import make_engine
from knowledge.store import KnowledgeBase
from services.models import Referral, create_all


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description="Retry or list referrals.")
    parser.add_argument("command", choices=["retry", "list"])
    args = parser.parse_args(argv)
    settings = load_settings()
    engine = make_engine(settings.database_url)
    create_all(engine)
    if args.command == "retry":
        imported = import_spool(engine)
        sent = notify_teams(engine, KnowledgeBase(engine), settings)
        print(f"imported {imported} spooled referral(s); e-mailed {sent}")
        return 0
    with Session(engine) as session:
        for row in session.execute(select(Referral).order_by(Referral.id.desc())).scalars():
            flag = "URGENT " if row.priority == "urgent" else ""
            sent = "sent" if row.notified_at else f"not sent ({row.notify_attempts} tries)"
            print(f"#{row.id} {flag}{row.status} {row.reason} {row.council_id or '-'} {row.created_at:%Y-%m-%d %H:%M} e-mail {sent}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
