"""Where an effect sits on the body, how large and turned how far: its pose, from the landmarks.

Held props at the hand, along the forearm; two-handed props between the hands, along the line
between them; eyewear on the eyes, as wide as the face and level with the eye line; headwear on
top of the head, with the head's roll; clothes over the torso or the legs, scaled to the
shoulders and hips; footwear at the feet; ground items on the floor line under the feet; scene
effects fill the frame (the renderer draws them behind the person). An effect fades with the
visibility of the landmarks it sits on (a hand out of sight: its prop is gone), so it never
floats where no body part is drawn. Poses are smoothed with a One-Euro filter and snap when the
effect changes.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from poserec_core.skeleton import Landmark as L

from .effects import Anchor, EffectCatalog
from .one_euro import OneEuroFilter, OneEuroSpec
from .placement import VISIBLE, body_scale, pixel_points

FULLY_VISIBLE = 0.6
"""Visibility from which an effect is drawn fully opaque; it fades out down to VISIBLE."""

SIZES = {"held": 0.6, "two_hands": (0.6, 1.6), "eyes": 2.3, "ears": 1.35, "head": 1.25,
         "torso": (1.15, 1.45), "hips": 1.1, "feet": 0.5, "ground": 2.4}
"""Sizes in body scales (shoulders-to-hips length), eye gaps, face or shoulder widths."""

FACE_PER_SCALE = 0.32
"""Narrowest face, in body scales (a head is about a third of a torso long)."""

MAX_SIZE_FRACTION = 0.95
"""Largest side of a body effect, as a fraction of the frame's height."""

IN_VIEW_MARGIN = 0.02
"""How far outside the frame (normalised) a landmark still counts as in view."""

RESTART_AFTER_S = 1.0
"""A gap between frames longer than this makes the pose snap instead of gliding."""

HANDS = {Anchor.LEFT_HAND: (L.LEFT_WRIST, L.LEFT_INDEX, L.LEFT_PINKY, L.LEFT_ELBOW,
                            L.LEFT_SHOULDER),
         Anchor.RIGHT_HAND: (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY, L.RIGHT_ELBOW,
                             L.RIGHT_SHOULDER)}
FEET = (L.LEFT_HEEL, L.RIGHT_HEEL, L.LEFT_FOOT_INDEX, L.RIGHT_FOOT_INDEX, L.LEFT_ANKLE,
        L.RIGHT_ANKLE)


@dataclass(frozen=True)
class EffectPose:
    """An effect's place in a frame: centre and size in pixels, rotation in degrees clockwise on
    screen (the art's up turned towards +x), opacity 0..1, and the frame's (width, height)."""

    name: str
    cx: float
    cy: float
    width: float
    height: float
    angle_deg: float
    opacity: float
    frame_size: tuple[int, int]

    def __post_init__(self):
        if not (self.width > 0 and self.height > 0 and 0.0 <= self.opacity <= 1.0):
            raise ValueError(f"EffectPose needs a positive size and opacity in [0, 1], got "
                             f"{self.width}x{self.height}, {self.opacity}")

    def normalised(self) -> dict:
        """{"name", "cx", "cy", "w", "h", "angle", "opacity"}: x and widths per frame width,
        y and heights per frame height, angle in degrees clockwise."""
        fw, fh = self.frame_size
        return {"name": self.name, "cx": self.cx / fw, "cy": self.cy / fh, "w": self.width / fw,
                "h": self.height / fh, "angle": self.angle_deg, "opacity": self.opacity}

    def mirrored(self) -> "EffectPose":
        """The same pose in the frame flipped left to right (`--mirror`)."""
        return EffectPose(self.name, self.frame_size[0] - self.cx, self.cy, self.width,
                          self.height, -self.angle_deg, self.opacity, self.frame_size)


@dataclass(frozen=True)
class Placement:
    """An unsmoothed pose: centre (x, y), size (w, h), angle (degrees), opacity."""

    centre: np.ndarray
    size: tuple[float, float]
    angle: float
    opacity: float


def fade(visibility: float) -> float:
    """Opacity for a visibility: 0 below VISIBLE, 1 from FULLY_VISIBLE, linear between."""
    return float(np.clip((visibility - VISIBLE) / (FULLY_VISIBLE - VISIBLE), 0.0, 1.0))


