"""Body geometry the effect poses are built from: landmarks in pixels and the body's scale."""
from __future__ import annotations

import numpy as np

from poserec_core.skeleton import Landmark as L

VISIBLE = 0.3
"""Visibility from which a landmark counts as seen (effect fading, body scale)."""

MIN_SCALE_PX = 24.0
"""Smallest body scale used, so a far-away person still gets a visible effect."""

SHOULDERS_TO_TORSO = 1.3
"""Torso length per shoulder width, for a body whose hips are out of sight."""


def pixel_points(landmarks: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """(33, 2) pixel positions of normalised landmarks (33, >=2) in an image of (width, height)."""
    return landmarks[:, :2].astype(np.float64) * np.array(size, dtype=np.float64)


def body_scale(points: np.ndarray, visibility: np.ndarray) -> float:
    """Shoulders-to-hips length in pixels (at least the shoulder width, and MIN_SCALE_PX); from
    the shoulder width alone when the hips are out of sight."""
    width = float(np.linalg.norm(points[L.LEFT_SHOULDER] - points[L.RIGHT_SHOULDER]))
    if visibility[[L.LEFT_HIP, L.RIGHT_HIP]].max() < VISIBLE:
        return max(SHOULDERS_TO_TORSO * width, MIN_SCALE_PX)
    shoulders = (points[L.LEFT_SHOULDER] + points[L.RIGHT_SHOULDER]) / 2
    hips = (points[L.LEFT_HIP] + points[L.RIGHT_HIP]) / 2
    return max(float(np.linalg.norm(shoulders - hips)), width, MIN_SCALE_PX)
