"""The MediaPipe edge: BGR frames in, (33, 4) landmark arrays out. Nothing else imports mediapipe."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS


def landmarks_from_result(result) -> np.ndarray | None:
    """The one conversion from MediaPipe's pose result: (33, 4) float32 x, y, z, visibility.

    None when no person was detected. x and y are normalised image coordinates, as in the
    published extractor.
    """
    pose = getattr(result, "pose_landmarks", None)
    if pose is None or not pose.landmark:
        return None
    array = np.array([(p.x, p.y, p.z, p.visibility) for p in pose.landmark], dtype=np.float32)
    if array.shape != (NUM_LANDMARKS, NUM_CHANNELS):
        raise ValueError(f"MediaPipe returned {array.shape[0]} landmarks, expected {NUM_LANDMARKS}")
    return array


def mask_from_result(result) -> np.ndarray | None:
    """MediaPipe's person segmentation (float in [0, 1]) as (H, W) uint8, 255 = person."""
    mask = getattr(result, "segmentation_mask", None)
    if mask is None:
        return None
    return np.clip(mask * 255.0 + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class LegacyPoseConfig:
    """Settings of MediaPipe's legacy pose solution; defaults are the published extractor's."""

    model_complexity: int = 1
    min_detection_confidence: float = 0.5
    min_tracking_confidence: float = 0.5
    static_image_mode: bool = False
    enable_segmentation: bool = False


class LegacyPoseEstimator:
    """`mp.solutions.pose` with its bundled full model; `open()` builds the graph.

    With `enable_segmentation`, `mask` holds the person mask of the last estimate() (H, W)
    uint8, 255 = person (None when no person was found)."""

    name = "mediapipe-legacy-full"

    def __init__(self, config: LegacyPoseConfig = LegacyPoseConfig()):
        self.config = config
        self._pose = None
        self.mask: np.ndarray | None = None

    def open(self) -> None:
        """Build the MediaPipe graph (loads the bundled model)."""
        import mediapipe as mp

        self._pose = mp.solutions.pose.Pose(
            static_image_mode=self.config.static_image_mode,
            model_complexity=self.config.model_complexity,
            min_detection_confidence=self.config.min_detection_confidence,
            min_tracking_confidence=self.config.min_tracking_confidence,
            enable_segmentation=self.config.enable_segmentation)

    def estimate(self, bgr: np.ndarray) -> np.ndarray | None:
        """Landmarks (33, 4) of the person in a BGR frame, or None."""
        import cv2

        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        rgb.flags.writeable = False
        result = self._pose.process(rgb)
        landmarks = landmarks_from_result(result)
        self.mask = mask_from_result(result) if landmarks is not None else None
        return landmarks

    def close(self) -> None:
        """Release the graph."""
        if self._pose is not None:
            self._pose.close()
            self._pose = None
