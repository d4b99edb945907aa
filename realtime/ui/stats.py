"""Rolling stream statistics for the HUD, recorded by the pipeline's threads, read by the GUI."""
from __future__ import annotations

import statistics
import threading
from collections import deque
from dataclasses import dataclass

from ..messages import (PoseFrame, Recommendation, SourceRecovered, SourceReopenFailed,
                        SourceStalled)


@dataclass(frozen=True)
class HudStats:
    """What the HUD shows; None where nothing has been measured yet. source_stall: the live
    source's current stall, None while new frames come; reopen_failed: why the last attempt to
    reopen it failed, None once it is back."""

    capture_fps: float | None = None
    pose_ms: float | None = None
    latency_ms: float | None = None
    device: str | None = None
    dropped_frames: int = 0
    skipped_windows: int = 0
    source_stall: SourceStalled | None = None
    reopen_failed: SourceReopenFailed | None = None


class _Rolling:
    """(t_ns, value) pairs of the last `span_ns`, measured back from the newest."""

    def __init__(self, span_ns: int):
        self.span_ns = span_ns
        self.items: deque[tuple[int, float]] = deque()

    def add(self, t_ns: int, value: float) -> None:
        self.items.append((t_ns, value))
        while self.items and self.items[0][0] < t_ns - self.span_ns:
            self.items.popleft()

    def median(self) -> float | None:
        return statistics.median(v for _, v in self.items) if self.items else None

    def rate(self) -> float | None:
        if len(self.items) < 2 or self.items[-1][0] <= self.items[0][0]:
            return None
        return (len(self.items) - 1) * 1e9 / (self.items[-1][0] - self.items[0][0])


class StreamStats:
    """Capture rate, pose time, window latency (p50 over the last `span_s` seconds), device,
    frames dropped before the pose stage (gaps in the source index) and windows skipped.

    Thread-safe: `record_*` run on the pipeline's threads, `snapshot` on the GUI thread.
    """

    def __init__(self, span_s: float = 3.0):
        span_ns = int(span_s * 1e9)
        self._lock = threading.Lock()
        self._captures = _Rolling(span_ns)
        self._pose_ms = _Rolling(span_ns)
        self._latency_ms = _Rolling(span_ns)
        self._last_seq: int | None = None
        self._dropped = 0
        self._skipped = 0
        self._device: str | None = None
        self._stall: SourceStalled | None = None
        self._reopen_failed: SourceReopenFailed | None = None

    def record_pose(self, frame: PoseFrame) -> None:
        """Count a frame that reached the pose stage."""
        with self._lock:
            if self._last_seq is not None and frame.seq > self._last_seq + 1:
                self._dropped += frame.seq - self._last_seq - 1
            self._last_seq = frame.seq
            self._captures.add(frame.t_capture_ns, 0.0)
            self._pose_ms.add(frame.t_capture_ns, (frame.t_pose_ns - frame.t_capture_ns) / 1e6)

    def record_recommendation(self, rec: Recommendation) -> None:
        """Count a ranked window."""
        with self._lock:
            self._latency_ms.add(rec.t_capture_ns, rec.latency_ms)
            self._skipped += rec.skipped_windows
            self._device = rec.device

    def record_source(self, message: SourceStalled | SourceRecovered | SourceReopenFailed) -> None:
        """The source's news: it stalled, reopening it failed (and why), or frames came again."""
        with self._lock:
            if isinstance(message, SourceReopenFailed):
                self._reopen_failed = message
                return
            self._stall = message if isinstance(message, SourceStalled) else None
            if isinstance(message, SourceRecovered):
                self._reopen_failed = None

    def snapshot(self) -> HudStats:
        """The figures as of now."""
        with self._lock:
            return HudStats(self._captures.rate(), self._pose_ms.median(),
                            self._latency_ms.median(), self._device, self._dropped, self._skipped,
                            self._stall, self._reopen_failed)
