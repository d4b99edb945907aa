"""Scripts under benchmarks/: scoring_gaps.py, encoder_blocks.py and stream_server_loop.py print
their figures; bad input exits 2."""
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


ENCODER_BLOCKS = SCRIPT.with_name("encoder_blocks.py")


def test_encoder_blocks_prints_both_paths_and_their_ratio_for_each_size(weights_dir):
    result = subprocess.run([sys.executable, str(ENCODER_BLOCKS), "--rounds", "1", "--calls", "8",
                             "--threads", "1"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    rows = result.stdout.splitlines()[1:]
    assert [row.split(":")[0] for row in rows] == ["batch  1", "batch 64"]
    for row in rows:
        fields = row.split()
        eager, fast, ratio = float(fields[3]), float(fields[5]), float(fields[-1].rstrip("x"))
        assert eager > 0 and fast > 0 and abs(ratio - eager / fast) < 0.01 * ratio + 0.01


def test_encoder_blocks_refuses_too_few_calls_in_one_line(weights_dir):
    result = subprocess.run([sys.executable, str(ENCODER_BLOCKS), "--calls", "2"],
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith("--calls at least 8")


STREAM_SERVER_LOOP = SCRIPT.with_name("stream_server_loop.py")


def test_stream_server_loop_serves_every_window_and_prints_the_loop_cpu(weights_dir):
    result = subprocess.run([sys.executable, str(STREAM_SERVER_LOOP), "--streams", "4",
                             "--seconds", "2"], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    row, cpu = result.stdout.splitlines()
    fields = [f.strip() for f in row.strip("|").split("|")]
    assert fields[:2] == ["direct", "4"] and float(fields[3]) > 0 and fields[5] == "0", row
    assert cpu.startswith("event loop CPU: ") and float(cpu.split()[3]) > 0, cpu


def test_stream_server_loop_refuses_bad_streams_in_one_line():
    result = subprocess.run([sys.executable, str(STREAM_SERVER_LOOP), "--streams", "0"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].endswith(
        "--streams must be 1..256, --seconds in (0, 600], --batch-wait-ms at least 0")
