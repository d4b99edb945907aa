"""Where recommendations go besides the window: a JSONL file and a concise console view.

Sinks are pipeline listeners, called with each message on the thread that produced it: the
inference thread (Recommendation, NoPerson, StreamEnded), the pose thread (PoseFrame), the
capture thread (SourceIncomplete, SourceReopenFailed) and the watchdog thread (SourceStalled,
SourceRecovered); see realtime.engine.pipeline. Opened in Pipeline.start(), closed in
Pipeline.join() once every thread has ended (each sink's close is tried, whatever another raised).
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import TextIO

from poserec_core.errors import PoseRecError

from ..messages import NoPerson, Recommendation, SourceRecovered, SourceReopenFailed, SourceStalled


class JsonlSink:
    """One JSON object per re-rank (`Recommendation.to_json()`), flushed at once."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._file: TextIO | None = None

    def open(self) -> None:
        """Create (or truncate) the file."""
        if not self.path.parent.is_dir():
            raise PoseRecError(f"--jsonl {self.path}: no such directory {self.path.parent}")
        try:
            self._file = open(self.path, "w", encoding="utf-8")
        except OSError as exc:
            raise PoseRecError(f"--jsonl {self.path}: cannot write it ({exc.strerror})") from None

    def __call__(self, message: object) -> None:
        """Write a Recommendation as one line; other messages are not records."""
        if isinstance(message, Recommendation):
            self._file.write(json.dumps(message.to_json()) + "\n")
            self._file.flush()

    def close(self) -> None:
        """Flush and close the file."""
        if self._file is not None:
            self._file.close()
            self._file = None


def recommendation_line(message: Recommendation) -> str:
    """The console line of a re-rank, each column labelled: the window's last frame, its
    latency and the distinct effects with their scores."""
    effects = " | ".join(f"{e.name} {e.score:.3f}" for e in message.effects)
    skipped = f"  (+{message.skipped_windows} skipped)" if message.skipped_windows else ""
    return (f"frame {message.window_end:>6}  latency {message.latency_ms:7.1f} ms  "
            f"effects (score): {effects}{skipped}")


class ConsoleSink:
    """One line per re-rank (window end, latency, top distinct effects), per "no person" reset,
    and per stall and recovery of a live source."""

    def __init__(self, stream: TextIO | None = None):
        self._stream = stream

    def open(self) -> None:
        """Bind to stdout unless a stream was given."""
        self._stream = self._stream or sys.stdout

    def __call__(self, message: object) -> None:
        """Print recommendations, resets, stalls and recoveries; other messages are not shown."""
        if isinstance(message, Recommendation):
            line = recommendation_line(message)
        elif isinstance(message, NoPerson):
            line = f"frame {message.seq:>6}  no person; waiting for one"
        elif isinstance(message, SourceStalled):
            line = f"source stalled: {message.reason}"
        elif isinstance(message, SourceRecovered):
            line = f"source recovered: {message.source} after {message.stalled_s:.1f} s"
        elif isinstance(message, SourceReopenFailed):
            line = (f"source reopen failed (attempt {message.attempt}): {message.reason}; "
                    f"retrying in {message.retry_in_s:g} s")
        else:
            return
        print(line, file=self._stream, flush=True)

    def close(self) -> None:
        """Flush the stream (it is not ours to close)."""
        if self._stream is not None:
            self._stream.flush()
