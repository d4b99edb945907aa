"""Test helpers: run the CLI as a user does, run a pipeline to its end, compare rankings up to
near-ties."""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np

NEAR_TIE = 1e-5


def run_poserec(*args: str, timeout: float = 120, env: dict | None = None,
                **kwargs) -> subprocess.CompletedProcess:
    """Run `poserec ARGS` in a subprocess; returns the completed process (text output)."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run([sys.executable, "-m", "realtime.cli", *map(str, args)],
                          capture_output=True, text=True, timeout=timeout, env=full_env, **kwargs)


def run_pipeline(pipeline, timeout: float, listeners=(), keep: bool = True) -> tuple[list, object]:
    """Start `pipeline` (with extra `listeners`), wait at most `timeout` s for its end, stop and
    join it (asserting every thread ended in time); returns (every message, or none when not
    `keep`: a soak must not hold them, the outcome)."""
    from realtime.engine.pipeline import STOP_TIMEOUT_S

    messages: list = []
    for listener in ((messages.append,) if keep else ()) + tuple(listeners):
        pipeline.add_listener(listener)
    pipeline.start()
    try:
        outcome = pipeline.wait(timeout)
    finally:
        pipeline.stop()
        assert pipeline.join(STOP_TIMEOUT_S)
    return messages, outcome


def same_ranking(items: list[int], reference_items: list[int], reference_scores: np.ndarray) -> bool:
    """True when two top-k lists agree except for the order of items whose reference scores lie
    within 1e-5 of each other (the reference README's rule): position by position, the items are
    the same or their reference scores are that close."""
    return len(items) == len(reference_items) and all(
        got == want or abs(float(reference_scores[got]) - float(reference_scores[want])) <= NEAR_TIE
        for got, want in zip(items, reference_items))


def run_main(capsys, *args: str) -> tuple[int, str, str]:
    """Run `poserec ARGS` in this process; returns (exit status, stdout, stderr)."""
    from realtime.cli import main

    try:
        code = main([str(a) for a in args])
    except SystemExit as exc:  # argparse usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def assert_reference_records(records: list[dict], reference_top5: dict,
                             reference_scores: np.ndarray) -> None:
    """`live --jsonl` records of the replayed sample sequence (window 10, stride 5, smoothing 0)
    are the published demo's 81 rankings, in order, with every score within 1e-5."""
    assert [r["window_end"] for r in records] == list(range(9, 410, 5))
    for n, (record, reference) in enumerate(zip(records, reference_top5["windows"])):
        items = [e["item"] for e in record["top"]]
        assert same_ranking(items, [e["item"] for e in reference["top5"]], reference_scores[n]), n
        for entry in record["top"]:
            assert abs(entry["score"] - reference_scores[n, entry["item"]]) <= 1e-5, n
        assert record["latency_ms"] >= 0 and record["skipped_windows"] == 0
