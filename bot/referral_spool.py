"""A file of referrals that could not be written to the database, so none is ever lost.

One JSON object per line in var/referral_spool.jsonl. `import_spool` moves them into the
database once it is back (run by `python -m bot.referrals retry`, e.g. every minute).
"""
from __future__ import annotations

import json
import os
import threading
from dataclasses import asdict

from sqlalchemy.engine import Engine

from bot.config import VAR_DIR
from services.referrals import NewReferral, create_referral

SPOOL = VAR_DIR / "referral_spool.jsonl"
_lock = threading.Lock()


def spool_referral(referral: NewReferral) -> None:
    """Append the referral to the spool file and flush it to disk."""
    SPOOL.parent.mkdir(parents=True, exist_ok=True)
    with _lock, SPOOL.open("a", encoding="utf-8") as handle:
        handle.write(json.dumps(asdict(referral)) + "\n")
        handle.flush()
        os.fsync(handle.fileno())


def import_spool(engine: Engine) -> int:
    """Create every spooled referral in the database; lines that fail stay in the file."""
    if not SPOOL.exists():
        return 0
    with _lock:
        lines = [line for line in SPOOL.read_text(encoding="utf-8").splitlines() if line.strip()]
        left, imported = [], 0
        for line in lines:
            try:
                create_referral(engine, NewReferral(**json.loads(line)))
                imported += 1
            except Exception:  # noqa: BLE001 - keep it for the next run
                left.append(line)
        SPOOL.write_text("".join(f"{line}\n" for line in left), encoding="utf-8")
    return imported
