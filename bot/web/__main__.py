"""Serve the public site: `python -m bot.web [--host 127.0.0.1] [--port 8000]`."""
from __future__ import annotations

import argparse
import os

from bot.web.app import create_app


def main() -> None:
    parser = argparse.ArgumentParser(description="Pathfinder's public site: chat widget, demo pages, chat proxy.")
    parser.add_argument("--host", default=os.environ.get("PATHFINDER_SITE_HOST", "127.0.0.1"))
    parser.add_argument("--port", type=int, default=int(os.environ.get("PATHFINDER_SITE_PORT", "8000")))
    args = parser.parse_args()
    create_app().run(host=args.host, port=args.port, access_log=False)


if __name__ == "__main__":
    main()
