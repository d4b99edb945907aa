"""Drawing and placement of the live window, on plain numpy frames (no Qt)."""
from __future__ import annotations

import numpy as np
import pytest

from poserec_core.skeleton import CONNECTIONS, Landmark
from realtime.drawing.annotators import CanvasStyle, SkeletonStyle, composite_sticker, draw_skeleton, fill
from realtime.drawing.effects import Anchor
from realtime.drawing.framing import BodyFraming
from realtime.drawing.placement import (Box, BoxSmoother, SmoothingSpec, anchor_box, at_least,
                                   fit_inside, keep_clear, pixel_points)

W, H = 960, 720
STYLE = SkeletonStyle()
BACKGROUND = CanvasStyle().canvas


@pytest.fixture(scope="module")
def sequence(reference_dir) -> np.ndarray:
    """The published sample's 410 poses (F, 33, 4), float32."""
    return np.load(reference_dir / "sample_sequence.npy").astype(np.float32)


@pytest.fixture(scope="module")
def pose(sequence) -> np.ndarray:
    """The first pose of the sample, every landmark fully visible."""
    pose = sequence[0].copy()
    pose[:, 3] = 1.0
    return pose


def canvas() -> np.ndarray:
    return fill(np.empty((H, W, 3), np.uint8), BACKGROUND)


def isolated(points: np.ndarray, distance: float) -> list[int]:
    """Landmarks with no other landmark (or connection end) within `distance` pixels."""
    gaps = np.linalg.norm(points[:, None] - points[None], axis=2) + np.eye(len(points)) * 1e9
    return [i for i in range(len(points)) if gaps[i].min() > distance]


def test_joints_are_drawn_at_the_landmarks(pose):
    frame = draw_skeleton(canvas(), pose, STYLE)
    points = np.round(pixel_points(pose, (W, H))).astype(int)
    lonely = isolated(points, 3 * H * STYLE.joint_fraction)
    assert len(lonely) >= 6
    for i in lonely:
        x, y = points[i]
        assert tuple(frame[y, x]) == STYLE.joint, Landmark(i).name


def test_connections_are_drawn_in_their_side_colour(pose):
    frame = draw_skeleton(canvas(), pose, STYLE)
    points = pixel_points(pose, (W, H))
    checked = []
    for a, b in CONNECTIONS:
        sides = {a.name.split("_")[0], b.name.split("_")[0]}
        long_enough = np.linalg.norm(points[a] - points[b]) > 6 * H * STYLE.joint_fraction
        if len(sides) != 1 or sides - {"LEFT", "RIGHT"} or not long_enough:
            continue
        x, y = np.round((points[a] + points[b]) / 2).astype(int)
        colour = STYLE.left if "LEFT" in sides else STYLE.right
        patch = frame[y - 1:y + 2, x - 1:x + 2].reshape(-1, 3)
        assert any(tuple(p) == colour for p in patch), (a.name, b.name)
        checked.append((a, b))
    assert len(checked) >= 8


@pytest.mark.parametrize("visibility", [1.0, 0.6, 0.3, 0.0])
def test_a_landmark_is_blended_by_its_visibility(pose, visibility):
    alone = pose.copy()
    alone[:, 3] = 0.0
    alone[Landmark.LEFT_KNEE, 3] = visibility  # its connections fade with the invisible ends
    frame = draw_skeleton(canvas(), alone, STYLE)
    x, y = np.round(pixel_points(pose, (W, H))[Landmark.LEFT_KNEE]).astype(int)
    expected = np.array(STYLE.joint) * visibility + np.array(BACKGROUND) * (1 - visibility)
    assert np.abs(frame[y, x].astype(float) - expected).max() <= 1
    drawn = (frame != canvas()).any(axis=2)
    assert drawn.sum() == 0 if visibility == 0.0 else drawn.any()


def test_lines_fade_with_the_less_visible_end(pose):
    contrast = []
    for visibility in (0.2, 0.5, 1.0):
        faded = pose.copy()
        faded[:, 3] = 1.0
        faded[Landmark.LEFT_HIP, 3] = visibility
        frame = draw_skeleton(canvas(), faded, STYLE).astype(float)
        points = pixel_points(pose, (W, H))
        x, y = np.round((points[Landmark.LEFT_KNEE] + points[Landmark.LEFT_HIP]) / 2).astype(int)
        contrast.append(np.abs(frame[y - 1:y + 2, x - 1:x + 2] - BACKGROUND).max())
    assert contrast[0] < contrast[1] < contrast[2]


@pytest.mark.parametrize("box, inside", [
    (Box(100, 100, 40, 20), (80, 90, 120, 110)),
    (Box(5, 5, 40, 20), (0, 0, 25, 15)),                 # clipped at the top-left corner
    (Box(W - 2, H - 2, 40, 20), (W - 22, H - 12, W, H)),  # clipped at the bottom-right
    (Box(-100, -100, 40, 20), None),                      # fully outside: nothing drawn
])
def test_stickers_are_blended_by_alpha_and_clipped(box, inside):
    sticker = np.zeros((20, 40, 4), np.uint8)
    sticker[:, :20] = (0, 0, 255, 255)   # left half opaque red
    sticker[:, 20:] = (255, 0, 0, 0)     # right half transparent
    frame = composite_sticker(canvas(), sticker, box)
    if inside is None:
        assert (frame == canvas()).all()
        return
    x0, y0, x1, y1 = inside
    changed = np.argwhere((frame != canvas()).any(axis=2))
    assert changed.size and changed[:, 1].min() >= x0 and changed[:, 0].min() >= y0
    assert changed[:, 1].max() < x1 and changed[:, 0].max() < y1
    assert (frame[changed[:, 0], changed[:, 1]] == (0, 0, 255)).all(), "transparent part drawn"


