"""The benchmark's own arithmetic and command line (the benchmark itself is not a test:
run scripts/bench.sh)."""
from __future__ import annotations

import math
import subprocess

import pytest

from bench.report import _ratio_rows
from bench.stats import PhaseResult, fmt, percentile, ratio
from tests.conftest import PYTHON, ROOT, base_env


def test_help_runs_without_starting_anything():
    result = subprocess.run([PYTHON, "-m", "bench", "--help"], cwd=ROOT, env=base_env(), capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "--quick" in result.stdout


@pytest.mark.parametrize("q, expected", [(0, 1), (50, 50.5), (95, 95.05), (99, 99.01), (100, 100)])
def test_percentiles_interpolate_between_ranks_like_numpy(q, expected):
    assert percentile(list(range(100, 0, -1)), q) == pytest.approx(expected)


def test_percentile_edge_cases():
    assert percentile([7.0], 95) == 7.0
    assert math.isnan(percentile([], 50))
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_phase_summary_in_milliseconds_and_messages_per_second():
    phase = PhaseResult("x", 10, [0.1] * 19 + [1.0], errors=2, elapsed=4.0)
    summary = phase.summary()
    assert summary["p50_ms"] == pytest.approx(100)
    assert summary["p99_ms"] == pytest.approx(100 + 0.81 * 900)
    assert summary["msgs_per_s"] == 5.0 and summary["messages"] == 20 and summary["errors"] == 2


def test_ratios_compare_only_phases_run_against_the_stock_bot_at_the_same_level():
    stock = [PhaseResult("stock rasa init", n, [0.05], 0, 1.0) for n in (1, 10)]
    ours = [PhaseResult("Pathfinder SQLite", n, [0.1], 0, 2.0) for n in (1, 10, 50)]
    rows = _ratio_rows(stock + ours)
    assert len(rows) == 2 + 2  # header, rule, levels 1 and 10 (no stock run at 50)
    assert "| 2.00 | 2.00 | 0.50 |" in rows[2]
    assert math.isnan(ratio(1.0, 0)) and fmt(math.nan) == "-"
