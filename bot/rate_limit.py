"""How many messages one conversation, or one address, may send a minute.

Why: any web page could post into the site's proxy from a visitor's browser, and a script
could send a council's team a flood of urgent alerts. A young person typing fast stays far
under these limits; a crisis message is never refused (the channel checks before refusing).

In memory, per process: each server counts its own traffic, which is enough to stop a flood
through one door. Sliding one-minute windows; keys not seen for a window are dropped.
"""
from __future__ import annotations

import time
from collections import deque
from typing import Callable, Deque, Dict

WINDOW = 60.0  # seconds


class RateLimiter:
    """`allow(key)`: True while `key` has sent fewer than `per_minute` messages in the last minute."""

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic):
        self.per_minute = per_minute
        self.clock = clock
        self._seen: Dict[str, Deque[float]] = {}
        self._last_sweep = clock()

    def allow(self, key: str) -> bool:
        now = self.clock()
        self._sweep(now)
        times = self._seen.setdefault(key, deque())
        while times and now - times[0] >= WINDOW:
            times.popleft()
        if len(times) >= self.per_minute:
            return False
        times.append(now)
        return True

    def _sweep(self, now: float) -> None:
        """Forget keys with nothing in the window (once a window), so memory stays bounded."""
        if now - self._last_sweep < WINDOW:
            return
        self._last_sweep = now
        for key in [k for k, times in self._seen.items() if not times or now - times[-1] >= WINDOW]:
            del self._seen[key]
