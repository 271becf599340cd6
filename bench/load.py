"""Closed-loop load through the REST channel: N conversations at once, each a multi-turn
script sent turn after turn (the next message leaves when the reply arrives), new
conversations started until the phase's time is up."""
from __future__ import annotations

import asyncio
import itertools
import time
import uuid
from typing import Callable, List, Optional, Sequence

import aiohttp

from bench.stats import PhaseResult

FAILURE_TEXT = "something went wrong on our side"


async def _turn(session: aiohttp.ClientSession, url: str, sender: str, text: str, council: Optional[str]) -> bool:
    """Send one message; True if the bot answered (a failure reply counts as an error)."""
    body = {"sender": sender, "message": text, "metadata": {"council": council} if council else {}}
    async with session.post(url + "/webhooks/rest/webhook", json=body) as reply:
        messages = await reply.json(content_type=None) if reply.status == 200 else None
    return bool(messages) and not any(FAILURE_TEXT in (m.get("text") or "") for m in messages)


async def run_phase(
    url: str,
    name: str,
    concurrency: int,
    duration: float,
    scripts: Sequence[List[str]],
    councils: Sequence[Optional[str]] = (None,),
    progress: Optional[Callable[[str], None]] = None,
) -> PhaseResult:
    """`concurrency` conversations at once for `duration` seconds; every turn timed."""
    latencies: List[float] = []
    errors = 0
    deadline = time.monotonic() + duration
    timeout = aiohttp.ClientTimeout(total=120)

    async def user(index: int, session: aiohttp.ClientSession) -> None:
        nonlocal errors
        for round_ in itertools.count():
            script = scripts[(index + round_) % len(scripts)]
            council = councils[(index + round_) % len(councils)]
            sender = f"bench-{uuid.uuid4().hex[:16]}"
            for text in script:
                if time.monotonic() >= deadline:
                    return
                started = time.monotonic()
                try:
                    ok = await _turn(session, url, sender, text, council)
                except (aiohttp.ClientError, asyncio.TimeoutError):
                    ok = False
                if ok:
                    latencies.append(time.monotonic() - started)
                else:
                    errors += 1

    async def report() -> None:
        while True:
            await asyncio.sleep(5)
            if progress:
                progress(f"  {name} x{concurrency}: {len(latencies)} messages, {errors} errors so far")

    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        started = time.monotonic()
        reporter = asyncio.create_task(report())
        await asyncio.gather(*(user(index, session) for index in range(concurrency)))
        elapsed = time.monotonic() - started
        reporter.cancel()
    return PhaseResult(name, concurrency, latencies, errors, elapsed)


async def long_conversation(url: str, turns: int, messages: Sequence[str], council: str) -> List[float]:
    """Latency of each turn of one conversation of `turns` messages."""
    sender = f"bench-long-{uuid.uuid4().hex[:12]}"
    latencies: List[float] = []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120)) as session:
        for number in range(turns):
            started = time.monotonic()
            await _turn(session, url, sender, messages[number % len(messages)], council)
            latencies.append(time.monotonic() - started)
    return latencies
