"""Framing for pose-only sources: with nothing but a canvas behind the skeleton, the view
follows the body (slowly) and zooms so that it fills most of the canvas."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class FramingSpec:
    """Body share of the view's height, zoom limits, smoothing time constant, and the
    visibility a landmark needs to count."""

    fill: float = 0.65
    min_zoom: float = 1.0
    max_zoom: float = 2.5
    time_constant_s: float = 0.4
    min_visibility: float = 0.5


class BodyFraming:
    """A crop (centre, zoom) of the normalised image that follows the body; `apply` maps
    landmarks into it. Zoom 1 centred on (0.5, 0.5) is the whole image."""

    def __init__(self, spec: FramingSpec = FramingSpec()):
        self.spec = spec
        self.centre = np.array([0.5, 0.5])
        self.zoom = 1.0
        self._t_ns: int | None = None

    def update(self, landmarks: np.ndarray, t_ns: int) -> None:
        """Move towards framing the visible landmarks of this frame."""
        spec = self.spec
        visible = landmarks[landmarks[:, 3] >= spec.min_visibility, :2]
        if len(visible) < 2:
            return
        low, high = visible.min(axis=0), visible.max(axis=0)
        extent = float(max(high[1] - low[1], high[0] - low[0], 1e-6))
        zoom = min(max(spec.fill / extent, spec.min_zoom), spec.max_zoom)
        centre = (low + high) / 2
        if self._t_ns is None or t_ns < self._t_ns:
            a = 1.0
        else:
            a = 1.0 - math.exp(-(t_ns - self._t_ns) / 1e9 / spec.time_constant_s)
        self._t_ns = t_ns
        self.zoom += a * (zoom - self.zoom)
        self.centre = self.centre + a * (centre - self.centre)

    def apply(self, landmarks: np.ndarray) -> np.ndarray:
        """Landmarks (33, 4) with x and y in the crop's normalised coordinates."""
        framed = landmarks.copy()
        framed[:, :2] = (landmarks[:, :2] - self.centre) * self.zoom + 0.5
        return framed
