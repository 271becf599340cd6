"""Print the settings as shell `export` lines, so shell scripts and Python agree.

    eval "$(python -m bot.env)"
"""
from __future__ import annotations

import shlex

from bot.config import VAR_DIR, load_settings


def main() -> None:
    settings = load_settings()
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    exports = {
        "PATHFINDER_DB_URL": settings.database_url,
        "PATHFINDER_ACTION_URL": settings.action_url,
        "PATHFINDER_RASA_URL": settings.rasa_url,
        "RASA_TELEMETRY_ENABLED": "false",
    }
    for key, value in exports.items():
        print(f"export {key}={shlex.quote(value)}")


if __name__ == "__main__":
    main()
