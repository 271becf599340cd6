"""`rasa data validate` is clean.

Rasa's validator cannot see responses uttered from custom actions or asked by forms, and
warns that they are "not used in any story or rule". Those warnings are accepted only for
responses that the code or a form really uses, which this test checks itself.
"""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import yaml

from tests.conftest import ROOT, base_env

UNUSED = re.compile(r"The utterance '(utter_\w+)' is not used in any story or rule")


def responses_used_outside_stories() -> set:
    used = set()
    for path in (ROOT / "actions").glob("*.py"):
        used |= set(re.findall(r"response=\"(utter_\w+)\"", path.read_text()))
    domain = yaml.safe_load((ROOT / "domain.yml").read_text())
    for form in domain["forms"].values():
        used |= {f"utter_ask_{slot}" for slot in form["required_slots"]}
    return used


def test_rasa_data_validate_is_clean():
    result = subprocess.run(
        [sys.executable, "-m", "rasa", "data", "validate"], cwd=ROOT, env=base_env(), capture_output=True, text=True
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    unused = set(UNUSED.findall(output))
    assert unused <= responses_used_outside_stories(), f"responses nobody uses: {unused - responses_used_outside_stories()}"
    other_warnings = [
        line for line in output.splitlines()
        if "UserWarning" in line and not UNUSED.search(line)
    ]
    assert not other_warnings, "\n".join(other_warnings)


def _words(text: str) -> frozenset:
    return frozenset(re.findall(r"[a-z0-9£']+", str(text).lower()))


SPECIFIC_WORDS = 8  # shorter ("what is staying put", "i want to die") anyone writes alike
SAME_SHARE = 0.7


def nlu_texts():
    """(file name, text) for every NLU training example."""
    for path in sorted((ROOT / "data" / "nlu").rglob("*.yml")):
        for item in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            for line in str(item.get("examples") or "").splitlines():
                if line.strip().startswith("- "):
                    yield path.name, line.strip()[2:]


def safety_texts():
    """(where, text) for every crisis classifier example, crisis and not."""
    examples = yaml.safe_load((ROOT / "data" / "safety" / "examples.yml").read_text(encoding="utf-8"))
    for kind, texts in examples["crisis"].items():
        yield from ((f"examples.yml crisis.{kind}", text) for text in texts)
    yield from (("examples.yml not_crisis", text) for text in examples["not_crisis"])


def _training_texts():
    """(where, text) for everything the models and the retrieval learn from."""
    yield from nlu_texts()
    yield from safety_texts()
    for path in sorted((ROOT / "knowledge" / "offers").glob("*.yml")):
        for entry in yaml.safe_load(path.read_text(encoding="utf-8"))["entitlements"]:
            yield from ((path.name, question) for question in entry.get("questions") or [])


def test_no_blind_or_outside_message_is_copied_or_paraphrased_into_training_data():
    """The blind sets and the outside sample only measure if nothing learnt from them: no
    training example, look-alike or offer question of SPECIFIC_WORDS words or more may share
    SAME_SHARE of its words with one of their messages. (A helper's look-alike once matched a
    blind one nearly word for word: "... my pa sent me a voice note of her singing by accident".)"""
    sets = sorted((ROOT / "tests" / "eval").glob("*blind*.yml")) + sorted((ROOT / "tests" / "eval").glob("dialogues*.yml"))
    outside = ROOT.parent / "shared" / "eval" / "outside-sample.yml"
    sets += [outside] if outside.exists() else []
    measured = set()
    for path in sets:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        measured |= {_words(c["text"]) for c in data.get("cases") or []}
        measured |= {_words(t["text"]) for d in data.get("dialogues") or [] for t in d["turns"]}
    copied = []
    for where, text in _training_texts():
        words = _words(text)
        if len(words) < SPECIFIC_WORDS:
            continue
        if any(len(words & other) / len(words | other) >= SAME_SHARE for other in measured):
            copied.append(f"{where}: {text!r}")
    assert not copied, "training data too close to evaluation messages:\n" + "\n".join(copied)
