"""The annotated frame of the streamer outputs, without Qt: the video (or the canvas of pose-only
sources, or the chroma key of `--overlay-only`), the skeleton, and the preview of the top-ranked
effect on the body, built from the pieces of realtime.drawing.

Previews are the catalog's sticker PNGs, else a badge drawn here with OpenCV: a pill with the
effect's name, in the hue the window's badge has (crc32 of the name).
"""
from __future__ import annotations

import colorsys
import zlib
from dataclasses import dataclass

import cv2
import numpy as np

from ..messages import PoseFrame, Recommendation
from ..drawing.annotators import (BGR, CanvasStyle, SkeletonStyle, composite_sticker,
                                  draw_skeleton, fill)
from ..drawing.effects import Effect, EffectCatalog, load_sticker
from ..drawing.framing import BodyFraming
from ..drawing.placement import Box, BoxSmoother, anchor_box, at_least, fit_inside, pixel_points

SUPERSAMPLING = 4
"""Badges are drawn this many times larger, then shrunk: anti-aliased edges and text."""


@dataclass(frozen=True)
class BadgeStyle:
    """A generated badge: height in pixels and, as fractions of it, text height, side padding
    and white border; fill colour from the name's hue at this saturation and value (0-255)."""

    height_px: int = 120
    text_fraction: float = 0.3
    padding_fraction: float = 0.42
    border_fraction: float = 0.06
    saturation: int = 170
    value: int = 200
    fill_alpha: int = 235


@dataclass(frozen=True)
class AnnotationStyle:
    """Styles of the annotated frame; a preview is never drawn below `min_preview_px` high."""

    skeleton: SkeletonStyle = SkeletonStyle()
    canvas: CanvasStyle = CanvasStyle()
    badge: BadgeStyle = BadgeStyle()
    min_preview_px: int = 44


def badge_colour(name: str, style: BadgeStyle = BadgeStyle()) -> BGR:
    """The BGR fill of a name's badge: a hue that stays with the name."""
    hue = zlib.crc32(name.encode()) % 360
    r, g, b = colorsys.hsv_to_rgb(hue / 360, style.saturation / 255, style.value / 255)
    return round(b * 255), round(g * 255), round(r * 255)


def _pill(image: np.ndarray, inset: int, colour: tuple[int, int, int, int]) -> None:
    """A filled stadium shape `inset` pixels inside the image's edges."""
    h, w = image.shape[:2]
    radius = (h - 2 * inset) // 2
    left, right, middle = inset + radius, w - 1 - inset - radius, h // 2
    cv2.rectangle(image, (left, inset), (right, h - 1 - inset), colour, -1)
    cv2.circle(image, (left, middle), radius, colour, -1)
    cv2.circle(image, (right, middle), radius, colour, -1)


def make_badge(effect: Effect, style: BadgeStyle = BadgeStyle()) -> np.ndarray:
    """A BGRA badge for an effect: a pill with a white border and the effect's name."""
    font, s = cv2.FONT_HERSHEY_DUPLEX, SUPERSAMPLING
    height = style.height_px * s
    thickness = max(1, round(height * 0.035))
    scale = cv2.getFontScaleFromHeight(font, round(height * style.text_fraction), thickness)
    (text_w, text_h), _ = cv2.getTextSize(effect.name, font, scale, thickness)
    border = max(2 * s, round(height * style.border_fraction))
    width = text_w + 2 * round(height * style.padding_fraction) + 2 * border
    image = np.empty((height, width, 4), np.uint8)
    image[:] = (255, 255, 255, 0)  # transparent white: shrinking does not darken the edges
    _pill(image, 0, (255, 255, 255, 240))
    _pill(image, border, (*badge_colour(effect.name, style), style.fill_alpha))
    cv2.putText(image, effect.name, ((width - text_w) // 2, (height + text_h) // 2), font, scale,
                (255, 255, 255, 255), thickness, cv2.LINE_AA)
    return cv2.resize(image, (max(1, width // s), style.height_px), interpolation=cv2.INTER_AREA)


class StickerImages:
    """The preview image of each effect, made once: its sticker PNG, else a badge."""

    def __init__(self, style: BadgeStyle = BadgeStyle()):
        self.style = style
        self._images: dict[str, np.ndarray] = {}

    def image(self, effect: Effect) -> np.ndarray:
        """The BGRA preview of an effect."""
        if effect.name not in self._images:
            self._images[effect.name] = (load_sticker(effect.sticker) if effect.sticker
                                         else make_badge(effect, self.style))
        return self._images[effect.name]


class FrameAnnotator:
    """Draws annotated frames of `size` (width, height), one per PoseFrame, keeping the preview
    box smoothed from frame to frame; used from one thread.

    pose_only: the source replays poses, so the skeleton is drawn on the canvas and the view
    follows the body (as in the window). overlay_only: chroma key instead of the video.
    """

    def __init__(self, catalog: EffectCatalog, size: tuple[int, int], *, pose_only: bool,
                 overlay_only: bool, style: AnnotationStyle = AnnotationStyle()):
        self.catalog = catalog
        self.size = size
        self.pose_only = pose_only
        self.overlay_only = overlay_only
        self.style = style
        self.stickers = StickerImages(style.badge)
        self._framing = BodyFraming()
        self._smoother = BoxSmoother()
        self._effect: Effect | None = None

    def annotate(self, pose: PoseFrame, recommendation: Recommendation | None) -> np.ndarray:
        """A new BGR frame: background, skeleton, and the preview of the recommendation's top
        effect (none before the first recommendation or without a person)."""
        frame = self._background(pose)
        landmarks = self._landmarks(pose)
        if landmarks is not None:
            draw_skeleton(frame, landmarks, self.style.skeleton)
        effect = self._top_effect(recommendation)
        box = self._preview_box(effect, landmarks, pose.t_capture_ns)
        if box is not None:
            box = fit_inside(at_least(box, self.style.min_preview_px), self.size)
            composite_sticker(frame, self.stickers.image(effect), box)
        return frame

    def _background(self, pose: PoseFrame) -> np.ndarray:
        width, height = self.size
        if self.overlay_only or self.pose_only or pose.image is None:
            colour = self.style.canvas.chroma_key if self.overlay_only else self.style.canvas.canvas
            return fill(np.empty((height, width, 3), np.uint8), colour)
        if pose.image.shape[1::-1] == self.size:
            return pose.image.copy()
        return cv2.resize(pose.image, self.size, interpolation=cv2.INTER_AREA)

    def _landmarks(self, pose: PoseFrame) -> np.ndarray | None:
        if pose.landmarks is None or not self.pose_only:
            return pose.landmarks
        self._framing.update(pose.landmarks, pose.t_capture_ns)
        return self._framing.apply(pose.landmarks)

    def _top_effect(self, recommendation: Recommendation | None) -> Effect | None:
        if recommendation is None:
            return None
        return self.catalog.effects.get(recommendation.ranking.names[0])

    def _preview_box(self, effect: Effect | None, landmarks: np.ndarray | None,
                     t_ns: int) -> Box | None:
        """The smoothed box of the effect on this body; it snaps when the effect changes or the
        person comes back."""
        if effect != self._effect or landmarks is None:
            self._effect = effect
            self._smoother.reset()
        if effect is None or landmarks is None:
            return None
        sticker = self.stickers.image(effect)
        target = anchor_box(effect.anchor, pixel_points(landmarks, self.size), landmarks[:, 3],
                            sticker.shape[1] / sticker.shape[0], self.size)
        return self._smoother.update(target, t_ns)
