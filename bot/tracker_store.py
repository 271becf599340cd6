"""Pathfinder's tracker store: Rasa's SQLTrackerStore, same `events` table, same rows and
meaning (the staff dashboard reads it), made cheaper per turn.

Named in endpoints.yml and deploy/endpoints.multi.yml as
`type: bot.tracker_store.PathfinderTrackerStore`. Loading it also installs the Rasa server
fixes in bot/rasa_speedups.py, so every Pathfinder Rasa server runs with them.

What is cheaper than stock (profiled with py-spy, 10 conversations at once, 2026-11-25):
- retrieve reads only the `id` and `data` columns with Core (no ORM objects for every row
  of the session: that was 40% of retrieve);
- save does not count the session's stored events again (Rasa's COUNT with a sub-query
  over all the sender's rows): retrieve notes how many events it loaded and the id of the
  last one; if that id is the sender's highest at save time (nothing was written in
  between, e.g. by another server or a deletion), the count is known; otherwise Rasa's
  own count is used;
- SQLite (the single-machine default): one pooled connection in WAL mode with
  synchronous=NORMAL instead of a new connection and a full fsync per transaction. (A
  power cut may lose the last turns, never corrupt the file; production uses PostgreSQL.)

Careful: Rasa falls back to an in-memory tracker store, with only a warning, when a custom
tracker store cannot be imported; tests/test_tracker_store.py checks the rows it writes.
"""
from __future__ import annotations

import itertools
import json
from typing import Any, Iterator, Optional, Tuple

import sqlalchemy as sa
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted
from rasa.shared.core.trackers import DialogueStateTracker
from sqlalchemy.pool import QueuePool

from bot import rasa_speedups

# Set on a retrieved tracker: (events loaded, row id of the last one).
_LOADED = "_pathfinder_loaded"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


class PathfinderTrackerStore(SQLTrackerStore):
    """SQLTrackerStore for a full database URL (`url:` in the endpoints file)."""

    def __init__(self, domain: Optional[Domain] = None, host: Optional[str] = None, **kwargs: Any) -> None:
        rasa_speedups.apply()
        if not host or "://" not in host:
            raise ValueError(f"PathfinderTrackerStore needs a full database URL as `url`, got {host!r}")
        super().__init__(domain=domain, host=host, **kwargs)
        if self.engine.dialect.name == "sqlite":
            self.engine.dispose()
            self.engine = sa.create_engine(
                host, poolclass=QueuePool, pool_size=1, max_overflow=4,
                connect_args={"check_same_thread": False, "timeout": 30},
            )
            sa.event.listen(self.engine, "connect", _sqlite_pragmas)
            self.sessionmaker = sa.orm.session.sessionmaker(bind=self.engine)

    # ---- queries ---------------------------------------------------------------------
    def _session_rows(self, session, sender_id: str):
        """(id, data) of the sender's events in the latest session, by id: Rasa's
        `_event_query` (events at or after the latest SessionStarted), two columns only."""
        table = self.SQLEvent.__table__
        start = (
            sa.select(sa.func.max(table.c.timestamp))
            .where(table.c.sender_id == sender_id, table.c.type_name == SessionStarted.type_name)
            .scalar_subquery()
        )
        query = (
            sa.select(table.c.id, table.c.data)
            .where(table.c.sender_id == sender_id)
            .where(sa.or_(start.is_(None), table.c.timestamp >= start))
            .order_by(table.c.id)
        )
        return session.execute(query).all()

    def _highest_id(self, session, sender_id: str) -> Optional[int]:
        table = self.SQLEvent.__table__
        return session.execute(sa.select(sa.func.max(table.c.id)).where(table.c.sender_id == sender_id)).scalar()

    # ---- TrackerStore ----------------------------------------------------------------
    async def retrieve(self, sender_id: str) -> Optional[DialogueStateTracker]:
        """The tracker of the latest conversation session (as Rasa's), or None."""
        rasa_speedups.freeze_heap()  # the model is loaded before the first message arrives
        with self.session_scope() as session:
            rows = self._session_rows(session, sender_id)
        if not rows or not self.domain:
            return None
        tracker = DialogueStateTracker.from_dict(sender_id, [json.loads(row.data) for row in rows], self.domain.slots)
        # The last row loaded, not a second query for the sender's highest id: if an older
        # session's row has a higher id, save just falls back to Rasa's count.
        setattr(tracker, _LOADED, (len(rows), rows[-1].id))
        return tracker

    def _additional_events(self, session, tracker: DialogueStateTracker) -> Iterator:
        """Events of the tracker not stored yet: known from retrieve when nothing was written
        for this sender since, else counted as Rasa does."""
        loaded: Optional[Tuple[int, int]] = getattr(tracker, _LOADED, None)
        if loaded is not None and self._highest_id(session, tracker.sender_id) == loaded[1]:
            return itertools.islice(tracker.events, loaded[0], len(tracker.events))
        return super()._additional_events(session, tracker)

    async def save(self, tracker: DialogueStateTracker) -> None:
        """Store the new events (Rasa's save), then forget the retrieve-time count: the
        tracker object may be saved again after more events."""
        await super().save(tracker)
        if hasattr(tracker, _LOADED):
            delattr(tracker, _LOADED)
