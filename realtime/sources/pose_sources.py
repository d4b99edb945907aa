"""Sources that replay poses (MediaPipe is skipped): `replay:FILE` and `demo`."""
from __future__ import annotations

import time
from pathlib import Path
from typing import Callable

import numpy as np

from poserec_core.bundle import read_manifest
from poserec_core.windows import sequence_from_windows
from poserec_core.pose_files import read_pose_sequence
from poserec_core.pretrained import load_sample
from poserec_core.weights_install import default_weights_dir

from ..drawing.demo_canvas import CANVAS_SIZE
from ..messages import PoseFrame
from .base import SourceInfo

REPLAY_FPS = 30.0
"""Rate at which replay and demo sources are paced unless `--fps` says otherwise."""

SAMPLE_STRIDE = 5
"""Frames between the published sample's windows: window n is frames [5n, 5n+10)."""


def load_demo_sequence(weights_dir: Path | None = None) -> np.ndarray:
    """The 410-frame sequence of the installed published sample, (410, 33, 4) float32."""
    manifest = read_manifest(weights_dir if weights_dir is not None else default_weights_dir())
    return sequence_from_windows(load_sample(manifest), SAMPLE_STRIDE)


class PoseSequenceSource:
    """Replays a pose sequence (F, 33, 4) as PoseFrames without images (consumers draw them); lossless.

    `load` reads the sequence in open(). With `loop` the replay starts over at the end (the
    frame index keeps counting) until stopped.
    """

    lossless = True
    gives_poses = True

    def __init__(self, load: Callable[[], np.ndarray], description: str, loop: bool = False,
                 size: tuple[int, int] = CANVAS_SIZE):
        self._load = load
        self.description = description
        self.loop = loop
        self.size = size
        self._poses: np.ndarray | None = None
        self._seq = 0

    def open(self) -> SourceInfo:
        """Read the sequence."""
        self._poses = self._load()
        return SourceInfo(self.description, *self.size, REPLAY_FPS,
                          frames=None if self.loop else len(self._poses))

    def read(self) -> PoseFrame | None:
        """The next pose, or None at the end of a sequence that does not loop."""
        index = self._seq % len(self._poses) if self.loop else self._seq
        if index >= len(self._poses):
            return None
        landmarks = self._poses[index]
        now = time.monotonic_ns()
        frame = PoseFrame(self._seq, now, now, landmarks)
        self._seq += 1
        return frame

    def close(self) -> None:
        """Drop the sequence."""
        self._poses = None


def replay_source(path: Path, loop: bool = False) -> PoseSequenceSource:
    """`replay:FILE`: a pose sequence (F, 33, 4) from .npy (or .npz key `poses`), played once
    (or looped until stopped)."""
    return PoseSequenceSource(lambda: read_pose_sequence(path),
                              f"replay {path}" + (", looped" if loop else ""), loop=loop)


def demo_source(weights_dir: Path | None = None, loop: bool = True) -> PoseSequenceSource:
    """`demo`: the installed published sample sequence, looped until stopped (or played once)."""
    return PoseSequenceSource(lambda: load_demo_sequence(weights_dir), "demo (the published "
                              "sample sequence" + (", looped)" if loop else ")"), loop=loop)
