"""Drawing on plain numpy frames (no Qt): the skeleton, art composited by its pose, where each
anchor places an effect on the sample's body, and the canvas framing."""
from __future__ import annotations

import numpy as np
import pytest

from poserec_core.skeleton import CONNECTIONS, Landmark
from realtime.drawing.annotators import CanvasStyle, SkeletonStyle, draw_skeleton, fill
from realtime.drawing.compositing import composite_art
from realtime.drawing.effects import Anchor
from realtime.drawing.framing import BodyFraming
from realtime.drawing.placement import body_scale, pixel_points
from realtime.drawing.posing import EffectPose, place

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


def art_pose(cx, cy, w, h, angle=0.0, opacity=1.0) -> EffectPose:
    return EffectPose("test", cx, cy, w, h, angle, opacity, (W, H))


HALF_RED = np.zeros((20, 40, 4), np.uint8)
HALF_RED[:, :20] = (0, 0, 255, 255)   # left half opaque red
HALF_RED[:, 20:] = (255, 0, 0, 0)     # right half transparent


@pytest.mark.parametrize("pose, inside", [
    (art_pose(100, 100, 40, 20), (80, 90, 120, 110)),
    (art_pose(5, 5, 40, 20), (0, 0, 25, 15)),                 # clipped at the top-left corner
    (art_pose(W - 2, H - 2, 40, 20), (W - 22, H - 12, W, H)),  # clipped at the bottom-right
    (art_pose(-100, -100, 40, 20), None),                      # fully outside: nothing drawn
    (art_pose(100, 100, 40, 20, opacity=0.0), None),           # faded out: nothing drawn
])
def test_art_is_blended_by_alpha_and_clipped(pose, inside):
    frame = composite_art(canvas(), HALF_RED, pose)
    if inside is None:
        assert (frame == canvas()).all()
        return
    x0, y0, x1, y1 = inside
    changed = np.argwhere((frame != canvas()).any(axis=2))
    assert changed.size and changed[:, 1].min() >= x0 and changed[:, 0].min() >= y0
    assert changed[:, 1].max() < x1 and changed[:, 0].max() < y1
    solid = np.argwhere((frame == (0, 0, 255)).all(axis=2))
    assert len(solid) >= 0.8 * len(changed), "the transparent half was drawn"


@pytest.mark.parametrize("angle, opaque_side", [(0, (-1, 0)), (90, (0, -1)), (180, (1, 0)),
                                                (-90, (0, 1))])
def test_art_turns_clockwise_by_its_angle(angle, opaque_side):
    """The opaque left half of the art points where a clockwise turn takes it."""
    frame = composite_art(canvas(), HALF_RED, art_pose(400, 300, 80, 40, angle))
    ys, xs = np.nonzero((frame == (0, 0, 255)).all(axis=2))
    direction = np.array([xs.mean() - 400, ys.mean() - 300])
    assert direction / np.linalg.norm(direction) == pytest.approx(opaque_side, abs=0.05)


def test_opacity_fades_the_art():
    frame = composite_art(canvas(), HALF_RED, art_pose(100, 100, 40, 20, opacity=0.5))
    expected = np.round(0.5 * np.array((0, 0, 255)) + 0.5 * np.array(BACKGROUND))
    assert frame[100, 90] == pytest.approx(expected, abs=1)


@pytest.mark.parametrize("anchor, near", [
    (Anchor.EYES, (Landmark.LEFT_EYE, Landmark.RIGHT_EYE)),
    (Anchor.EARS, (Landmark.LEFT_EAR, Landmark.RIGHT_EAR)),
    (Anchor.LEFT_HAND, (Landmark.LEFT_WRIST, Landmark.LEFT_INDEX, Landmark.LEFT_PINKY)),
    (Anchor.RIGHT_HAND, (Landmark.RIGHT_WRIST, Landmark.RIGHT_INDEX, Landmark.RIGHT_PINKY)),
    (Anchor.BOTH_HANDS, (Landmark.LEFT_WRIST, Landmark.RIGHT_WRIST)),
    (Anchor.HIPS, (Landmark.LEFT_HIP, Landmark.RIGHT_HIP)),
    (Anchor.TORSO, (Landmark.LEFT_SHOULDER, Landmark.RIGHT_SHOULDER, Landmark.LEFT_HIP,
                    Landmark.RIGHT_HIP)),
    (Anchor.FEET, (Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL, Landmark.LEFT_FOOT_INDEX,
                   Landmark.RIGHT_FOOT_INDEX)),
])
def test_body_anchors_sit_on_their_landmarks(pose, anchor, near):
    points = pixel_points(pose, (W, H))
    placed = place(anchor, pose, (W, H), 2.0)
    distance = np.linalg.norm(placed.centre - points[list(near)].mean(axis=0))
    assert distance < 0.5 * body_scale(points, pose[:, 3]), anchor
    assert placed.size[0] == pytest.approx(2.0 * placed.size[1]) and placed.opacity == 1.0


def test_head_is_above_the_eyes_and_ground_under_the_feet(pose):
    points = pixel_points(pose, (W, H))
    head = place(Anchor.HEAD, pose, (W, H), 1.0)
    ground = place(Anchor.GROUND, pose, (W, H), 1.0)
    assert head.centre[1] < points[[Landmark.LEFT_EYE, Landmark.RIGHT_EYE], 1].min()
    floor = points[[Landmark.LEFT_HEEL, Landmark.RIGHT_HEEL, Landmark.LEFT_FOOT_INDEX,
                    Landmark.RIGHT_FOOT_INDEX], 1].max()
    assert ground.centre[1] - ground.size[1] / 2 < floor < ground.centre[1] + ground.size[1] / 2


def test_a_background_fills_the_frame(pose):
    placed = place(Anchor.BACKGROUND, pose, (W, H), 3.0)
    assert tuple(placed.centre) == (W / 2, H / 2) and placed.size == (W, H)


def test_a_hand_out_of_sight_fades_and_two_handed_props_move_to_the_other_hand(pose):
    hidden = pose.copy()
    hidden[[Landmark.RIGHT_WRIST, Landmark.RIGHT_INDEX, Landmark.RIGHT_PINKY], 3] = 0.01
    assert place(Anchor.RIGHT_HAND, hidden, (W, H), 1.0).opacity == 0.0
    both = place(Anchor.BOTH_HANDS, hidden, (W, H), 1.0)
    left = place(Anchor.LEFT_HAND, hidden, (W, H), 1.0)
    assert both.opacity == 1.0 and tuple(both.centre) == pytest.approx(tuple(left.centre))


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


@pytest.mark.parametrize("visibility, drawn", [(1.0, True), (0.0, False)])
def test_skeleton_is_drawn_for_visible_joints_only(visibility, drawn):
    landmarks = np.random.default_rng(0).uniform(0.2, 0.8, (33, 4)).astype(np.float32)
    landmarks[:, 3] = visibility
    canvas = draw_skeleton(fill(np.empty((48, 64, 3), np.uint8), CanvasStyle().canvas), landmarks)
    differs = (canvas != np.array(CanvasStyle().canvas, dtype=np.uint8)).any(axis=2)
    assert canvas.shape == (48, 64, 3) and bool(differs.any()) is drawn
