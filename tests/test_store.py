"""The knowledge store on SQLite and on PostgreSQL: same answers, safe reloads."""
from __future__ import annotations

import dataclasses
import os
import shutil
import uuid

import pytest
from sqlalchemy import inspect, select, text

from knowledge.content import NATIONAL, OFFERS_DIR, ContentError, load_offers
from knowledge.db import make_engine, stale_knowledge_tables
from knowledge.store import KnowledgeBase
from services.models import UnansweredQuestion, create_all
from tests.conftest import POSTGRES_URL

REQUIRE_POSTGRES = os.environ.get("PATHFINDER_REQUIRE_POSTGRES") == "1"


def postgres_engine():
    """A fresh, empty PostgreSQL database for one test module (dropped afterwards)."""
    admin = make_engine(POSTGRES_URL)
    name = f"pathfinder_test_{uuid.uuid4().hex[:10]}"
    try:
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # noqa: BLE001
        if REQUIRE_POSTGRES:
            raise
        pytest.skip(f"no PostgreSQL server reachable at {POSTGRES_URL}: {error}")
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    return admin, name, make_engine(url)


@pytest.fixture(scope="module", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def engine(request, tmp_path_factory):
    if request.param == "sqlite":
        db_engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('db') / 'kb.db'}")
        create_all(db_engine)
        yield db_engine
        db_engine.dispose()
        return
    admin, name, db_engine = postgres_engine()
    create_all(db_engine)
    yield db_engine
    db_engine.dispose()
    with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
    admin.dispose()


@pytest.fixture(scope="module")
def kb(engine) -> KnowledgeBase:
    store = KnowledgeBase(engine)
    store.reload()
    return store


def test_councils_are_loaded_with_contacts(kb):
    walsall = kb.council("walsall")
    assert walsall.name and walsall.contacts["leaving_care_team"].phone
    assert {c.id for c in kb.local_councils()} == {"cambridgeshire", "walsall", "nottingham"}


def test_council_entries_come_before_national_ones(kb):
    found = kb.entitlements("walsall", topic="personal_adviser")
    councils = [e.council for e in found]
    assert councils[0] == "walsall" and "national" in councils
    assert councils == sorted(councils, key=lambda c: c == "national")


def test_other_councils_entries_never_leak(kb):
    assert {e.council for e in kb.entitlements("nottingham")} <= {"nottingham", "national"}


def test_age_filter(kb):
    council_tax = [e for e in kb.entitlements("walsall", topic="money", age=19) if "council-tax" in e.id]
    assert council_tax
    assert not [e for e in kb.entitlements("walsall", topic="money", age=25) if e.id == council_tax[0].id]


@pytest.mark.parametrize(
    "council, question, topic, expected_in_id",
    [
        ("walsall", "do i have to pay council tax", "money", "council-tax"),
        ("walsall", "how much is the setting up home grant", "money", "setting-up-home"),
        ("cambridgeshire", "can i stay with my foster carers after 18", "housing", "staying-put"),
        ("walsall", "is there money for uni", "education", "bursary"),
    ],
)
def test_search_puts_the_matching_entitlement_first(kb, council, question, topic, expected_in_id):
    found = kb.search(council, question, topic=topic)
    assert expected_in_id in found[0].id, [e.id for e in found[:3]]


def test_search_text_is_never_sql(kb):
    hostile = "'; DROP TABLE kb_entitlements; -- council tax"
    assert kb.search("walsall", hostile, topic="money")
    assert kb.entitlements("walsall")


@pytest.mark.parametrize(
    "said, council",
    [("Walsall", "walsall"), ("cambs", "cambridgeshire"), ("i was in care in nottingham city", "nottingham"),
     ("bloxwich", "walsall"), ("london", None), ("", None), ("notts", None)],
)
def test_resolve_council(kb, said, council):
    assert kb.resolve_council(said) == council


