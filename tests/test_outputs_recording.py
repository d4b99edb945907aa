"""Recordings: `--record-poses` replays to the same recommendations and survives a crash;
`--record` writes every annotated frame at the source's size."""
from __future__ import annotations

import os
import re
import select
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from realtime.drawing.annotators import CanvasStyle
from realtime.engine.pipeline import Pipeline, PipelineConfig
from realtime.messages import NoPerson, PoseFrame, Recommendation
from realtime.outputs import OutputsConfig, add_outputs
from realtime.outputs.recorder import PoseRecorder
from realtime.sources import SourceSpec, load_demo_sequence

from .helpers import run_pipeline
from .media import _write_video, make_empty_video, person_frames

RUN_TIMEOUT_S = 120
GAP = range(20, 24)
"""Frames of the person video replaced by black ones: fewer than --reset-after (15)."""


def run_session(recommender, source: SourceSpec, outputs: OutputsConfig, **config):
    """Run the pipeline to the end of the source with the outputs attached, as fast as it goes;
    returns (recommendations, stats)."""
    pipeline = Pipeline(PipelineConfig(source=source, fps=0.0, headless=False, **config),
                        recommender=recommender)
    add_outputs(pipeline, outputs)
    messages, _ = run_pipeline(pipeline, RUN_TIMEOUT_S)
    assert pipeline.failure is None, pipeline.failure
    return [m for m in messages if isinstance(m, Recommendation)], pipeline.stats()


def person_video_with_gap(path):
    """40 frames of a real person, with the frames in GAP black (nobody in them)."""
    frames = list(person_frames(40, (320, 320)))
    for n in GAP:
        frames[n] = np.zeros_like(frames[n])
    return _write_video(path, frames, (320, 320))


def demo(weights_dir, tmp_path):
    return SourceSpec("demo"), dict(max_frames=120, weights_dir=weights_dir)


def video_with_gap(weights_dir, tmp_path):
    return SourceSpec("video", str(person_video_with_gap(tmp_path / "gap.avi"))), {}


@pytest.mark.parametrize("make_source, frames_without_person", [
    (demo, 0),
    (video_with_gap, len(GAP)),
], ids=["demo", "person-video-with-a-gap"])
def test_a_recorded_pose_session_replays_to_the_same_recommendations(
        recommender, weights_dir, tmp_path, make_source, frames_without_person):
    source, config = make_source(weights_dir, tmp_path)
    recording = tmp_path / "session.npy"
    live, stats = run_session(recommender, source, OutputsConfig(record_poses=recording), **config)
    poses = np.load(recording, allow_pickle=False)
    assert poses.shape == (stats.frames_with_person, 33, 4) and poses.dtype == np.float32
    assert stats.frames_read - stats.frames_with_person == frames_without_person

    replay, _ = run_session(recommender, SourceSpec("replay", str(recording)), OutputsConfig())
    assert len(live) == len(replay) > 0
    for was, again in zip(live, replay):
        assert was.ranking.items == again.ranking.items
        np.testing.assert_allclose(was.ranking.scores, again.ranking.scores, rtol=0, atol=1e-6)
    # The replay counts recorded frames only: its window ends skip nothing.
    assert [r.window_end for r in replay] == list(range(9, len(poses), 5))
    gap_shifted = [r.window_end for r in live] != [r.window_end for r in replay]
    assert gap_shifted == (frames_without_person > 0)


def pose_frame(seq: int, person: bool) -> PoseFrame:
    landmarks = np.full((33, 4), seq, np.float32) if person else None
    return PoseFrame(seq, seq, seq, landmarks)


@pytest.mark.parametrize("people", [
    [True, True, True],
    [True, False, True, False, False, True],
    [False, False],
])
def test_the_pose_file_is_a_complete_npy_after_every_frame(tmp_path, people):
    path = tmp_path / "poses.npy"
    recorder = PoseRecorder(path)
    recorder.open()
    try:
        for seq, person in enumerate(people):
            recorder(pose_frame(seq, person))
            recorder(NoPerson(seq, seq))  # not a pose: ignored
            expected = [n for n, p in enumerate(people[:seq + 1]) if p]
            saved = np.load(path, allow_pickle=False)  # never closed: as after a crash
            assert saved.shape == (len(expected), 33, 4)
            assert [int(f[0, 0]) for f in saved] == expected
    finally:
        recorder.close()
    assert np.load(path).shape == (sum(people), 33, 4)


def read_line_matching(stream, pattern: str, timeout: float) -> re.Match:
    """The first line of a subprocess's text pipe that matches, within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([stream], [], [], max(0.0, deadline - time.monotonic()))
        if not ready:
            break
        line = stream.readline()
        if not line:
            break
        match = re.search(pattern, line)
        if match:
            return match
    raise AssertionError(f"no line matching {pattern!r} within {timeout:g} s")


def test_a_killed_session_keeps_every_recorded_pose(weights_dir, tmp_path):
    recording = tmp_path / "crash.npy"
    process = subprocess.Popen(
        [sys.executable, "-m", "realtime.cli", "live", "--source", "demo", "--headless",
         "--fps", "60", "--device", "cpu", "--record-poses", str(recording)],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=os.environ.copy())
    try:
        for _ in range(3):
            last = read_line_matching(process.stdout, r"^frame\s+(\d+)\s", RUN_TIMEOUT_S)
        process.send_signal(signal.SIGKILL)
        process.wait(10)
    finally:
        process.kill()
        process.stdout.close()
    poses = np.load(recording, allow_pickle=False)
    ranked_up_to = int(last.group(1))
    assert len(poses) > ranked_up_to  # every frame of a window already ranked is on disk
    sequence = load_demo_sequence(weights_dir)
    np.testing.assert_array_equal(poses, sequence[np.arange(len(poses)) % len(sequence)])


def demo_video(weights_dir, tmp_path):
    return SourceSpec("demo"), dict(max_frames=45, weights_dir=weights_dir), 45, (640, 480)


def empty_video(weights_dir, tmp_path):
    path = make_empty_video(tmp_path / "empty.avi", frames=30, size=(320, 240))
    return SourceSpec("video", str(path)), {}, 30, (320, 240)


def read_video(path) -> list[np.ndarray]:
    import cv2

    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


@pytest.mark.parametrize("make_source, suffix, overlay_only", [
    (demo_video, ".mp4", False),
    (demo_video, ".avi", True),
    (empty_video, ".mp4", False),
], ids=["demo-mp4", "demo-overlay-only-avi", "nobody-mp4"])
def test_a_recorded_video_has_every_frame_at_the_source_size(
        recommender, weights_dir, tmp_path, make_source, suffix, overlay_only):
    source, config, frames, (width, height) = make_source(weights_dir, tmp_path)
    video = tmp_path / f"session{suffix}"
    run_session(recommender, source, OutputsConfig(record=video, overlay_only=overlay_only),
                **config)
    recorded = read_video(video)
    assert len(recorded) == frames
    assert all(f.shape == (height, width, 3) for f in recorded)
    corner = recorded[-1][:8, :8].reshape(-1, 3).mean(axis=0)
    if overlay_only:
        np.testing.assert_allclose(corner, CanvasStyle().chroma_key, atol=12)
    else:
        assert np.abs(corner - CanvasStyle().chroma_key).max() > 40