def in_view(landmarks: np.ndarray) -> np.ndarray:
    """Each landmark's visibility, 0 for one outside the frame (MediaPipe guesses those): an
    effect never sits where the picture has no body."""
    xy = landmarks[:, :2]
    inside = ((xy >= -IN_VIEW_MARGIN) & (xy <= 1 + IN_VIEW_MARGIN)).all(axis=1)
    return np.where(inside, np.clip(landmarks[:, 3].astype(np.float64), 0.0, 1.0), 0.0)


def up_angle(direction: np.ndarray) -> float:
    """Degrees clockwise that turn the art's up (-y) towards `direction`."""
    return math.degrees(math.atan2(direction[0], -direction[1]))


def level_angle(direction: np.ndarray) -> float:
    """Degrees clockwise that lay the art's x axis along a line (kept upright: |angle| <= 90)."""
    dx, dy = direction if direction[0] >= 0 else -direction
    return math.degrees(math.atan2(dy, dx))


def _unit(vector: np.ndarray, default=(0.0, -1.0)) -> np.ndarray:
    norm = float(np.hypot(*vector))
    return vector / norm if norm > 1e-6 else np.array(default)


def _sized(long_side: float, aspect: float) -> tuple[float, float]:
    """(w, h) of art of `aspect` (w / h) whose longer side is `long_side`."""
    return (long_side, long_side / aspect) if aspect >= 1 else (long_side * aspect, long_side)


def _by_width(width: float, aspect: float) -> tuple[float, float]:
    return width, width / aspect


def _mean_visible(points, vis, indices) -> np.ndarray:
    """Mean of the visible landmarks among `indices` (of all of them when none is)."""
    seen = [i for i in indices if vis[i] >= VISIBLE] or list(indices)
    return points[seen].mean(axis=0)


def _held(anchor, points, vis, scale, aspect) -> Placement:
    wrist, index, pinky, elbow, shoulder = HANDS[anchor]
    hand = _mean_visible(points, vis, (wrist, index, pinky))
    base = elbow if vis[elbow] >= VISIBLE else shoulder
    direction = _unit(hand - points[base])
    size = _sized(SIZES["held"] * scale, aspect)
    centre = hand + direction * 0.15 * max(size)
    return Placement(centre, size, up_angle(direction),
                     fade(float(vis[[wrist, index, pinky]].max())))


def _two_hands(points, vis, scale, aspect) -> Placement:
    left, right = (_held(a, points, vis, scale, aspect) for a in (Anchor.LEFT_HAND,
                                                                   Anchor.RIGHT_HAND))
    if min(left.opacity, right.opacity) == 0.0:  # one hand out of sight: the other holds it
        return max(left, right, key=lambda p: p.opacity)
    hands = [_mean_visible(points, vis, HANDS[a][:3]) for a in (Anchor.LEFT_HAND,
                                                                 Anchor.RIGHT_HAND)]
    line = hands[1] - hands[0]
    low, high = SIZES["two_hands"]
    long_side = float(np.clip(1.1 * np.hypot(*line), low * scale, high * scale))
    return Placement((hands[0] + hands[1]) / 2, _sized(long_side, aspect), level_angle(line),
                     min(left.opacity, right.opacity))


def _face(points, vis, scale):
    """Eye midpoint, eye-line direction (upright), up direction, face width, eye visibility.

    The face is at least FACE_PER_SCALE body scales wide (a face in profile has its eyes
    together); its roll fades to level as the eyes close up, where their line means nothing."""
    eyes = points[L.RIGHT_EYE], points[L.LEFT_EYE]
    line = eyes[1] - eyes[0]
    ears = float(np.hypot(*(points[L.LEFT_EAR] - points[L.RIGHT_EAR])))
    if min(vis[L.LEFT_EAR], vis[L.RIGHT_EAR]) < VISIBLE:
        ears = 0.0
    gap = float(np.hypot(*line))
    width = max(ears, 2.2 * gap, FACE_PER_SCALE * scale)
    trust = float(np.clip((gap / width - 0.15) / 0.15, 0.0, 1.0))
    roll = math.radians(level_angle(line) * trust)
    along = np.array([math.cos(roll), math.sin(roll)])
    up = np.array([along[1], -along[0]])
    return (eyes[0] + eyes[1]) / 2, along, up, width, float(min(vis[L.LEFT_EYE], vis[L.RIGHT_EYE]))


