"""The real MediaPipe path end to end: a video of a real person through both pose backends."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest

from poserec_core.skeleton import Landmark
from realtime.engine.pipeline import Pipeline, PipelineConfig
from realtime.messages import NoPerson, PoseFrame, Recommendation, StreamEnded
from realtime.pose.estimator import make_pose_estimator
from realtime.sources import SourceSpec

from .helpers import run_main, run_pipeline
from .media import make_empty_video, make_person_video, make_pose_task_bundle

FRAMES = 60
RUN_TIMEOUT_S = 120


@pytest.fixture(scope="module")
def person_video(tmp_path_factory):
    """60 frames of the astronaut photograph under a moving crop."""
    return make_person_video(tmp_path_factory.mktemp("media") / "person.avi", frames=FRAMES)


@pytest.fixture(scope="module")
def task_bundle(tmp_path_factory):
    """A PoseLandmarker .task built from the models inside the mediapipe wheel."""
    return make_pose_task_bundle(tmp_path_factory.mktemp("media") / "pose_landmarker.task")


def run_video(video, recommender, pose_model=None, **overrides):
    """Run the whole pipeline on a video, as fast as it goes; (messages, outcome, stats, t0, t1)."""
    values = dict(source=SourceSpec("video", str(video)), headless=False, fps=0.0, smoothing=0.0,
                  pose_model=pose_model)
    values.update(overrides)
    pipeline = Pipeline(PipelineConfig(**values), recommender=recommender)
    started = time.monotonic_ns()
    messages, outcome = run_pipeline(pipeline, RUN_TIMEOUT_S)
    return messages, outcome, pipeline.stats(), started, time.monotonic_ns()


@pytest.mark.slow
@pytest.mark.parametrize("backend", ["legacy", "tasks"])
def test_a_person_on_video_gives_landmarks_and_timely_recommendations(
        person_video, task_bundle, recommender, backend):
    pose_model = task_bundle if backend == "tasks" else None
    messages, outcome, stats, started, ended = run_video(person_video, recommender, pose_model)
    poses = [m for m in messages if isinstance(m, PoseFrame)]
    found = [p for p in poses if p.has_person]
    recommendations = [m for m in messages if isinstance(m, Recommendation)]

    assert outcome == StreamEnded(FRAMES) and stats.frames_read == FRAMES
    assert [p.seq for p in poses] == list(range(FRAMES))
    assert len(found) >= 0.9 * FRAMES and stats.frames_with_person == len(found)
    nose = np.stack([p.landmarks[Landmark.NOSE] for p in found])
    assert ((nose[:, :2] > 0) & (nose[:, :2] < 1)).all() and (nose[:, 3] > 0.5).all()
    assert all(p.image is not None and p.image.shape == (320, 320, 3) for p in poses)

    expected_windows = (len(found) - 10) // 5 + 1
    assert len(recommendations) == expected_windows and stats.windows_skipped == 0
    assert [r.window_end for r in recommendations] == [found[n].seq for n in range(9, len(found), 5)]
    names = set(recommender.catalog.names)
    for rec in recommendations:
        assert started <= rec.t_capture_ns <= rec.t_pose_ns <= rec.t_window_ns
        assert rec.t_window_ns <= rec.t_encode_ns <= rec.t_rank_ns <= ended
        assert len(rec.ranking.items) == 5 and set(rec.ranking.names) <= names
        assert all(-1.0 <= s <= 1.0 for s in rec.ranking.scores)
        assert list(rec.ranking.scores) == sorted(rec.ranking.scores, reverse=True)
    captured = [r.t_capture_ns for r in recommendations]
    assert captured == sorted(captured)


@pytest.mark.slow
def test_both_backends_find_the_same_pose(person_video, task_bundle):
    import cv2

    capture = cv2.VideoCapture(str(person_video))
    frames = [capture.read()[1] for _ in range(5)]
    capture.release()
    found = []
    for pose_model in (None, task_bundle):
        estimator = make_pose_estimator(pose_model)
        estimator.open()
        try:
            found.append(np.stack([estimator.estimate(frame) for frame in frames]))
        finally:
            estimator.close()
    legacy, tasks = found
    visible = (legacy[..., 3] > 0.5) & (tasks[..., 3] > 0.5)  # only head and shoulders are in view
    assert visible[:, :Landmark.LEFT_ELBOW].all()
    np.testing.assert_allclose(tasks[visible][:, :2], legacy[visible][:, :2], atol=0.05)


@pytest.mark.slow
def test_nobody_on_video_gives_no_recommendation_and_one_reset(tmp_path, recommender):
    video = make_empty_video(tmp_path / "empty.avi", frames=30)
    messages, outcome, stats, _, _ = run_video(video, recommender, reset_after=15)
    assert outcome == StreamEnded(30)
    assert not [m for m in messages if isinstance(m, Recommendation)]
    assert [m.seq for m in messages if isinstance(m, NoPerson)] == [14]
    assert (stats.frames_with_person, stats.resets) == (0, 1)


@pytest.mark.slow
def test_live_command_on_a_person_video(capsys, weights_dir, person_video, tmp_path):
    out = tmp_path / "live.jsonl"
    code, stdout, err = run_main(capsys, "live", "--source", person_video, "--headless", "--fps",
                                 "0", "--device", "cpu", "--jsonl", out)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert code == 0, err
    assert f"video {person_video}, 320x320, 30 fps, MJPG, {FRAMES} frames" in err
    assert len(records) >= 9 and len(stdout.splitlines()) == len(records)
    assert all(0 < r["latency_ms"] < RUN_TIMEOUT_S * 1000 for r in records)
    assert [r["window_end"] for r in records] == sorted({r["window_end"] for r in records})
