"""The evaluation harness, and the development set played against the running bot."""
from __future__ import annotations

import json
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Dict, List, Optional, Tuple

import pytest

from bot import evaluate
from bot.evaluate import Client, Dialogue, EvalFileError, load_cases, load_eval, normalise_for_facts
from knowledge.safety.kind_ids import kind_ids
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


# Blind sets written by helpers who saw neither the training data nor the patterns (frozen):
# regression guards a little under what was measured on 2026-12-01, not targets. The first
# sets (blind, dialogues, crisis-blind) have since been read to learn from their misses; the
# second ones (-2) have not, and are the honest measure (README, 'Measuring it'). Measured
# (third session, final code): blind 0.89 / crisis 0.92 / facts 0.89; dialogues 0.86 a turn /
# facts 0.92; crisis-blind recall 0.95; blind-2 0.93 / crisis 1.00 / facts 0.83; dialogues-2
# 0.89 a turn / facts 0.76; crisis-blind-2 recall 0.97, false alarms 0.06. Fourth session
# (final code): crisis-blind 0.98; crisis-blind-2 0.98 (right kind 191 of 205); the new
# crisis-blind-3 (blind, totals only) 0.97, false alarms 0.06, right kind 212 of 234;
# dialogues-3 (a development set, its misses read) 0.88 a turn, crisis 1.00. The aims of
# issues 12 and 13 are higher.
EVAL = ROOT / "tests" / "eval"
BLIND, DIALOGUES, CRISIS_BLIND = EVAL / "blind.yml", EVAL / "dialogues.yml", EVAL / "crisis-blind.yml"
BLIND_2, DIALOGUES_2, CRISIS_BLIND_2 = EVAL / "blind-2.yml", EVAL / "dialogues-2.yml", EVAL / "crisis-blind-2.yml"
DIALOGUES_3, CRISIS_BLIND_3 = EVAL / "dialogues-3.yml", EVAL / "crisis-blind-3.yml"


@pytest.mark.parametrize(
    "path, thresholds",
    [
        (BLIND, ["--min-accuracy", "0.88", "--min-crisis-recall", "0.83", "--min-facts", "0.85"]),
        (DIALOGUES, ["--min-accuracy", "0.84", "--min-facts", "0.85"]),
        (CRISIS_BLIND, ["--min-crisis-recall", "0.96"]),
        (BLIND_2, ["--min-accuracy", "0.90", "--min-crisis-recall", "1.0", "--min-facts", "0.83"]),
        (DIALOGUES_2, ["--min-accuracy", "0.88", "--min-facts", "0.72"]),
        (CRISIS_BLIND_2, ["--min-crisis-recall", "0.96"]),
        (DIALOGUES_3, ["--min-accuracy", "0.86", "--min-crisis-recall", "1.0"]),
        (CRISIS_BLIND_3, ["--min-crisis-recall", "0.96"]),
    ],
    ids=lambda value: value.name if isinstance(value, Path) else "",
)
def test_blind_sets_hold_their_measured_level(bot, capsys, path, thresholds):
    code = evaluate.main([str(path), "--url", bot.url, "--token", bot.token, "--json", "/dev/null", *thresholds])
    out = capsys.readouterr()
    print(out.out)
    assert code == 0, out.out + out.err


def test_the_conversation_flows_pass_at_every_turn(bot, capsys):
    """The team's own dialogues of the hand-off, reply and feedback flows (issue #14): fixed
    paths, so every turn and every fact check must pass."""
    code = evaluate.main([str(EVAL / "flows.yml"), "--url", bot.url, "--token", bot.token, "--json", "/dev/null",
                          "--min-accuracy", "1.0", "--min-dialogues", "1.0", "--min-facts", "1.0"])
    out = capsys.readouterr()
    print(out.out)
    assert code == 0, out.out + out.err


@pytest.mark.parametrize("path, right_kind", [(CRISIS_BLIND, 0.85), (CRISIS_BLIND_2, 0.9), (CRISIS_BLIND_3, 0.88)],
                         ids=lambda value: value.name if isinstance(value, Path) else "")
