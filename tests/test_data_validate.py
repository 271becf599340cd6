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
