"""The last T detected pose frames, preallocated; taking a window copies once, in time order."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS

from ..messages import PoseFrame


@dataclass(frozen=True)
class PoseWindow:
    """T consecutive detected frames, oldest first: poses (T, 33, 4) float32 and per-frame metadata.

    `seq` is each frame's index in the source, `t_capture_ns`/`t_pose_ns` its capture and pose times.
    """

    poses: np.ndarray
    seq: np.ndarray
    t_capture_ns: np.ndarray
    t_pose_ns: np.ndarray

    def __post_init__(self):
        t = len(self.poses)
        if self.poses.shape != (t, NUM_LANDMARKS, NUM_CHANNELS) or self.poses.dtype != np.float32:
            raise ValueError(f"PoseWindow.poses must be (T, 33, 4) float32, got "
                             f"{self.poses.shape} {self.poses.dtype}")
        if not (self.seq.shape == self.t_capture_ns.shape == self.t_pose_ns.shape == (t,)):
            raise ValueError("PoseWindow metadata must have one entry per frame")

    @property
    def end_seq(self) -> int:
        """Source index of the window's last frame."""
        return int(self.seq[-1])


class PoseRingBuffer:
    """A circular store of the last `capacity` frames with a person (preallocated, float32)."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self.capacity = capacity
        self._poses = np.zeros((capacity, NUM_LANDMARKS, NUM_CHANNELS), dtype=np.float32)
        self._seq = np.zeros(capacity, dtype=np.int64)
        self._t_capture = np.zeros(capacity, dtype=np.int64)
        self._t_pose = np.zeros(capacity, dtype=np.int64)
        self._pushed = 0

    def __len__(self) -> int:
        return min(self._pushed, self.capacity)

    @property
    def pushed(self) -> int:
        """Frames pushed since the buffer was created or last cleared."""
        return self._pushed

    @property
    def full(self) -> bool:
        """Whether `capacity` frames are buffered, so that window() can be taken."""
        return self._pushed >= self.capacity

    def push(self, frame: PoseFrame) -> None:
        """Store a frame with a person, overwriting the oldest once full."""
        if frame.landmarks is None:
            raise ValueError("only frames with a person go into the ring buffer")
        slot = self._pushed % self.capacity
        self._poses[slot] = frame.landmarks
        self._seq[slot] = frame.seq
        self._t_capture[slot] = frame.t_capture_ns
        self._t_pose[slot] = frame.t_pose_ns
        self._pushed += 1

    def clear(self) -> None:
        """Forget every frame (the storage stays allocated)."""
        self._pushed = 0

    def window(self) -> PoseWindow:
        """The buffered frames, oldest first, copied once; the buffer must be full."""
        if not self.full:
            raise ValueError(f"the buffer holds {len(self)} of {self.capacity} frames; not a window")
        order = (np.arange(self.capacity) + self._pushed) % self.capacity
        return PoseWindow(self._poses[order], self._seq[order], self._t_capture[order],
                          self._t_pose[order])
