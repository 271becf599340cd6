"""Two Rasa servers, one action server, one PostgreSQL tracker store, one Redis lock store.

This is the production layout (deploy/, docs/deployment.md) on one machine: a load balancer
may send each message of a conversation to either server. The conversation must come out of
PostgreSQL as if one server had handled it: every message once, in the order sent, each
turn finished (ending in action_listen) before the next one starts.
"""
from __future__ import annotations

import json
import os
import uuid
from pathlib import Path
from concurrent.futures import ThreadPoolExecutor
from typing import List

import pytest
import redis
from sqlalchemy import text

from tests.conftest import new_sender, start_bot, stop_bot, texts, wait_ready
from tests.test_store import postgres_engine

pytestmark = pytest.mark.postgres
REDIS_URL = os.environ.get("PATHFINDER_TEST_REDIS_URL", "redis://localhost:6379/15")

# A conversation whose state must carry across servers: the council question is asked on
# one server and answered on the other.
SCRIPT = [
    "hiya",
    "do i hav 2 pay council tax",
    "walsall",
    "wat about the gym",
    "how much is the setting up home grant",
    "can i get help with uni",
    "cheers",
]


@pytest.fixture(scope="module")
def cluster(trained_model, session_dir, smtp_server):
    """Servers A (with the action server) and B (using A's action server), started together."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except redis.RedisError as error:
        pytest.fail(f"the two-server test needs Redis at {REDIS_URL}: {error}")
    admin, name, engine = postgres_engine()
    controller, _ = smtp_server
    shared = dict(
        database_url=engine.url.render_as_string(hide_password=False),
        endpoints="deploy/endpoints.multi.yml",
        extra_env={"PATHFINDER_REDIS_URL": REDIS_URL},
    )
    folder = session_dir / f"multi-{uuid.uuid4().hex[:6]}"
    first = start_bot(trained_model, folder / "a", controller.port, wait=False, **shared)
    second = start_bot(trained_model, folder / "b", controller.port, with_actions=False,
                       action_url=first.action_url, wait=False, **shared)
    try:
        wait_ready(first)
        wait_ready(second)
        yield first, second, engine
    finally:
        stop_bot(first)
        stop_bot(second)
        engine.dispose()
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def stored_events(engine, sender: str) -> List[dict]:
    """The conversation as the dashboard sees it: rows of Rasa's `events` table, by id."""
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"), {"s": sender}
        ).all()
    return [{"type": row.type_name, "action": row.action_name, "data": json.loads(row.data)} for row in rows]


def turns_of(events: List[dict]) -> List[List[dict]]:
    """Split the events into turns, each starting at a user message."""
    turns: List[List[dict]] = []
    for event in events:
        if event["type"] == "user":
            turns.append([])
        if turns:
            turns[-1].append(event)
    return turns


def assert_well_formed(events: List[dict], sent: List[str]) -> None:
    """Every message stored once; each turn complete (ends listening) before the next starts;
    no event row written twice."""
    users = [event["data"].get("text") for event in events if event["type"] == "user"]
    assert sorted(users) == sorted(sent), f"lost or duplicated user messages: {users}"
    for turn in turns_of(events):
        actions = [event["action"] for event in turn if event["type"] == "action"]
        assert actions and actions[-1] == "action_listen", f"turn of {turn[0]['data'].get('text')!r} interleaved: {actions}"
        assert actions.count("action_listen") == 1, f"two turns interleaved: {actions}"
    rows = [json.dumps(event["data"], sort_keys=True) for event in events]
    assert len(rows) == len(set(rows)), "an event was stored twice"


def test_messages_sent_alternately_to_two_servers_are_processed_in_order(cluster):
    first, second, engine = cluster
    sender = new_sender()
    replies = [texts((first, second)[i % 2].say(sender, message)) for i, message in enumerate(SCRIPT)]
    events = stored_events(engine, sender)
    assert_well_formed(events, SCRIPT)
    assert [e["data"]["text"] for e in events if e["type"] == "user"] == SCRIPT
    # state crossed servers: the council asked for on A was answered on B and used on A
    assert "Walsall" in replies[2] and "council tax" in replies[2].lower()
    assert first.slot(sender, "council") == "walsall" == second.slot(sender, "council")
    assert second.slot(sender, "topic") == "smalltalk"


def test_concurrent_messages_to_both_servers_are_serialised(cluster):
    first, second, engine = cluster
    sender = new_sender()
    first.say(sender, "hi", council="walsall")
    burst = [f"how much is the setting up home grant {n}" if n % 2 else f"can i get help with rent {n}" for n in range(8)]
    with ThreadPoolExecutor(max_workers=len(burst)) as pool:
        futures = [pool.submit((first, second)[n % 2].say, sender, message, "walsall") for n, message in enumerate(burst)]
        answers = [texts(future.result(timeout=120)) for future in futures]
    assert all("something went wrong" not in answer for answer in answers), answers
    assert_well_formed(stored_events(engine, sender), ["hi", *burst])


def test_the_api_token_is_not_on_any_command_line(bot):
    """#16: `ps -ef` showed `--auth-token <token>`; bot.rasa_server takes it from the environment."""
    for process in bot.processes:
        command_line = Path(f"/proc/{process.pid}/cmdline").read_bytes().decode(errors="replace")
        assert bot.token not in command_line, command_line
    assert any("bot.rasa_server" in Path(f"/proc/{p.pid}/cmdline").read_bytes().decode() for p in bot.processes)
