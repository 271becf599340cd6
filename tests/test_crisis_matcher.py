"""Tests for the deterministic crisis pattern layer (knowledge/safety/crisis.py).

Table-driven over tests/eval/crisis.yml:
  * every `topic: crisis` case must be detected (recall 1.0);
  * the false-alarm rate on near-miss (non-crisis) cases must be <= 5%.
Plus unit tests for normalise(), YAML validation, `unless` vetoes and matching inside
longer messages.
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest
import yaml

HERE = Path(__file__).parent
REPO = HERE.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from knowledge.safety.crisis import (  # noqa: E402
    CATEGORIES,
    DEFAULT_PATTERNS_PATH,
    CrisisHit,
    CrisisMatcher,
    default_matcher,
    normalise,
)

EVAL_PATH = HERE / "eval" / "crisis.yml"
TOPICS_PATH = REPO / "knowledge" / "offer-topics.yml"
MAX_FALSE_ALARM_RATE = 0.05


def _load_cases() -> list[dict]:
    data = yaml.safe_load(EVAL_PATH.read_text(encoding="utf-8"))
    assert data["version"] == 1
    return data["cases"]


CASES = _load_cases()
CRISIS = [c["text"] for c in CASES if c["topic"] == "crisis"]
NEAR_MISSES = [(c["topic"], c["text"]) for c in CASES if c["topic"] != "crisis"]


@pytest.fixture(scope="module")
def matcher() -> CrisisMatcher:
    return default_matcher()


# ---------------------------------------------------------------- the eval set


def test_eval_set_is_big_enough_and_well_formed():
    assert len(CRISIS) >= 80, f"need >= 80 crisis cases, have {len(CRISIS)}"
    assert len(NEAR_MISSES) >= 80, f"need >= 80 near-miss cases, have {len(NEAR_MISSES)}"
    for case in CASES:
        assert set(case) == {"text", "topic"}, case
        assert isinstance(case["text"], str) and case["text"].strip(), case
    texts = [c["text"] for c in CASES]
    dupes = sorted({t for t in texts if texts.count(t) > 1})
    assert not dupes, f"duplicate cases: {dupes}"


def test_eval_topics_are_real_topic_ids():
    # knowledge/offer-topics.yml is part of this repo: a missing file must fail, not skip
    topics = yaml.safe_load(TOPICS_PATH.read_text(encoding="utf-8"))
    valid = set(topics["offer_sections"]) | set(topics["conversation"])
    bad = sorted({c["topic"] for c in CASES} - valid)
    assert not bad, f"unknown topic ids in {EVAL_PATH.name}: {bad}"


def test_every_crisis_case_is_detected(matcher):
    misses = [t for t in CRISIS if matcher.match(t) is None]
    recall = 1 - len(misses) / len(CRISIS)
    print(f"\ncrisis recall: {recall:.3f} ({len(CRISIS) - len(misses)}/{len(CRISIS)})")
    assert not misses, (
        f"recall {recall:.3f} - {len(misses)} crisis message(s) NOT detected "
        "(fix the pattern class in crisis_patterns.yml, not one regex per sentence):\n"
        + "\n".join(f"  - {t!r}  (normalised: {matcher.normalise(t)!r})" for t in misses)
    )


def test_false_alarm_rate_on_near_misses(matcher):
    alarms = [(topic, t, matcher.match(t)) for topic, t in NEAR_MISSES if matcher.match(t) is not None]
    rate = len(alarms) / len(NEAR_MISSES)
    print(f"\nfalse-alarm rate on near-misses: {rate:.3f} ({len(alarms)}/{len(NEAR_MISSES)})")
    for topic, t, hit in alarms:
        print(f"  false alarm [{topic}] {t!r} -> {hit.category}/{hit.pattern_id}")
    assert rate <= MAX_FALSE_ALARM_RATE, (
        f"false-alarm rate {rate:.3f} > {MAX_FALSE_ALARM_RATE}:\n"
        + "\n".join(f"  [{topic}] {t!r} -> {hit.pattern_id}" for topic, t, hit in alarms)
    )


def test_hits_name_a_known_category_and_pattern(matcher):
    ids = {p.id for p in matcher.patterns}
    for t in CRISIS:
        hit = matcher.match(t)
        assert isinstance(hit, CrisisHit)
        assert hit.category in CATEGORIES, hit
        assert hit.pattern_id in ids, hit


# ------------------------------------------------------------------ normalise


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("Im SOOOOO done", "i'm soo done"),
        ("u dont wanna kno", "you don't want to kno"),
        ("ur mum", "your mum"),
        ("i cant go on!!!", "i can't go on"),
        ("gonna kms", "going to kill myself"),
        ("nowhere 2 sleep 2nite", "nowhere to sleep tonight"),
        ("thinkin bout it", "thinking about it"),
        ("i dont want to be alive any more", "i don't want to be alive anymore"),
        ("I am not ok", "i'm not ok"),
        ("kill my self", "kill myself"),
        ("goin' out", "going out"),
    ],
)
def test_normalise_text_speak(raw, expected):
    assert normalise(raw) == expected


def test_normalise_smart_quotes_and_punctuation():
    assert normalise("I\u2019m scared\u2026 he\u2019s outside!!") == "i'm scared he's outside"
    assert normalise("\u201cdon\u2019t\u201d") == "don't"
    assert normalise("it's 'fine' (honestly)") == "it's fine honestly"
    assert normalise("  lots   of\n\nspace\t") == "lots of space"
    assert normalise("") == ""


def test_kys_is_not_expanded_to_a_self_crisis(matcher):
    # "kys" is abuse aimed at someone else, not a young person in crisis
    assert normalise("kys") == "kill yourself"
    assert matcher.match("kys") is None
    # ...but being told it is bullying, and is flagged
    assert matcher.match("people at college keep telling me to kys") is not None


# ---------------------------------------------------------------- validation


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "patterns.yml"
    path.write_text(body, encoding="utf-8")
    return path


def test_from_file_bad_regex_names_file_pattern_and_field(tmp_path):
    path = _write(
        tmp_path,
        """
