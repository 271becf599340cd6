"""The documents the offer quotes: described once, dated, shown with their age, and old
unchecked entries listed for the council (knowledge/sources.yml, knowledge/sources.py)."""
from __future__ import annotations

import dataclasses
import datetime as dt
import re
from pathlib import Path

import pytest

from actions.offer import planned_lead, short_source, sms_card, source_detail
from knowledge.content import load_offers
from knowledge.sources import SOURCES_PATH, documents, read_sources, source_problems, stale_entries
from tests.test_content import GOOD_ENTRY, add_entry, offers, run_tool  # noqa: F401 - `offers` is a fixture

TODAY = dt.date(2026, 12, 1)


@pytest.fixture(scope="module")
def shipped():
    return load_offers()


def entry(shipped, entry_id: str):
    return next(e for e in shipped.entitlements if e.id == entry_id)


def test_every_seed_document_quoted_is_described_and_the_file_is_valid(shipped):
    assert source_problems(shipped.entitlements) == []
    quoted = {e.source_document for e in shipped.entitlements if e.source_document.endswith(".txt")}
    assert quoted <= set(documents())


def test_the_documents_dates_are_the_seeds_own():
    found = documents()
    assert found["001_ea4c40d182e07dfe.txt"].label == "Walsall's draft Local Offer (2018)"
    assert found["000_1a81f12ea468da1a.txt"].when == "30 January 2019"
    assert found["002_fdb67cb188cab638.txt"].when == "June 2023"


@pytest.mark.parametrize("old, new, message", [
    ("status: draft", "status: drafty", r"sources.yml:\d+: documents.001_ea4c40d182e07dfe.txt.status: 'drafty' is not one of"),
    ("date: 2018", "date: last year", r"sources.yml:\d+: documents.001_ea4c40d182e07dfe.txt.date: is required"),
    ("council: walsall", "councl: walsall", r"sources.yml:\d+: documents.001_ea4c40d182e07dfe.txt.councl: is not a field"),
])
def test_mistakes_in_the_sources_file_name_line_and_field(tmp_path, old, new, message):
    path = tmp_path / "sources.yml"
    text = SOURCES_PATH.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))
    _, problems = read_sources(path)
    assert len(problems) == 1 and re.match(message, problems[0]), problems


def test_an_entry_quoting_an_undescribed_seed_is_refused_by_validate(offers):  # noqa: F811
    add_entry(offers, GOOD_ENTRY.replace("001_ea4c40d182e07dfe.txt", "009_0123456789abcdef.txt"))
    result = run_tool("validate", "--dir", str(offers))
    assert result.returncode == 1
    assert "'009_0123456789abcdef.txt' is not described in sources.yml" in result.stderr


def test_old_documents_unchecked_for_a_year_are_listed_for_the_council(shipped, offers):  # noqa: F811
    walsall = entry(shipped, "walsall-personal-adviser-16-to-25")
    assert stale_entries([walsall], today=TODAY) == []  # a 2018 draft, but checked this year
    unchecked = dataclasses.replace(walsall, last_checked=dt.date(2025, 6, 1))
    [line] = stale_entries([unchecked], today=TODAY)
    assert line.startswith("walsall: 'walsall-personal-adviser-16-to-25' comes from Walsall's draft Local Offer (2018)")
    law = dataclasses.replace(entry(shipped, "national-staying-put"), last_checked=dt.date(2020, 1, 1))
    assert stale_entries([law], today=TODAY) == []  # an Act is not "old" by its year
    add_entry(offers, GOOD_ENTRY.replace("last_checked: 2026-11-25", "last_checked: 2024-01-10"))
    result = run_tool("todo", "--dir", str(offers))
    assert result.returncode == 0, result.stderr
    assert "walsall: 'walsall-test-entry' comes from Walsall's draft Local Offer (2018)" in result.stdout
    assert "warning: walsall: 'walsall-test-entry'" in run_tool("validate", "--dir", str(offers)).stdout


def test_where_is_this_from_says_how_old_the_document_is(shipped):
    text = source_detail(entry(shipped, "walsall-personal-adviser-16-to-25"), today=TODAY)
    assert text.startswith("That comes from Walsall's draft Local Offer (2018), 3.1")
    assert "written in 2018, so things may have changed" in text and "last checked on" in text
    assert "written in" not in source_detail(entry(shipped, "national-staying-put"), today=TODAY)


def test_a_plan_from_years_ago_says_when_it_was_planned_not_coming_soon(shipped):
    planned = next(e for e in shipped.entitlements if e.availability == "planned" and e.council == "walsall")
    assert planned_lead(planned, today=TODAY) == "Planned in 2018: "
    assert planned_lead(planned, today=dt.date(2019, 3, 1)) == "Coming soon: "
    assert planned_lead(entry(shipped, "walsall-personal-adviser-16-to-25"), today=TODAY) == ""


def test_a_text_names_the_document_and_its_date(shipped):
    walsall = entry(shipped, "walsall-personal-adviser-16-to-25")
    assert short_source(walsall) == "Walsall draft offer, 2018"
    assert sms_card(walsall).endswith("(From Walsall draft offer, 2018)")


def test_a_broken_sources_file_falls_back_to_names_as_written(tmp_path):
    path = Path(tmp_path / "sources.yml")
    path.write_text("version: 1\ndocuments: {x.txt: {title: X}}\n")
    assert documents(path) == {}


def test_a_council_entry_citing_an_act_names_the_act(shipped):
    text = source_detail(entry(shipped, "nottingham-personal-adviser-to-25"), today=TODAY)
    assert text.startswith("That comes from Children Act 1989")


def test_a_dated_document_reads_on_its_day_and_a_citation_stays_in_the_file(shipped):
    entry_ = entry(shipped, "cambridgeshire-staying-in-education-16")  # a long, staff-only section
    text = source_detail(entry_, today=TODAY)
    assert "written on 30 January 2019" in text and entry_.source_section not in text
    assert text.startswith("That comes from Cambridgeshire councillors' meeting papers (30 January 2019).")
