"""The images of pose-only sources (demo, replay): the skeleton on a plain canvas."""
from __future__ import annotations

import numpy as np

from .annotators import CanvasStyle, draw_skeleton

CANVAS_SIZE = (640, 480)
"""(width, height) of the canvas pose-only sources draw on."""


def skeleton_canvas(landmarks: np.ndarray, size: tuple[int, int] = CANVAS_SIZE,
                    style: CanvasStyle = CanvasStyle()) -> np.ndarray:
    """A new (height, width, 3) uint8 BGR canvas with the (33, 4) pose drawn on it."""
    width, height = size
    canvas = np.empty((height, width, 3), dtype=np.uint8)
    canvas[:] = style.canvas
    return draw_skeleton(canvas, landmarks)