def _eyes(points, vis, scale, aspect) -> Placement:
    middle, along, _, face, seen = _face(points, vis, scale)
    gap = float(np.hypot(*(points[L.LEFT_EYE] - points[L.RIGHT_EYE])))
    width = max(SIZES["eyes"] * gap, 0.95 * face)
    return Placement(middle, _by_width(width, aspect), level_angle(along), fade(seen))


def _ears(points, vis, scale, aspect) -> Placement:
    _, along, up, face, _ = _face(points, vis, scale)
    middle = (points[L.LEFT_EAR] + points[L.RIGHT_EAR]) / 2
    seen = float(min(vis[L.LEFT_EAR], vis[L.RIGHT_EAR]))
    size = _by_width(SIZES["ears"] * face, aspect)
    return Placement(middle + up * 0.25 * size[1], size, level_angle(along), fade(seen))


def _head(points, vis, scale, aspect) -> Placement:
    middle, along, up, face, seen = _face(points, vis, scale)
    size = _by_width(SIZES["head"] * face, aspect)
    brow = middle + up * 0.3 * face
    return Placement(brow + up * size[1] / 2, size, level_angle(along), fade(seen))


def _torso_axes(points, vis):
    """Shoulder midpoint, hip midpoint, up direction, shoulder width, torso length."""
    shoulders = (points[L.LEFT_SHOULDER] + points[L.RIGHT_SHOULDER]) / 2
    width = float(np.hypot(*(points[L.LEFT_SHOULDER] - points[L.RIGHT_SHOULDER])))
    line = points[L.LEFT_SHOULDER] - points[L.RIGHT_SHOULDER]
    across = _unit(line if line[0] >= 0 else -line, default=(1.0, 0.0))
    if min(vis[L.LEFT_HIP], vis[L.RIGHT_HIP]) >= VISIBLE:
        hips = (points[L.LEFT_HIP] + points[L.RIGHT_HIP]) / 2
        length = max(float(np.hypot(*(shoulders - hips))), 1.0)
        return shoulders, hips, _unit(shoulders - hips), width, length
    up = np.array([across[1], -across[0]])
    length = 1.3 * width
    return shoulders, shoulders - up * length, up, width, length


def _torso(points, vis, aspect) -> Placement:
    shoulders, hips, up, width, length = _torso_axes(points, vis)
    by_length, by_width = SIZES["torso"]
    height = max(by_length * length, by_width * width / aspect)
    seen = float(min(vis[L.LEFT_SHOULDER], vis[L.RIGHT_SHOULDER]))
    return Placement((shoulders + hips) / 2, (height * aspect, height), up_angle(up), fade(seen))


def _hips(points, vis, scale, aspect) -> Placement:
    _, hips, up, _, _ = _torso_axes(points, vis)
    size = _sized(SIZES["hips"] * scale, aspect)
    seen = float(min(vis[L.LEFT_HIP], vis[L.RIGHT_HIP]))
    return Placement(hips - up * 0.35 * scale, size, up_angle(up), fade(seen))


def _feet(points, vis, scale, aspect) -> Placement:
    return Placement(_mean_visible(points, vis, FEET), _sized(SIZES["feet"] * scale, aspect), 0.0,
                     fade(float(vis[list(FEET)].max())))


def _ground(points, vis, scale, aspect) -> Placement:
    seen = [i for i in FEET if vis[i] >= VISIBLE] or list(FEET)
    floor = float(points[seen, 1].max())
    size = _by_width(SIZES["ground"] * scale, aspect)
    centre = np.array([points[seen, 0].mean(), floor + 0.3 * size[1] - size[1] / 2])
    return Placement(centre, size, 0.0, fade(float(vis[list(FEET)].max())))


