"""The offer files: the shipped content is valid, and mistakes are named precisely."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from knowledge.content import OFFERS_DIR, ContentError, is_placeholder_number, load_offers
from knowledge.topics import offer_sections
from tests.conftest import ROOT, base_env

GOOD_ENTRY = """
  - id: walsall-test-entry
    topic: money
    title: A test entry
    answer: Something you can get.
    how_to_get: Ask your personal adviser (PA).
    eligibility: {min_age: 18, max_age: 24}
    source: {document: 001_ea4c40d182e07dfe.txt, section: "3.3"}
    last_checked: 2026-11-25
    questions:
      - is there a test entry
      - test entry??
      - how do i get the test thing
      - I am care leaver, test entry I can have?
      - wat is the test entry
"""
QUESTIONS_BLOCK = GOOD_ENTRY[GOOD_ENTRY.index("    questions:"):]


@pytest.fixture
def offers(tmp_path) -> Path:
    """A copy of the real offer files to break."""
    target = tmp_path / "offers"
    shutil.copytree(OFFERS_DIR, target, ignore=shutil.ignore_patterns("*.md"))
    return target


def add_entry(offers: Path, text: str) -> int:
    """Append an entry to walsall.yml; returns the line number where it starts."""
    path = offers / "walsall.yml"
    before = path.read_text()
    path.write_text(before.rstrip("\n") + "\n" + text)
    return before.rstrip("\n").count("\n") + 3


def test_shipped_content_loads():
    content = load_offers()
    assert {"cambridgeshire", "walsall", "nottingham", "national"} <= set(content.councils)
    topics = {e.topic for e in content.entitlements}
    assert topics <= set(offer_sections())
    for council in ("cambridgeshire", "walsall", "nottingham", "national"):
        assert any(e.council == council for e in content.entitlements), council


def test_every_shipped_entry_has_its_questions():
    for entry in load_offers().entitlements:
        assert 5 <= len(entry.questions) <= 15, entry.id


def test_every_entry_names_its_source_and_date():
    for entry in load_offers().entitlements:
        assert entry.source_document and entry.last_checked.year >= 2026, entry.id


def test_seed_sources_exist():
    seeds = ROOT.parent / "shared" / "seeds"
    if not seeds.exists():
        pytest.skip("../shared/seeds is not beside this checkout")
    for entry in load_offers().entitlements:
        if entry.source_document.endswith(".txt"):
            assert (seeds / entry.source_document).exists(), entry.id


def test_councils_have_the_three_contacts_and_placeholders_are_marked():
    content = load_offers()
    for council in content.councils.values():
        if council.id == "national":
            continue
        assert {"leaving_care_team", "emergency_duty_team", "advocacy"} <= set(council.contacts)
        for contact in council.contacts.values():
            if contact.phone:
                assert contact.placeholder == is_placeholder_number(contact.phone)


def test_amounts_in_content_come_from_the_seeds():
    """Walsall's offer states its amounts; the files must not invent different ones."""
    walsall = {e.id: e for e in load_offers().entitlements if e.council == "walsall"}
    amounts = {e.amount.value for e in walsall.values() if e.amount}
    assert amounts <= {2000, 50}, amounts


@pytest.mark.parametrize(
    "change, field, message",
    [
        (GOOD_ENTRY.replace("topic: money", "topic: moneys"), "topic", "'moneys' is not an offer section"),
        (GOOD_ENTRY.replace("{min_age: 18, max_age: 24}", "{min_age: 24, max_age: 18}"), "eligibility", "upside down"),
        (GOOD_ENTRY.replace('    source: {document: 001_ea4c40d182e07dfe.txt, section: "3.3"}\n', ""), "source", "is required"),
        (GOOD_ENTRY.replace("how_to_get: Ask your personal adviser (PA).", "how_to_get: Ask.\n    link: http://example.com"), "link", "not an https:// link"),
        (GOOD_ENTRY.replace("last_checked: 2026-11-25", "last_checked: last week"), "last_checked", "as a date"),
        (GOOD_ENTRY.replace("title: A test entry", "titel: A test entry"), "titel", "not a field"),
        (GOOD_ENTRY.replace("{min_age: 18, max_age: 24}", "{min_age: 12}"), "min_age", "from 16 to 25"),
    ],
)
def test_bad_entries_are_named_by_file_line_entry_and_field(offers, change, field, message):
    start = add_entry(offers, change)
    with pytest.raises(ContentError) as error:
        load_offers(offers)
    problem = next(p for p in error.value.problems if message in p)
    assert problem.startswith("walsall.yml:")
    line = int(problem.split(":")[1])
    assert start <= line <= start + 10, problem
    assert "walsall-test-entry" in problem and field in problem


def test_a_source_longer_than_the_database_keeps_is_refused(offers):
    add_entry(offers, GOOD_ENTRY.replace('section: "3.3"', 'section: "' + "3.3 " * 80 + '"'))
    with pytest.raises(ContentError, match=r"walsall.yml:\d+: entitlement 'walsall-test-entry'.source.section: is longer than 300"):
        load_offers(offers)


def test_a_good_entry_with_questions_loads(offers):
    add_entry(offers, GOOD_ENTRY)
    entry = next(e for e in load_offers(offers).entitlements if e.id == "walsall-test-entry")
    assert entry.questions[0] == "is there a test entry" and len(entry.questions) == 5


