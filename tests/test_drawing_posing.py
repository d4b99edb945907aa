"""Effects posed on the body, measured on rendered pixels: held props at the hand and along the
forearm, glasses on the eyes and level, hats above them, nothing for a hand out of sight, scenes
behind the person's mask, and the One-Euro smoothing that snaps on a change of effect."""
from __future__ import annotations

import math

import cv2
import numpy as np
import pytest

from poserec_core.skeleton import Landmark as L
from realtime.drawing.annotators import SkeletonStyle
from realtime.drawing.effects import load_effects
from realtime.drawing.one_euro import OneEuroFilter, OneEuroSpec
from realtime.drawing.placement import body_scale, pixel_points
from realtime.drawing.posing import EffectPose, EffectPoser
from realtime.drawing.renderer import Renderer, RenderOptions
from realtime.messages import PoseFrame

SIZE = (640, 480)
GREY = 90
ART = (0, 0, 255)  # pure red bars: every changed pixel is the prop's
NO_SKELETON = RenderOptions(skeleton=False)

STANDING = {  # a person facing the camera, normalised (x, y); their right is the image's left
    L.NOSE: (0.50, 0.20), L.RIGHT_EYE_INNER: (0.49, 0.18), L.RIGHT_EYE: (0.48, 0.18),
    L.RIGHT_EYE_OUTER: (0.47, 0.18), L.LEFT_EYE_INNER: (0.51, 0.18), L.LEFT_EYE: (0.52, 0.18),
    L.LEFT_EYE_OUTER: (0.53, 0.18), L.RIGHT_EAR: (0.455, 0.19), L.LEFT_EAR: (0.545, 0.19),
    L.MOUTH_RIGHT: (0.49, 0.23), L.MOUTH_LEFT: (0.51, 0.23),
    L.RIGHT_SHOULDER: (0.42, 0.30), L.LEFT_SHOULDER: (0.58, 0.30),
    L.RIGHT_ELBOW: (0.38, 0.42), L.LEFT_ELBOW: (0.62, 0.42),
    L.RIGHT_WRIST: (0.36, 0.54), L.LEFT_WRIST: (0.64, 0.54),
    L.RIGHT_PINKY: (0.35, 0.57), L.LEFT_PINKY: (0.65, 0.57),
    L.RIGHT_INDEX: (0.365, 0.575), L.LEFT_INDEX: (0.635, 0.575),
    L.RIGHT_THUMB: (0.37, 0.565), L.LEFT_THUMB: (0.63, 0.565),
    L.RIGHT_HIP: (0.45, 0.56), L.LEFT_HIP: (0.55, 0.56),
    L.RIGHT_KNEE: (0.45, 0.73), L.LEFT_KNEE: (0.55, 0.73),
    L.RIGHT_ANKLE: (0.45, 0.88), L.LEFT_ANKLE: (0.55, 0.88),
    L.RIGHT_HEEL: (0.45, 0.90), L.LEFT_HEEL: (0.55, 0.90),
    L.RIGHT_FOOT_INDEX: (0.44, 0.93), L.LEFT_FOOT_INDEX: (0.56, 0.93),
}
HAND = (L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY, L.RIGHT_THUMB)


def standing() -> np.ndarray:
    pose = np.zeros((33, 4), np.float32)
    for landmark, (x, y) in STANDING.items():
        pose[landmark] = (x, y, 0.0, 1.0)
    return pose


def turned(pose: np.ndarray, landmarks, pivot: L, degrees: float) -> np.ndarray:
    """The pose with `landmarks` turned clockwise on screen about `pivot` (in pixels)."""
    pose = pose.copy()
    scale = np.array(SIZE, float)
    centre = pose[pivot, :2] * scale
    t = math.radians(degrees)
    rotation = np.array([[math.cos(t), -math.sin(t)], [math.sin(t), math.cos(t)]])
    for landmark in landmarks:
        pose[landmark, :2] = (rotation @ (pose[landmark, :2] * scale - centre) + centre) / scale
    return pose


def bar_png(path, width: int, height: int) -> None:
    image = np.zeros((height, width, 4), np.uint8)
    image[:] = (*ART, 255)
    cv2.imwrite(str(path), image)


@pytest.fixture(scope="module")
def catalog(tmp_path_factory):
    """The shipped catalog with the user's own art (POSEREC_ART_DIR) for three names: a tall
    bar held in the hand, a wide bar of glasses, a square hat."""
    folder = tmp_path_factory.mktemp("art")
    bar_png(folder / "microphone.png", 20, 120)
    bar_png(folder / "glasses.png", 120, 24)
    bar_png(folder / "hat.png", 60, 60)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("POSEREC_ART_DIR", str(folder))
        return load_effects()


def frame_of(landmarks, t_ns: int = 1, mask=None) -> PoseFrame:
    image = np.full((SIZE[1], SIZE[0], 3), GREY, np.uint8)
    return PoseFrame(0, t_ns, t_ns, landmarks, image, mask)


