"""Facts the content audit of issue #15 corrected, held where a test can hold them: ages,
amounts, conditions, and what a source does (and does not) say. Each names its source; the
offer files carry the same source on the entry."""
from __future__ import annotations

import pytest

from knowledge.content import load_offers


@pytest.fixture(scope="module")
def offers():
    content = load_offers()
    return {entry.id: entry for entry in content.entitlements}, content.councils


def text(entry) -> str:
    return f"{entry.title} {entry.answer} {entry.how_to_get}".lower()


def test_talking_therapies_are_open_from_17_as_the_walsall_seed_says(offers):
    entry = offers[0]["walsall-talking-therapies"]  # 001 seed, 3.5 point 5: "over the age of 17"
    assert entry.min_age == 17 and entry.applies_at(17) and "17 or over" in entry.answer


def test_kooth_gives_its_hours_so_it_does_not_read_as_help_at_any_time(offers):
    entry = offers[0]["walsall-kooth"]  # 001 seed, 3.5 point 7
    assert "12 noon to 10pm monday to friday" in text(entry) and "6pm to 10pm at weekends" in text(entry)


def test_walsall_council_tax_exemption_says_where_you_live_decides(offers):
    entry = offers[0]["walsall-council-tax-exemption"]  # 001 seed, 3.3 point 1
    assert "live in walsall" in text(entry) and "outside walsall" in text(entry)
    assert (entry.min_age, entry.max_age) == (18, 24)


def test_setting_up_home_gives_both_the_2018_figure_and_the_2023_minimum(offers):
    entries = offers[0]
    walsall, national = entries["walsall-setting-up-home-grant"], entries["national-setting-up-home"]
    assert walsall.amount.value == 2000 and "2018" in walsall.answer and "£3,000" in walsall.answer
    assert "april 2023" in text(national) and "£3,000" in national.answer and "what your council pays now" in text(national)


def test_the_16_to_19_bursary_is_up_to_1200_a_year_for_16_to_18(offers):
    entry = offers[0]["national-16-19-bursary"]
    assert (entry.amount.value, entry.amount.per, entry.amount.up_to) == (1200, "year", True)
    assert (entry.min_age, entry.max_age) == (16, 18)


def test_the_higher_education_bursary_states_its_conditions(offers):
    entry = offers[0]["national-higher-education-bursary"]  # Children Act 1989 s23C(5A); 2009 Regulations
    assert entry.amount.value == 2000 and entry.min_age == 18
    assert "pathway plan" in text(entry) and "at least 2 years" in text(entry)


def test_the_apprenticeship_bursary_is_tax_free_and_not_income_for_benefits(offers):
    entry = offers[0]["national-apprenticeship-bursary"]
    assert entry.amount.value == 3000 and "tax-free" in text(entry) and "income for benefits" in text(entry)


def test_the_care_leaver_covenant_is_in_the_national_offer(offers):
    assert "16 to 25" in offers[0]["national-care-leaver-covenant"].answer


def test_staying_close_is_not_stated_as_a_national_duty_until_its_start_is_confirmed(offers):
    """The Children's Wellbeing and Schools Act 2026 duty is prospective (no commencement found)."""
    assert not [e for e in offers[0].values() if e.council == "national" and "staying close" in text(e)]


def test_cambridgeshire_supported_housing_is_for_16_to_18_in_care(offers):
    entry = offers[0]["cambridgeshire-supported-accommodation"]  # 004 seed, 2.5 and 2.8
    assert (entry.min_age, entry.max_age, entry.statuses) == (16, 17, ("still_in_care",))
    assert "16 to 18" in entry.answer


@pytest.mark.parametrize("entry_id", ["cambridgeshire-staying-close", "cambridgeshire-mind-of-my-own"])
def test_cambridgeshire_projects_of_2019_are_dated_and_not_promised_now(offers, entry_id):
    entry = offers[0][entry_id]  # 004 seed: a 2018-19 project and contract
    assert "2019" in entry.answer and ("still" in text(entry))


def test_the_cambridgeshire_forum_was_consulted_not_a_designer(offers):
    entry = offers[0]["cambridgeshire-care-leavers-forum"]  # 004 seed, Participation report 2.1
    assert "asked the forum" in entry.answer and "design" not in text(entry)


@pytest.mark.parametrize("entry_id, document", [
    ("cambridgeshire-pathways4us-online", "004_e2486728dc9ce2ac.txt"),
    ("cambridgeshire-support-up-to-25", "000_1a81f12ea468da1a.txt"),
])
def test_cambridgeshire_entries_cite_the_seed_that_says_it(offers, entry_id, document):
    assert offers[0][entry_id].source_document == document


def test_nottingham_protected_group_is_a_motion_not_a_law(offers):
    entry = offers[0]["nottingham-care-leaver-protected-group"]  # 002 seed, "What have we done?"
    assert "motion" in entry.answer and "not a law" in entry.answer


@pytest.mark.parametrize("entry_id", ["nottingham-homelessness-worker", "nottingham-staying-close"])
def test_nottingham_funded_posts_are_not_described_as_workers_in_post(offers, entry_id):
    entry = offers[0][entry_id]  # 002 seed: "funding" / "money in place"
    assert "money" in entry.answer and "has started" in entry.how_to_get


def test_the_nottingham_pa_duty_cites_the_act_not_ofsted(offers):
    assert offers[0]["nottingham-personal-adviser-to-25"].source_document.startswith("Children Act 1989")


def test_the_advocacy_helpline_shows_its_hours(offers):
    """Coram Voice, "Our Helpline": staffed 9.30am to 6pm Monday to Friday."""
    assert offers[1]["walsall"].contacts["advocacy"].hours["mon"] == "09:30-18:00"
    assert "9:30am to 6pm, monday to friday" in offers[0]["national-advocacy-and-complaints"].how_to_get.lower()