def _with_questions(*questions: str) -> str:
    """GOOD_ENTRY with its questions replaced by these (written one per line, as authors do)."""
    lines = "".join(f"      - {q}\n" for q in questions)
    return GOOD_ENTRY.replace(QUESTIONS_BLOCK, "    questions:\n" + lines)


_FIVE = ("one question", "two question", "three question", "four question", "five question")


@pytest.mark.parametrize(
    "change, offset, message",
    [
        # offset: line of the problem counted from the entry's first line (-1 = anywhere in it)
        (_with_questions(*_FIVE[:3]), 8, "has 3 question(s): give 5 to 15"),
        (_with_questions(*(f"question number {n}" for n in range(16))), 8, "has 16 question(s)"),
        (_with_questions(*_FIVE[:4], "ok"), 13, "must be 3 to 200 characters"),
        (_with_questions(*_FIVE[:4], "x" * 201), 13, "must be 3 to 200 characters"),
        (_with_questions(*_FIVE[:4], "Two  question"), 13, "duplicate of question 2"),
        (_with_questions(*_FIVE[:4], '""'), 13, "must be a question written as text"),
        (_with_questions(*_FIVE[:4], "42"), 13, "must be a question written as text"),
        (GOOD_ENTRY.replace(QUESTIONS_BLOCK, "    questions: council tax\n"), 8, "must be a list of questions"),
        (GOOD_ENTRY.replace(QUESTIONS_BLOCK, ""), 0, "is required: list 5 to 15 ways"),
        (GOOD_ENTRY.replace(QUESTIONS_BLOCK, "    questions: []\n"), 8, "has 0 question(s)"),
    ],
)
def test_bad_questions_are_named_by_file_line_entry_and_field(offers, change, offset, message):
    start = add_entry(offers, change)
    with pytest.raises(ContentError) as error:
        load_offers(offers)
    problem = next(p for p in error.value.problems if message in p)
    assert problem.startswith(f"walsall.yml:{start + offset}:"), problem
    assert "entitlement 'walsall-test-entry'.questions" in problem


def test_duplicate_ids_across_files_are_refused(offers):
    add_entry(offers, GOOD_ENTRY.replace("walsall-test-entry", "national-personal-adviser-to-25"))
    duplicate = yaml.safe_load((offers / "national.yml").read_text())["entitlements"][0]["id"]
    if duplicate != "national-personal-adviser-to-25":
        add_entry(offers, GOOD_ENTRY.replace("walsall-test-entry", duplicate))
    with pytest.raises(ContentError, match="duplicate id"):
        load_offers(offers)


@pytest.mark.parametrize(
    "old, new, message",
    [
        ('phone: "01632 960201"', 'phone: "12345"', "not a UK phone number"),
        ('phone: "01632 960201"', 'phone: "01922 658412"', "marked placeholder but is not in Ofcom"),
    ],
)
def test_bad_contacts_are_refused(offers, old, new, message):
    path = offers / "walsall.yml"
    assert old in path.read_text()
    path.write_text(path.read_text().replace(old, new, 1))
    with pytest.raises(ContentError, match=message):
        load_offers(offers)


def test_broken_yaml_names_the_line(offers):
    path = offers / "cambridgeshire.yml"
    path.write_text(path.read_text() + "\n  - id: [unclosed\n")
    with pytest.raises(ContentError, match=r"cambridgeshire.yml:\d+: not valid YAML"):
        load_offers(offers)


def run_tool(*args, env=None):
    return subprocess.run([sys.executable, "-m", "bot.content", *args], cwd=ROOT, env=env or base_env(), capture_output=True, text=True)


def test_validate_command_lists_what_councils_must_supply():
    result = run_tool("validate")
    assert result.returncode == 0, result.stderr
    assert "still to supply: walsall: leaving_care_team" in result.stdout


def test_validate_command_fails_with_each_problem(offers):
    add_entry(offers, GOOD_ENTRY.replace("topic: money", "topic: moneys"))
    result = run_tool("validate", "--dir", str(offers))
    assert result.returncode == 1
    assert "walsall.yml:" in result.stderr and "nothing was changed" in result.stderr


def test_production_reload_refuses_placeholder_contacts(tmp_path):
    env = base_env(PATHFINDER_ENV="production", PATHFINDER_DB_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = run_tool("reload", env=env)
    assert result.returncode == 1
    assert "placeholder contact" in result.stderr


def test_a_production_action_server_refuses_to_start_on_placeholders(tmp_path):
    """#16: check_production ran only in `bot.content reload`; a fresh production start
    published the demo offer (placeholder numbers) on its first answer."""
    env = base_env(PATHFINDER_ENV="production", PATHFINDER_DB_URL=f"sqlite:///{tmp_path / 'x.db'}")
    result = subprocess.run([sys.executable, "-m", "bot.action_server"], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 1
    assert "Refusing to start in production" in result.stderr and "placeholder contact" in result.stderr


def test_the_rasa_launcher_refuses_a_token_on_the_command_line():
    from bot.rasa_server import rasa_argv
    assert rasa_argv(["--port", "5005"], "secret")[-2:] == ["--auth-token", "secret"]
    with pytest.raises(SystemExit):
        rasa_argv(["--auth-token", "x"], "secret")