def coverage(catalog, landmarks, name: str) -> np.ndarray:
    """Per pixel, how much of the red art covers it (0..1): the art's alpha as drawn."""
    frame = Renderer(catalog).render(frame_of(landmarks), name, NO_SKELETON)
    return np.clip((frame[..., 2].astype(float) - GREY) / (255 - GREY), 0, 1)


def moments(weights: np.ndarray) -> tuple[np.ndarray, float]:
    """Alpha-weighted centre (x, y) and principal-axis angle (degrees clockwise, mod 180)."""
    ys, xs = np.nonzero(weights)
    w = weights[ys, xs]
    cx, cy = np.average(xs, weights=w), np.average(ys, weights=w)
    cov = np.cov(np.vstack([xs - cx, ys - cy]), aweights=w)
    vals, vecs = np.linalg.eigh(cov)
    major = vecs[:, np.argmax(vals)]
    return np.array([cx, cy]), math.degrees(math.atan2(major[1], major[0])) % 180


def line_difference(a: float, b: float) -> float:
    """Smallest difference of two undirected line angles, in degrees."""
    d = abs(a - b) % 180
    return min(d, 180 - d)


# ---- held props ---------------------------------------------------------------------------------

@pytest.mark.parametrize("forearm_turn", [0, 45, 90, 150, -60, -120])
def test_a_held_prop_sits_at_the_hand_along_the_forearm(catalog, forearm_turn):
    pose = turned(standing(), HAND, L.RIGHT_ELBOW, forearm_turn)
    points = pixel_points(pose, SIZE)
    weights = coverage(catalog, pose, "microphone")
    assert weights.sum() > 500, "the prop was drawn"
    centre, angle = moments(weights)
    scale = body_scale(points, pose[:, 3])
    hand = points[list(HAND)]
    assert np.linalg.norm(hand - centre, axis=1).min() <= scale / 4
    forearm = points[L.RIGHT_WRIST] - points[L.RIGHT_ELBOW]
    forearm_angle = math.degrees(math.atan2(forearm[1], forearm[0])) % 180
    assert line_difference(angle, forearm_angle) <= 15


def test_a_hand_out_of_sight_draws_no_sticker_pixels(catalog):
    pose = standing()
    pose[[L.RIGHT_WRIST, L.RIGHT_INDEX, L.RIGHT_PINKY, L.RIGHT_THUMB], 3] = 0.05
    shipped = load_effects()  # the real basketball art
    plain = Renderer(shipped).render(frame_of(pose), None, NO_SKELETON)
    assert np.array_equal(Renderer(shipped).render(frame_of(pose), "basketball", NO_SKELETON),
                          plain)
    assert not np.array_equal(Renderer(shipped).render(frame_of(standing()), "basketball",
                                                       NO_SKELETON), plain)


def test_a_two_handed_prop_lies_between_the_hands(catalog):
    pose = standing()
    points = pixel_points(pose, SIZE)
    renderer = Renderer(load_effects())
    renderer.render(frame_of(pose), "horse rope", NO_SKELETON)
    placed = renderer.effect_pose
    hands = (points[L.LEFT_WRIST] + points[L.RIGHT_WRIST]) / 2
    assert np.hypot(placed.cx - hands[0], placed.cy - hands[1]) <= body_scale(points,
                                                                                pose[:, 3]) / 4
    assert abs(placed.angle_deg) <= 1  # the hands are level


# ---- the head ---------------------------------------------------------------------------------

@pytest.mark.parametrize("roll", [0, 12, -20])
def test_glasses_are_centred_between_the_eyes_and_level_with_them(catalog, roll):
    face = [landmark for landmark in L if landmark <= L.MOUTH_RIGHT]
    pose = turned(standing(), face, L.NOSE, roll)
    points = pixel_points(pose, SIZE)
    centre, angle = moments(coverage(catalog, pose, "glasses"))
    eyes = (points[L.LEFT_EYE] + points[L.RIGHT_EYE]) / 2
    gap = np.linalg.norm(points[L.LEFT_EYE] - points[L.RIGHT_EYE])
    assert np.linalg.norm(centre - eyes) <= 0.1 * gap
    assert line_difference(angle, roll % 180) <= 3


@pytest.mark.parametrize("roll", [0, 15, -25])
def test_a_hat_sits_above_the_eyes(catalog, roll):
    face = [landmark for landmark in L if landmark <= L.MOUTH_RIGHT]
    pose = turned(standing(), face, L.NOSE, roll)
    points = pixel_points(pose, SIZE)
    weights = coverage(catalog, pose, "hat")
    centre, _ = moments(weights)
    eyes = (points[L.LEFT_EYE] + points[L.RIGHT_EYE]) / 2
    t = math.radians(roll)
    up = np.array([math.sin(t), -math.cos(t)])  # the head's up, turned with its roll
    ys, xs = np.nonzero(weights > 0.5)
    heights = (np.stack([xs, ys], 1) - eyes) @ up
    gap = np.linalg.norm(points[L.LEFT_EYE] - points[L.RIGHT_EYE])
    assert (centre - eyes) @ up > gap, "the hat's centre is well above the eyes"
    assert heights.min() > 0, "no part of the hat comes down over the eyes"


