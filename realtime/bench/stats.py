"""Timing loops and latency statistics (milliseconds): min, p50, p95, p99, max."""
from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

PERCENTILES = (50, 95, 99)


@dataclass(frozen=True)
class LatencyStats:
    """Percentiles (numpy's linear interpolation), min, max and mean of `count` samples, in ms.

    On a machine shared with other work, min is the closest figure to a quiet machine's.
    """

    count: int
    min: float
    p50: float
    p95: float
    p99: float
    max: float
    mean: float

    @classmethod
    def from_ms(cls, samples_ms) -> "LatencyStats":
        """Statistics of a non-empty sequence of durations in milliseconds."""
        samples = np.asarray(samples_ms, dtype=np.float64)
        if samples.ndim != 1 or samples.size == 0:
            raise ValueError(f"need a non-empty 1-D sequence of durations, got {samples.shape}")
        p50, p95, p99 = np.percentile(samples, PERCENTILES)
        return cls(int(samples.size), float(samples.min()), float(p50), float(p95), float(p99),
                   float(samples.max()), float(samples.mean()))

    def to_json(self) -> dict:
        """The fields as a JSON object (ms, rounded to microseconds)."""
        return {k: (v if k == "count" else round(v, 4)) for k, v in asdict(self).items()}


def per_second(count: float, median_ms: float) -> float:
    """Throughput: `count` items per call at a median of `median_ms` per call."""
    return count * 1000.0 / median_ms if median_ms > 0 else float("inf")


def time_interleaved(calls: dict[str, Callable[[], object]], runs: int, warmup: int
                     ) -> dict[str, np.ndarray]:
    """Milliseconds per call of each callable: `warmup` untimed rounds, then `runs` timed rounds.

    Every round calls each callable once, in order, so that all of them see the same machine
    conditions (load from other processes, clock changes) over the run.
    """
    if runs < 1 or warmup < 0:
        raise ValueError(f"need runs >= 1 and warmup >= 0, got {runs} and {warmup}")
    for _ in range(warmup):
        for call in calls.values():
            call()
    times = {name: np.empty(runs) for name in calls}
    for i in range(runs):
        for name, call in calls.items():
            start = time.perf_counter_ns()
            call()
            times[name][i] = (time.perf_counter_ns() - start) / 1e6
    return times
