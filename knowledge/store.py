"""The knowledge base: publish validated offer content into SQL and answer queries from it.

Queries are built with SQLAlchemy expressions (always parameterised). Results are cached per
content version: a reload bumps the version, so every running process serves the new
content on its next query without a restart, and an unchanged offer costs one tiny query.
"""
from __future__ import annotations

import json
import re
import threading
from pathlib import Path
from typing import Dict, List, Optional, Tuple

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool
from sqlalchemy.orm import Session

from knowledge.content import (
    NATIONAL,
    OFFERS_DIR,
    Amount,
    Contact,
    Council,
    Entitlement,
    OfferContent,
    load_offers,
)
from knowledge.db import ContactRow, ContentVersion, CouncilRow, EntitlementRow, create_schema
from knowledge.retrieval import OfferIndex

_WORD = re.compile(r"[a-z0-9£']+")


class KnowledgeBase:
    """Read/write access to the offer content held in the database."""

    def __init__(self, engine: Engine):
        self.engine = engine
        self._lock = threading.Lock()
        self._cache_version: Optional[int] = None
        self._cache: Dict[tuple, object] = {}
        self._version_connection: Optional[Connection] = None

    # ---- writing -------------------------------------------------------------------
    def publish(self, content: OfferContent) -> int:
        """Replace all content in one transaction (never half-loaded); returns the new version."""
        create_schema(self.engine)
        with Session(self.engine) as session, session.begin():
            for table in (EntitlementRow, ContactRow, CouncilRow):
                session.execute(delete(table))
            session.flush()
            for council in content.councils.values():
                session.add(_council_row(council))
            session.flush()
            for council in content.councils.values():
                session.add_all(_contact_row(council.id, contact) for contact in council.contacts.values())
            for position, entitlement in enumerate(content.entitlements):
                session.add(_entitlement_row(entitlement, position))
            version_row = session.get(ContentVersion, 1) or ContentVersion(id=1, version=0)
            version_row.version += 1
            session.add(version_row)
            new_version = version_row.version
        return new_version

    def reload(self, directory: Path = OFFERS_DIR) -> int:
        """Validate the files and publish them; on any problem the old content stays."""
        return self.publish(load_offers(directory))

    def ensure_loaded(self, directory: Path = OFFERS_DIR) -> int:
        """Publish the files if the database has no content yet (first start)."""
        create_schema(self.engine)
        version = self.version()
        return version if version else self.reload(directory)

    # ---- reading -------------------------------------------------------------------
    def version(self) -> int:
        """The published content version, read from the database on every call (so another
        process's reload is seen on the next answer)."""
        if not isinstance(self.engine.pool, NullPool):
            with self.engine.connect() as connection:  # a pooled connection: cheap to check out
                return _read_version(connection)
        # SQLite's default NullPool opens a new connection (and sets its pragmas) on every
        # checkout: profiling showed that as 45% of the action server's time, so this check
        # keeps one connection, ending its read transaction after each read to see new commits.
        with self._lock:
            for attempt in (1, 2):
                try:
                    if self._version_connection is None:
                        self._version_connection = self.engine.connect()
                    return _read_version(self._version_connection)
                except DBAPIError:
                    self._drop_version_connection()
                    if attempt == 2:
                        raise
        raise AssertionError("unreachable")

    def _drop_version_connection(self) -> None:
        connection, self._version_connection = self._version_connection, None
        if connection is not None:
            try:
                connection.close()
            except DBAPIError:
                pass

    def _cached(self, key: tuple, compute):
        """Memoise `compute()` for the current content version."""
        version = self.version()
        with self._lock:
            if version != self._cache_version:
                self._cache, self._cache_version = {}, version
            if key in self._cache:
                return self._cache[key]
        value = compute()
        with self._lock:
            if self._cache_version == version:
                self._cache[key] = value
        return value

    def councils(self) -> Dict[str, Council]:
        """Every council with an offer (the national layer is not a council a user picks)."""
        return self._cached(("councils",), self._load_councils)

    def _load_councils(self) -> Dict[str, Council]:
        with Session(self.engine) as session:
            contacts: Dict[str, Dict[str, Contact]] = {}
            for row in session.execute(select(ContactRow)).scalars():
                contacts.setdefault(row.council_id, {})[row.kind] = _contact_from_row(row)
            return {
                row.id: Council(
                    id=row.id,
                    name=row.name,
                    offer_name=row.offer_name,
                    website=row.website,
                    aliases=tuple(a for a in row.aliases.split("|") if a),
                    contacts=contacts.get(row.id, {}),
                    source_file=row.source_file,
                )
                for row in session.execute(select(CouncilRow).order_by(CouncilRow.id)).scalars()
            }

    def council(self, council_id: Optional[str]) -> Optional[Council]:
        return self.councils().get(council_id or "")

    def local_councils(self) -> List[Council]:
        return [c for c in self.councils().values() if c.id != NATIONAL]

    def resolve_council(self, text: Optional[str]) -> Optional[str]:
        """The council id a user meant ("Walsall", "cambs", "nottingham city"), or None."""
        if not text:
            return None
        cleaned = " ".join(_WORD.findall(text.lower()))
        for council in self.local_councils():
            names = (council.id, *council.aliases)
            if cleaned in names:
                return council.id
        for council in self.local_councils():
            if any(re.search(rf"\b{re.escape(alias)}\b", cleaned) for alias in (council.id, *council.aliases)):
                return council.id
        return None

    def council_mention(self, text: Optional[str]) -> Optional[Tuple[str, int, int]]:
        """The first council named in the text, with where it stands: (id, start, end)."""
        lowered = (text or "").lower()
        found = []
        for council in self.local_councils():
            for alias in sorted((council.id, *council.aliases), key=len, reverse=True):
                match = re.search(rf"\b{re.escape(alias)}\b", lowered)
                if match:
                    found.append((match.start(), -len(alias), council.id, match.end()))
        if not found:
            return None
        start, _, council_id, end = min(found)
        return council_id, start, end

    def contact(self, council_id: Optional[str], kind: str) -> Optional[Contact]:
        """The council's contact of this kind, else the national one (e.g. Coram Voice)."""
        for source in (council_id, NATIONAL):
            council = self.council(source)
            if council and kind in council.contacts:
                return council.contacts[kind]
        return None

    def entitlements(
        self,
        council_id: Optional[str],
        topic: Optional[str] = None,
        age: Optional[int] = None,
        include_national: bool = True,
    ) -> List[Entitlement]:
        """Entitlements for a council (its own first, then national), filtered by topic and age."""
        key = ("entitlements", council_id, topic, age, include_national)
        return self._cached(key, lambda: self._query_entitlements(council_id, topic, age, include_national))

    def _query_entitlements(
        self, council_id: Optional[str], topic: Optional[str], age: Optional[int], include_national: bool
    ) -> List[Entitlement]:
        councils = [c for c in (council_id, NATIONAL if include_national else None) if c]
        query = select(EntitlementRow).where(EntitlementRow.council_id.in_(councils))
        if topic:
            query = query.where(EntitlementRow.topic == topic)
        if age is not None:
            query = query.where(or_(EntitlementRow.min_age.is_(None), EntitlementRow.min_age <= age))
            query = query.where(or_(EntitlementRow.max_age.is_(None), EntitlementRow.max_age >= age))
        with Session(self.engine) as session:
            rows = session.execute(query).scalars().all()
            found = [_entitlement_from_row(row) for row in rows]
            order = {row.id: row.position for row in rows}
        found.sort(key=lambda e: (e.council == NATIONAL, order[e.id]))
        return found

    def all_entitlements(self) -> List[Entitlement]:
        """Every published entry of every council and the national layer, in file order."""
        def load() -> List[Entitlement]:
            with Session(self.engine) as session:
                rows = session.execute(select(EntitlementRow).order_by(EntitlementRow.position)).scalars().all()
                return [_entitlement_from_row(row) for row in rows]
        return self._cached(("all_entitlements",), load)

    def index(self) -> OfferIndex:
        """The retrieval index over every entry, rebuilt when the content version changes."""
        return self._cached(("index",), lambda: OfferIndex(self.all_entitlements(), self._place_names()))

    def _place_names(self) -> List[str]:
        """Every council's names and aliases: left out of the ranking (see retrieval.query_words)."""
        return [name for council in self.councils().values() for name in (council.id, council.name, *council.aliases)]

    def search(
        self, council_id: Optional[str], text: str, topic: Optional[str] = None, age: Optional[int] = None
    ) -> List[Entitlement]:
        """Entitlements of the council and the national layer, best match first (retrieval)."""
        return [hit.entitlement for hit in self.index().search(text, council_id, [topic] if topic else None, age)]


