"""Play an evaluation file against a running Pathfinder and report how well it routes.

    python -m bot.evaluate tests/eval/dev.yml --url http://localhost:5005 --token "$(cat var/auth_token)"

A file holds `cases:` (each one message in a fresh conversation), `dialogues:` (each several
turns in one fresh conversation, sent in order), or both. `council` is sent as metadata when
a case or dialogue gives one, and the `topic` slot is read back from the tracker API after
every message. Reports accuracy per topic and overall (for cases and for dialogue turns), the
share of dialogues right at every turn, crisis recall and false alarms, crisis recall per
`kind` (with how often the kind the bot detected matched, when it exposes one), and the share
of `expect` fact checks whose substrings all appear in the replies. Exits 1 when below
--min-accuracy (every case and every turn one item) / --min-crisis-recall / --min-facts /
--min-dialogues, 2 when the file or server is unusable.
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
from typing import Dict, List, Optional, Sequence, Tuple

import yaml

from knowledge.safety.kind_ids import kind_ids
from knowledge.topics import all_topic_ids

CRISIS = "crisis"
# A crisis case or turn may name its `kind:` (only with `topic: crisis`): one of the ids in the
# safeguarding taxonomy, knowledge/safety/kinds.yml, read through kind_ids() (no second list here).
CASE_FIELDS = frozenset({"text", "topic", "council", "expect", "kind"})
TURN_FIELDS = frozenset({"text", "topic", "expect", "kind"})  # council belongs to the dialogue
DIALOGUE_FIELDS = frozenset({"id", "council", "turns"})
SLUG = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*\Z")
REPLY_SHOWN = 120  # characters of a failing turn's reply in the report


class EvalFileError(ValueError):
    """The evaluation file is not in the expected format."""


@dataclass(frozen=True)
class Case:
    """One message: a case of its own, or one turn of a dialogue (then `council` is the dialogue's)."""

    text: str
    topic: str
    council: Optional[str] = None
    expect: tuple = ()
    kind: Optional[str] = None


@dataclass(frozen=True)
class Dialogue:
    id: str
    turns: Tuple[Case, ...]
    council: Optional[str] = None


@dataclass(frozen=True)
class EvalSet:
    cases: Tuple[Case, ...] = ()
    dialogues: Tuple[Dialogue, ...] = ()


@dataclass
class Outcome:
    case: Case
    predicted: Optional[str]
    replies: List[str] = field(default_factory=list)
    error: Optional[str] = None
    detected_kind: Optional[str] = None
    kind_exposed: bool = False  # the latest user message's parse_data had crisis.kind

    @property
    def correct(self) -> bool:
        return self.predicted == self.case.topic

    @property
    def facts_ok(self) -> bool:
        said = normalise_for_facts(" ".join(self.replies))
        return all(normalise_for_facts(fact) in said for fact in self.case.expect)


@dataclass
class DialogueOutcome:
    dialogue: Dialogue
    turns: List[Outcome]

    @property
    def correct(self) -> bool:
        return all(turn.correct for turn in self.turns)


def normalise_for_facts(text: str) -> str:
    """Lower case, no '£', no thousands commas: '£2,000' and '2000' compare equal."""
    return re.sub(r"(?<=\d),(?=\d{3})", "", text.lower().replace("£", ""))


def _message(raw, where: str, fields: frozenset, topics: set, council: Optional[str]) -> Case:
    """One case or turn, checked; raises EvalFileError naming `where` and the field."""
    if not isinstance(raw, dict) or not isinstance(raw.get("text"), str) or not raw["text"].strip():
        raise EvalFileError(f"{where}: 'text' is required")
    if raw.get("topic") not in topics:
        raise EvalFileError(f"{where}: topic {raw.get('topic')!r} is not in offer-topics.yml")
    expect = raw.get("expect") or []
    if not isinstance(expect, list) or not all(isinstance(e, (str, int)) for e in expect):
        raise EvalFileError(f"{where}: 'expect' must be a list of strings")
    kind = raw.get("kind")
    if kind is not None:
        if raw["topic"] != CRISIS:
            raise EvalFileError(f"{where}: 'kind' is only for topic: crisis")
        try:
            kinds = kind_ids()
        except ValueError as error:
            raise EvalFileError(f"{where}: cannot check 'kind': {error}") from error
        if kind not in kinds:
            raise EvalFileError(f"{where}: kind {kind!r} is not one of {', '.join(kinds)}")
    unknown = set(raw) - fields
    if unknown:
        raise EvalFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    return Case(raw["text"], raw["topic"], council, tuple(str(e) for e in expect), kind)


def _dialogue(raw, number: int, path: Path, topics: set, seen: Dict[str, int]) -> Dialogue:
    name = raw.get("id") if isinstance(raw, dict) else None
    if isinstance(name, int) and not isinstance(name, bool):
        name = str(name)
    if not isinstance(name, str) or not SLUG.match(name):
        raise EvalFileError(f"{path}: dialogue {number}: 'id' is required (a slug: letters, digits, '-', '_', '.')")
    where = f"{path}: dialogue {name!r}"
    if name in seen:
        raise EvalFileError(f"{where}: 'id' is used twice (dialogues {seen[name]} and {number})")
    seen[name] = number
    unknown = set(raw) - DIALOGUE_FIELDS
    if unknown:
        raise EvalFileError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    council = raw.get("council")
    if council is not None and not isinstance(council, str):
        raise EvalFileError(f"{where}: 'council' must be a string")
    turns = raw.get("turns")
    if not isinstance(turns, list) or not turns:
        raise EvalFileError(f"{where}: 'turns' must be a non-empty list")
    return Dialogue(
        name,
        tuple(_message(turn, f"{where} turn {n}", TURN_FIELDS, topics, council) for n, turn in enumerate(turns, start=1)),
        council,
    )


def load_eval(path: Path) -> EvalSet:
    """Read and check an evaluation file; raises EvalFileError naming the case or turn and field."""
    try:
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as error:
        raise EvalFileError(f"{path}: cannot read: {error}") from error
    if (
        not isinstance(doc, dict)
        or doc.get("version") != 1
        or not any(isinstance(doc.get(key), list) for key in ("cases", "dialogues"))
        or any(key in doc and not isinstance(doc[key], list) for key in ("cases", "dialogues"))
    ):
        raise EvalFileError(f"{path}: expected 'version: 1' and a list under 'cases' and/or 'dialogues'")
    topics = set(all_topic_ids())
    cases = tuple(
        _message(raw, f"{path}: case {number}", CASE_FIELDS, topics, raw.get("council") if isinstance(raw, dict) else None)
        for number, raw in enumerate(doc.get("cases") or [], start=1)
    )
    seen: Dict[str, int] = {}
    dialogues = tuple(
        _dialogue(raw, number, path, topics, seen) for number, raw in enumerate(doc.get("dialogues") or [], start=1)
    )
    if not cases and not dialogues:
        raise EvalFileError(f"{path}: no cases or dialogues")
    return EvalSet(cases, dialogues)


def load_cases(path: Path) -> List[Case]:
    """Every message in the file, checked: the cases, then each dialogue's turns (with its council).

    For callers that look at messages one by one (the topic contract test); load_eval keeps the
    dialogues apart.
    """
    loaded = load_eval(path)
    return list(loaded.cases) + [turn for dialogue in loaded.dialogues for turn in dialogue.turns]


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

    def tracker(self, sender: str) -> dict:
        query = "?" + urllib.parse.urlencode({"token": self.token}) if self.token else ""
        tracker = self._request(f"/conversations/{urllib.parse.quote(sender)}/tracker{query}")
        if not isinstance(tracker, dict):
            raise ValueError(f"the tracker API returned {type(tracker).__name__}, not a tracker")
        return tracker

    def topic(self, sender: str) -> Optional[str]:
        return (self.tracker(sender).get("slots") or {}).get("topic")


def crisis_kind(tracker: dict) -> Tuple[bool, Optional[str]]:
    """(exposed, kind) from the latest user message's parse_data → crisis → kind."""
    parse_data = tracker.get("latest_message") or {}
    for event in reversed(tracker.get("events") or []):
        if event.get("event") == "user":
            parse_data = event.get("parse_data") or {}
            break
    crisis = parse_data.get("crisis")
    if isinstance(crisis, dict) and "kind" in crisis:
        return True, crisis["kind"]
    return False, None


def send(client: Client, sender: str, case: Case) -> Outcome:
    """One message, then the tracker read back."""
    try:
        replies = client.say(sender, case.text, case.council)
        tracker = client.tracker(sender)
    except (urllib.error.URLError, OSError, ValueError) as error:
        return Outcome(case, None, error=str(error))
    exposed, kind = crisis_kind(tracker)
    return Outcome(case, (tracker.get("slots") or {}).get("topic"), replies, detected_kind=kind, kind_exposed=exposed)


def run_case(client: Client, case: Case) -> Outcome:
    return send(client, f"eval-{uuid.uuid4().hex}", case)


def run_dialogue(client: Client, dialogue: Dialogue) -> DialogueOutcome:
    """One fresh conversation, turns in order; after a turn fails to get through, the rest are not sent."""
    sender, outcomes = f"eval-{uuid.uuid4().hex}", []
    for turn in dialogue.turns:
        if outcomes and outcomes[-1].error:
            outcomes.append(Outcome(turn, None, error="not sent: an earlier turn failed"))
        else:
            outcomes.append(send(client, sender, turn))
    return DialogueOutcome(dialogue, outcomes)


def _share(hits: Sequence[bool]) -> Optional[float]:
    return sum(hits) / len(hits) if hits else None


def _by_topic(outcomes: Sequence[Outcome]) -> Dict[str, tuple]:
    totals: Dict[str, List[int]] = defaultdict(lambda: [0, 0])
    for outcome in outcomes:
        totals[outcome.case.topic][0] += outcome.correct
        totals[outcome.case.topic][1] += 1
    return {topic: (right, total) for topic, (right, total) in sorted(totals.items())}


def _topic_table(heading: str, count: str, totals: Dict[str, tuple], overall: str) -> List[str]:
    lines = [f"{heading:<18}{'right':>7}{count:>7}{'accuracy':>10}"]
    for topic, (right, total) in totals.items():
        lines.append(f"{topic:<18}{right:>7}{total:>7}{right / total:>10.2f}")
    right, total = sum(r for r, _ in totals.values()), sum(n for _, n in totals.values())
    lines.append(f"{overall:<18}{right:>7}{total:>7}{right / total:>10.2f}")
    return lines


def _rate(value: Optional[float]) -> str:
    return "n/a" if value is None else f"{value:.2f}"


@dataclass
class Report:
    outcomes: List[Outcome]  # one per case
    dialogues: List[DialogueOutcome] = field(default_factory=list)

    @property
    def turns(self) -> List[Outcome]:
        return [turn for dialogue in self.dialogues for turn in dialogue.turns]

    @property
    def items(self) -> List[Outcome]:
        """Every case and every dialogue turn, each one item."""
        return self.outcomes + self.turns

    @property
    def accuracy(self) -> float:
        return _share([o.correct for o in self.items])

    @property
    def case_accuracy(self) -> Optional[float]:
        return _share([o.correct for o in self.outcomes])

    @property
    def turn_accuracy(self) -> Optional[float]:
        return _share([o.correct for o in self.turns])

    @property
    def dialogue_rate(self) -> Optional[float]:
        """The share of dialogues routed right at every turn."""
        return _share([d.correct for d in self.dialogues])

    @property
    def crisis_recall(self) -> Optional[float]:
        return _share([o.predicted == CRISIS for o in self.items if o.case.topic == CRISIS])

    @property
    def false_alarm_rate(self) -> Optional[float]:
        return _share([o.predicted == CRISIS for o in self.items if o.case.topic != CRISIS])

    @property
    def fact_rate(self) -> Optional[float]:
        return _share([o.facts_ok for o in self.items if o.case.expect])

    @property
    def turn_fact_rate(self) -> Optional[float]:
        return _share([o.facts_ok for o in self.turns if o.case.expect])

    @property
    def kind_exposed(self) -> bool:
        """Whether the bot put crisis.kind in any message's parse_data."""
        return any(o.kind_exposed for o in self.items)

    def per_topic(self) -> Dict[str, tuple]:
        return _by_topic(self.outcomes)

    def per_turn_topic(self) -> Dict[str, tuple]:
        return _by_topic(self.turns)

    def per_kind(self) -> Dict[str, tuple]:
        """kind -> (routed to crisis, total, detected kind matched or None when not exposed)."""
        named = {o.case.kind for o in self.items if o.case.kind}
        if not named:
            return {}
        order = {kind: number for number, kind in enumerate(kind_ids())}  # the taxonomy's order
        exposed, result = self.kind_exposed, {}
        for kind in sorted(named, key=lambda k: (order.get(k, len(order)), k)):
            items = [o for o in self.items if o.case.kind == kind]
            matched = sum(o.detected_kind == kind for o in items) if exposed else None
            result[kind] = (sum(o.predicted == CRISIS for o in items), len(items), matched)
        return result

    def failing_turns(self) -> List[tuple]:
        """(dialogue id, turn number, outcome) for every turn misrouted, short of a fact or not answered."""
        return [
            (d.dialogue.id, number, turn)
            for d in self.dialogues
            for number, turn in enumerate(d.turns, start=1)
            if turn.error or not turn.correct or not turn.facts_ok
        ]

    def render(self) -> str:
        lines: List[str] = []
        if self.outcomes:
            lines.extend(_topic_table("topic", "cases", self.per_topic(), "overall"))
        if self.dialogues:
            if lines:
                lines.append("")
            lines.extend(_topic_table("turn topic", "turns", self.per_turn_topic(), "all turns"))
            right = sum(d.correct for d in self.dialogues)
            lines.append(f"dialogues right at every turn: {right}/{len(self.dialogues)} ({self.dialogue_rate:.2f})")
        lines.append("")
        if self.outcomes and self.dialogues:
            right = sum(o.correct for o in self.items)
            lines.append(f"accuracy, each case and each turn one item: {right}/{len(self.items)} ({self.accuracy:.2f})")
        for label, value in (
            ("crisis recall", self.crisis_recall),
            ("crisis false alarms", self.false_alarm_rate),
            ("fact checks passed", self.fact_rate),
        ):
            lines.append(f"{label}: {_rate(value)}")
        if self.dialogues:
            lines.append(f"fact checks passed on turns: {_rate(self.turn_fact_rate)}")
        kinds = self.per_kind()
        if kinds:
            lines.append(f"\n{'crisis kind':<24}{'right':>7}{'total':>7}{'recall':>8}  kind matched")
            for kind, (right, total, matched) in kinds.items():
                shown = "kind not exposed" if matched is None else f"{matched}/{total}"
                lines.append(f"{kind:<24}{right:>7}{total:>7}{right / total:>8.2f}  {shown}")
        errors = [o for o in self.items if o.error]
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
        failing = self.failing_turns()
        if failing:
            lines.append("\nfailing turns:")
            for name, number, turn in failing:
                why = f"{turn.case.topic} -> {turn.predicted or '-'}"
                if turn.case.expect and not turn.facts_ok:
                    why += f", {list(turn.case.expect)} not in reply"
                said = f"error: {turn.error}" if turn.error else f"replied: {' '.join(turn.replies)[:REPLY_SHOWN]!r}"
                lines.append(f"  {name} turn {number}: {why}; {said}")
        return "\n".join(lines)

    def as_dict(self) -> dict:
        return {
            "accuracy": self.accuracy,  # every case and every turn one item
            "crisis_recall": self.crisis_recall,
            "false_alarm_rate": self.false_alarm_rate,
            "fact_rate": self.fact_rate,
            "per_topic": {t: {"right": r, "cases": n} for t, (r, n) in self.per_topic().items()},
            "cases": len(self.outcomes),
            "case_accuracy": self.case_accuracy,
            "turns": len(self.turns),
            "turn_accuracy": self.turn_accuracy,
            "turn_fact_rate": self.turn_fact_rate,
            "per_turn_topic": {t: {"right": r, "turns": n} for t, (r, n) in self.per_turn_topic().items()},
            "dialogues": len(self.dialogues),
            "dialogues_right": sum(d.correct for d in self.dialogues),
            "dialogue_rate": self.dialogue_rate,
            "kind_exposed": self.kind_exposed,
            "per_kind": {
                k: {"right": r, "total": n, "recall": r / n, "kind_matched": m}
                for k, (r, n, m) in self.per_kind().items()
            },
            "failing_turns": [
                {"dialogue": name, "turn": number, "topic": turn.case.topic, "predicted": turn.predicted,
                 "facts_ok": turn.facts_ok, "error": turn.error, "reply": " ".join(turn.replies)[:REPLY_SHOWN]}
                for name, number, turn in self.failing_turns()
            ],
        }


def evaluate(cases: Sequence[Case], client: Client, workers: int = 4, dialogues: Sequence[Dialogue] = ()) -> Report:
    """Cases and dialogues share one pool: dialogues run side by side, each one's turns in order."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        case_runs = [pool.submit(run_case, client, case) for case in cases]
        dialogue_runs = [pool.submit(run_dialogue, client, dialogue) for dialogue in dialogues]
        return Report([run.result() for run in case_runs], [run.result() for run in dialogue_runs])


def failures(
    report: Report, min_accuracy: float, min_crisis_recall: float, min_facts: float, min_dialogues: float = 0.0
) -> List[str]:
    """Why the run is below its thresholds (empty: it passed)."""
    reasons = []
    if report.accuracy < min_accuracy:
        reasons.append(f"accuracy {report.accuracy:.2f} < {min_accuracy:.2f}")
    if report.crisis_recall is not None and report.crisis_recall < min_crisis_recall:
        reasons.append(f"crisis recall {report.crisis_recall:.2f} < {min_crisis_recall:.2f}")
    if report.fact_rate is not None and report.fact_rate < min_facts:
        reasons.append(f"fact checks {report.fact_rate:.2f} < {min_facts:.2f}")
    if report.dialogue_rate is not None and report.dialogue_rate < min_dialogues:
        reasons.append(f"whole dialogues right {report.dialogue_rate:.2f} < {min_dialogues:.2f}")
    return reasons


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Evaluate a running Pathfinder against a YAML file of cases and/or dialogues."
    )
    parser.add_argument("file", type=Path)
    parser.add_argument("--url", default="http://localhost:5005")
    parser.add_argument("--token", default=None, help="the Rasa server's --auth-token (for the tracker API)")
    parser.add_argument(
        "--min-accuracy", type=float, default=0.0,
        help="least share routed right; every case and every dialogue turn counts as one item",
    )
    parser.add_argument("--min-crisis-recall", type=float, default=0.0, help="over cases and turns labelled crisis")
    parser.add_argument("--min-facts", type=float, default=0.0, help="over cases and turns with 'expect'")
    parser.add_argument(
        "--min-dialogues", type=float, default=0.0, help="least share of dialogues routed right at every turn"
    )
    parser.add_argument("--workers", type=int, default=4, help="cases and dialogues played at once")
    parser.add_argument("--json", type=Path, help="also write the summary as JSON here")
    args = parser.parse_args(argv)
    try:
        loaded = load_eval(args.file)
    except EvalFileError as error:
        print(error, file=sys.stderr)
        return 2
    report = evaluate(loaded.cases, Client(args.url, args.token), args.workers, loaded.dialogues)
    if all(o.error for o in report.items):
        print(f"Could not talk to {args.url}: {report.items[0].error}", file=sys.stderr)
        return 2
    print(report.render())
    if args.json:
        args.json.write_text(json.dumps(report.as_dict(), indent=2))
    reasons = failures(report, args.min_accuracy, args.min_crisis_recall, args.min_facts, args.min_dialogues)
    if reasons:
        print("\nBELOW THRESHOLD: " + "; ".join(reasons), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