def test_contact_falls_back_to_the_national_service(kb):
    assert kb.contact("cambridgeshire", "advocacy").phone
    assert kb.contact(None, "advocacy").name == "Coram Voice"


def test_a_bad_reload_keeps_the_old_content_and_a_good_one_is_seen_without_restart(kb, engine, tmp_path):
    running = KnowledgeBase(engine)  # another process's view, with its own cache
    before_version, before = kb.version(), running.entitlements("walsall")
    broken = tmp_path / "broken"
    shutil.copytree(OFFERS_DIR, broken, ignore=shutil.ignore_patterns("*.md"))
    (broken / "walsall.yml").write_text((broken / "walsall.yml").read_text().replace("topic: money", "topic: cash", 1))
    with pytest.raises(ContentError):
        kb.reload(broken)
    assert kb.version() == before_version
    assert running.entitlements("walsall") == before

    changed = tmp_path / "changed"
    shutil.copytree(OFFERS_DIR, changed, ignore=shutil.ignore_patterns("*.md"))
    path = changed / "walsall.yml"
    path.write_text(path.read_text().replace("No council tax until you're 25", "No council tax until you are 25", 1))
    kb.reload(changed)
    titles = {e.title for e in running.entitlements("walsall", topic="money")}
    assert "No council tax until you are 25" in titles
    kb.reload()  # back to the shipped content for the other tests


def test_publish_replaces_everything(kb):
    content = load_offers()
    kb.publish(content)
    assert len(kb.entitlements("walsall")) == len([e for e in content.entitlements if e.council in ("walsall", "national")])


def test_entries_round_trip_with_questions_of_any_character(kb):
    content = load_offers()
    tricky = ("council tax?? | bills", 'what\'s "setting up home"', "je suis care leaver — £2,000?", "do i av 2 pay", "a: b, [c]")
    first = content.entitlements[0]
    content.entitlements[0] = dataclasses.replace(first, questions=tricky)
    kb.publish(content)
    try:
        for council in {e.council for e in content.entitlements} - {NATIONAL}:
            stored = kb.entitlements(council)
            expected = [e for e in content.entitlements if e.council in (council, NATIONAL)]
            assert sorted(stored, key=lambda e: e.id) == sorted(expected, key=lambda e: e.id)
        assert next(e for e in kb.entitlements(first.council) if e.id == first.id).questions == tricky
    finally:
        kb.reload()


def test_an_out_of_date_knowledge_schema_is_rebuilt_and_republished(kb, engine):
    """A database made before `questions` existed: knowledge tables rebuilt, service rows kept."""
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE kb_entitlements DROP COLUMN questions"))
        connection.execute(UnansweredQuestion.__table__.insert().values(conversation_id="old-schema", text="kept?"))
    with engine.connect() as connection:
        assert stale_knowledge_tables(connection) == ["kb_entitlements"]
    starting = KnowledgeBase(engine)  # a process starting on the old database
    assert starting.ensure_loaded() == 1  # rebuilt empty (version 0), so republished
    assert "questions" in {column["name"] for column in inspect(engine).get_columns("kb_entitlements")}
    assert starting.entitlements("walsall") and starting.council("walsall").contacts
    with engine.connect() as connection:
        assert stale_knowledge_tables(connection) == []
        kept = select(UnansweredQuestion.text).where(UnansweredQuestion.conversation_id == "old-schema")
        assert connection.execute(kept).scalar() == "kept?"
    assert starting.ensure_loaded() == 1  # an up-to-date schema is left alone


def test_a_new_sqlite_database_is_readable_by_its_owner_only(tmp_path):
    """#16: var/pathfinder.db and its -wal were 0644 (transcripts, phone numbers, hashes)."""
    import stat

    from sqlalchemy import text as sql
    path = tmp_path / "private.db"
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as connection:
        connection.execute(sql("create table t (x int)"))
        connection.execute(sql("insert into t values (1)"))
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        wal = path.with_name("private.db-wal")
        assert not wal.exists() or stat.S_IMODE(wal.stat().st_mode) == 0o600
