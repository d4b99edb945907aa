"""The watchdog of live sources (cameras, network streams): notices when new frames stop.

The capture thread tells a `FrameHeartbeat` about every frame it reads and about a device it
lost; the `SourceWatchdog` thread waits on that heartbeat and publishes `SourceStalled` once no
new image came for `stall_after_s` (no frame at all, or the same image again and again), or at
once when the device was lost, then `SourceRecovered` when new images flow again. Reopening a
lost device, with the backoff of `WatchdogConfig.reopen_delays()`, is the capture thread's job.
"""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Iterator

import numpy as np

from ..messages import Listener, SourceRecovered, SourceStalled
from .worker import POLL_S, Worker


@dataclass(frozen=True)
class WatchdogConfig:
    """stall_after_s: seconds without a new image before a live source counts as stalled (the
    bound within which a stall is reported is this plus worker.POLL_S). reopen_first_s,
    reopen_max_s: the first and the longest wait before an attempt to reopen a lost source; the
    wait doubles after each failed attempt."""

    stall_after_s: float = 2.0
    reopen_first_s: float = 0.5
    reopen_max_s: float = 8.0

    def __post_init__(self):
        if not (self.stall_after_s > 0 and 0 < self.reopen_first_s <= self.reopen_max_s):
            raise ValueError(f"bad watchdog timing: {self}")

    def reopen_delays(self) -> Iterator[float]:
        """Seconds to wait before each reopening attempt: first, 2x, 4x, ... up to the maximum,
        without end."""
        delay = self.reopen_first_s
        while True:
            yield delay
            delay = min(2 * delay, self.reopen_max_s)


@dataclass(frozen=True)
class HeartbeatState:
    """What the watchdog reads: a change counter, when the newest frame and the newest new
    image came (monotonic ns, None before the first), and why the device is lost (None if not)."""

    version: int
    t_frame_ns: int | None
    t_new_ns: int | None
    lost: str | None


class FrameHeartbeat:
    """Shared by the capture thread (frame(), lost()) and the watchdog thread (wait())."""

    def __init__(self):
        self._changed = threading.Condition()
        self._previous: np.ndarray | None = None
        self._state = HeartbeatState(0, None, None, None)

    def frame(self, image: np.ndarray, t_ns: int) -> None:
        """A frame was read (capture thread): the device is back; the image is new unless it
        equals the previous one."""
        new = self._previous is None or not np.array_equal(image, self._previous)
        self._previous = image
        with self._changed:
            s = self._state
            self._state = HeartbeatState(s.version + 1, t_ns, t_ns if new else s.t_new_ns, None)
            self._changed.notify_all()

    def lost(self, reason: str) -> None:
        """The device stopped (capture thread); it is being reopened."""
        with self._changed:
            s = self._state
            self._state = HeartbeatState(s.version + 1, s.t_frame_ns, s.t_new_ns, reason)
            self._changed.notify_all()

    def wait(self, seen_version: int, timeout: float) -> HeartbeatState:
        """The state once it differs from `seen_version`, or after `timeout` seconds."""
        with self._changed:
            self._changed.wait_for(lambda: self._state.version != seen_version, timeout)
            return self._state


def stall_reason(source: str, state: HeartbeatState, now_ns: int, since_ns: int,
                 stall_after_s: float) -> tuple[str, bool] | None:
    """(one-line reason, frozen?) when the source counts as stalled at `now_ns`, else None.

    `since_ns`: when watching began (the bound for a source that never gave a frame).
    """
    if state.lost is not None:
        return f"{state.lost}; reopening it", False
    limit_ns = int(stall_after_s * 1e9)
    t_new = state.t_new_ns if state.t_new_ns is not None else since_ns
    if now_ns - t_new < limit_ns:
        return None
    if state.t_frame_ns is not None and now_ns - state.t_frame_ns < limit_ns:
        return (f"{source}: the same image for {(now_ns - t_new) / 1e9:.1f} s (the camera is "
                "frozen)", True)
    return f"{source}: no frame for {(now_ns - t_new) / 1e9:.1f} s", False


class SourceWatchdog(Worker):
    """Publishes SourceStalled within `stall_after_s` + POLL_S of the last new image (at once when
    the device is lost), then SourceRecovered when new images come again."""

    name = "watchdog"

    def __init__(self, source: str, heartbeat: FrameHeartbeat, config: WatchdogConfig,
                 publish: Listener):
        super().__init__(report=publish)
        self._source = source
        self._heartbeat = heartbeat
        self._config = config
        self._publish = publish

    def run(self) -> None:
        """Watch until stop() is called."""
        since = time.monotonic_ns()
        stalled: SourceStalled | None = None
        version = -1
        while not self.stopping:
            state = self._heartbeat.wait(version, POLL_S)
            version = state.version
            now = time.monotonic_ns()
            problem = stall_reason(self._source, state, now, since, self._config.stall_after_s)
            if problem is not None and stalled is None:
                reason, frozen = problem
                last_new = state.t_new_ns if state.t_new_ns is not None else since
                stalled = SourceStalled(self._source, reason, frozen, last_new, now)
                self._publish(stalled)
            elif problem is None and stalled is not None:
                self._publish(SourceRecovered(self._source, stalled.t_detected_ns, now))
                stalled = None
