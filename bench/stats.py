"""Percentiles and summaries of latency samples (kept free of numpy so they are easy to test)."""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Dict, List, Sequence


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100) with linear interpolation between ranks, as numpy's
    default; NaN for no values."""
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0-100, got {q}")
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = (len(ordered) - 1) * q / 100
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass
class PhaseResult:
    """One load phase: every turn's latency (seconds) and how long the phase took."""

    name: str
    concurrency: int
    latencies: List[float]
    errors: int
    elapsed: float

    @property
    def throughput(self) -> float:
        """Completed user messages per second over the phase."""
        return len(self.latencies) / self.elapsed if self.elapsed > 0 else 0.0

    def summary(self) -> Dict[str, float]:
        """p50/p95/p99 in milliseconds, messages/s, counts."""
        return {
            "p50_ms": 1000 * percentile(self.latencies, 50),
            "p95_ms": 1000 * percentile(self.latencies, 95),
            "p99_ms": 1000 * percentile(self.latencies, 99),
            "msgs_per_s": self.throughput,
            "messages": len(self.latencies),
            "errors": self.errors,
        }


def ratio(numerator: float, denominator: float) -> float:
    """numerator / denominator, NaN when either is missing or the denominator is 0."""
    if not denominator or math.isnan(denominator) or math.isnan(numerator):
        return math.nan
    return numerator / denominator


def fmt(value: float, digits: int = 0) -> str:
    """A number for the table ('-' when not measured)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return f"{value:,.{digits}f}"
