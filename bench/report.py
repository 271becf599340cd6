"""The run's results as a Markdown table and a PNG chart, with the machine they came from."""
from __future__ import annotations

import math
import os
import platform
import subprocess
from pathlib import Path
from typing import Dict, List

from bench.stats import PhaseResult, fmt, ratio
from bot.config import ROOT

STOCK = "stock rasa init"


def machine_facts() -> Dict[str, str]:
    """Core count, CPU, memory, load, versions and commit: what a reader needs to compare runs."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor() or "?")
    memory = next((int(line.split()[1]) // 1024 for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal")), 0)
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    import rasa

    return {
        "cores": str(os.cpu_count()),
        "cpu": cpu,
        "memory": f"{memory:,} MB",
        "python": platform.python_version(),
        "rasa": rasa.__version__,
        "commit": commit or "?",
    }


def load_average() -> str:
    """The 1/5/15-minute load averages (other work on the machine makes numbers noisy)."""
    return " / ".join(f"{value:.2f}" for value in os.getloadavg())


def _phase_rows(phases: List[PhaseResult], rss: Dict[str, Dict[str, float]]) -> List[str]:
    rows = ["| setup | conversations at once | p50 ms | p95 ms | p99 ms | msgs/s | messages | errors | peak RSS Rasa / actions MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for phase in phases:
        s = phase.summary()
        memory = rss.get(phase.name, {})
        rss_text = " / ".join(fmt(memory.get(key, math.nan)) for key in ("rasa", "actions") if key in memory)
        rows.append(f"| {phase.name} | {phase.concurrency} | {fmt(s['p50_ms'])} | {fmt(s['p95_ms'])} | {fmt(s['p99_ms'])} | "
                    f"{fmt(s['msgs_per_s'], 1)} | {s['messages']} | {s['errors']} | {rss_text or '-'} |")
    return rows


def _ratio_rows(phases: List[PhaseResult]) -> List[str]:
    """Pathfinder / stock for p50, p95 and msgs/s at each concurrency both were run at."""
    stock = {p.concurrency: p.summary() for p in phases if p.name == STOCK}
    rows = ["| setup | conversations | p50 ratio | p95 ratio | msgs/s ratio |", "|---|---:|---:|---:|---:|"]
    for phase in phases:
        if phase.name == STOCK or phase.concurrency not in stock:
            continue
        s, b = phase.summary(), stock[phase.concurrency]
        rows.append(f"| {phase.name} | {phase.concurrency} | {fmt(ratio(s['p50_ms'], b['p50_ms']), 2)} | "
                    f"{fmt(ratio(s['p95_ms'], b['p95_ms']), 2)} | {fmt(ratio(s['msgs_per_s'], b['msgs_per_s']), 2)} |")
    return rows


def markdown(results: Dict[str, object]) -> str:
    """The whole report as Markdown (also printed to stdout)."""
    facts: Dict[str, str] = results["machine"]
    lines = [f"# Pathfinder benchmark, {results['started']} ({results['mode']} mode)", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in facts.items()),
             f"Load average before / after: {results['load_before']} and {results['load_after']}", "",
             "## Turns through the REST channel (end to end, realistic multi-turn scripts)", ""]
    lines += _phase_rows(results["phases"], results["rss"])
    lines += ["", "Pathfinder / stock bot in this same run (below 1.0: Pathfinder is faster):", ""]
    lines += _ratio_rows(results["phases"])
    lines += ["", "## Other figures", "", "| what | figure |", "|---|---|"]
    for name, value in results["other"]:
        lines.append(f"| {name} | {value} |")
    lines += ["", f"Chart: {results.get('chart_name', '-')}", ""]
    return "\n".join(lines)


def chart(results: Dict[str, object], path: Path) -> None:
    """p95 latency and messages/s by concurrency for each setup, plus the long conversation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    phases: List[PhaseResult] = results["phases"]
    names = list(dict.fromkeys(p.name for p in phases))
    figure, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for name in names:
        mine = [p for p in phases if p.name == name]
        levels = [p.concurrency for p in mine]
        axes[0].plot(levels, [p.summary()["p95_ms"] for p in mine], marker="o", label=name)
        axes[1].plot(levels, [p.summary()["msgs_per_s"] for p in mine], marker="o", label=name)
    axes[0].set(title="p95 turn latency", xlabel="conversations at once", ylabel="ms", xscale="log")
    axes[1].set(title="throughput", xlabel="conversations at once", ylabel="user messages / s", xscale="log")
    for name, latencies in results.get("long", {}).items():
        axes[2].plot(range(1, len(latencies) + 1), [1000 * v for v in latencies], label=name, linewidth=0.8)
    axes[2].set(title="one long conversation", xlabel="turn", ylabel="ms")
    levels = sorted({p.concurrency for p in phases})
    for axis in axes[:2]:
        axis.set_xticks(levels)
        axis.set_xticklabels([str(level) for level in levels])
        axis.minorticks_off()
    for axis in axes:
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    facts = results["machine"]
    figure.suptitle(f"Pathfinder benchmark {results['started']} - {facts['cores']} cores, {facts['cpu']}, "
                    f"load {results['load_before']}", fontsize=9)
    figure.tight_layout()
    figure.savefig(path, dpi=110)
    plt.close(figure)


def write(results: Dict[str, object], folder: Path, stem: str) -> Path:
    """Write <stem>.md and <stem>.png into `folder`; returns the Markdown file."""
    folder.mkdir(parents=True, exist_ok=True)
    png, md = folder / f"{stem}.png", folder / f"{stem}.md"
    results["chart_name"] = png.name
    chart(results, png)
    md.write_text(markdown(results), encoding="utf-8")
    return md
