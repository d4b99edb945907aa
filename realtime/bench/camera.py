"""`poserec bench --as-camera`: a video file played as a camera would deliver it.

A camera produces frame k at t0 + k / fps whether anyone reads it or not, and keeps only the
newest: a reader that comes late gets the frame of now, the ones in between are gone. The
source below does the same with a file (lossless is False, so the pipeline hands frames to
MediaPipe through its latest-wins slot and the inference thread drains to the newest window, as
for a real camera), so the window latency it measures is the one a webcam user sees.
"""
from __future__ import annotations

import time

from ..sources import Source, SourceInfo

FALLBACK_FPS = 30.0
"""The rate of a file that declares none."""


class CameraPlayback:
    """Plays a lossless image source at `fps` (None: the source's own rate) as a camera: read()
    waits for the next frame's time, and frames whose time has passed by a whole period are
    read and discarded (counted in `skipped`), never delivered late in a burst."""

    lossless = False
    gives_poses = False

    def __init__(self, inner: Source, fps: float | None = None):
        if inner.gives_poses:
            raise ValueError("CameraPlayback plays image sources (video files), not pose replays")
        self._inner = inner
        self._fps = fps
        self._period_ns = 0
        self._t0_ns: int | None = None
        self._next = 0
        self.skipped = 0

    def open(self) -> SourceInfo:
        """Open the file; the playback clock starts at the first read."""
        info = self._inner.open()
        self._period_ns = int(1e9 / (self._fps or info.fps or FALLBACK_FPS))
        return info

    def read(self):
        """The frame of now, once it is due; None at the end of the file."""
        now = time.monotonic_ns()
        if self._t0_ns is None:
            self._t0_ns = now
        while now >= self._due(self._next + 1):       # stale: the camera replaced it already
            if self._inner.read() is None:
                return None
            self._next += 1
            self.skipped += 1
        wait_ns = self._due(self._next) - now
        if wait_ns > 0:   # as a camera's read blocks until its next frame (under one period)
            time.sleep(wait_ns / 1e9)
        self._next += 1
        return self._inner.read()

    def _due(self, index: int) -> int:
        return self._t0_ns + index * self._period_ns

    def close(self) -> None:
        """Close the file."""
        self._inner.close()
