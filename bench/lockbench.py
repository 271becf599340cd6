"""The Redis lock under contention: Rasa 3.6's RedisLockStore against bot/lock_store.py.

Several processes (as several Rasa servers would) each run turns for ONE conversation,
holding the lock for a simulated 20 ms turn. Counted: turns that ran while another held
the lock (mutual exclusion lost: interleaved or duplicated tracker events in real life),
turns that failed to get the lock, and the mean time a turn waited.
Run alone: `python -m bench.lockbench` (prints JSON).
"""
from __future__ import annotations

import asyncio
import json
import multiprocessing
import os
import time
import uuid
from typing import Dict

import redis

REDIS_URL = os.environ.get("PATHFINDER_REDIS_URL", "redis://localhost:6379/15")
HOLD_SECONDS = 0.02


def _store(kind: str, prefix: str):
    if kind == "rasa":
        from rasa.core.lock_store import RedisLockStore

        url = redis.connection.parse_url(REDIS_URL)
        return RedisLockStore(host=url.get("host", "localhost"), port=url.get("port", 6379), db=url.get("db", 0), key_prefix=prefix)
    from bot.lock_store import AtomicRedisLockStore

    return AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix)


def _worker(kind: str, prefix: str, turns: int, queue, go) -> None:
    """One 'server': `turns` turns in a row for the shared conversation, started together
    with the others (after the slow imports)."""
    try:
        store = _store(kind, prefix)
        flag = redis.Redis.from_url(REDIS_URL)
        busy_key = f"{prefix}:busy"
    except Exception as error:  # noqa: BLE001 - reported by the parent, which then stops
        queue.put(f"{type(error).__name__}: {error}")
        return
    queue.put("ready")
    go.wait()

    async def run() -> Dict[str, float]:
        overlaps = failures = 0
        waited = 0.0
        for _ in range(turns):
            asked = time.monotonic()
            try:
                async with store.lock("one-conversation"):
                    waited += time.monotonic() - asked
                    if flag.incr(busy_key) > 1:
                        overlaps += 1
                    await asyncio.sleep(HOLD_SECONDS)
                    flag.decr(busy_key)
            except Exception:  # noqa: BLE001 - LockError and friends: the turn failed
                failures += 1
        return {"overlaps": overlaps, "failures": failures, "waited": waited}

    queue.put(asyncio.run(run()))


def contention(kind: str, servers: int = 2, turns: int = 5) -> Dict[str, float]:
    """`servers` processes x `turns` turns on one conversation through lock store `kind`."""
    prefix = "bench" + uuid.uuid4().hex[:10]
    context = multiprocessing.get_context("spawn")
    queue, go = context.Queue(), context.Event()
    processes = [context.Process(target=_worker, args=(kind, prefix, turns, queue, go)) for _ in range(servers)]
    for process in processes:
        process.start()
    problems = [message for message in (queue.get(timeout=300) for _ in processes) if message != "ready"]
    if problems:
        for process in processes:  # our own children, waiting for the start signal
            process.terminate()
            process.join(30)
        raise RuntimeError(f"lock store {kind!r} could not start: {problems[0]}")
    started = time.monotonic()
    go.set()
    results = [queue.get(timeout=600) for _ in processes]
    redis.Redis.from_url(REDIS_URL).delete(f"{prefix}:busy")  # the only key left behind
    for process in processes:
        process.join(30)
    elapsed = time.monotonic() - started
    total = servers * turns
    return {
        "turns": total,
        "overlaps": sum(r["overlaps"] for r in results),
        "failures": sum(r["failures"] for r in results),
        "mean_wait_ms": 1000 * sum(r["waited"] for r in results) / total,
        "elapsed_s": elapsed,
        "turns_per_s": total / elapsed,
    }


def main() -> None:
    print(json.dumps({kind: contention(kind) for kind in ("rasa", "atomic")}, indent=1))


if __name__ == "__main__":
    main()
