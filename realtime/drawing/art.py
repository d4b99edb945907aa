"""Effect art by name: the catalog's PNG or SVG, rasterised (resvg) and cached per size; Qt-free."""
from __future__ import annotations

import math
from collections import OrderedDict
from pathlib import Path

import cv2
import numpy as np

from poserec_core.errors import PoseRecError

from .effects import EffectCatalog

MAX_HEIGHT_PX = 4096
"""The tallest picture ArtBook makes (a prop larger than a 4K frame is a bug upstream)."""

SIZE_STEP = 1.125
"""Sizes are rasterised at the next step of this geometric ladder, then scaled down to the exact
height: a prop that grows by a pixel each frame costs a resize (well under a millisecond), not a
new rasterisation (about 10 ms at 300 px), and is never scaled up."""


def rasterise(path: Path, height_px: int) -> np.ndarray:
    """A PNG or SVG file as a (height_px, w, 4) BGRA uint8 image (straight alpha, aspect kept)."""
    if path.suffix.lower() == ".svg":
        import resvg_py

        try:
            png = resvg_py.svg_to_bytes(svg_path=str(path), height=height_px)
        except ValueError as exc:
            raise PoseRecError(f"{path}: cannot draw this SVG ({exc})") from None
        image = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_UNCHANGED)
    else:
        image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None or image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
        raise PoseRecError(f"{path}: effect art must be an SVG or an 8-bit PNG with an alpha "
                           "channel")
    return scale_to_height(image, height_px)


def scale_to_height(image: np.ndarray, height_px: int) -> np.ndarray:
    """A BGRA image resized to `height_px` rows, aspect kept; colour is resized premultiplied so
    transparent pixels leave no dark fringe."""
    h, w = image.shape[:2]
    if h == height_px:
        return image
    width = max(1, round(w * height_px / h))
    alpha = cv2.merge([image[..., 3]] * 3)
    premultiplied = cv2.merge([cv2.multiply(image[..., :3], alpha, scale=1 / 255), image[..., 3]])
    method = (cv2.INTER_CUBIC if height_px > h else
              cv2.INTER_AREA if height_px < h // 2 else cv2.INTER_LINEAR)
    scaled = cv2.resize(premultiplied, (width, height_px), interpolation=method)
    alpha = cv2.merge([scaled[..., 3]] * 3)
    return cv2.merge([cv2.divide(scaled[..., :3], alpha, scale=255), scaled[..., 3]])


def _ladder(height_px: int) -> int:
    """The smallest step of the size ladder at or above `height_px`."""
    if height_px <= 16:
        return height_px
    step = math.ceil(math.log(height_px / 16, SIZE_STEP) - 1e-9)
    return min(MAX_HEIGHT_PX, max(height_px, round(16 * SIZE_STEP ** step)))


class ArtBook:
    """Effect art by name, rasterised and cached per size (Qt-free)."""

    def __init__(self, catalog: EffectCatalog, cached_sizes: int = 256):
        self.catalog = catalog
        self._rendered: dict[tuple[str, int], np.ndarray] = {}
        self._exact: OrderedDict[tuple[str, int], np.ndarray] = OrderedDict()
        self._cached_sizes = cached_sizes

    def path(self, name: str) -> Path:
        """Absolute path of the PNG or SVG drawn for `name` (the user's own when it overrides)."""
        return self.catalog[name].art

    def image(self, name: str, height_px: int) -> np.ndarray:
        """The art of `name` as a (height_px, w, 4) BGRA uint8 image, straight alpha, aspect kept.

        The returned array is shared with the cache: copy it before drawing on it."""
        height_px = int(height_px)
        if not 1 <= height_px <= MAX_HEIGHT_PX:
            raise ValueError(f"art height must be 1..{MAX_HEIGHT_PX} px, not {height_px}")
        key = (name, height_px)
        if key in self._exact:
            self._exact.move_to_end(key)
            return self._exact[key]
        rung = (name, _ladder(height_px))
        if rung not in self._rendered:
            self._rendered[rung] = rasterise(self.path(name), rung[1])
        image = scale_to_height(self._rendered[rung], height_px)
        image.setflags(write=False)
        self._exact[key] = image
        if len(self._exact) > self._cached_sizes:
            self._exact.popitem(last=False)
        return image
