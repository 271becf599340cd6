"""Play an evaluation file against a running Pathfinder and report how well it routes.

    python -m bot.evaluate tests/eval/dev.yml --url http://localhost:5005 --token "$(cat var/auth_token)"

Each case is one fresh conversation through the REST channel (with `council` sent as
metadata when the case gives one). The `topic` slot is read back from the tracker API.
Reports accuracy per topic and overall, crisis recall and false alarms, and the share of
`expect` fact checks whose substrings all appear in the replies. Exits 1 when below
--min-accuracy / --min-crisis-recall / --min-facts, 2 when the file or server is unusable.
"""
from __future__ import annotations

import argparse
import json
import re
import sys
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import yaml

from knowledge.topics import all_topic_ids

CRISIS = "crisis"


class EvalFileError(ValueError):
    """The evaluation file is not in the expected format."""


@dataclass(frozen=True)
class Case:
    text: str
    topic: str
    council: Optional[str] = None
    expect: tuple = ()


@dataclass
class Outcome:
    case: Case
    predicted: Optional[str]
    replies: List[str] = field(default_factory=list)
    error: Optional[str] = None

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.topic

    @property
    def facts_ok(self) -> bool:
        said = normalise_for_facts(" ".join(self.replies))
        return all(normalise_for_facts(fact) in said for fact in self.case.expect)


def normalise_for_facts(text: str) -> str:
    """Lower case, no '£', no thousands commas: '£2,000' and '2000' compare equal."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text.lower().replace("£", ""))


def load_cases(path: Path) -> List[Case]:
    """Read and check an evaluation file; raises EvalFileError naming the case and field."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise EvalFileError(f"{path}: cannot read: {error}") from error
    if not isinstance(doc, dict) or doc.get("version") != 1 or not isinstance(doc.get("cases"), list):
        raise EvalFileError(f"{path}: expected 'version: 1' and a list under 'cases'")
    topics, cases = set(all_topic_ids()), []
    for number, raw in enumerate(doc["cases"], start=1):
        where = f"{path}: case {number}"
        if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
            raise EvalFileError(f"{where}: 'text' is required")
        if raw.get("topic") not in topics:
            raise EvalFileError(f"{where}: topic {raw.get('topic')!r} is not in offer-topics.yml")
        expect = raw.get("expect") or []
        if not isinstance(expect, list) or not all(isinstance(e, (str, int)) for e in expect):
            raise EvalFileError(f"{where}: 'expect' must be a list of strings")
        unknown = set(raw) - {"text", "topic", "council", "expect"}
        if unknown:
            raise EvalFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
        cases.append(Case(raw["text"], raw["topic"], raw.get("council"), tuple(str(e) for e in expect)))
    if not cases:
        raise EvalFileError(f"{path}: no cases")
    return cases