def _read_version(connection: Connection) -> int:
    """The content version, with the read transaction ended (so the next read is fresh)."""
    try:
        value = connection.execute(select(ContentVersion.version).where(ContentVersion.id == 1)).scalar()
    finally:
        connection.rollback()
    return int(value or 0)


# ---- row <-> dataclass ------------------------------------------------------------------
def _council_row(council: Council) -> CouncilRow:
    return CouncilRow(
        id=council.id,
        name=council.name,
        offer_name=council.offer_name,
        website=council.website,
        aliases="|".join(council.aliases),
        source_file=council.source_file,
    )


def _contact_row(council_id: str, contact: Contact) -> ContactRow:
    return ContactRow(
        council_id=council_id,
        kind=contact.kind,
        name=contact.name,
        phone=contact.phone,
        email=contact.email,
        website=contact.website,
        hours=json.dumps(contact.hours),
        placeholder=contact.placeholder,
        source=contact.source,
    )


def _contact_from_row(row: ContactRow) -> Contact:
    return Contact(
        kind=row.kind,
        name=row.name,
        phone=row.phone,
        email=row.email,
        website=row.website,
        hours=json.loads(row.hours) if row.hours else None,
        placeholder=row.placeholder,
        source=row.source,
    )


def _entitlement_row(entitlement: Entitlement, position: int) -> EntitlementRow:
    amount = entitlement.amount
    return EntitlementRow(
        id=entitlement.id,
        council_id=entitlement.council,
        topic=entitlement.topic,
        title=entitlement.title,
        answer=entitlement.answer,
        how_to_get=entitlement.how_to_get,
        keywords="|".join(entitlement.keywords),
        questions=json.dumps(list(entitlement.questions), ensure_ascii=False),
        min_age=entitlement.min_age,
        max_age=entitlement.max_age,
        statuses="|".join(entitlement.statuses),
        amount_value=amount.value if amount else None,
        amount_per=amount.per if amount else None,
        amount_up_to=amount.up_to if amount else None,
        contact_kind=entitlement.contact,
        link=entitlement.link,
        availability=entitlement.availability,
        source_document=entitlement.source_document,
        source_section=entitlement.source_section,
        last_checked=entitlement.last_checked,
        position=position,
    )


def _split(value: str) -> Tuple[str, ...]:
    return tuple(part for part in value.split("|") if part)


def _entitlement_from_row(row: EntitlementRow) -> Entitlement:
    amount = None
    if row.amount_value is not None:
        amount = Amount(value=row.amount_value, per=row.amount_per or "once", up_to=bool(row.amount_up_to))
    return Entitlement(
        id=row.id,
        council=row.council_id,
        topic=row.topic,
        title=row.title,
        answer=row.answer,
        how_to_get=row.how_to_get,
        source_document=row.source_document,
        source_section=row.source_section,
        last_checked=row.last_checked,
        keywords=_split(row.keywords),
        questions=tuple(json.loads(row.questions or "[]")),
        min_age=row.min_age,
        max_age=row.max_age,
        statuses=_split(row.statuses),
        amount=amount,
        contact=row.contact_kind,
        link=row.link,
        availability=row.availability,
    )
