"""The kinds of danger (knowledge/safety/kinds.yml): what the loader accepts and refuses."""
from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest

from knowledge.safety.crisis import CATEGORIES, default_matcher
from knowledge.safety.kinds import (
    DEFAULT_KINDS_PATH,
    EMERGENCY,
    KIND_IDS,
    KindsError,
    default_kinds,
    load_kinds,
)

SHIPPED = DEFAULT_KINDS_PATH.read_text(encoding="utf-8")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kinds.yml"
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> str:
    with pytest.raises(KindsError) as error:
        load_kinds(write(tmp_path, text))
    return str(error.value)


def line_of(text: str, needle: str) -> int:
    return text.splitlines().index(next(line for line in text.splitlines() if needle in line)) + 1


def test_shipped_file_has_exactly_the_twelve_kinds_in_order():
    taxonomy = default_kinds()
    assert tuple(taxonomy.kinds) == KIND_IDS
    assert set(KIND_IDS) == CATEGORIES  # the patterns' categories are the same kinds


def test_every_kind_has_a_pattern_and_every_field():
    kinds_with_patterns = {p.category for p in default_matcher().patterns}
    assert kinds_with_patterns == set(KIND_IDS)
    for kind in default_kinds().kinds.values():
        assert kind.title and kind.looks_like and kind.opening and kind.services


def test_immediate_danger_kinds_give_999_first_and_the_others_say_when_to_call_it():
    for kind in default_kinds().kinds.values():
        first = kind.services[0].service.id
        if kind.immediate_danger:
            assert first == EMERGENCY, kind.id
        else:
            assert first != EMERGENCY and "call 999" in kind.danger_line, kind.id


def test_every_service_has_a_source_and_a_check_date():
    for service in default_kinds().services.values():
        assert service.source and isinstance(service.checked, dt.date) and service.checked > dt.date(2026, 1, 1), service.id
        assert service.hours and service.for_whom, service.id


def test_numbers_the_brief_asked_for_are_there():
    services = default_kinds().services
    expected = {
        "emergency_999": "999", "samaritans": "116 123", "childline": "0800 1111", "papyrus": "0800 068 4141",
        "nhs_111_mental_health": "111", "ndah": "0808 2000 247", "modern_slavery": "08000 121 700",
        "crimestoppers": "0800 555 111", "missing_people": "116 000",
    }
    for service_id, phone in expected.items():
        assert services[service_id].phone == phone, service_id
    assert (services["shout"].text_message, services["shout"].text_to) == ("SHOUT", "85258")
    assert services["childline"].max_age == 18 and services["papyrus"].max_age == 34
    assert "ceop.police.uk" in services["ceop"].website
    assert services["council_out_of_hours"].from_council == "emergency_duty_team"


def test_a_missing_kind_is_named(tmp_path):
    text = re.sub(r"(?ms)^  missing:\n.*?(?=^# Lines)", "", SHIPPED)
    assert "kinds.missing: is missing" in refused(tmp_path, text)


def test_an_unknown_kind_is_refused_with_its_line(tmp_path):
    text = SHIPPED.replace("  missing:\n", "  misssing:\n")
    message = refused(tmp_path, text)
    assert f"kinds.yml:{line_of(text, '  misssing:')}: kinds.misssing: is not a kind" in message


def test_a_service_without_source_names_file_line_and_field(tmp_path):
    text = SHIPPED.replace("""    say: "Samaritans: call 116 123, free, any time."
    source: >-""", """    say: "Samaritans: call 116 123, free, any time."
    sauce: >-""")
    message = refused(tmp_path, text)
    assert "kinds.yml:" in message and "services.samaritans.source: is required" in message
    assert f"kinds.yml:{line_of(text, '    sauce: >-')}: services.samaritans.sauce: is not a field" in message


def test_a_say_line_without_its_number_is_refused(tmp_path):
    text = SHIPPED.replace('say: "Samaritans: call 116 123, free, any time."', 'say: "Samaritans are free, any time."')
    assert "services.samaritans.say: must contain the number" in refused(tmp_path, text)


def test_999_must_come_first_for_immediate_danger(tmp_path):
    text = SHIPPED.replace("""    immediate_danger: true
    opening: "I'm really worried about your safety. Your safety comes first."
    services:
      - id: emergency_999
        say: "Please call 999 now. On a mobile, if you can't talk, press 55 when asked."
      - childline
      - samaritans""", """    immediate_danger: true
    opening: "I'm really worried about your safety. Your safety comes first."
    services:
      - childline
      - samaritans""")
    assert "kinds.immediate_danger.services: immediate_danger is true, so the first service must be emergency_999" in refused(tmp_path, text)


def test_a_kind_that_is_not_immediate_must_say_when_to_call_999(tmp_path):
    text = SHIPPED.replace('    danger_line: "If you\'re badly hurt, call 999 or go to A&E."\n', "")
    assert "kinds.self_harm.danger_line: is required" in refused(tmp_path, text)


def test_curly_quotes_are_refused_so_sms_stays_gsm7(tmp_path):
    text = SHIPPED.replace("Thank you for telling me. You're not in trouble", "Thank you for telling me. You\u2019re not in trouble")
    assert "kinds.self_harm.opening: has" in refused(tmp_path, text)


def test_an_unconfirmed_number_says_so():
    for service in default_kinds().services.values():
        if not service.confirmed:
            assert "not confirmed in the sources available here" in service.source


def test_unknown_service_in_a_kind_and_bad_phone_are_both_reported(tmp_path):
    text = SHIPPED.replace("    services: [missing_people, childline]", "    services: [missing_persons, childline]")
    text = text.replace('    phone: "0800 555 111"', '    phone: "555 111"')
    message = refused(tmp_path, text)
    assert "'missing_persons' is not a service" in message and "services.crimestoppers.phone" in message


def test_not_yaml_is_reported_with_a_line(tmp_path):
    assert re.search(r"kinds\.yml:\d+: \(file\): not valid YAML", refused(tmp_path, "version: 1\nservices: [\n"))
