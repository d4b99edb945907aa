"""The pose backend interface and its factory: MediaPipe's legacy solution or the Tasks API."""
from __future__ import annotations

from pathlib import Path
from typing import Protocol

import numpy as np


class PoseEstimator(Protocol):
    """A pose backend: open() loads the model, estimate() maps a BGR frame to (33, 4) or None.

    A backend that segments the person also has `mask`: the last estimate()'s person mask
    (H, W) uint8, 255 = person, or None."""

    name: str

    def open(self) -> None:
        """Load the model."""

    def estimate(self, bgr: np.ndarray) -> np.ndarray | None:
        """Landmarks (33, 4) float32 of the person in the frame, or None."""

    def close(self) -> None:
        """Release the model."""


def make_pose_estimator(pose_model: Path | None, segmentation: bool = False) -> PoseEstimator:
    """MediaPipe's legacy pose solution (bundled full model; with the person mask when
    `segmentation`), or the Tasks PoseLandmarker on `pose_model` (a `.task` file) when one is
    given (no mask). Nothing is loaded until open()."""
    if pose_model is None:
        from ..pose.mediapipe_legacy import LegacyPoseConfig, LegacyPoseEstimator

        return LegacyPoseEstimator(LegacyPoseConfig(enable_segmentation=segmentation))
    from ..pose.tasks import TasksPoseEstimator

    return TasksPoseEstimator(pose_model)