def place(anchor: Anchor, landmarks: np.ndarray, frame_size: tuple[int, int],
          aspect: float) -> Placement:
    """The unsmoothed placement of art of `aspect` (w / h) at `anchor` on a body (normalised
    landmarks (33, 4)) in a frame of (width, height)."""
    if anchor is Anchor.BACKGROUND:
        return Placement(np.array(frame_size, float) / 2, tuple(map(float, frame_size)), 0.0, 1.0)
    points = pixel_points(landmarks, frame_size)
    vis = in_view(landmarks)
    scale = body_scale(points, vis)
    if anchor in HANDS:
        placement = _held(anchor, points, vis, scale, aspect)
    elif anchor is Anchor.BOTH_HANDS:
        placement = _two_hands(points, vis, scale, aspect)
    elif anchor in (Anchor.EYES, Anchor.EARS, Anchor.HEAD):
        placement = {Anchor.EYES: _eyes, Anchor.EARS: _ears, Anchor.HEAD: _head}[anchor](
            points, vis, scale, aspect)
    elif anchor is Anchor.TORSO:
        placement = _torso(points, vis, aspect)
    else:
        placement = {Anchor.HIPS: _hips, Anchor.FEET: _feet, Anchor.GROUND: _ground}[anchor](
            points, vis, scale, aspect)
    shrink = min(1.0, MAX_SIZE_FRACTION * frame_size[1] / max(placement.size))
    w, h = placement.size
    return Placement(placement.centre, (max(w * shrink, 1.0), max(h * shrink, 1.0)),
                     placement.angle, placement.opacity)


class EffectPoser:
    """The smoothed pose of the selected effect, frame after frame (one thread).

    `art` (an ArtBook) gives each effect's aspect; without it a fresh one is made. A call for
    the same frame time as the last one is a redraw of that frame: it shows the effect asked
    for now (snapped into place if it is another) but leaves the smoothing as the frame left it,
    so that a window redrawing on a new selection and an output drawing only new frames place
    every later frame alike.
    """

    def __init__(self, catalog: EffectCatalog, art=None, spec: OneEuroSpec = OneEuroSpec()):
        from .art import ArtBook

        self.catalog = catalog
        self.art = art if art is not None else ArtBook(catalog)
        self._filter = OneEuroFilter(spec)
        self._key: tuple | None = None
        self._t_ns: int | None = None
        self._angle = 0.0
        self._last: EffectPose | None = None
        self._aspects: dict[str, float] = {}

    def aspect(self, name: str) -> float:
        """Width / height of the effect's art."""
        if name not in self._aspects:
            image = self.art.image(name, 96)
            self._aspects[name] = image.shape[1] / image.shape[0]
        return self._aspects[name]

    def update(self, name: str | None, landmarks: np.ndarray | None,
               frame_size: tuple[int, int], t_ns: int) -> EffectPose | None:
        """The pose of effect `name` on this frame's body; None without an effect (or one the
        catalog lacks) or a person. It snaps when the effect or frame size changes, or after a
        gap of RESTART_AFTER_S."""
        redraw, self._t_ns = t_ns == self._t_ns, t_ns
        if name is None or landmarks is None or name not in self.catalog:
            if not redraw:
                self._key, self._last = None, None
            return None
        target = place(self.catalog[name].anchor, landmarks, frame_size, self.aspect(name))
        key = (name, tuple(frame_size))
        if redraw:
            return self._last if key == self._key else _pose(name, target, target.angle,
                                                             frame_size)
        if key != self._key or self._last is None or \
                abs(t_ns - self._last_t_ns) > RESTART_AFTER_S * 1e9:
            self._filter.reset()
            self._key, self._angle = key, target.angle
        angle = self._angle + (target.angle - self._angle + 180.0) % 360.0 - 180.0
        cx, cy, w, h, self._angle, opacity = self._filter.update(
            [*target.centre, *target.size, angle, target.opacity], t_ns)
        self._last_t_ns = t_ns
        self._last = _pose(name, Placement(np.array([cx, cy]), (w, h), 0.0, opacity),
                           self._angle, frame_size)
        return self._last


def _pose(name: str, placement: Placement, angle: float, frame_size) -> EffectPose:
    w, h = placement.size
    return EffectPose(name, float(placement.centre[0]), float(placement.centre[1]),
                      max(float(w), 1.0), max(float(h), 1.0),
                      float((angle + 180.0) % 360.0 - 180.0),
                      float(np.clip(placement.opacity, 0.0, 1.0)), tuple(frame_size))
