"""The capture thread: reads the source, paces file and replay sources, ends with StreamEnded.

Live sources (cameras, streams) are supervised: each frame goes to a FrameHeartbeat that the
watchdog thread reads, and a device that is lost (SourceLost) is closed and reopened with
backoff until it comes back or the run is stopped. A video file that ends before its declared
length (SourceTruncated) is reported as SourceIncomplete; the frames decoded before are used.
"""
from __future__ import annotations

import itertools
import time

from poserec_core.errors import PoseRecError

from ..messages import (Frame, Listener, PoseFrame, SourceIncomplete, SourceReopenFailed,
                        StreamEnded)
from ..sources import Source, SourceLost, SourceTruncated
from .channels import LatestWinsSlot, LosslessQueue
from .source_watchdog import FrameHeartbeat, WatchdogConfig
from .worker import Worker


class CaptureWorker(Worker):
    """Puts each item the source reads into `outbox`, then StreamEnded(frames read).

    rate_hz: frames per second to pace at (files, replays, demo); None or 0 reads as fast as the
    source gives (cameras and streams pace themselves). max_frames: stop reading after that many.
    PoseFrames (pose sources) are also handed to `publish` as soon as they are read.
    heartbeat and reopen (live sources): where each frame is reported, and the backoff with
    which a lost source is reopened; without them a SourceLost ends the run as a failure.
    """

    name = "capture"

    def __init__(self, source: Source, outbox: LatestWinsSlot | LosslessQueue,
                 publish: Listener, rate_hz: float | None = None,
                 max_frames: int | None = None, heartbeat: FrameHeartbeat | None = None,
                 reopen: WatchdogConfig | None = None):
        super().__init__(report=publish)
        self._source = source
        self._outbox = outbox
        self._publish = publish
        self._period_ns = int(1e9 / rate_hz) if rate_hz else 0
        self._max_frames = max_frames
        self._heartbeat = heartbeat
        self._reopen = reopen
        self.frames = 0

    def run(self) -> None:
        """Read until the source ends, max_frames is reached or stop() is called."""
        due = time.monotonic_ns()
        while not self.stopping and (self._max_frames is None or self.frames < self._max_frames):
            if self._period_ns:
                if self._stop_event.wait(max(0, due - time.monotonic_ns()) / 1e9):
                    return
                due = max(due + self._period_ns, time.monotonic_ns() - self._period_ns)
            item = self._read()
            if item is None:
                break
            self.frames += 1
            if isinstance(item, PoseFrame):
                self._publish(item)
            if not self._outbox.put(item, self._stop_event):
                return
        if not self.stopping:
            self._outbox.put(StreamEnded(self.frames), self._stop_event)

    def _read(self) -> Frame | PoseFrame | None:
        """The source's next item; None at its end, after a truncated file, or when stopped
        while a lost source was being reopened."""
        while True:
            try:
                item = self._source.read()
            except SourceTruncated as exc:
                self._publish(SourceIncomplete(str(exc), exc.frames_read, exc.frames_declared))
                return None
            except SourceLost as exc:
                if self._heartbeat is None or self._reopen is None:
                    raise
                if not self._reopen_lost(str(exc)):
                    return None
                continue
            if self._heartbeat is not None and isinstance(item, Frame):
                self._heartbeat.frame(item.image, item.t_capture_ns)
            return item

    def _reopen_lost(self, reason: str) -> bool:
        """Close the lost source and try to open it again after each of the backoff delays,
        publishing SourceReopenFailed with the reason of each failed attempt; True once it
        opened, False when stop() came first."""
        self._heartbeat.lost(reason)
        self._source.close()
        delays = self._reopen.reopen_delays()
        delay = next(delays)
        for attempt in itertools.count(1):
            if self._stop_event.wait(delay):
                return False
            try:
                self._source.open()
            except PoseRecError as exc:
                delay = next(delays)
                self._publish(SourceReopenFailed(str(exc), attempt, delay))
                continue
            return True
