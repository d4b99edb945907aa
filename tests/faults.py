"""Fault injection for the robustness tests: a fake camera that misbehaves on a script, and
helpers that watch a pipeline for the messages and threads a fault leaves behind."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field

import numpy as np

from poserec_core.errors import PoseRecError
from realtime.messages import Frame
from realtime.sources import SourceInfo, SourceLost

WAIT_S = 10.0
"""Upper bound on anything a test waits for; a hang fails instead of blocking CI."""


BUSY = "camera 7: cannot be opened (it is busy); pass --source with a video file"
"""The reason a FaultyCamera gives when it is not back yet."""


@dataclass
class CameraScript:
    """What goes wrong, by frame index (the index the next read would give).

    stall_at: before that frame, read() blocks until the Event is set (a camera that stops
    delivering without an error, as a USB camera whose driver hangs).
    lose_at: before that frame, read() raises SourceLost (unplugged); the next `failed_opens`
    open() calls fail (it is not back yet), the one after succeeds.
    freeze: frames in [start, end) all carry the image of frame `start` (a frozen camera);
    end None: for ever.
    """

    stall_at: dict[int, threading.Event] = field(default_factory=dict)
    lose_at: set[int] = field(default_factory=set)
    failed_opens: int = 0
    freeze: tuple[int, int | None] | None = None


class FaultyCamera:
    """A live source (latest frame wins, images) that follows a CameraScript.

    Frame n's image holds n (mod 256) in every pixel, so every frame differs from the one before
    it unless the script freezes it. Like a real camera it paces itself, at `fps`. `opens`
    records the time.monotonic() of every open() call.
    """

    lossless = False
    gives_poses = False

    def __init__(self, script: CameraScript, size: tuple[int, int] = (8, 6), fps: float = 200.0):
        self.script = script
        self.size = size
        self.period_s = 1.0 / fps
        self.seq = 0
        self.opens: list[float] = []
        self.closed = 0
        self.is_open = False
        self._failures_left = 0

    def open(self) -> SourceInfo:
        """Open, unless the script says the device is not back yet."""
        self.opens.append(time.monotonic())
        if self._failures_left > 0:
            self._failures_left -= 1
            raise PoseRecError(BUSY)
        self.is_open = True
        return SourceInfo("camera 7", *self.size, 30.0)

    def read(self) -> Frame:
        """The next frame, after whatever fault the script puts before it."""
        assert self.is_open, "read() on a closed camera"
        time.sleep(self.period_s)  # the camera's own frame rate
        stall = self.script.stall_at.pop(self.seq, None)
        if stall is not None:
            assert stall.wait(WAIT_S), "the test never released the stalled camera"
        if self.seq in self.script.lose_at:
            self.script.lose_at.discard(self.seq)
            self._failures_left = self.script.failed_opens
            raise SourceLost("camera 7: stopped delivering frames (unplugged or taken by another "
                             "program)")
        frame = Frame(self.seq, time.monotonic_ns(), self._image(self.seq))
        self.seq += 1
        return frame

    def close(self) -> None:
        """Release the device."""
        self.is_open = False
        self.closed += 1

    def _image(self, seq: int) -> np.ndarray:
        freeze = self.script.freeze
        if freeze is not None and seq >= freeze[0] and (freeze[1] is None or seq < freeze[1]):
            seq = freeze[0]
        width, height = self.size
        return np.full((height, width, 3), seq % 256, dtype=np.uint8)


class MessageLog:
    """A pipeline listener that keeps every message and sets an Event per message type."""

    def __init__(self):
        self.messages: list = []
        self._lock = threading.Lock()
        self._seen: dict[type, threading.Event] = {}

    def __call__(self, message) -> None:
        with self._lock:
            self.messages.append(message)
            self._event(type(message)).set()

    def _event(self, kind: type) -> threading.Event:
        return self._seen.setdefault(kind, threading.Event())

    def wait_for(self, kind: type, timeout: float = WAIT_S) -> bool:
        """Block until a message of `kind` came (True) or `timeout` passed (False)."""
        with self._lock:
            event = self._event(kind)
        return event.wait(timeout)

    def of_type(self, kind: type) -> list:
        """The messages of `kind` so far, in order."""
        with self._lock:
            return [m for m in self.messages if isinstance(m, kind)]


def pipeline_threads() -> list[threading.Thread]:
    """The pipeline's worker threads still alive in this process."""
    return [t for t in threading.enumerate() if t.name.startswith("poserec-") and t.is_alive()]
