"""Start the action server on localhost only (rasa_sdk binds 0.0.0.0 unless told)."""
from __future__ import annotations

import os


def main() -> None:
    os.environ.setdefault("SANIC_HOST", os.environ.get("PATHFINDER_ACTION_HOST", "127.0.0.1"))
    from rasa_sdk.endpoint import run

    port = int(os.environ.get("PATHFINDER_ACTION_PORT", "5055"))
    run("actions", port=port, cors_origins=None)


if __name__ == "__main__":
    main()
