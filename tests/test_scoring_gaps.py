"""benchmarks/scoring_gaps.py: one row per gap with the scoring CPU per window; bad input exits 2."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "scoring_gaps.py"


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True,
                          timeout=300)


def test_prints_a_positive_cpu_figure_for_every_gap(weights_dir):
    result = _run("--batch", "2", "--gaps-ms", "0", "2", "--rounds", "3")
    assert result.returncode == 0, result.stderr
    rows = [line.split() for line in result.stdout.splitlines()[2:]]
    assert [float(gap) for gap, _ in rows] == [0.0, 2.0]
    assert all(float(cpu) > 0 for _, cpu in rows)


def test_a_batch_larger_than_the_sample_is_refused_in_one_line(weights_dir):
    result = _run("--batch", "82")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "--batch must be 1..81, --rounds at least 1, gaps at least 0")
