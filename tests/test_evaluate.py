"""The evaluation harness, and the development set played against the running bot."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from bot import evaluate
from bot.evaluate import EvalFileError, load_cases, normalise_for_facts
from tests.conftest import ROOT, free_port

DEV_SET = ROOT / "tests" / "eval" / "dev.yml"
# Raised over time as the data improves; the floor is 0.85 accuracy / 0.9 facts.
MIN_ACCURACY = 0.9
MIN_FACTS = 0.9


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cases.yml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    "body, message",
    [
        ("version: 2\ncases: []", "version: 1"),
        ("version: 1\ncases:\n  - topic: money", "case 1: 'text' is required"),
        ("version: 1\ncases:\n  - text: hi\n    topic: chitchat", "topic 'chitchat' is not in offer-topics.yml"),
        ("version: 1\ncases:\n  - text: hi\n    topic: smalltalk\n    expect: 2000", "'expect' must be a list"),
        ("version: 1\ncases:\n  - text: hi\n    topic: smalltalk\n    lang: en", "unknown field(s) lang"),
        ("version: 1\ncases: []", "no cases"),
        ("version: 1\ncases: [", "cannot read"),
    ],
)
def test_bad_files_are_refused_with_the_reason(tmp_path, body, message):
    with pytest.raises(EvalFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_cases(write(tmp_path, body))


def test_facts_ignore_pound_signs_commas_and_case():
    assert normalise_for_facts("Up to £2,000 for KOOTH") == "up to 2000 for kooth"


def test_unreachable_server_exits_2(tmp_path, capsys):
    path = write(tmp_path, "version: 1\ncases:\n  - text: hi\n    topic: smalltalk\n")
    assert evaluate.main([str(path), "--url", f"http://127.0.0.1:{free_port()}"]) == 2


def test_small_file_passes_and_prints_the_table(bot, tmp_path, capsys):
    path = write(
        tmp_path,
        "version: 1\ncases:\n"
        "  - text: hello there\n    topic: smalltalk\n"
        "  - text: how much is the setting up home grant\n    topic: money\n    council: walsall\n    expect: ['2000']\n"
        "  - text: i want to kill myself\n    topic: crisis\n",
    )
    code = evaluate.main([str(path), "--url", bot.url, "--token", bot.token, "--min-accuracy", "1", "--min-crisis-recall", "1"])
    out = capsys.readouterr().out
    assert code == 0, out
    assert "smalltalk" in out and "overall" in out and "crisis recall: 1.00" in out
    assert "fact checks passed: 1.00" in out


def test_below_threshold_exits_1(bot, tmp_path, capsys):
    path = write(tmp_path, "version: 1\ncases:\n  - text: hello there\n    topic: money\n")
    assert evaluate.main([str(path), "--url", bot.url, "--token", bot.token, "--min-accuracy", "0.5"]) == 1
    assert "BELOW THRESHOLD" in capsys.readouterr().err


def test_development_set_meets_its_thresholds(bot, tmp_path, capsys):
    summary = tmp_path / "dev.json"
    code = evaluate.main(
        [str(DEV_SET), "--url", bot.url, "--token", bot.token, "--min-accuracy", str(MIN_ACCURACY),
         "--min-crisis-recall", "1.0", "--min-facts", str(MIN_FACTS), "--json", str(summary)]
    )
    out = capsys.readouterr()
    print(out.out)  # the per-topic table stays in the test log
    assert code == 0, out.out + out.err
    assert json.loads(summary.read_text())["cases"] >= 150


HOLDOUT = ROOT / "tests" / "eval" / "holdout.yml"
# Written by someone who never saw the training data or the development set: the honest
# measure of how the bot does on new wording. Measured 0.89 on 2026-11-25, 0.87 after the
# volunteering examples and the unknown-words gate (DIET noise: the volunteering case moved right).
MIN_HOLDOUT_ACCURACY = 0.85


def test_holdout_set_meets_its_threshold(bot, capsys):
    code = evaluate.main(
        [str(HOLDOUT), "--url", bot.url, "--token", bot.token, "--min-accuracy", str(MIN_HOLDOUT_ACCURACY),
         "--min-crisis-recall", "1.0"]
    )
    out = capsys.readouterr()
    print(out.out)
    assert code == 0, out.out + out.err