# ---- scenes -----------------------------------------------------------------------------------

def person_mask() -> np.ndarray:
    mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    cv2.ellipse(mask, (320, 260), (90, 200), 0, 0, 360, 255, -1)
    return cv2.GaussianBlur(mask, (21, 21), 0)  # soft edges, as MediaPipe's are


@pytest.mark.parametrize("name", ["wall", "green tree", "grassland", "court"])
def test_a_scene_effect_changes_no_pixel_inside_the_persons_mask(name):
    effects = load_effects()
    rng = np.random.default_rng(0)
    image = rng.integers(0, 256, (SIZE[1], SIZE[0], 3), dtype=np.uint8)
    mask = person_mask()
    pose = PoseFrame(0, 1, 1, standing(), image, mask)
    plain = Renderer(effects).render(pose, None)
    scene = Renderer(effects).render(pose, name)
    inside = mask == 255
    assert np.array_equal(scene[inside], plain[inside])
    assert (scene[~inside] != plain[~inside]).any(axis=-1).mean() > 0.02


def test_a_background_goes_behind_the_skeleton_without_video():
    effects = load_effects()
    pose = PoseFrame(0, 1, 1, standing(), None)
    plain = Renderer(effects).render(pose, None)
    scene = Renderer(effects).render(pose, "wall")
    skeleton = Renderer(effects).render(pose, None, RenderOptions(skeleton=False))
    drawn = (plain != skeleton).any(axis=-1)  # the skeleton's pixels
    style = SkeletonStyle()
    solid = np.zeros_like(drawn)  # pixels of exactly a skeleton colour: not blended with the back
    for colour in (style.left, style.right, style.centre, style.joint):
        solid |= (plain == colour).all(axis=-1)
    assert solid.sum() > 1000
    assert np.array_equal(scene[solid], plain[solid]), "the skeleton stays on top"
    assert (scene[~drawn] != plain[~drawn]).any(axis=-1).mean() > 0.5, "the wall fills the rest"


# ---- smoothing, snapping, mirroring ---------------------------------------------------------------

def test_one_euro_holds_still_values_and_follows_moves():
    noisy = OneEuroFilter(OneEuroSpec(min_cutoff_hz=1.0, beta=0.0))
    rng = np.random.default_rng(1)
    out = [noisy.update([100 + rng.normal(0, 2)], n * 33_000_000)[0] for n in range(60)]
    assert np.std(out[30:]) < 1.0  # the jitter of 2 px shrinks
    fast = OneEuroFilter(OneEuroSpec(min_cutoff_hz=1.0, beta=0.05))
    moved = [fast.update([10.0 * n], n * 33_000_000)[0] for n in range(30)]
    assert 290 - moved[-1] < 0.1 * 290  # a steady move of 300 px/s lags by under 10 %


def test_the_pose_glides_and_snaps_when_the_effect_changes(catalog):
    poser = EffectPoser(catalog)
    still, moved = standing(), standing()
    moved[:, 0] += 0.2
    first = poser.update("hat", still, SIZE, 0)
    glided = poser.update("hat", moved, SIZE, 33_000_000)
    snapped = poser.update("glasses", moved, SIZE, 66_000_000)
    target = EffectPoser(catalog).update("glasses", moved, SIZE, 0)
    assert first.cx < glided.cx < first.cx + 0.2 * SIZE[0]
    assert (snapped.cx, snapped.cy) == pytest.approx((target.cx, target.cy))
    assert poser.update(None, moved, SIZE, 99_000_000) is None
    assert poser.update("hat", None, SIZE, 99_000_000) is None


def test_a_mirrored_pose_is_the_same_place_in_the_flipped_frame():
    pose = EffectPose("hat", 100.0, 50.0, 40.0, 30.0, 20.0, 0.5, SIZE)
    flipped = pose.mirrored()
    assert (flipped.cx, flipped.cy, flipped.angle_deg) == (SIZE[0] - 100.0, 50.0, -20.0)
    assert flipped.normalised() == pytest.approx({"name": "hat", "cx": 540 / 640, "cy": 50 / 480,
                                                  "w": 40 / 640, "h": 30 / 480, "angle": -20.0,
                                                  "opacity": 0.5})


def test_mirroring_flips_the_finished_frame(catalog):
    frame = frame_of(standing())
    plain = Renderer(catalog).render(frame, "microphone")
    mirrored = Renderer(catalog).render(frame, "microphone", RenderOptions(mirror=True))
    assert np.array_equal(mirrored, plain[:, ::-1])
