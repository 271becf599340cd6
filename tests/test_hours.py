"""Opening hours and out-of-hours wording, with a fixed clock."""
from __future__ import annotations

import datetime as dt

import pytest

import actions.common
from actions.handoff import what_happens_next
from actions.safety import office_line
from knowledge.content import Contact
from knowledge.hours import describe_hours, is_open

TEAM = Contact(kind="leaving_care_team", name="Team", hours={"mon": "09:00-17:00", "fri": "09:00-16:30"})
UTC = dt.timezone.utc


@pytest.mark.parametrize(
    "when, expected",
    [
        (dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC), True),  # Monday 10:00 GMT
        (dt.datetime(2026, 11, 23, 17, 0, tzinfo=UTC), False),  # closes at 17:00
        (dt.datetime(2026, 11, 23, 8, 59, tzinfo=UTC), False),
        (dt.datetime(2026, 11, 24, 10, 0, tzinfo=UTC), False),  # Tuesday not listed
        (dt.datetime(2026, 11, 27, 16, 29, tzinfo=UTC), True),  # Friday
        (dt.datetime(2026, 7, 6, 8, 30, tzinfo=UTC), True),  # Monday 09:30 BST is 08:30 UTC
        (dt.datetime(2026, 11, 28, 12, 0, tzinfo=UTC), False),  # Saturday
    ],
)
def test_is_open_uses_uk_time(when, expected):
    assert is_open(TEAM, when) is expected


def test_always_open_and_unknown_hours():
    assert is_open(Contact(kind="x", name="EDT", hours="always"))
    assert not is_open(Contact(kind="x", name="?", hours=None))


def test_describe_hours_groups_days():
    hours = {d: "09:00-17:00" for d in ("mon", "tue", "wed", "thu")} | {"fri": "09:00-16:30"}
    assert describe_hours(hours) == "Mon to Thu 9am to 5pm, Fri 9am to 4:30pm"
    assert describe_hours("always") == "any time, day or night"


MONDAY_MORNING = dt.datetime(2026, 11, 23, 10, 0, tzinfo=UTC)
SATURDAY_NIGHT = dt.datetime(2026, 11, 28, 23, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def knowledge(tmp_path, monkeypatch):
    from knowledge.db import make_engine
    from knowledge.store import KnowledgeBase

    kb = KnowledgeBase(make_engine(f"sqlite:///{tmp_path / 'kb.db'}"))
    kb.reload()
    monkeypatch.setattr(actions.common, "knowledge_base", lambda: kb)
    monkeypatch.setattr("actions.safety.knowledge_base", lambda: kb)
    monkeypatch.setattr("actions.handoff.knowledge_base", lambda: kb)


def test_out_of_hours_says_no_worker_is_watching():
    assert "no worker is reading this" in office_line("walsall", SATURDAY_NIGHT)
    assert "open now" in office_line("walsall", MONDAY_MORNING)


def test_next_steps_give_the_emergency_number_only_when_closed():
    closed = what_happens_next("walsall", "phone", SATURDAY_NIGHT)
    assert "01632 960202" in closed and "closed now" in closed
    open_now = what_happens_next("walsall", "phone", MONDAY_MORNING)
    assert "01632 960202" not in open_now and "01632 960201" in open_now
