"""Wait until a URL answers (used by scripts and tests to know a server is up)."""
from __future__ import annotations

import argparse
import sys
import time
import urllib.error
import urllib.request


def wait_ready(url: str, timeout: float = 120.0, interval: float = 0.5) -> bool:
    """True once `url` answers with a 2xx status, False after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=5) as reply:
                if 200 <= reply.status < 300:
                    return True
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(interval)
    return False


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--timeout", type=float, default=120.0)
    args = parser.parse_args()
    if wait_ready(args.url, args.timeout):
        return 0
    print(f"{args.url} did not answer within {args.timeout:.0f}s", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
