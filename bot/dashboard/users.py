"""Staff accounts from the command line (the password is read from a prompt or stdin, never argv).

    python -m bot.dashboard.users add --email sam@walsall.gov.uk --role participation_worker --council walsall
    python -m bot.dashboard.users list
    python -m bot.dashboard.users disable --email sam@walsall.gov.uk
"""
from __future__ import annotations

import argparse
import getpass
import sys
from typing import List, Optional

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from services.passwords import MIN_LENGTH, PasswordRejected
from services.staff import ROLES, StaffSession, StaffUser


def read_password() -> str:
    """From a prompt (typed twice) on a terminal, else the first line of stdin (for scripts)."""
    if sys.stdin.isatty():
        first = getpass.getpass(f"Password (at least {MIN_LENGTH} characters): ")
        if getpass.getpass("Same password again: ") != first:
            raise ValueError("the two passwords were different")
        return first
    return sys.stdin.readline().rstrip("\n")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.dashboard.users", description="Manage dashboard staff accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    add = commands.add_parser("add", help="create an account (password from a prompt or stdin)")
    add.add_argument("--email", required=True)
    add.add_argument("--role", required=True, choices=ROLES)
    add.add_argument("--council", help="council id, e.g. walsall (not for admins)")
    commands.add_parser("list", help="list accounts")
    disable = commands.add_parser("disable", help="stop an account signing in and end its sessions")
    disable.add_argument("--email", required=True)
    args = parser.parse_args(argv)

    from bot.dashboard.auth import add_user, audit, normalise_email
    from bot.dashboard.settings import load_dashboard_settings
    from knowledge.db import make_engine
    from services.models import create_all

    engine = make_engine(load_dashboard_settings().database_url)
    create_all(engine)
    try:
        if args.command == "add":
            add_user(engine, args.email, read_password(), args.role, args.council)
            audit(engine, "(command line)", "user_added", normalise_email(args.email), args.role)
            print(f"Added {normalise_email(args.email)} ({args.role}{', ' + args.council if args.council else ''}).")
        elif args.command == "list":
            with Session(engine) as session:
                for user in session.execute(select(StaffUser).order_by(StaffUser.email)).scalars():
                    state = "active" if user.active else "disabled"
                    print(f"{user.email}\t{user.role}\t{user.council_id or 'all councils'}\t{state}")
        else:
            email = normalise_email(args.email)
            with Session(engine) as session, session.begin():
                user = session.execute(select(StaffUser).where(StaffUser.email == email)).scalar_one_or_none()
                if user is None:
                    raise ValueError(f"there is no user with the e-mail {email}")
                user.active = False
                session.execute(delete(StaffSession).where(StaffSession.user_id == user.id))
            audit(engine, "(command line)", "user_disabled", email)
            print(f"Disabled {email}.")
    except (ValueError, PasswordRejected) as error:
        print(f"Not done: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