def test_the_blind_crisis_sets_false_alarms_stay_low_and_the_help_fits_the_kind(bot, tmp_path, capsys, path, right_kind):
    """False alarms measured 0.04, 0.06 and 0.06 on their look-alikes; the help chosen for the
    right kind first 191 of 216, 191 of 205 and 212 of 234 (fourth session)."""
    summary = tmp_path / "crisis-blind.json"
    evaluate.main([str(path), "--url", bot.url, "--token", bot.token, "--json", str(summary)])
    capsys.readouterr()
    report = json.loads(summary.read_text())
    assert report["false_alarm_rate"] <= 0.08
    kinds = report["per_kind"].values()
    assert sum(k["kind_matched"] for k in kinds) / sum(k["total"] for k in kinds) >= right_kind


# ---- crisis kinds and dialogues, against a fake bot ----------------------------------------------
# The fake is a tiny HTTP server in this process (like tests/test_widget.py's FakeBot): the REST
# channel answers from a script, and the tracker API reports the topic and parse_data of that
# sender's last message, so every figure below is known in advance.


class FakeBot:
    """Answers `script[text]` = (topic, reply, crisis kind or None); records every message."""

    def __init__(self, script: Dict[str, Tuple[str, str, Optional[str]]], expose_kind: bool = True,
                 barrier: Optional[threading.Barrier] = None) -> None:
        self.script, self.expose_kind, self.barrier = script, expose_kind, barrier
        self.seen: List[Tuple[str, str, dict]] = []  # (sender, text, metadata) in arrival order
        self.events: Dict[str, List[dict]] = {}  # sender -> the tracker's events so far
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, payload, status: int = 200) -> None:
                body = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                message = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)))
                if fake.barrier and message["message"].startswith("first"):
                    try:  # passes only when the dialogues' first turns are in flight together
                        fake.barrier.wait()
                    except threading.BrokenBarrierError:
                        return self._send({"error": "dialogues were not run side by side"}, 500)
                sender, text = message["sender"], message["message"]
                fake.seen.append((sender, text, message["metadata"]))
                _, reply, kind = fake.script[text]
                parse_data = {"text": text, "intent": {"name": "whatever"}}
                if fake.expose_kind:
                    parse_data["crisis"] = {"kind": kind} if kind else None
                fake.events.setdefault(sender, []).extend(
                    [{"event": "user", "text": text, "parse_data": parse_data}, {"event": "bot", "text": reply}])
                self._send([{"recipient_id": sender, "text": reply}])

            def do_GET(self) -> None:  # noqa: N802
                sender = urllib.parse.unquote(self.path.split("/")[2])
                events = fake.events.get(sender, [])
                topic = fake.script[events[-2]["text"]][0] if events else None
                self._send({"sender_id": sender, "slots": {"topic": topic}, "events": events})

            def log_message(self, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", free_port()), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


LONG_REPLY = "Your personal adviser can help with that. " * 6  # 252 characters

SCRIPT = {
    # cases
    "hello": ("smalltalk", "Hi!", None),
    "i want to end it": ("crisis", "Please call 116 123", "suicide"),
    "no point going on": ("smalltalk", "Hi!", None),  # a missed suicide case
    "cutting again": ("crisis", "Please call 116 123", "suicide"),  # right topic, wrong kind
    "he hits me": ("crisis", "Call 999", "domestic_abuse"),
    # dialogue turns
    "where can i live": ("housing", "Staying Put or supported lodgings", None),
    "how much is the grant": ("money", "Up to £2,000 to set up home", None),
    "and for a deposit": ("money", "The council can pay your deposit", None),
    "who is my pa": ("smalltalk", LONG_REPLY, None),  # misrouted: should be personal_adviser
    "thanks": ("smalltalk", "Any time", None),
    "kicked out tonight": ("crisis", "Call the council's out-of-hours team", "homeless_tonight"),
}

FILE = """\
version: 1
cases:
  - text: hello
    topic: smalltalk
  - text: i want to end it
    topic: crisis
    kind: suicide
  - text: no point going on
    topic: crisis
    kind: suicide
  - text: cutting again
    topic: crisis
    kind: self_harm
  - text: he hits me
    topic: crisis
    kind: domestic_abuse
dialogues:
  - id: moving-out
    council: walsall
    turns:
      - text: where can i live
        topic: housing
      - text: how much is the grant
        topic: money
        expect: ["2000"]
      - text: and for a deposit
        topic: money
        expect: ["bond"]
  - id: adviser
    turns:
      - text: who is my pa
        topic: personal_adviser
      - text: thanks
        topic: smalltalk
  - id: tonight
    turns:
      - text: where can i live
        topic: housing
      - text: kicked out tonight
        topic: crisis
        kind: homeless_tonight
"""


@pytest.fixture
def fake_bot():
    running = FakeBot(SCRIPT)
    yield running
    running.stop()


def test_a_file_may_hold_cases_and_dialogues(tmp_path):
    loaded = load_eval(write(tmp_path, FILE))
    assert [c.kind for c in loaded.cases] == [None, "suicide", "suicide", "self_harm", "domestic_abuse"]
    first, second, third = loaded.dialogues
    assert isinstance(first, Dialogue) and (first.id, first.council, len(first.turns)) == ("moving-out", "walsall", 3)
    assert [t.council for t in first.turns] == ["walsall"] * 3  # the dialogue's council on every turn
    assert first.turns[1].expect == ("2000",) and first.turns[2].topic == "money"
    assert (second.council, [t.topic for t in second.turns]) == (None, ["personal_adviser", "smalltalk"])
    assert [t.kind for t in third.turns] == [None, "homeless_tonight"]
    # the old entry point: every message, the cases first, then the turns with their dialogue's council
    messages = load_cases(write(tmp_path, FILE))
    assert messages[:5] == list(loaded.cases) and len(messages) == 5 + 3 + 2 + 2
    assert (messages[5].text, messages[5].council, messages[-1].kind) == ("where can i live", "walsall", "homeless_tonight")
    only_dialogues = load_eval(write(tmp_path, "version: 1\n" + FILE[FILE.index("dialogues:"):]))
    assert (len(only_dialogues.cases), len(only_dialogues.dialogues)) == (0, 3)


def test_the_kinds_are_read_from_the_safeguarding_taxonomy(tmp_path):
    ids = kind_ids()  # knowledge/safety/kinds.yml
    assert len(ids) == len(set(ids)) == 12
    assert {"suicide", "sextortion", "homeless_tonight", "missing"} <= set(ids)
    other = tmp_path / "kinds.yml"
    other.write_text("version: 1\nkinds:\n  missing: {title: x}\n  suicide: {title: y}\n")
    assert kind_ids(other) == ("missing", "suicide")  # the file's ids, in the file's order
    other.write_text("version: 1\nkinds: []\n")
    with pytest.raises(ValueError, match="a mapping of kinds under 'kinds'"):
        kind_ids(other)


def turns(*lines: str) -> str:
    return "version: 1\ndialogues:\n  - id: d1\n    turns:\n" + "".join(f"      {line}\n" for line in lines)


@pytest.mark.parametrize(
    "body, message",
    [
        ("version: 1\ncases:\n  - text: hi\n    topic: crisis\n    kind: sadness",
         "case 1: kind 'sadness' is not one of suicide, self_harm"),
        ("version: 1\ncases:\n  - text: hi\n    topic: housing\n    kind: homeless_tonight",
         "case 1: 'kind' is only for topic: crisis"),
        (turns("- text: hi", "  topic: smalltalk", "- text: hello", "  topic: smalltalk", "  council: walsall"),
         "dialogue 'd1' turn 2: unknown field(s) council"),
        (turns("- topic: smalltalk"), "dialogue 'd1' turn 1: 'text' is required"),
        (turns("- text: hi", "  topic: chitchat"), "dialogue 'd1' turn 1: topic 'chitchat' is not in offer-topics.yml"),
        (turns("- text: hi", "  topic: smalltalk", "  expect: 2000"), "dialogue 'd1' turn 1: 'expect' must be a list"),
        (turns("- text: hi", "  topic: crisis", "  kind: sad"), "dialogue 'd1' turn 1: kind 'sad' is not one of"),
        ("version: 1\ndialogues:\n  - turns: []", "dialogue 1: 'id' is required"),
        ("version: 1\ndialogues:\n  - id: d1\n    turns: []", "dialogue 'd1': 'turns' must be a non-empty list"),
        ("version: 1\ndialogues:\n  - id: d1\n    turn: []", "dialogue 'd1': unknown field(s) turn"),
        (turns("- text: hi", "  topic: smalltalk") + "  - id: d1\n    turns:\n      - text: yo\n        topic: smalltalk\n",
         "dialogue 'd1': 'id' is used twice (dialogues 1 and 2)"),
        ("version: 1\ndialogues: {}", "a list under 'cases' and/or 'dialogues'"),
        ("version: 1\ndialogues: []", "no cases or dialogues"),
    ],
)
def test_bad_kinds_and_dialogues_are_refused_with_the_reason(tmp_path, body, message):
    with pytest.raises(EvalFileError, match=message.replace("(", r"\(").replace(")", r"\)")):
        load_eval(write(tmp_path, body))


def run_file(fake: FakeBot, tmp_path: Path, *flags: str):
    summary = tmp_path / "summary.json"
    code = evaluate.main([str(write(tmp_path, FILE)), "--url", fake.url, "--json", str(summary), *flags])
    return code, json.loads(summary.read_text())


def test_crisis_recall_per_kind_and_kind_match(fake_bot, tmp_path, capsys):
    code, summary = run_file(fake_bot, tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    assert summary["per_kind"] == {
        "suicide": {"right": 1, "total": 2, "recall": 0.5, "kind_matched": 1},
        "self_harm": {"right": 1, "total": 1, "recall": 1.0, "kind_matched": 0},
        "domestic_abuse": {"right": 1, "total": 1, "recall": 1.0, "kind_matched": 1},
        # a dialogue turn: the kind is read from that turn's message, not the conversation's first
        "homeless_tonight": {"right": 1, "total": 1, "recall": 1.0, "kind_matched": 1},
    }
    assert summary["kind_exposed"] is True and summary["crisis_recall"] == 0.8  # 4 of 5 crisis items
    assert "suicide                       1      2    0.50  1/2" in out
    assert "self_harm                     1      1    1.00  0/1" in out


def test_kind_not_exposed_is_said_not_guessed(tmp_path, capsys):
    fake = FakeBot(SCRIPT, expose_kind=False)
    try:
        code, summary = run_file(fake, tmp_path)
    finally:
        fake.stop()
    out = capsys.readouterr().out
    assert code == 0
    assert summary["kind_exposed"] is False
    assert summary["per_kind"]["suicide"] == {"right": 1, "total": 2, "recall": 0.5, "kind_matched": None}
    assert "suicide                       1      2    0.50  kind not exposed" in out


def test_dialogues_turn_accuracy_whole_dialogues_and_failing_turns(fake_bot, tmp_path, capsys):
    code, summary = run_file(fake_bot, tmp_path)
    out = capsys.readouterr().out
    assert code == 0, out
    # turns: 7, of which "who is my pa" is misrouted -> 6/7; dialogues: adviser wrong, the other two right.
    assert (summary["turns"], summary["turn_accuracy"]) == (7, pytest.approx(6 / 7))
    assert (summary["dialogues"], summary["dialogues_right"], summary["dialogue_rate"]) == (3, 2, pytest.approx(2 / 3))
    assert summary["per_turn_topic"] == {
        "crisis": {"right": 1, "turns": 1}, "housing": {"right": 2, "turns": 2}, "money": {"right": 2, "turns": 2},
        "personal_adviser": {"right": 0, "turns": 1}, "smalltalk": {"right": 1, "turns": 1},
    }
    # cases: 4/5 right (the missed suicide); every case and every turn one item: 10/12.
    assert (summary["case_accuracy"], summary["accuracy"]) == (0.8, pytest.approx(10 / 12))
    assert summary["turn_fact_rate"] == 0.5 and summary["fact_rate"] == 0.5  # "bond" never said
    assert [(f["dialogue"], f["turn"], f["predicted"]) for f in summary["failing_turns"]] == [
        ("moving-out", 3, "money"), ("adviser", 1, "smalltalk")]
    assert summary["failing_turns"][1]["reply"] == LONG_REPLY[:120]
    assert "all turns               6      7      0.86" in out
    assert "dialogues right at every turn: 2/3 (0.67)" in out
    assert "accuracy, each case and each turn one item: 10/12 (0.83)" in out
    assert f"adviser turn 1: personal_adviser -> smalltalk; replied: {LONG_REPLY[:120]!r}" in out
    assert "moving-out turn 3: money -> money, ['bond'] not in reply" in out
    # each dialogue is one conversation, turns in order, council on every turn of moving-out
    by_sender: Dict[str, list] = {}
    for sender, text, metadata in fake_bot.seen:
        by_sender.setdefault(sender, []).append((text, metadata))
    conversations = sorted(by_sender.values(), key=lambda turns: (len(turns), turns[0][0]))
    assert len(by_sender) == 5 + 3  # five cases and three dialogues, each a fresh sender
    assert conversations[-1] == [("where can i live", {"council": "walsall"}),
                                 ("how much is the grant", {"council": "walsall"}),
                                 ("and for a deposit", {"council": "walsall"})]
    assert conversations[-3:-1] == [[("where can i live", {}), ("kicked out tonight", {})],
                                    [("who is my pa", {}), ("thanks", {})]]


@pytest.mark.parametrize(
    "flags, code, reason",
    [
        # 0.83 passes because turns count as items too (10/12); the cases alone are 0.80
        (["--min-accuracy", "0.83", "--min-dialogues", "0.66", "--min-crisis-recall", "0.8", "--min-facts", "0.5"], 0, None),
        (["--min-accuracy", "0.84"], 1, "accuracy 0.83 < 0.84"),
        (["--min-dialogues", "0.7"], 1, "whole dialogues right 0.67 < 0.70"),
        (["--min-crisis-recall", "0.81"], 1, "crisis recall 0.80 < 0.81"),
        (["--min-facts", "0.6"], 1, "fact checks 0.50 < 0.60"),
    ],
)
def test_thresholds_count_turns_and_whole_dialogues(fake_bot, tmp_path, capsys, flags, code, reason):
    assert run_file(fake_bot, tmp_path, *flags)[0] == code
    err = capsys.readouterr().err
    assert (reason in err) if reason else ("BELOW THRESHOLD" not in err)


def test_dialogues_run_side_by_side(tmp_path, capsys):
    script = {"first a": ("smalltalk", "a", None), "then a": ("smalltalk", "a", None),
              "first b": ("smalltalk", "b", None), "then b": ("smalltalk", "b", None)}
    fake = FakeBot(script, barrier=threading.Barrier(2, timeout=5))
    body = "version: 1\ndialogues:\n" + "".join(
        f"  - id: {d}\n    turns:\n      - text: first {d}\n        topic: smalltalk\n"
        f"      - text: then {d}\n        topic: smalltalk\n" for d in "ab")
    try:
        report = evaluate.evaluate([], Client(fake.url, None), workers=2, dialogues=load_eval(write(tmp_path, body)).dialogues)
    finally:
        fake.stop()
    assert [o.error for o in report.items] == [None] * 4
    assert report.dialogue_rate == 1.0


def test_unreachable_server_exits_2_for_dialogues_too(tmp_path, capsys):
    path = write(tmp_path, turns("- text: hi", "  topic: smalltalk", "- text: again", "  topic: smalltalk"))
    assert evaluate.main([str(path), "--url", f"http://127.0.0.1:{free_port()}"]) == 2
