"""MediaPipe's native log lines stay off the terminal unless --verbose; nothing else is lost."""
from __future__ import annotations

import os
import select
import subprocess
import sys
import threading

import pytest

from realtime.cli.quiet import forward, is_native_log

from .helpers import run_poserec
from .media import make_person_video

NATIVE_LINES = [  # as mediapipe 0.10.21 prints them on a real video
    b"INFO: Created TensorFlow Lite XNNPACK delegate for CPU.",
    b"WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
    b"W0000 00:00:1796298892.698207    2411 inference_feedback_manager.cc:114] Feedback manager "
    b"requires a model with a single signature inference. Disabling support for feedback tensors.",
    b"W0000 00:00:1796298892.949447    2412 landmark_projection_calculator.cc:186] Using "
    b"NORM_RECT without IMAGE_DIMENSIONS is only supported for the square ROI.",
    b"I0000 00:00:1796298892.1 12 gl_context.cc:357] GL version: 3.2",
]
KEPT_LINES = [
    b"poserec live: source video person.avi, 320x320, 30 fps, MJPG, 30 frames",
    b"poserec live: warning: --window 12: the model was trained on windows of 10 frames",
    b"Traceback (most recent call last):",
    b"ZeroDivisionError: division by zero",
    b"F0000 00:00:1796298892.1 12 calculator_graph.cc:1] Check failed: a fatal line",
    b"/x/y.py:3: UserWarning: WARNING: not at the start",
    b"",
]


@pytest.mark.parametrize("line", NATIVE_LINES + KEPT_LINES)
def test_native_lines_are_told_from_the_others(line):
    assert is_native_log(line) is (line in NATIVE_LINES)


class Forwarder:
    """forward() on a thread between two pipes: write() into it, read() what it passed on."""

    def __init__(self):
        self._in_read, self._in_write = os.pipe()
        self._out_read, self._out_write = os.pipe()
        self._thread = threading.Thread(target=forward, args=(self._in_read, self._out_write))
        self._thread.start()

    def write(self, data: bytes) -> None:
        os.write(self._in_write, data)

    def read(self, timeout: float = 5.0) -> bytes:
        """What was passed on within `timeout` s (b"" when nothing)."""
        ready, _, _ = select.select([self._out_read], [], [], timeout)
        return os.read(self._out_read, 65536) if ready else b""

    def close(self) -> bytes:
        """End the input; everything passed on that was not read yet."""
        os.close(self._in_write)
        self._thread.join(5)
        os.close(self._out_write)
        rest = b""
        while chunk := os.read(self._out_read, 65536):
            rest += chunk
        os.close(self._out_read)
        os.close(self._in_read)
        return rest


def test_forward_drops_native_lines_and_keeps_the_rest_in_order():
    lines = [line for pair in zip(NATIVE_LINES, KEPT_LINES) for line in pair]
    text = b"\n".join(lines) + b"\nlast, without a newline"
    forwarder = Forwarder()
    for start in range(0, len(text), 7):  # lines cut anywhere between writes
        forwarder.write(text[start:start + 7])
    assert forwarder.close() == b"".join(
        line + b"\n" for line in lines if line not in NATIVE_LINES) + b"last, without a newline"


def test_a_partial_line_that_is_not_native_is_passed_on_at_once():
    forwarder = Forwarder()
    forwarder.write(b"\r 45%|####")   # a progress bar: no newline
    assert forwarder.read() == b"\r 45%|####"
    forwarder.write(b"INFO: the rest of the bar's line\n")
    assert forwarder.read() == b"INFO: the rest of the bar's line\n"
    forwarder.write(b"W0000 00:00:1.2 7 x.cc:1] hidden")
    assert forwarder.read(timeout=0.2) == b""   # may be a native line: waits for its end
    forwarder.write(b"\nWhat comes next\n")
    assert forwarder.read() == b"What comes next\n"
    assert forwarder.close() == b""


def run_python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=60,
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


PRELUDE = ("import os, sys, threading\n"
           "from realtime.cli.quiet import filtered_stderr\n")


@pytest.mark.parametrize("ending, exit_status", [
    ("pass", 0),
    ("os._exit(3)", 3),   # no cleanup at all: what was written still comes out
    ("os.abort()", -6),   # a native crash
])
def test_what_precedes_an_exit_or_a_crash_reaches_stderr(ending, exit_status):
    result = run_python(PRELUDE + (
        "with filtered_stderr():\n"
        "    print('poserec live: source demo', file=sys.stderr, flush=True)\n"
        "    os.write(2, b'INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\\n')\n"
        "    thread = threading.Thread(target=lambda: 1 / 0)\n"
        "    thread.start(); thread.join()\n"
        "    os.write(2, b'F0000 00:00:1.2 7 graph.cc:1] Check failed: fatal\\n')\n"
        f"    {ending}\n"))
    assert result.returncode == exit_status, result.stderr
    err = result.stderr.decode()
    assert err.startswith("poserec live: source demo\n") and "TensorFlow Lite" not in err
    assert "Traceback" in err and "ZeroDivisionError: division by zero" in err
    assert "Check failed: fatal" in err


def test_a_traceback_after_the_run_reaches_stderr():
    result = run_python(PRELUDE + "with filtered_stderr():\n    raise RuntimeError('broke')\n")
    assert result.returncode == 1 and b"RuntimeError: broke" in result.stderr


@pytest.fixture(scope="module")
def person_video(tmp_path_factory):
    """30 frames of the astronaut photograph under a moving crop."""
    return make_person_video(tmp_path_factory.mktemp("media") / "person.avi", frames=30)


NATIVE_MARKS = ("TensorFlow Lite", "absl::InitializeLog", "inference_feedback_manager",
                "landmark_projection_calculator")
"""What mediapipe 0.10.21 prints on a video (measured: all four appear with --verbose)."""


@pytest.mark.slow
@pytest.mark.parametrize("verbose", [False, True])
def test_live_on_a_real_video_hides_mediapipe_unless_verbose(weights_dir, person_video, verbose):
    result = run_poserec("live", "--source", person_video, "--headless", "--max-frames", "20",
                         "--fps", "0", "--device", "cpu", *(["--verbose"] if verbose else []))
    assert result.returncode == 0, result.stderr
    lines = result.stderr.splitlines()
    # with --verbose MediaPipe writes to the same descriptor from its own threads: its lines
    # may come first or share a line with ours, so only the order of our own two is checked
    source, summary = f"poserec live: source video {person_video}", "poserec live: 20 frames read"
    assert -1 < result.stderr.find(source) < result.stderr.find(summary)
    shown = [mark for mark in NATIVE_MARKS if mark in result.stderr]
    if verbose:
        assert shown == list(NATIVE_MARKS)
    else:
        assert shown == [] and all(line.startswith("poserec live: ") for line in lines)
        assert lines[0].startswith(source) and lines[-1].startswith(summary)
    assert len(result.stdout.splitlines()) == 3  # windows ending at 9, 14, 19


@pytest.mark.slow
def test_extract_on_a_real_video_hides_mediapipe(tmp_path, person_video):
    result = run_poserec("extract", person_video, "-o", tmp_path / "poses.npz")
    assert result.returncode == 0, result.stderr
    assert result.stderr == "" and "30 frames, a person in" in result.stdout
