"""The web origins allowed to call the Rasa server, checked to be exact.

Sanic-Cors (shipped with Rasa) treats an origin containing *, ?, ] or a backslash as a
regular expression and matches it by prefix, so `https://.*\\.example\\.com` would also admit
`https://x.example.com.attacker.test`. Only exact `scheme://host[:port]` origins are accepted.
"""
from __future__ import annotations

import re
import sys
from typing import List

from bot.config import load_settings

_EXACT_ORIGIN = re.compile(r"^https?://[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$")


def checked_origins(origins: List[str]) -> List[str]:
    """The origins, lower-cased; raises ValueError naming any that is not exact."""
    bad = [o for o in origins if not _EXACT_ORIGIN.match(o.lower())]
    if bad:
        raise ValueError(
            "PATHFINDER_CORS_ORIGINS must list exact origins like https://www.walsall.gov.uk "
            f"(no wildcards or patterns): {', '.join(bad)}"
        )
    return [o.lower() for o in origins]


def main() -> int:
    try:
        print("\n".join(checked_origins(load_settings().cors_origins)))
    except ValueError as error:
        print(error, file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