HUD = (10, 10, 300, 120)


@pytest.mark.parametrize("box", [
    Box(100, 60, 80, 40),      # on the HUD
    Box(20, 20, 60, 30),       # on the HUD, in the corner
    Box(290, 115, 50, 50),     # touching its corner
    Box(600, 400, 80, 40),     # clear of it already
    Box(W + 50, -30, 80, 40),  # outside the image
    Box(480, 360, 2000, 500),  # larger than the image
])
def test_previews_stay_inside_the_image_and_off_the_hud(box):
    placed = keep_clear(box, (W, H), HUD)
    x0, y0, x1, y1 = placed.corners
    assert 0 <= x0 and 0 <= y0 and x1 <= W and y1 <= H
    assert not placed.overlaps(HUD)
    assert placed.w / placed.h == pytest.approx(box.w / box.h)
    if fit_inside(box, (W, H)) == box and not box.overlaps(HUD):
        assert placed == box


def _centre(points, *landmarks) -> np.ndarray:
    return points[list(landmarks)].mean(axis=0)


@pytest.mark.parametrize("anchor, near", [
    (Anchor.EYES, (Landmark.LEFT_EYE, Landmark.RIGHT_EYE)),
    (Anchor.EARS, (Landmark.LEFT_EAR, Landmark.RIGHT_EAR)),
    (Anchor.LEFT_HAND, (Landmark.LEFT_WRIST,)),
    (Anchor.RIGHT_HAND, (Landmark.RIGHT_WRIST,)),
    (Anchor.HIPS, (Landmark.LEFT_HIP, Landmark.RIGHT_HIP)),
    (Anchor.TORSO, (Landmark.LEFT_SHOULDER, Landmark.RIGHT_HIP)),
    (Anchor.FEET, (Landmark.LEFT_HEEL, Landmark.RIGHT_FOOT_INDEX)),
])
def test_body_anchors_sit_on_their_landmarks(pose, anchor, near):
    points = pixel_points(pose, (W, H))
    box = anchor_box(anchor, points, pose[:, 3], 2.0, (W, H))
    distance = np.linalg.norm(np.array([box.cx, box.cy]) - _centre(points, *near))
    assert distance < box.h, anchor
    assert box.w == pytest.approx(2.0 * box.h)


def test_head_is_above_the_eyes_and_ground_below_the_feet(pose):
    points = pixel_points(pose, (W, H))
    head = anchor_box(Anchor.HEAD, points, pose[:, 3], 2.0, (W, H))
    ground = anchor_box(Anchor.GROUND, points, pose[:, 3], 2.0, (W, H))
    assert head.cy < points[[Landmark.LEFT_EYE, Landmark.RIGHT_EYE], 1].min()
    assert ground.cy > points[[Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL], 1].max()


def test_background_previews_sit_beside_the_body(pose):
    points = pixel_points(pose, (W, H))
    box = anchor_box(Anchor.BACKGROUND, points, pose[:, 3], 2.0, (W, H))
    torso = _centre(points, Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP,
                    Landmark.RIGHT_HIP)
    assert abs(box.cx - torso[0]) > box.w / 2


def test_a_hand_out_of_sight_falls_back_to_its_elbow(pose):
    hidden = pose.copy()
    hidden[[Landmark.RIGHT_WRIST, Landmark.RIGHT_INDEX, Landmark.RIGHT_PINKY], 3] = 0.01
    points = pixel_points(hidden, (W, H))
    box = anchor_box(Anchor.RIGHT_HAND, points, hidden[:, 3], 1.0, (W, H))
    assert (box.cx, box.cy) == pytest.approx(tuple(points[Landmark.RIGHT_ELBOW]))


def test_at_least_grows_small_boxes_only():
    assert at_least(Box(0, 0, 40, 10), 20) == Box(0, 0, 80, 20)
    assert at_least(Box(0, 0, 40, 30), 20) == Box(0, 0, 40, 30)


@pytest.mark.parametrize("dt_s, moved", [
    (0.0, 0.0),       # same instant: no move
    (0.05, None),     # part of the way
    (2.0, 1.0),       # a gap longer than restart_after_s: snap
])
def test_smoothing_follows_the_target_in_time(dt_s, moved):
    spec = SmoothingSpec(time_constant_s=0.1, restart_after_s=1.0)
    smoother = BoxSmoother(spec)
    start, target = Box(0, 0, 10, 10), Box(100, 0, 10, 10)
    assert smoother.update(start, 0) == start
    box = smoother.update(target, int(dt_s * 1e9))
    fraction = box.cx / 100
    if moved is None:
        assert 0.0 < fraction < 1.0
        assert fraction == pytest.approx(1 - np.exp(-dt_s / spec.time_constant_s))
    else:
        assert fraction == pytest.approx(moved)


def test_smoothing_reset_snaps():
    smoother = BoxSmoother()
    smoother.update(Box(0, 0, 10, 10), 0)
    smoother.reset()
    assert smoother.update(Box(50, 50, 10, 10), 10_000_000) == Box(50, 50, 10, 10)


def test_framing_centres_and_enlarges_a_small_body(sequence):
    framing = BodyFraming()
    pose = sequence[149]
    for n in range(100):
        framing.update(pose, n * 33_000_000)
    visible = framing.apply(pose)[pose[:, 3] >= framing.spec.min_visibility, :2]
    centre = (visible.min(axis=0) + visible.max(axis=0)) / 2
    assert centre == pytest.approx([0.5, 0.5], abs=0.01)
    before = pose[pose[:, 3] >= framing.spec.min_visibility, :2]
    assert np.ptp(visible, axis=0).max() > np.ptp(before, axis=0).max()
