"""The one renderer of what a person sees: (frame or canvas, PoseFrame, selected effect) -> the
composited BGR frame. The window, the virtual camera, `--record` and `--screenshot` all draw
through it; Qt only converts its result at the window's edge.

Layers, back to front: the video (a canvas for pose-only sources, chroma green in overlay mode);
a scene effect (background, ground) behind the person through the pose's segmentation mask, or
behind the skeleton when there is no video; the skeleton; a body effect posed by EffectPoser.
`mirror` flips the finished frame: what is shown mirrors, what the model saw does not.
"""
from __future__ import annotations

import math
from collections import OrderedDict
from dataclasses import dataclass

import cv2
import numpy as np

from ..messages import PoseFrame
from .annotators import CanvasStyle, SkeletonStyle, draw_skeleton, fill
from .art import ArtBook
from .compositing import (BackdropStyle, backdrop, behind_person, composite_premultiplied,
                          premultiplied)
from .demo_canvas import CANVAS_SIZE
from .effects import Anchor, EffectCatalog
from .framing import BodyFraming
from .posing import EffectPose, EffectPoser

SCENE = frozenset({Anchor.BACKGROUND, Anchor.GROUND})
"""Anchors drawn behind the person."""

BACKDROPS_CACHED = 4
"""Scene backdrops kept (one per effect and frame size)."""

ART_CACHED = 16
"""Premultiplied art images kept (one per effect and height)."""

ART_STEP = 1.06
"""Art is drawn from heights on this geometric ladder (at or above the pose's), and the warp
makes the exact size: a pose that grows a pixel a frame reuses the cached picture."""


@dataclass(frozen=True)
class RenderOptions:
    """What a frame shows: the skeleton, the effect, chroma green instead of the video, mirrored."""

    skeleton: bool = True
    effect: bool = True
    overlay_only: bool = False
    mirror: bool = False


@dataclass(frozen=True)
class RenderStyle:
    """Styles of the renderer's layers; `canvas_backdrop` dims a scene drawn on the canvas so the
    skeleton stays the brightest thing."""

    skeleton: SkeletonStyle = SkeletonStyle()
    canvas: CanvasStyle = CanvasStyle()
    backdrop: BackdropStyle = BackdropStyle()
    canvas_backdrop: float = 0.75


class Renderer:
    """Composites frames one after another, keeping the effect's pose and the canvas framing
    smooth between them; used from one thread. `effect_pose` is the last frame's (unmirrored)."""

    def __init__(self, catalog: EffectCatalog, art: ArtBook | None = None,
                 style: RenderStyle = RenderStyle()):
        self.catalog = catalog
        self.art = art if art is not None else ArtBook(catalog)
        self.style = style
        self.poser = EffectPoser(catalog, self.art)
        self.effect_pose: EffectPose | None = None
        self._framing = BodyFraming()
        self._backdrops: OrderedDict[tuple, np.ndarray] = OrderedDict()
        self._premultiplied: OrderedDict[tuple, np.ndarray] = OrderedDict()

    def render(self, pose: PoseFrame | None, effect: str | None,
               options: RenderOptions = RenderOptions(),
               size: tuple[int, int] | None = None) -> np.ndarray:
        """A new BGR frame of `size` (width, height; default: the pose's image, else the canvas)
        for this pose and the effect named `effect` (None, or a name the catalog lacks: none)."""
        image = None if pose is None else pose.image
        if size is None:
            size = CANVAS_SIZE if image is None else (image.shape[1], image.shape[0])
        frame = self._base(image, size, options)
        landmarks = None if pose is None else pose.landmarks
        if landmarks is not None and image is None:  # pose-only: the view follows the body
            self._framing.update(landmarks, pose.t_capture_ns)
            landmarks = self._framing.apply(landmarks)
        self.effect_pose = self.poser.update(effect if options.effect else None, landmarks, size,
                                             0 if pose is None else pose.t_capture_ns)
        scene = self.effect_pose is not None and self.catalog[effect].anchor in SCENE
        if scene:
            self._draw_scene(frame, self.effect_pose, pose, image is None, options)
        if options.skeleton and landmarks is not None:
            draw_skeleton(frame, landmarks, self.style.skeleton)
        if self.effect_pose is not None and not scene:
            composite_premultiplied(frame, self._art(self.effect_pose), self.effect_pose)
        return cv2.flip(frame, 1) if options.mirror else frame

    def _base(self, image, size, options) -> np.ndarray:
        width, height = size
        if options.overlay_only or image is None:
            canvas = self.style.canvas
            colour = canvas.chroma_key if options.overlay_only else canvas.canvas
            return fill(np.empty((height, width, 3), np.uint8), colour)
        if image.shape[1::-1] == tuple(size):
            return image.copy()
        return cv2.resize(image, size, interpolation=cv2.INTER_AREA)

    def _art(self, pose: EffectPose) -> np.ndarray:
        """The effect's art at the pose's height, premultiplied (cached)."""
        key = (pose.name, ladder_height(pose.height))
        return _cached(self._premultiplied, key, ART_CACHED,
                       lambda: premultiplied(self.art.image(*key)))

    def _draw_scene(self, frame, pose: EffectPose, source: PoseFrame, pose_only: bool,
                    options: RenderOptions) -> None:
        """Background or ground art behind the person (through the mask), or behind the
        skeleton (pose-only sources); without a mask, video gets ground items only."""
        mask = None if pose_only else _mask_at(source.mask, frame.shape[1::-1])
        if not pose_only and mask is None and self.catalog[pose.name].anchor is Anchor.BACKGROUND:
            return
        scene = frame.copy() if mask is not None else frame
        if self.catalog[pose.name].anchor is Anchor.BACKGROUND:
            wallpaper = self._backdrop(pose.name, frame.shape[1::-1])
            weight = pose.opacity * (self.style.canvas_backdrop if pose_only else 1.0)
            cv2.addWeighted(wallpaper, weight, scene, 1.0 - weight, 0.0, dst=scene)
        else:
            composite_premultiplied(scene, self._art(pose), pose)
        if mask is not None:
            behind_person(frame, scene, mask)

    def _backdrop(self, name: str, size: tuple[int, int]) -> np.ndarray:
        return _cached(self._backdrops, (name, tuple(size)), BACKDROPS_CACHED,
                       lambda: backdrop(lambda h: self.art.image(name, h), size,
                                        self.style.backdrop))


def _cached(cache: OrderedDict, key, capacity: int, make) -> np.ndarray:
    """cache[key], made by make() on a miss; the least recently used goes beyond `capacity`."""
    if key not in cache:
        cache[key] = make()
        if len(cache) > capacity:
            cache.popitem(last=False)
    cache.move_to_end(key)
    return cache[key]


def ladder_height(height: float) -> int:
    """The smallest height of the ART_STEP ladder (whole pixels) at or above `height`."""
    if height <= 8:
        return max(1, math.ceil(height))
    return math.ceil(8 * ART_STEP ** math.ceil(math.log(height / 8, ART_STEP) - 1e-9))


def _mask_at(mask: np.ndarray | None, size: tuple[int, int]) -> np.ndarray | None:
    """The person mask at the frame's (width, height), or None."""
    if mask is None or mask.shape[1::-1] == tuple(size):
        return mask
    return cv2.resize(mask, size, interpolation=cv2.INTER_LINEAR)