class Client:
    """Talks to the Rasa server's REST channel and tracker API."""

    def __init__(self, url: str, token: Optional[str], timeout: float = 30.0):
        self.url, self.token, self.timeout = url.rstrip("/"), token, timeout

    def _request(self, path: str, body: Optional[dict] = None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(self.url + path, data=data, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=self.timeout) as reply:
            return json.loads(reply.read() or b"null")

    def say(self, sender: str, text: str, council: Optional[str]) -> List[str]:
        body = {"sender": sender, "message": text, "metadata": {"council": council} if council else {}}
        messages = self._request("/webhooks/rest/webhook", body) or []
        texts = []
        for message in messages:
            texts.append(message.get("text") or "")
            texts.extend(button.get("title", "") for button in message.get("buttons") or [])
        return texts

    def topic(self, sender: str) -> Optional[str]:
        query = "?" + urllib.parse.urlencode({"token": self.token}) if self.token else ""
        tracker = self._request(f"/conversations/{urllib.parse.quote(sender)}/tracker{query}")
        return (tracker.get("slots") or {}).get("topic")


def run_case(client: Client, case: Case) -> Outcome:
    sender = f"eval-{uuid.uuid4().hex}"
    try:
        replies = client.say(sender, case.text, case.council)
        return Outcome(case, client.topic(sender), replies)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Outcome(case, None, error=str(error))


@dataclass
class Report:
    outcomes: List[Outcome]

    @property
    def accuracy(self) -> float:
        return sum(o.correct for o in self.outcomes) / len(self.outcomes)

    @property
    def crisis_recall(self) -> Optional[float]:
        crisis = [o for o in self.outcomes if o.case.topic == CRISIS]
        return sum(o.predicted == CRISIS for o in crisis) / len(crisis) if crisis else None

    @property
    def false_alarm_rate(self) -> Optional[float]:
        others = [o for o in self.outcomes if o.case.topic != CRISIS]
        return sum(o.predicted == CRISIS for o in others) / len(others) if others else None

    @property
    def fact_rate(self) -> Optional[float]:
        checked = [o for o in self.outcomes if o.case.expect]
        return sum(o.facts_ok for o in checked) / len(checked) if checked else None

    def per_topic(self) -> Dict[str, tuple]:
        totals: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
        for outcome in self.outcomes:
            totals[outcome.case.topic][0] += outcome.correct
            totals[outcome.case.topic][1] += 1
        return {topic: (right, total) for topic, (right, total) in sorted(totals.items())}

    def render(self) -> str:
        lines = [f"{'topic':<18}{'right':>7}{'cases':>7}{'accuracy':>10}"]
        for topic, (right, total) in self.per_topic().items():
            lines.append(f"{topic:<18}{right:>7}{total:>7}{right / total:>10.2f}")
        lines.append(f"{'overall':<18}{sum(o.correct for o in self.outcomes):>7}{len(self.outcomes):>7}{self.accuracy:>10.2f}")
        lines.append("")
        for label, value in (
            ("crisis recall", self.crisis_recall),
            ("crisis false alarms", self.false_alarm_rate),
            ("fact checks passed", self.fact_rate),
        ):
            lines.append(f"{label}: {'n/a' if value is None else f'{value:.2f}'}")
        errors = [o for o in self.outcomes if o.error]
        if errors:
            lines.append(f"errors: {len(errors)} (first: {errors[0].error})")
        misses = [o for o in self.outcomes if not o.correct and not o.error]
        if misses:
            lines.append("\nmisrouted:")
            lines.extend(f"  {o.case.topic:>16} -> {o.predicted or '-':<16} {o.case.text}" for o in misses)
        failed = [o for o in self.outcomes if o.case.expect and not o.facts_ok]
        if failed:
            lines.append("\nfact checks failed:")
            lines.extend(f"  {list(o.case.expect)} not in reply to: {o.case.text}" for o in failed)
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,
            "crisis_recall": self.crisis_recall,
            "false_alarm_rate": self.false_alarm_rate,
            "fact_rate": self.fact_rate,
            "per_topic": {t: {"right": r, "cases": n} for t, (r, n) in self.per_topic().items()},
            "cases": len(self.outcomes),
        }


def evaluate(cases: Sequence[Case], client: Client, workers: int = 4) -> Report:
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return Report(list(pool.map(lambda case: run_case(client, case), cases)))


def failures(report: Report, min_accuracy: float, min_crisis_recall: float, min_facts: float) -> List[str]:
    """Why the run is below its thresholds (empty: it passed)."""
    reasons = []
    if report.accuracy < min_accuracy:
        reasons.append(f"accuracy {report.accuracy:.2f} < {min_accuracy:.2f}")
    if report.crisis_recall is not None and report.crisis_recall < min_crisis_recall:
        reasons.append(f"crisis recall {report.crisis_recall:.2f} < {min_crisis_recall:.2f}")
    if report.fact_rate is not None and report.fact_rate < min_facts:
        reasons.append(f"fact checks {report.fact_rate:.2f} < {min_facts:.2f}")
    return reasons


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(description="Evaluate a running Pathfinder against a YAML file of cases.")
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--token", default=None, help="the Rasa server's --auth-token (for the tracker API)")
    parser.add_argument("--min-accuracy", type=float, default=0.0)
    parser.add_argument("--min-crisis-recall", type=float, default=0.0)
    parser.add_argument("--min-facts", type=float, default=0.0)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args(argv)
    try:
        cases = load_cases(args.file)
    except EvalFileError as error:
        print(error, file=sys.stderr)
        return 2
    report = evaluate(cases, Client(args.url, args.token), args.workers)
    if all(o.error for o in report.outcomes):
        print(f"Could not talk to {args.url}: {report.outcomes[0].error}", file=sys.stderr)
        return 2
    print(report.render())
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    reasons = failures(report, args.min_accuracy, args.min_crisis_recall, args.min_facts)
    if reasons:
        print("\nBELOW THRESHOLD: " + "; ".join(reasons), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
