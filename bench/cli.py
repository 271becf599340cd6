"""`python -m bench [--quick]`: the whole benchmark from one command.

Order (each step prints progress to stderr; the table goes to stdout and bench/results/):
training from scratch and unchanged -> the stock `rasa init` bot at 1 and 10 conversations
-> Pathfinder on SQLite, then on PostgreSQL, at 1, 10 and 50 conversations, each followed
by one long conversation -> NLU alone in-process -> the Redis lock under contention.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Dict, List, Optional

from bench import lockbench, load, report, scripts, servers
from bench.stats import PhaseResult, fmt, percentile
from bench.training import measure_training
from tests.conftest import PYTHON, ROOT, base_env, smtp_collector

RESULTS = Path(__file__).resolve().parent / "results"


def progress(message: str) -> None:
    """One progress line on stderr, time-stamped (stdout is kept for the table)."""
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="development run: 5 s phases, 1 and 10 conversations, short long-conversation")
    parser.add_argument("--model", type=Path, help="use this trained model and skip the training measurement")
    parser.add_argument("--stock-dir", type=Path, help="re-use this `rasa init` project instead of creating one")
    parser.add_argument("--duration", type=float, help="seconds per load phase (default 25, quick 5)")
    parser.add_argument("--no-postgres", action="store_true", help="skip the PostgreSQL tracker store phases")
    parser.add_argument("--out", type=Path, default=RESULTS, help="folder for the .md and .png (default bench/results)")
    return parser.parse_args(argv)


def plan(args: argparse.Namespace) -> Dict[str, object]:
    """How much of everything to run in this mode."""
    quick = args.quick
    return {
        "duration": args.duration or (5.0 if quick else 25.0),
        "levels": [1, 10] if quick else [1, 10, 50],
        "stock_levels": [1, 10],
        "long_turns": 30 if quick else 200,
        "nlu_seconds": 5 if quick else 20,
        "lock_turns": 3 if quick else 5,
        "warmup_turns": 5 if quick else 10,
    }


def run_load(server, name: str, levels: List[int], settings: Dict[str, object], script_set, councils) -> List[PhaseResult]:
    """Warm the server up, then one phase per concurrency level."""
    asyncio.run(load.run_phase(server.url, name, 1, 0.1, script_set, councils))  # imports, first TF call
    asyncio.run(load.long_conversation(server.url, settings["warmup_turns"], script_set[0], councils[0] or ""))
    phases = []
    for level in levels:
        progress(f"{name}: {level} conversation(s) at once for {settings['duration']:.0f} s")
        phase = asyncio.run(load.run_phase(server.url, name, level, settings["duration"], script_set, councils, progress))
        summary = phase.summary()
        progress(f"  p50 {fmt(summary['p50_ms'])} ms, p95 {fmt(summary['p95_ms'])} ms, "
                 f"{fmt(summary['msgs_per_s'], 1)} msgs/s, {phase.errors} errors")
        phases.append(phase)
    return phases


def long_figures(name: str, latencies: List[float]) -> List[tuple]:
    """Early turns vs the last turns of one long conversation (medians of 5 turns)."""
    early = 1000 * percentile(latencies[2:7], 50)
    late = 1000 * percentile(latencies[-5:], 50)
    return [(f"{name}: one conversation, turns 3-7 vs turns {len(latencies) - 4}-{len(latencies)} (median ms)",
             f"{fmt(early)} vs {fmt(late)} (x{fmt(late / early, 2)})")]


def bench_pathfinder(model: Path, work: Path, smtp_port: int, name: str, database_url: Optional[str],
                     settings: Dict[str, object], results: Dict[str, object]) -> None:
    """Load phases and the long conversation on one Pathfinder set-up; records peak RSS."""
    progress(f"starting Pathfinder ({name})")
    with servers.pathfinder(model, work / name.replace(" ", "-"), smtp_port, database_url) as server:
        results["phases"] += run_load(server, name, settings["levels"], settings,
                                      scripts.PATHFINDER_SCRIPTS, scripts.COUNCILS)
        progress(f"{name}: one conversation of {settings['long_turns']} turns")
        latencies = asyncio.run(load.long_conversation(server.url, settings["long_turns"], scripts.LONG_CONVERSATION, "walsall"))
        results["long"][name] = latencies
        results["other"] += long_figures(name, latencies)
        results["rss"][name] = servers.server_rss(server)


def bench_stock(work: Path, stock_dir: Optional[Path], settings: Dict[str, object], results: Dict[str, object]) -> None:
    """The stock `rasa init` bot (created and trained here unless given) through REST."""
    project = stock_dir
    if project is None:
        project = work / "stock"
        progress("creating and training the stock bot (rasa init --no-prompt)")
        seconds = servers.create_stock_project(project)
        results["other"].append(("stock bot: rasa init --no-prompt (create + train)", f"{seconds:.0f} s"))
    progress("starting the stock bot")
    with servers.stock_bot(project, work / "stock-run") as server:
        results["phases"] += run_load(server, report.STOCK, settings["stock_levels"], settings, scripts.STOCK_SCRIPTS, (None,))
        results["rss"][report.STOCK] = servers.server_rss(server)


def bench_nlu(model: Path, settings: Dict[str, object], results: Dict[str, object]) -> None:
    """NLU alone, in its own process (see bench/nlu.py)."""
    progress(f"NLU alone, in-process, for {settings['nlu_seconds']} s")
    out = subprocess.run([PYTHON, "-m", "bench.nlu", str(model), str(settings["nlu_seconds"])],
                         cwd=ROOT, env=base_env(), capture_output=True, text=True)
    if out.returncode != 0:
        results["other"].append(("NLU alone", f"failed: {out.stderr[-300:]}"))
        return
    nlu = json.loads(out.stdout.strip().splitlines()[-1])
    top = ", ".join(f"{name.replace('run_', '')} {ms:.2f}" for name, ms in list(nlu["components_ms"].items())[:4])
    results["other"] += [
        ("NLU alone, in-process, one at a time", f"{nlu['msgs_per_s']:.0f} msgs/s ({nlu['ms_per_msg']:.1f} ms each)"),
        ("spaCy share of NLU time (SpacyNLP / all spaCy components)",
         f"{100 * nlu['spacy_nlp_share']:.1f}% / {100 * nlu['spacy_all_share']:.1f}%"),
        ("slowest NLU components (ms per message)", top),
    ]


def bench_lock(settings: Dict[str, object], results: Dict[str, object]) -> None:
    """Two processes taking one conversation's lock: Rasa's RedisLockStore vs ours."""
    for kind, label in (("rasa", "Rasa 3.6 RedisLockStore"), ("atomic", "bot.lock_store.AtomicRedisLockStore")):
        progress(f"lock contention: {label}")
        try:
            r = lockbench.contention(kind, servers=2, turns=settings["lock_turns"])
        except Exception as error:  # noqa: BLE001 - no Redis: say so in the table
            results["other"].append((f"lock under contention, {label}", f"not measured: {error}"))
            continue
        results["other"].append((
            f"lock under contention, {label} (2 processes x {settings['lock_turns']} turns of 20 ms, one conversation)",
            f"{r['overlaps']} turns ran while another held the lock, {r['failures']} failed, "
            f"mean wait {r['mean_wait_ms']:.0f} ms, {r['turns_per_s']:.1f} turns/s"))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    settings = plan(args)
    started = datetime.now(timezone.utc)
    results: Dict[str, object] = {
        "started": started.strftime("%Y-%m-%d %H:%M UTC"), "mode": "quick" if args.quick else "full",
        "machine": report.machine_facts(), "load_before": report.load_average(),
        "phases": [], "rss": {}, "other": [], "long": {},
    }
    clock = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="pathfinder-bench-") as tmp, smtp_collector() as (smtp, _):
        work = Path(tmp)
        model = args.model
        if model is None:
            progress("training from scratch (empty Rasa cache), then again with unchanged data")
            trained = measure_training(work)
            model = trained["model"]
            results["other"] += [("training from scratch (DIET + policies, empty cache)", f"{trained['scratch_s']:.0f} s"),
                                 ("training again, data unchanged", f"{trained['unchanged_s']:.0f} s")]
        bench_stock(work, args.stock_dir, settings, results)
        bench_pathfinder(model, work, smtp.port, "Pathfinder SQLite", None, settings, results)
        if not args.no_postgres:
            with servers.postgres_database() as database_url:
                if database_url:
                    bench_pathfinder(model, work, smtp.port, "Pathfinder PostgreSQL", database_url, settings, results)
        bench_nlu(model, settings, results)
        bench_lock(settings, results)
    results["load_after"] = report.load_average()
    results["other"].append(("benchmark run time", f"{(time.monotonic() - clock) / 60:.1f} min"))
    stem = f"bench-{started.strftime('%Y-%m-%d')}" + ("-quick" if args.quick else "")
    path = report.write(results, args.out, stem)
    print(path.read_text(encoding="utf-8"))
    progress(f"written {path} and {path.with_suffix('.png')}")
    return 0
