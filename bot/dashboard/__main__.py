"""Start the staff dashboard: python -m bot.dashboard [--host 127.0.0.1] [--port 8080]."""
from __future__ import annotations

import argparse
import logging
import sys
from typing import List, Optional

from bot.dashboard.app import create_app
from bot.dashboard.conversations import open_store
from bot.dashboard.settings import display_key, load_dashboard_settings


def main(argv: Optional[List[str]] = None) -> int:
    settings = load_dashboard_settings()
    parser = argparse.ArgumentParser(prog="python -m bot.dashboard", description="The staff dashboard (conversation review).")
    parser.add_argument("--host", default=settings.host, help="address to listen on (default %(default)s; put TLS in front)")
    parser.add_argument("--port", type=int, default=settings.port, help="default %(default)s (PATHFINDER_DASHBOARD_PORT)")
    args = parser.parse_args(argv)
    engine = open_store(settings.database_url)
    app = create_app(engine, settings, display_key())
    logging.getLogger("sanic.access").setLevel(logging.WARNING)
    app.run(host=args.host, port=args.port, access_log=False, workers=1, motd=False)
    return 0


if __name__ == "__main__":
    sys.exit(main())
