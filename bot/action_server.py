"""Start the action server on localhost only (rasa_sdk binds 0.0.0.0 unless told).

In production it first refuses to start on what `bot.config.check_production` refuses (demo
placeholder contacts in the offer files, no API token, SQLite): a fresh start publishes the
offer files on its first answer, so the check cannot be left to `bot.content reload` alone.
"""
from __future__ import annotations

import os
import sys


def production_refusals() -> list:
    """Why this start must be refused (empty outside production, or when all is in order)."""
    from bot.config import check_production, load_settings
    from knowledge.content import load_offers

    settings = load_settings()
    if not settings.production:
        return []
    return check_production(settings, load_offers().placeholder_contacts())


def main() -> None:
    refusals = production_refusals()
    if refusals:
        print("Refusing to start in production:\n  " + "\n  ".join(refusals), file=sys.stderr)
        raise SystemExit(1)
    os.environ.setdefault("SANIC_HOST", os.environ.get("PATHFINDER_ACTION_HOST", "127.0.0.1"))
    from rasa_sdk.endpoint import run

    port = int(os.environ.get("PATHFINDER_ACTION_PORT", "5055"))
    run("actions", port=port, cors_origins=None)


if __name__ == "__main__":
    main()
