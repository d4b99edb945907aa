"""The capture thread: reads the source, paces file and replay sources, ends with StreamEnded."""
from __future__ import annotations

import time
from typing import Callable

from .channels import LatestWinsSlot, LosslessQueue
from .messages import PoseFrame, StreamEnded
from .sources import Source
from .worker import Worker


class CaptureWorker(Worker):
    """Puts each item the source reads into `outbox`, then StreamEnded(frames read).

    rate_hz: frames per second to pace at (files, replays, demo); None or 0 reads as fast as the
    source gives (cameras and streams pace themselves). max_frames: stop reading after that many.
    PoseFrames (pose sources) are also handed to `publish` as soon as they are read.
    """

    name = "capture"

    def __init__(self, source: Source, outbox: LatestWinsSlot | LosslessQueue,
                 publish: Callable[[object], None], rate_hz: float | None = None,
                 max_frames: int | None = None):
        super().__init__(report=publish)
        self._source = source
        self._outbox = outbox
        self._publish = publish
        self._period_ns = int(1e9 / rate_hz) if rate_hz else 0
        self._max_frames = max_frames
        self.frames = 0

    def run(self) -> None:
        """Read until the source ends, max_frames is reached or stop() is called."""
        due = time.monotonic_ns()
        while not self.stopping and (self._max_frames is None or self.frames < self._max_frames):
            if self._period_ns:
                if self._stop_event.wait(max(0, due - time.monotonic_ns()) / 1e9):
                    return
                due = max(due + self._period_ns, time.monotonic_ns() - self._period_ns)
            item = self._source.read()
            if item is None:
                break
            self.frames += 1
            if isinstance(item, PoseFrame):
                self._publish(item)
            if not self._outbox.put(item, self._stop_event):
                return
        if not self.stopping:
            self._outbox.put(StreamEnded(self.frames), self._stop_event)
