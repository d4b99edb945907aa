"""The second MediaPipe backend: the Tasks `PoseLandmarker` with a user's `.task` model file.

Used when `poserec live --pose-model FILE.task` is given; it has the same open/estimate/close
interface as `LegacyPoseEstimator` and returns the same (33, 4) x, y, z, visibility arrays.
"""
from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS


def landmarks_from_task_result(result) -> np.ndarray | None:
    """The one conversion from a `PoseLandmarkerResult`: the first person's (33, 4) float32.

    None when no person was detected; a visibility the model leaves unset becomes 0.
    """
    people = getattr(result, "pose_landmarks", None)
    if not people:
        return None
    array = np.array([(p.x, p.y, p.z, p.visibility or 0.0) for p in people[0]], dtype=np.float32)
    if array.shape != (NUM_LANDMARKS, NUM_CHANNELS):
        raise ValueError(f"the PoseLandmarker returned {array.shape[0]} landmarks, expected "
                         f"{NUM_LANDMARKS}")
    return array


class TasksPoseEstimator:
    """MediaPipe Tasks `PoseLandmarker` in video mode on a `.task` model; `open()` loads it."""

    name = "mediapipe-tasks"

    def __init__(self, model_path: Path):
        self.model_path = Path(model_path)
        self._landmarker = None
        self._last_ms = -1

    def open(self) -> None:
        """Load the model bundle; a missing or unusable file is a PoseRecError."""
        from mediapipe.tasks.python import BaseOptions, vision

        if not self.model_path.is_file():
            raise PoseRecError(f"--pose-model {self.model_path}: no such file")
        options = vision.PoseLandmarkerOptions(
            base_options=BaseOptions(model_asset_path=str(self.model_path)),
            running_mode=vision.RunningMode.VIDEO, num_poses=1)
        try:
            self._landmarker = vision.PoseLandmarker.create_from_options(options)
        except (RuntimeError, ValueError) as exc:
            text = str(exc).strip()
            detail = text.splitlines()[0][:200] if text else type(exc).__name__
            raise PoseRecError(f"--pose-model {self.model_path}: MediaPipe cannot load it as a "
                               f"PoseLandmarker model ({detail}); pass a pose_landmarker .task "
                               "bundle or leave --pose-model out") from None

    def estimate(self, bgr: np.ndarray) -> np.ndarray | None:
        """Landmarks (33, 4) of the person in a BGR frame, or None."""
        import cv2
        import mediapipe as mp

        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        # video mode needs strictly increasing timestamps in milliseconds
        self._last_ms = max(self._last_ms + 1, time.monotonic_ns() // 1_000_000)
        image = mp.Image(image_format=mp.ImageFormat.SRGB, data=rgb)
        return landmarks_from_task_result(self._landmarker.detect_for_video(image, self._last_ms))

    def close(self) -> None:
        """Release the landmarker."""
        if self._landmarker is not None:
            self._landmarker.close()
            self._landmarker = None
