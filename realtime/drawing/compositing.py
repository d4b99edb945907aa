"""Pixels of effects: art posed onto a frame (turned, faded), the backdrop of a scene effect, and a
scene laid behind the person through a segmentation mask. BGR uint8 frames, BGRA art."""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from .posing import EffectPose

MIN_OPACITY = 1 / 255
"""Below this an effect draws nothing."""


def premultiplied(art: np.ndarray) -> np.ndarray:
    """BGRA uint8 straight alpha as BGRA uint8 with colour multiplied by alpha / 255 (so that
    warping it leaves no dark fringe where it turns transparent)."""
    out = art.copy()
    out[..., :3] = cv2.multiply(art[..., :3], cv2.merge([art[..., 3]] * 3), scale=1 / 255)
    return out


def composite_art(frame: np.ndarray, art: np.ndarray, pose: EffectPose) -> np.ndarray:
    """Art (BGRA uint8, straight alpha) scaled to the pose's size, turned by its angle about its
    centre, faded by its opacity and blended onto the frame in place (clipped at its edges)."""
    return composite_premultiplied(frame, premultiplied(art), pose)


def composite_premultiplied(frame: np.ndarray, art: np.ndarray, pose: EffectPose) -> np.ndarray:
    """composite_art for art already premultiplied (from `premultiplied`); uint8 arithmetic
    throughout (each pixel within 1 of the exact blend)."""
    if pose.opacity < MIN_OPACITY:
        return frame
    h, w = art.shape[:2]
    theta = math.radians(pose.angle_deg)
    c, s = math.cos(theta), math.sin(theta)
    linear = np.array([[c, -s], [s, c]]) @ np.diag([pose.width / w, pose.height / h])
    half = np.abs(linear) @ np.array([w / 2, h / 2])
    fh, fw = frame.shape[:2]
    x0, y0 = max(math.floor(pose.cx - half[0]), 0), max(math.floor(pose.cy - half[1]), 0)
    x1, y1 = min(math.ceil(pose.cx + half[0]), fw), min(math.ceil(pose.cy + half[1]), fh)
    if x0 >= x1 or y0 >= y1:
        return frame
    # pixel centres: art pixel (u, v) covers [u, u+1); its centre (w-1)/2 maps to the pose centre
    offset = np.array([pose.cx - 0.5 - x0, pose.cy - 0.5 - y0]) - linear @ np.array(
        [(w - 1) / 2, (h - 1) / 2])
    matrix = np.hstack([linear, offset[:, None]])
    warped = cv2.warpAffine(art, matrix, (x1 - x0, y1 - y0), flags=cv2.INTER_LINEAR,
                            borderMode=cv2.BORDER_CONSTANT, borderValue=(0, 0, 0, 0))
    if pose.opacity < 1.0:
        warped = cv2.multiply(warped, (pose.opacity,) * 4)
    keep = cv2.subtract(255, warped[..., 3])
    region = frame[y0:y1, x0:x1]
    cv2.add(cv2.multiply(region, cv2.merge([keep] * 3), scale=1 / 255), warped[..., :3],
            dst=region)
    return frame


@dataclass(frozen=True)
class BackdropStyle:
    """A scene effect's backdrop: a gradient in the art's own colour (`top` and `bottom` scale
    it), the art tiled over it in staggered rows (`tiles_per_height` rows per frame height,
    `spacing` tile heights apart) at `tile_opacity`."""

    top: float = 0.62
    bottom: float = 0.22
    tiles_per_height: float = 3.2
    spacing: float = 1.45
    tile_opacity: float = 0.9


def art_colour(art: np.ndarray) -> np.ndarray:
    """The alpha-weighted mean BGR colour of a piece of art (grey when it is empty)."""
    weights = art[..., 3].astype(np.float64)
    if weights.sum() == 0:
        return np.array([128.0, 128.0, 128.0])
    return (art[..., :3] * weights[..., None]).sum(axis=(0, 1)) / weights.sum()


def backdrop(art_at, size: tuple[int, int], style: BackdropStyle = BackdropStyle()) -> np.ndarray:
    """A (height, width, 3) BGR wallpaper for a scene effect; `art_at(height_px)` gives its art."""
    width, height = size
    tile = max(8, round(height / style.tiles_per_height))
    art = art_at(tile)
    colour = art_colour(art)
    ramp = np.linspace(style.top, style.bottom, height)[:, None, None]
    image = np.clip(ramp * colour[None, None, :] + 12.0, 0, 255).astype(np.uint8)
    image = np.repeat(image, width, axis=1)
    step = style.spacing * tile
    for row in range(-1, math.ceil(height / step) + 1):
        shift = step / 2 if row % 2 else 0.0
        for column in range(-1, math.ceil(width / step) + 1):
            composite_art(image, art, EffectPose("", column * step + shift + step / 2,
                                                 row * step + step / 2, art.shape[1],
                                                 art.shape[0], 0.0, style.tile_opacity,
                                                 (width, height)))
    return image


def behind_person(frame: np.ndarray, scene: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """The frame with `scene` where the person mask (uint8, 255 = person) is not: pixels the
    mask marks 255 keep the frame's exact values. In place."""
    person = mask.astype(np.float32) / 255.0
    frame[:] = cv2.blendLinear(frame, scene, person, 1.0 - person)
    return frame
