"""Keep MediaPipe's native log lines (TFLite, absl, glog) off the terminal unless `--verbose`.

mediapipe 0.10.21 logs through absl's C++ log and TFLite's own logger, straight to file
descriptor 2. Neither reads an environment switch (GLOG_minloglevel, TF_CPP_MIN_LOG_LEVEL,
GLOG_stderrthreshold and ABSL_MIN_LOG_LEVEL were tried: each line still comes), and the lines
come while the graph is built *and* later from its threads ("W0000 ... inference_feedback_
manager.cc", "... landmark_projection_calculator.cc" on the first frames). So
`filtered_stderr()` points descriptor 2 at a pipe for the whole run, and a small child process
(this file run as a script) passes every line on to the real stderr except those matching
NATIVE_LOG_LINES. A child, not a thread: it outlives a crash of ours, so a fatal line ("F...",
which passes) and a fault's dump still reach the terminal. Python's own output (`sys.stderr`,
the product's lines, tracebacks) keeps flowing, in order, through the same pipe; a partial line
that cannot start a native line (a progress bar's `\\r...`) is passed on at once.
"""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
from contextlib import contextmanager

NATIVE_LOG_LINES = re.compile(
    rb"^(?:"
    rb"[IWE]\d{4} \d\d:\d\d:\d+\.\d+\s+\d+ [^\]]+:\d+\]"  # absl, glog: W0000 ... x.cc:114]
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|WARNING: Logging before InitGoogleLogging\(\)"
    rb"|(?:INFO|WARNING|VERBOSE): "  # TFLite: INFO: Created TensorFlow Lite XNNPACK delegate
    rb")")
"""Lines of MediaPipe's native libraries that `--verbose` shows and a normal run hides."""

NATIVE_FIRST_BYTES = b"IWEV"
"""The first bytes of a native line: a partial line starting otherwise is passed on at once."""

EXIT_WAIT_S = 5.0
"""How long the filter gets to pass on the last lines after the run."""


def is_native_log(line: bytes) -> bool:
    """Whether a line of stderr comes from MediaPipe's native logging (not fatal)."""
    return NATIVE_LOG_LINES.match(line) is not None


def forward(read_fd: int, write_fd: int) -> None:
    """Copy `read_fd` to `write_fd` until its end, dropping native log lines."""
    pending, passing = b"", False  # passing: the pending line's start was passed on already
    while chunk := os.read(read_fd, 65536):
        *lines, pending = (pending + chunk).split(b"\n")
        kept = []
        for line in lines:
            if passing or not is_native_log(line):
                kept.append(line + b"\n")
            passing = False
        if pending and (passing or pending[0] not in NATIVE_FIRST_BYTES):
            kept.append(pending)
            pending, passing = b"", True
        if kept:
            os.write(write_fd, b"".join(kept))
    if pending and not is_native_log(pending):
        os.write(write_fd, pending)


@contextmanager
def filtered_stderr(enabled: bool = True):
    """While inside, native log lines written to descriptor 2 are dropped (see the module);
    on leaving, what was written has reached the real stderr."""
    if not enabled:
        yield
        return
    sys.stderr.flush()
    read_fd, write_fd = os.pipe()
    try:
        child = subprocess.Popen([sys.executable, "-I", "-S", __file__], stdin=read_fd)
    finally:
        os.close(read_fd)
    real = os.dup(2)
    os.dup2(write_fd, 2)
    os.close(write_fd)
    try:
        yield
    finally:
        sys.stderr.flush()
        os.dup2(real, 2)  # closes the pipe's last write end: the child passes on the rest, ends
        os.close(real)
        try:
            child.wait(EXIT_WAIT_S)
        except subprocess.TimeoutExpired:  # a process we started still holds the pipe
            pass


if __name__ == "__main__":
    for stop in (signal.SIGINT, signal.SIGTERM):  # Ctrl-C reaches the whole group: outlive it
        signal.signal(stop, signal.SIG_IGN)
    forward(0, 2)
