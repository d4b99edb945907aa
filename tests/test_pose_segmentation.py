"""MediaPipe's person mask: the legacy solution gives it on request, PoseFrame carries it (checked),
and `poserec live --segmentation / --no-segmentation` sets it."""
from __future__ import annotations

import numpy as np
import pytest

from poserec_core.skeleton import Landmark as L
from realtime.cli import build_parser
from realtime.cli.live import pipeline_config
from realtime.messages import PoseFrame
from realtime.pose.mediapipe_legacy import LegacyPoseConfig, LegacyPoseEstimator

from .media import person_frames

SIZE = (320, 320)


@pytest.fixture(scope="module")
def astronaut():
    """(last frame, landmarks, mask) of a few frames of the astronaut, with segmentation."""
    estimator = LegacyPoseEstimator(LegacyPoseConfig(enable_segmentation=True))
    estimator.open()
    try:
        for frame in person_frames(5, SIZE):
            landmarks = estimator.estimate(frame)
        return frame, landmarks, estimator.mask
    finally:
        estimator.close()


def test_the_mask_covers_the_person_and_not_the_background(astronaut):
    frame, landmarks, mask = astronaut
    assert mask.shape == frame.shape[:2] and mask.dtype == np.uint8
    x, y = (landmarks[L.NOSE, :2] * SIZE).astype(int)
    assert mask[y, x] > 200, "the face is the person"
    assert mask[5:40, 5:40].mean() < 30, "the flag in the top-left corner is not"
    PoseFrame(0, 1, 1, landmarks, frame, mask)  # a valid frame


def test_no_mask_without_segmentation():
    estimator = LegacyPoseEstimator()
    estimator.open()
    try:
        assert estimator.estimate(next(person_frames(1, SIZE))) is not None
        assert estimator.mask is None
    finally:
        estimator.close()


@pytest.mark.parametrize("mask, image, person", [
    (np.zeros((10, 10), np.uint8), True, True),         # another size than the image
    (np.zeros((SIZE[1], SIZE[0]), np.float32), True, True),  # not uint8
    (np.zeros((SIZE[1], SIZE[0], 1), np.uint8), True, True),  # not 2-D
    (np.zeros((SIZE[1], SIZE[0]), np.uint8), False, True),  # a pose-only frame has no image
    (np.zeros((SIZE[1], SIZE[0]), np.uint8), True, False),  # nobody to cut out
])
def test_pose_frames_reject_a_mask_that_does_not_fit(mask, image, person):
    landmarks = np.zeros((33, 4), np.float32) if person else None
    frame = np.zeros((SIZE[1], SIZE[0], 3), np.uint8) if image else None
    with pytest.raises(ValueError, match="mask"):
        PoseFrame(0, 1, 1, landmarks, frame, mask)


@pytest.mark.parametrize("argv, segmentation", [
    ([], True), (["--no-segmentation"], False), (["--segmentation"], True),
])
def test_live_turns_segmentation_on_and_off(argv, segmentation):
    args = build_parser().parse_args(["live", "--source", "demo", *argv])
    assert pipeline_config(args).segmentation is segmentation