version: 1
patterns:
  - id: fine_one
    category: suicide
    regex: \\bwant to die\\b
  - id: broken_one
    category: self_harm
    regex: \\bcut(ting myself
""",
    )
    with pytest.raises(ValueError) as err:
        CrisisMatcher.from_file(path)
    msg = str(err.value)
    assert str(path) in msg
    assert "broken_one" in msg
    assert "regex" in msg


def test_from_file_bad_unless_regex_names_pattern(tmp_path):
    path = _write(
        tmp_path,
        """
version: 1
patterns:
  - id: veto_broken
    category: suicide
    regex: \\bdie\\b
    unless: ["[unclosed"]
""",
    )
    with pytest.raises(ValueError, match=r"veto_broken.*unless"):
        CrisisMatcher.from_file(path)


def test_from_file_missing_category_names_pattern(tmp_path):
    path = _write(
        tmp_path,
        """
version: 1
patterns:
  - id: no_category_here
    regex: \\bhelp\\b
""",
    )
    with pytest.raises(ValueError) as err:
        CrisisMatcher.from_file(path)
    msg = str(err.value)
    assert str(path) in msg and "no_category_here" in msg and "category" in msg


@pytest.mark.parametrize(
    "pattern_yaml, needle",
    [
        ("  - id: p1\n    category: suicide\n    regex: x\n    colour: red\n", "colour"),
        ("  - id: p1\n    category: sadness\n    regex: x\n", "category"),
        ("  - id: p1\n    category: suicide\n", "regex"),
        ("  - id: p1\n    category: suicide\n    regex: x\n  - id: p1\n    category: suicide\n    regex: y\n", "duplicated"),
        ("  - id: p1\n    category: suicide\n    regex: '{{nope}}'\n", "nope"),
        # an unquoted ': ' turns a regex list item into a mapping - must be caught, not ignored
        ("  - id: p1\n    category: suicide\n    regex:\n      - (?: x)\n", "p1"),
    ],
)
def test_from_file_rejects_bad_pattern_data(tmp_path, pattern_yaml, needle):
    path = _write(tmp_path, "version: 1\npatterns:\n" + pattern_yaml)
    with pytest.raises(ValueError, match=needle):
        CrisisMatcher.from_file(path)


def test_from_file_rejects_duplicate_keys(tmp_path):
    path = _write(
        tmp_path,
        "version: 1\npatterns:\n  - id: twice\n    category: suicide\n    regex: a\n    regex: b\n",
    )
    with pytest.raises(ValueError, match="duplicate key 'regex'"):
        CrisisMatcher.from_file(path)


def test_from_file_rejects_unknown_top_level_field_and_version(tmp_path):
    with pytest.raises(ValueError, match="paterns"):
        CrisisMatcher.from_file(_write(tmp_path, "version: 1\npaterns: []\n"))
    with pytest.raises(ValueError, match="version"):
        CrisisMatcher.from_file(_write(tmp_path, "version: 2\npatterns:\n  - {id: a, category: suicide, regex: x}\n"))


def test_shipped_pattern_file_is_valid_and_covers_every_category():
    m = CrisisMatcher.from_file(DEFAULT_PATTERNS_PATH)
    assert {p.category for p in m.patterns} == set(CATEGORIES)


def test_default_matcher_is_cached():
    assert default_matcher() is default_matcher()


# ------------------------------------------------------------------ behaviour


def test_unless_vetoes_only_the_near_miss(tmp_path):
    path = _write(
        tmp_path,
        """
version: 1
patterns:
  - id: killing_me
    category: domestic_abuse
    regex: \\bkilling me\\b
    unless:
      - \\b(?:rent|exams?) (?:is|are) killing me\\b
""",
    )
    m = CrisisMatcher.from_file(path)
    assert m.match("this rent is killing me") is None
    assert m.match("exams are killing me") is None
    assert m.match("he is killing me") == CrisisHit("domestic_abuse", "killing_me")
    # a veto on one phrase does not hide a real crisis phrase elsewhere in the message
    assert m.match("the rent is killing me and my stepdad is killing me") is not None


@pytest.mark.parametrize(
    "text",
    [
        "this rent is killing me",
        "exams are killing me",
        "my phone is dead",
        "i'm dying to go swimming",
        "i could kill for a pizza",
        "i cut myself shaving lol",
        "i got kicked out of college what can i do now",
        "i want to end things with my girlfriend",
    ],
)
def test_shipped_unless_vetoes_idioms(matcher, text):
    assert matcher.match(text) is None


def test_real_threat_is_not_vetoed_by_idiom_rules(matcher):
    assert matcher.match("my boyfriend is killing me") is not None
    assert matcher.match("he's going to kill me") is not None
    assert matcher.match("this rent is killing me and he said he'd kill me") is not None


@pytest.mark.parametrize(
    "text, category",
    [
        ("can u tell me about rent also i dont want to be alive anymore", "suicide"),
        ("hiya, how do i get a bus pass. my dad hits me when hes drunk. also is the gym free", "domestic_abuse"),
        ("quick q about my pathway plan but honestly ive got nowhere to sleep tonight", "homeless_tonight"),
        ("what's the council tax thing... i've been self harming again", "self_harm"),
    ],
)
def test_crisis_inside_a_longer_message(matcher, text, category):
    hit = matcher.match(text)
    assert hit is not None, f"not detected: {text!r}"
    assert hit.category == category, hit


def test_text_speak_and_typos_match(matcher):
    for text in [
        "i wna die",
        "i wnt 2 die",
        "im gona kms",
        "sucidal",
        "feeling su1cidal",
        "i want to k*ll myself",
        "dont wanna b here ne more",
        "i want to dieeeee",
        "I\u2019M GOING TO END IT ALL",
    ]:
        assert matcher.match(text) is not None, text


def test_empty_and_blank_messages(matcher):
    assert matcher.match("") is None
    assert matcher.match("   \n ") is None
    assert matcher.match_all("") == []


def test_match_all_lists_every_firing_pattern(matcher):
    hits = matcher.match_all("i want to die and my boyfriend hits me")
    categories = {h.category for h in hits}
    assert {"suicide", "domestic_abuse"} <= categories
    assert hits[0] == matcher.match("i want to die and my boyfriend hits me")


def test_matcher_module_uses_only_stdlib_and_yaml():
    source = (REPO / "knowledge" / "safety" / "crisis.py").read_text(encoding="utf-8")
    imported = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            imported |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            imported.add(node.module.split(".")[0])
    allowed = set(sys.stdlib_module_names) | {"yaml"}
    assert imported <= allowed, f"non-stdlib imports: {sorted(imported - allowed)}"
    assert "rasa" not in imported
