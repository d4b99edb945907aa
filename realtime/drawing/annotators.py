"""The skeleton and the canvas, drawn on BGR uint8 images; styles in frozen specs.

Exports `draw_skeleton(frame, landmarks, style)` (landmarks and connections, faded by
visibility), `fill(frame, colour)` (a canvas colour), and their styles `SkeletonStyle` and
`CanvasStyle`. Both draw in place and return the frame; effects are drawn by
`drawing.renderer`. Nothing here knows about Qt.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from poserec_core.skeleton import CONNECTIONS, Landmark

from .placement import pixel_points

BGR = tuple[int, int, int]


@dataclass(frozen=True)
class SkeletonStyle:
    """Colours (BGR) and sizes of the skeleton, as fractions of the image height.

    Each landmark is drawn with opacity = its visibility; a connection with the lower
    visibility of its two ends. Below `min_visibility` nothing is drawn.
    """

    left: BGR = (80, 200, 255)     # the person's left side: amber
    right: BGR = (255, 190, 60)    # the person's right side: sky blue
    centre: BGR = (235, 235, 235)  # face middle, shoulders and hips lines
    joint: BGR = (255, 255, 255)
    line_fraction: float = 1 / 160
    joint_fraction: float = 1 / 110
    min_visibility: float = 0.05


@dataclass(frozen=True)
class CanvasStyle:
    """Backgrounds: the canvas behind pose-only sources and the chroma key of overlay mode."""

    canvas: BGR = (48, 40, 36)
    chroma_key: BGR = (64, 177, 0)  # #00B140, the broadcast chroma green


def _side(landmark: Landmark) -> str:
    name = landmark.name
    if name.startswith("LEFT_"):
        return "left"
    return "right" if name.startswith("RIGHT_") else "centre"


def _connection_colour(a: Landmark, b: Landmark, style: SkeletonStyle) -> BGR:
    sides = {_side(a), _side(b)}
    side = sides.pop() if len(sides) == 1 else "centre"
    return getattr(style, side)


def _blend_shape(frame: np.ndarray, box: tuple[int, int, int, int], alpha: float, draw) -> None:
    """Draw with `draw(image, dx, dy)` into the frame's region `box`, blended at `alpha`."""
    h, w = frame.shape[:2]
    x0, y0, x1, y1 = max(box[0], 0), max(box[1], 0), min(box[2], w), min(box[3], h)
    if x0 >= x1 or y0 >= y1:
        return
    region = frame[y0:y1, x0:x1]
    if alpha >= 1.0:
        draw(region, x0, y0)
        return
    layer = region.copy()
    draw(layer, x0, y0)
    cv2.addWeighted(layer, alpha, region, 1.0 - alpha, 0.0, dst=region)


def draw_skeleton(frame: np.ndarray, landmarks: np.ndarray, style: SkeletonStyle = SkeletonStyle()
                  ) -> np.ndarray:
    """The 35 BlazePose connections and 33 landmarks (normalised x, y, ·, visibility), faded
    by visibility."""
    h, w = frame.shape[:2]
    points = np.round(pixel_points(landmarks, (w, h))).astype(np.int64)
    visibility = np.clip(landmarks[:, 3], 0.0, 1.0)
    thickness = max(2, round(h * style.line_fraction))
    radius = max(3, round(h * style.joint_fraction))
    pad = thickness + radius + 2
    for a, b in CONNECTIONS:
        alpha = float(min(visibility[a], visibility[b]))
        if alpha < style.min_visibility:
            continue
        (ax, ay), (bx, by) = points[a], points[b]
        colour = _connection_colour(a, b, style)
        _blend_shape(frame, (min(ax, bx) - pad, min(ay, by) - pad, max(ax, bx) + pad,
                             max(ay, by) + pad), alpha,
                     lambda img, dx, dy: cv2.line(img, (ax - dx, ay - dy), (bx - dx, by - dy),
                                                  colour, thickness, cv2.LINE_AA))
    for landmark in Landmark:
        alpha = float(visibility[landmark])
        if alpha < style.min_visibility:
            continue
        x, y = points[landmark]
        rim = getattr(style, _side(landmark))
        _blend_shape(frame, (x - pad, y - pad, x + pad, y + pad), alpha,
                     lambda img, dx, dy: (
                         cv2.circle(img, (x - dx, y - dy), radius, rim, -1, cv2.LINE_AA),
                         cv2.circle(img, (x - dx, y - dy), max(1, radius - 2), style.joint, -1,
                                    cv2.LINE_AA)))
    return frame


def fill(frame: np.ndarray, colour: BGR) -> np.ndarray:
    """The frame painted one solid colour (the canvas, or the chroma key of overlay mode)."""
    frame[:] = colour
    return frame
