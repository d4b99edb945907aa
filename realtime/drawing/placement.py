"""Where a preview goes: a box anchored to the body, kept clear of the HUD, smoothed over time."""
from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np

from poserec_core.skeleton import Landmark as L

from .effects import Anchor


@dataclass(frozen=True)
class Box:
    """An axis-aligned box in pixels, by centre and size."""

    cx: float
    cy: float
    w: float
    h: float

    @property
    def corners(self) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1), rounded to whole pixels."""
        return (round(self.cx - self.w / 2), round(self.cy - self.h / 2),
                round(self.cx + self.w / 2), round(self.cy + self.h / 2))

    def overlaps(self, rect: tuple[int, int, int, int]) -> bool:
        """Whether this box and the rectangle (x0, y0, x1, y1) share any pixel."""
        x0, y0, x1, y1 = self.corners
        return x0 < rect[2] and rect[0] < x1 and y0 < rect[3] and rect[1] < y1


@dataclass(frozen=True)
class AnchorRule:
    """How an anchor turns landmarks into a box: landmarks averaged for the centre, an offset
    and a height in body scales (scale = shoulders-to-hips length), and the landmarks used
    instead when none of the first is visible (a hand out of sight: its elbow)."""

    landmarks: tuple[L, ...]
    height: float
    offset: tuple[float, float] = (0.0, 0.0)
    fallback: tuple[L, ...] = ()


ANCHOR_RULES: dict[Anchor, AnchorRule] = {
    Anchor.HEAD: AnchorRule((L.LEFT_EYE, L.RIGHT_EYE, L.LEFT_EAR, L.RIGHT_EAR), 0.34, (0, -0.42)),
    Anchor.EYES: AnchorRule((L.LEFT_EYE, L.RIGHT_EYE), 0.24),
    Anchor.EARS: AnchorRule((L.LEFT_EAR, L.RIGHT_EAR), 0.26),
    Anchor.LEFT_HAND: AnchorRule((L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY), 0.34,
                                 fallback=(L.LEFT_ELBOW,)),
    Anchor.RIGHT_HAND: AnchorRule((L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY), 0.34,
                                  fallback=(L.RIGHT_ELBOW,)),
    Anchor.BOTH_HANDS: AnchorRule((L.LEFT_WRIST, L.RIGHT_WRIST, L.LEFT_INDEX, L.RIGHT_INDEX), 0.36,
                                  fallback=(L.LEFT_ELBOW, L.RIGHT_ELBOW)),
    Anchor.TORSO: AnchorRule((L.LEFT_SHOULDER, L.RIGHT_SHOULDER, L.LEFT_HIP, L.RIGHT_HIP), 0.38),
    Anchor.HIPS: AnchorRule((L.LEFT_HIP, L.RIGHT_HIP), 0.34),
    Anchor.FEET: AnchorRule((L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX, L.LEFT_HEEL, L.RIGHT_HEEL),
                            0.3, fallback=(L.LEFT_KNEE, L.RIGHT_KNEE)),
    Anchor.GROUND: AnchorRule((L.LEFT_HEEL, L.RIGHT_HEEL), 0.32, (0, 0.3)),
}
"""Body anchors. BACKGROUND has no rule: it sits beside the person (see `anchor_box`)."""

VISIBLE = 0.3
"""Visibility from which a landmark counts as seen (anchor fallbacks, body scale)."""

MIN_SCALE_PX = 24.0
"""Smallest body scale used, so a far-away person still gets a legible preview."""

MAX_HEIGHT_FRACTION = 0.13
"""Tallest preview, as a fraction of the image height (a person close to the camera)."""

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


def anchor_box(anchor: Anchor, points: np.ndarray, visibility: np.ndarray, aspect: float,
               size: tuple[int, int]) -> Box:
    """The preview box of an anchor for a body (`points` from `pixel_points`, `visibility` per
    landmark) in an image of (width, height); `aspect` is the preview's width / height."""
    scale = body_scale(points, visibility)
    cap = MAX_HEIGHT_FRACTION * size[1]
    if anchor is Anchor.BACKGROUND:
        height = min(0.4 * scale, cap)
        body_x = float(points[:, 0].mean())
        side = 1.0 if body_x < size[0] / 2 else -1.0
        top = float(points[[L.LEFT_SHOULDER, L.RIGHT_SHOULDER], 1].mean())
        return Box(body_x + side * 1.1 * scale, top - 0.3 * scale, height * aspect, height)
    rule = ANCHOR_RULES[anchor]
    landmarks = list(rule.landmarks)
    fallback = list(rule.fallback)
    if fallback and visibility[landmarks].max() < VISIBLE <= visibility[fallback].max():
        landmarks = fallback
    centre = points[landmarks].mean(axis=0)
    height = min(rule.height * scale, cap)
    return Box(float(centre[0] + rule.offset[0] * scale), float(centre[1] + rule.offset[1] * scale),
               height * aspect, height)


def at_least(box: Box, min_height: float) -> Box:
    """The box grown about its centre, keeping its aspect, to at least `min_height`."""
    if box.h >= min_height:
        return box
    factor = min_height / box.h
    return Box(box.cx, box.cy, box.w * factor, min_height)


def fit_inside(box: Box, size: tuple[int, int]) -> Box:
    """The box shrunk to fit the image if needed, then moved fully inside it."""
    width, height = size
    shrink = min(1.0, width / box.w, height / box.h)
    w, h = box.w * shrink, box.h * shrink
    return Box(min(max(box.cx, w / 2), width - w / 2), min(max(box.cy, h / 2), height - h / 2),
               w, h)


def keep_clear(box: Box, size: tuple[int, int], blocked: tuple[int, int, int, int] | None) -> Box:
    """The box inside the image and off the `blocked` rectangle (the HUD), moved the least."""
    box = fit_inside(box, size)
    if blocked is None or not box.overlaps(blocked):
        return box
    x0, y0, x1, y1 = blocked
    candidates = [replace(box, cy=y1 + box.h / 2), replace(box, cx=x1 + box.w / 2),
                  replace(box, cy=y0 - box.h / 2), replace(box, cx=x0 - box.w / 2)]
    inside = [c for c in candidates if fit_inside(c, size) == c and not c.overlaps(blocked)]
    if not inside:
        return fit_inside(candidates[0], size)
    return min(inside, key=lambda c: math.hypot(c.cx - box.cx, c.cy - box.cy))


@dataclass(frozen=True)
class SmoothingSpec:
    """Exponential smoothing of the preview box: time constant, and the gap that restarts it."""

    time_constant_s: float = 0.12
    restart_after_s: float = 1.0


class BoxSmoother:
    """Follows a target box smoothly in time (frame-rate independent); reset() snaps."""

    def __init__(self, spec: SmoothingSpec = SmoothingSpec()):
        self.spec = spec
        self._box: Box | None = None
        self._t_ns = 0

    def reset(self) -> None:
        """Forget the past: the next target is taken as is."""
        self._box = None

    def update(self, target: Box, t_ns: int) -> Box:
        """The smoothed box after moving towards `target` at time `t_ns` (monotonic ns)."""
        dt = (t_ns - self._t_ns) / 1e9
        if self._box is None or dt < 0 or dt > self.spec.restart_after_s:
            self._box = target
        else:
            a = 1.0 - math.exp(-dt / self.spec.time_constant_s)
            b = self._box
            self._box = Box(b.cx + a * (target.cx - b.cx), b.cy + a * (target.cy - b.cy),
                            b.w + a * (target.w - b.w), b.h + a * (target.h - b.h))
        self._t_ns = t_ns
        return self._box
