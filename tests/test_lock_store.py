"""The Redis ticket lock (bot/lock_store.py) against the real Redis on localhost.

Several "servers" (threads, each with its own event loop and its own lock store, as two Rasa
processes would have) take the lock for one conversation at once: at most one may hold it
at any moment, and turns are served in the order their tickets were issued.
"""
from __future__ import annotations

import asyncio
import os
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import List, Tuple

import pytest
import redis
from rasa.core.lock_store import LockError

from bot.lock_store import AtomicRedisLockStore, redacted

REDIS_URL = os.environ.get("PATHFINDER_TEST_REDIS_URL", "redis://localhost:6379/15")


def _store() -> AtomicRedisLockStore:
    return AtomicRedisLockStore(url=REDIS_URL, key_prefix="test" + uuid.uuid4().hex[:12])


@pytest.fixture(scope="module", autouse=True)
def redis_up():
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:  # CI has Redis on localhost, like PostgreSQL
        pytest.fail(f"these tests need Redis at {REDIS_URL}: {error}")


def _hammer(prefix: str, conversation: str, turns: int, log: List[Tuple[str, int, float]], busy: list) -> None:
    """One server: `turns` locked turns of ~2 ms each, logging (event, ticket, time)."""
    store = AtomicRedisLockStore(url=REDIS_URL, key_prefix=prefix)

    async def one_turn() -> None:
        ticket = await store.issue_ticket_async(conversation)
        try:
            await store.wait_for_turn(conversation, ticket)
            if busy:
                log.append(("overlap", ticket, time.monotonic()))
            busy.append(ticket)
            log.append(("enter", ticket, time.monotonic()))
            await asyncio.sleep(0.002)
            busy.remove(ticket)
        finally:
            await store.release(conversation, ticket)

    async def main() -> None:
        await asyncio.gather(*(one_turn() for _ in range(turns)))

    asyncio.run(main())


def test_two_servers_never_hold_one_conversation_at_once_and_serve_in_ticket_order():
    prefix, conversation = "test" + uuid.uuid4().hex[:12], "conv-1"
    log: List[Tuple[str, int, float]] = []
    busy: list = []
    with ThreadPoolExecutor(max_workers=3) as pool:
        for future in [pool.submit(_hammer, prefix, conversation, 15, log, busy) for _ in range(3)]:
            future.result(timeout=60)
    entered = [ticket for event, ticket, _ in log if event == "enter"]
    assert not [entry for entry in log if entry[0] == "overlap"]
    assert sorted(entered) == list(range(1, 46)), "a ticket was issued twice or lost"
    assert entered == sorted(entered), "turns were not served in ticket order"


def test_lock_is_deleted_when_the_last_ticket_is_released():
    store = _store()

    async def run() -> None:
        async with store.lock("conv-2"):
            assert await store._redis().exists(*store._keys("conv-2")) == 2
        assert await store._redis().exists(*store._keys("conv-2")) == 0

    asyncio.run(run())


def test_a_holder_that_never_releases_blocks_only_until_its_ticket_expires():
    store = _store()

    async def run() -> float:
        await store.issue_ticket_async("conv-3", lock_lifetime=0.3)  # a crashed server's ticket
        started = time.monotonic()
        async with store.lock("conv-3"):
            return time.monotonic() - started

    waited = asyncio.run(run())
    assert 0.2 < waited < 1.0


def test_waiters_get_the_lock_within_milliseconds_not_a_second():
    store = _store()
    order: List[str] = []

    async def turn(name: str, hold: float) -> None:
        async with store.lock("conv-4"):
            order.append(name)
            await asyncio.sleep(hold)

    async def run() -> float:
        started = time.monotonic()
        first = asyncio.create_task(turn("first", 0.05))
        await asyncio.sleep(0.01)
        await turn("second", 0)
        await first
        return time.monotonic() - started

    elapsed = asyncio.run(run())
    assert order == ["first", "second"]
    assert elapsed < 0.3, f"second turn waited {elapsed:.3f}s (Rasa's RedisLockStore polls every 1 s)"


def test_unreachable_redis_is_a_clear_error_at_start():
    with pytest.raises(LockError, match="redis://127.0.0.1:1/0"):
        AtomicRedisLockStore(url="redis://127.0.0.1:1/0")


def test_passwords_never_appear_in_errors():
    with pytest.raises(LockError) as error:
        AtomicRedisLockStore(url="redis://:s3cret@127.0.0.1:1/0")
    assert "s3cret" not in str(error.value) and "***" in str(error.value)
    assert redacted("redis://127.0.0.1:6379/1") == "redis://127.0.0.1:6379/1"


def test_key_prefix_must_be_alphanumeric():
    with pytest.raises(ValueError, match="letters and digits"):
        AtomicRedisLockStore(url=REDIS_URL, key_prefix="a:b")


def test_threads_are_independent_of_the_module_client():
    """Each event loop gets its own client (a redis.asyncio connection belongs to one loop)."""
    store = _store()

    async def once() -> None:
        async with store.lock("conv-5"):
            pass

    errors: list = []

    def run_in_own_loop() -> None:
        try:
            asyncio.run(once())
        except Exception as error:  # noqa: BLE001 - a thread's exception would otherwise vanish
            errors.append(error)

    threads = [threading.Thread(target=run_in_own_loop) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert not any(thread.is_alive() for thread in threads), "a thread's lock never finished"
    assert errors == []
    asyncio.run(once())  # and the main thread's own loop still works after them
