"""Every text a young person reads is at reading age 11 or under: Flesch-Kincaid grade <= 6.

Measured with textstat (pyphen's syllable dictionaries, nothing fetched). Covered: the
domain's responses, each offer entry's title, answer and "how to get it", the eligibility
checker's results, the crisis replies (openings, danger lines, advice, each service's line
and the shared lines) and the feeling lines. Web addresses, e-mail addresses and phone
numbers are read as one short word: nobody reads "247sexualabusesupport.org.uk" as prose,
and the formula would count it as a 12-syllable word.

A text above grade 6 fails unless ALLOWED names it and says why; an allowance that is no
longer needed fails too, so the list cannot go stale.
"""
from __future__ import annotations

import re
import statistics
from typing import Dict, Iterator, Tuple

import pytest
import textstat
import yaml

from knowledge.content import load_offers
from knowledge.eligibility import STATUSES
from knowledge.feelings import load_feelings
from knowledge.safety.kinds import default_kinds
from tests.conftest import ROOT

GRADE = 6.0  # Flesch-Kincaid grade 6 = reading age 11
_NOT_PROSE = re.compile(r"https?://\S+|\b[\w.-]+@[\w.-]+\.\w+\b|\b[\w-]+(?:\.[\w-]+)+\.(?:uk|org|com)\b|\+?\d[\d ]{4,}\d")

# id -> why this text may read above grade 6. Keep it short: each one is a text some young
# people will not follow.
ALLOWED: Dict[str, str] = {
    "eligibility:eligible.title": "'eligible' is the law's word for this status, in quotes, and the next line says what it means",
}


def readable(text: str) -> str:
    """The text as it is read: links, addresses and numbers count as one short word."""
    return _NOT_PROSE.sub("it", " ".join(text.split()))


def grade(text: str) -> float:
    return float(textstat.flesch_kincaid_grade(readable(text)))


def texts() -> Iterator[Tuple[str, str]]:
    """(id, text) for every user-facing text the project keeps as data."""
    domain = yaml.safe_load((ROOT / "domain.yml").read_text(encoding="utf-8"))
    for name, variants in domain["responses"].items():
        for index, variant in enumerate(variants):
            if variant.get("text"):
                yield f"response:{name}[{index}]", variant["text"]
    for entry in load_offers().entitlements:
        for field in ("title", "answer", "how_to_get"):
            yield f"offer:{entry.id}.{field}", getattr(entry, field)
    for status in STATUSES.values():
        for field in ("title", "explanation", "what_follows"):
            yield f"eligibility:{status.id}.{field}", getattr(status, field)
    taxonomy = default_kinds()
    for kind in taxonomy.kinds.values():
        for field in ("opening", "danger_line", "advice"):
            if getattr(kind, field):
                yield f"crisis:{kind.id}.{field}", getattr(kind, field)
        for use in kind.services:
            yield f"crisis:{kind.id}.{use.service.id}", use.say
    for name, line in taxonomy.lines.items():
        yield f"crisis-line:{name}", line
    for feeling in load_feelings():
        for index, line in enumerate(feeling.lines):
            yield f"feeling:{feeling.id}[{index}]", line


ALL = sorted(set(texts()))


@pytest.mark.parametrize("text_id, text", ALL, ids=[text_id for text_id, _ in ALL])
def test_every_text_reads_at_age_11_or_under(text_id, text):
    measured = grade(text)
    if text_id in ALLOWED:
        assert measured > GRADE, f"{text_id} now reads at grade {measured}: remove it from ALLOWED"
    else:
        assert measured <= GRADE, f"{text_id} reads at grade {measured} (> {GRADE}): {text!r}"


def test_the_measure_tells_hard_from_plain():
    """The check can fail: an official sentence is graded well above 6, a plain one below."""
    assert grade("The local authority has a statutory duty to provide accommodation to eligible "
                 "young people, in accordance with the regulations.") > 12
    assert grade("You can get money to help you move into your first home.") <= GRADE
    assert readable("Call 0808 800 5792 or see https://coramvoice.org.uk now") == "Call it or see it now"


def test_reading_ages_for_the_readme():
    """The figures the README quotes (run with -s to print them)."""
    grades = [grade(text) for _, text in ALL]
    print(f"\n{len(grades)} texts: median grade {statistics.median(grades):.1f}, worst {max(grades):.1f}")
    assert len(grades) > 300
