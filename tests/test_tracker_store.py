"""bot/tracker_store.py and bot/rasa_speedups.py: faster, and the same rows as Rasa's own.

The staff dashboard reads Rasa's `events` table directly, so the rows written by
PathfinderTrackerStore must be exactly those SQLTrackerStore writes for the same turns.
"""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from jsonschema import ValidationError
from rasa.core.actions.action import RemoteAction
from rasa.core.tracker_store import SQLTrackerStore, create_tracker_store
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import (
    ActionExecuted,
    Event,
    SessionStarted,
    SlotSet,
    UserUttered,
)
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.utils.common import all_subclasses
from rasa.utils.endpoints import read_endpoint_config
from sqlalchemy import create_engine, text

from bot import rasa_speedups
from bot.tracker_store import PathfinderTrackerStore
from tests.conftest import ROOT

DOMAIN = Domain.load(str(ROOT / "domain.yml"))


def _turn(text_: str, council: str) -> list:
    return [
        UserUttered(text_, {"name": "ask_money", "confidence": 0.9}),
        ActionExecuted("action_answer_offer"),
        SlotSet("council", council),
        ActionExecuted("action_listen"),
    ]


async def _conversation(store, sender: str) -> None:
    """Three turns, each retrieved and saved as Rasa's processor does."""
    tracker = DialogueStateTracker.from_events(sender, [ActionExecuted("action_session_start"), SessionStarted(),
                                                        ActionExecuted("action_listen")], DOMAIN.slots)
    await store.save(tracker)
    for n, council in enumerate(["walsall", "nottingham", "walsall"]):
        tracker = await store.retrieve(sender)
        for event in _turn(f"question {n}", council):
            tracker.update(event)
        await store.save(tracker)


def _without_time(rows: list) -> list:
    """Rows with the event timestamp taken out of `data` (the clock differs between runs)."""
    out = []
    for type_name, intent, action, data in rows:
        event = json.loads(data)
        event.pop("timestamp")
        out.append((type_name, intent, action, event))
    return out


def _rows(url: str, sender: str) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = connection.execute(
            text("SELECT type_name, intent_name, action_name, data FROM events WHERE sender_id = :s ORDER BY id"),
            {"s": sender},
        ).all()
    engine.dispose()
    return [tuple(row) for row in rows]


def test_rows_are_exactly_those_of_rasas_sql_tracker_store(tmp_path: Path):
    ours_url, stock_url = f"sqlite:///{tmp_path / 'ours.db'}", f"sqlite:///{tmp_path / 'stock.db'}"
    asyncio.run(_conversation(PathfinderTrackerStore(DOMAIN, host=ours_url), "conv"))
    asyncio.run(_conversation(SQLTrackerStore(DOMAIN, host=stock_url), "conv"))
    ours, stock = _rows(ours_url, "conv"), _rows(stock_url, "conv")
    assert len(ours) == 3 + 3 * 4
    assert _without_time(ours) == _without_time(stock)


def test_retrieve_gives_the_latest_session_with_its_slots(tmp_path: Path):
    store = PathfinderTrackerStore(DOMAIN, host=f"sqlite:///{tmp_path / 't.db'}")
    asyncio.run(_conversation(store, "conv"))
    tracker = asyncio.run(store.retrieve("conv"))
    assert tracker.get_slot("council") == "walsall"
    assert [e.text for e in tracker.events if isinstance(e, UserUttered)] == ["question 0", "question 1", "question 2"]
    assert asyncio.run(store.retrieve("nobody")) is None


def _interleaved(store_class, url: str) -> list:
    """Server A retrieved; server B stored a turn; then A saves (a lock bypassed)."""
    first, second = store_class(DOMAIN, host=url), store_class(DOMAIN, host=url)
    asyncio.run(_conversation(first, "conv"))
    stale = asyncio.run(first.retrieve("conv"))
    fresh = asyncio.run(second.retrieve("conv"))
    for event in _turn("from B", "nottingham"):
        fresh.update(event)
    asyncio.run(second.save(fresh))
    for event in _turn("from A", "walsall"):
        stale.update(event)
    asyncio.run(first.save(stale))
    return _without_time(_rows(url, "conv"))


def test_a_write_by_another_server_in_between_is_handled_as_rasa_handles_it(tmp_path: Path):
    """The stored count is trusted only if nothing was written since retrieve; otherwise the
    rows are what Rasa's own store writes (without a lock store, A's turn is dropped: that
    is what the Redis lock store in deploy/endpoints.multi.yml prevents)."""
    ours = _interleaved(PathfinderTrackerStore, f"sqlite:///{tmp_path / 'ours.db'}")
    stock = _interleaved(SQLTrackerStore, f"sqlite:///{tmp_path / 'stock.db'}")
    assert ours == stock


def test_endpoints_file_loads_this_store_not_rasas_in_memory_fallback(tmp_path: Path, monkeypatch):
    monkeypatch.setenv("PATHFINDER_DB_URL", f"sqlite:///{tmp_path / 'e.db'}")
    monkeypatch.setenv("PATHFINDER_ACTION_URL", "http://127.0.0.1:1/webhook")
    monkeypatch.setenv("PATHFINDER_REDIS_URL", "redis://127.0.0.1:1/0")  # only read, never connected here
    for endpoints in ("endpoints.yml", "deploy/endpoints.multi.yml"):
        config = read_endpoint_config(str(ROOT / endpoints), "tracker_store")
        store = create_tracker_store(config, DOMAIN)
        assert isinstance(getattr(store, "_tracker_store", store), PathfinderTrackerStore), endpoints


def test_event_classes_resolve_as_rasa_resolves_them():
    rasa_speedups.apply()
    for cls in all_subclasses(Event):
        assert issubclass(cls, Event.resolve_by_type(cls.type_name))
    assert Event.resolve_by_type("topic") is None
    assert Event.resolve_by_type("nonsense", default=SlotSet) is SlotSet
    with pytest.raises(ValueError, match="Unknown event name"):
        Event.resolve_by_type("nonsense")


def test_action_server_replies_are_still_validated():
    rasa_speedups.apply()
    action = RemoteAction("action_x", None)
    assert action._validate_action_result({"events": [{"event": "slot", "name": "a", "value": 1}], "responses": []})
    with pytest.raises(ValidationError, match="Failed to validate Action server response"):
        action._validate_action_result({"events": "not a list"})


def test_action_calls_carry_at_most_the_limit_of_events():
    rasa_speedups.apply()
    events = [ActionExecuted("action_listen") for _ in range(rasa_speedups.ACTION_EVENTS_LIMIT + 50)]
    tracker = DialogueStateTracker.from_events("conv", events, DOMAIN.slots)
    body = RemoteAction("action_x", None)._action_call_format(tracker, DOMAIN)
    assert len(body["tracker"]["events"]) == rasa_speedups.ACTION_EVENTS_LIMIT
    assert body["tracker"]["slots"] == tracker.current_slot_values()
