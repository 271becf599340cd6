"""A file of referrals that could not be written to the database, so none is ever lost.

One JSON object per line in var/referral_spool.jsonl. `import_spool` moves them into the
database once it is back (run by `python -m bot.referrals retry`, e.g. every minute); an
urgent one joins the conversation's open urgent referral of its kind if there is one (the
turn that spooled it may have made it after all), and its e-mail goes out with the backlog.
Writers: the actions when the database is down, and the channels when a turn that signals
danger failed before any referral could be made (bot.channels.safety).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import logging
import os
import threading
from dataclasses import asdict
from typing import Iterator

from sqlalchemy.engine import Engine

from bot.config import VAR_DIR
from knowledge.db import create_private_file
from services.referrals import NewReferral, create_or_update_urgent, create_referral

logger = logging.getLogger(__name__)
SPOOL = VAR_DIR / "referral_spool.jsonl"
_lock = threading.Lock()


@contextlib.contextmanager
def _locked() -> Iterator[None]:
    """Hold the spool for this thread and, through an flock on a side file, for this process:
    the Rasa server, the action server and `retry` are separate processes, and an append
    between `import_spool`'s read and its rewrite would otherwise be lost."""
    SPOOL.parent.mkdir(parents=True, exist_ok=True)
    for path in (SPOOL, SPOOL.with_suffix(".lock")):  # referrals hold names and numbers: owner only
        create_private_file(str(path))
    with _lock, open(SPOOL.with_suffix(".lock"), "a") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def spool_referral(referral: NewReferral) -> None:
    """Append the referral to the spool file and flush it to disk."""
    with _locked(), SPOOL.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(referral)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def import_spool(engine: Engine) -> int:
    """Create every spooled referral in the database; lines that fail stay in the file."""
    if not SPOOL.exists():
        return 0
    with _locked():
        lines = [line for line in SPOOL.read_text(encoding="utf-8").splitlines() if line.strip()]
        left, imported = [], 0
        for line in lines:
            try:
                referral = NewReferral(**json.loads(line))
                if referral.priority == "urgent":
                    create_or_update_urgent(engine, referral)
                else:
                    create_referral(engine, referral)
                imported += 1
            except Exception:  # noqa: BLE001 - keep it for the next run
                logger.exception("a spooled referral could not be imported; it stays in %s", SPOOL)
                left.append(line)
        SPOOL.write_text("".join(f"{line}\n" for line in left), encoding="utf-8")
    return imported
