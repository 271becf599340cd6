"""Start `rasa run` with the HTTP API token from the environment, not the command line.

`--auth-token TOKEN` on the command line is readable by every local user (`ps -ef` shows
it). This launcher takes the token from PATHFINDER_AUTH_TOKEN, or from the file named by
PATHFINDER_AUTH_TOKEN_FILE (var/auth_token from scripts/run.sh), and hands it to Rasa inside
the process: the process list shows only `python -m bot.rasa_server --model ...`.

    python -m bot.rasa_server --model models/pathfinder.tar.gz --enable-api --port 5005 ...

Every other argument is passed to `rasa run` unchanged.

It also caps request bodies (PATHFINDER_MAX_REQUEST_BYTES, 256 KB): Sanic's default is
100 MB, and a 5 MB post was read in full before the channel refused it. Sanic reads
SANIC_REQUEST_MAX_SIZE from the environment when Rasa creates its app, and then answers 413
from the Content-Length header alone, before reading the body.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import List, Optional, Sequence


def auth_token() -> Optional[str]:
    """The token from PATHFINDER_AUTH_TOKEN, else from the file PATHFINDER_AUTH_TOKEN_FILE names."""
    token = os.environ.get("PATHFINDER_AUTH_TOKEN", "").strip()
    if token:
        return token
    path = os.environ.get("PATHFINDER_AUTH_TOKEN_FILE", "").strip()
    if path and Path(path).is_file():
        return Path(path).read_text(encoding="utf-8").strip() or None
    return None


def rasa_argv(args: Sequence[str], token: str) -> List[str]:
    """The `rasa run` arguments, with the token added (refused if it was given on the line)."""
    if any(arg == "--auth-token" or arg.startswith("--auth-token=") for arg in args):
        raise SystemExit("bot.rasa_server: give the token in PATHFINDER_AUTH_TOKEN, not --auth-token")
    return ["rasa", "run", *args, "--auth-token", token]


def limit_request_bodies(max_bytes: int) -> None:
    """Make the Sanic app Rasa is about to create refuse bodies over `max_bytes` (this process only)."""
    os.environ["SANIC_REQUEST_MAX_SIZE"] = str(max_bytes)


def main(argv: Optional[Sequence[str]] = None) -> None:
    token = auth_token()
    if not token:
        raise SystemExit("bot.rasa_server: set PATHFINDER_AUTH_TOKEN (or PATHFINDER_AUTH_TOKEN_FILE)")
    from bot.config import load_settings

    limit_request_bodies(load_settings().max_request_bytes)
    sys.argv = rasa_argv(list(sys.argv[1:] if argv is None else argv), token)  # this process only
    from rasa.__main__ import main as rasa_main

    rasa_main()


if __name__ == "__main__":
    main()
