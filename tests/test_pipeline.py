"""The streaming pipeline with fake sources, estimators and models: drop rules, no-person
resets, stopping, failures; smoothing and sinks."""
from __future__ import annotations

import collections
import io
import json
import threading
import time
from types import SimpleNamespace

import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from realtime.engine.channels import LatestWinsSlot, LosslessQueue
from realtime.engine.pipeline import (FRAME_QUEUE_CAPACITY, POSE_QUEUE_CAPACITY, STOP_TIMEOUT_S,
                                      Pipeline, PipelineConfig)
from realtime.engine.sinks import ConsoleSink, JsonlSink
from realtime.engine.smoothing import ScoreSmoother, SmoothingConfig
from realtime.messages import Frame, NoPerson, PoseFrame, Recommendation, StreamEnded, WorkerFailed
from realtime.sources import SourceInfo, SourceSpec

from .helpers import run_pipeline

WAIT_S = 10.0
"""Upper bound on anything a test waits for; a hang fails instead of blocking CI."""


def landmarks_of(seq: int) -> np.ndarray:
    """A pose whose every value is its frame index, so windows show which frames they hold."""
    return np.full((33, 4), seq, dtype=np.float32)


class FakeSource:
    """Frames (or poses) 0..frames-1, then the end; `endless` never ends.

    hold: {index: Event}: before reading that frame (or the end, at index `frames`), wait for
    the event. `exhausted` is set once every frame has been read; `fail_at` raises on that read.
    """

    fail_at_error = RuntimeError("the fake source broke")

    def __init__(self, frames=10, *, lossless=True, poses=False, person=None, hold=None,
                 fail_at=None, endless=False):
        self.frames, self.lossless, self.gives_poses = frames, lossless, poses
        self.person = person or [True] * frames
        self.hold, self.fail_at, self.endless = hold or {}, fail_at, endless
        self.exhausted = threading.Event()
        self.seq = 0
        self.opened = self.closed = False

    def open(self):
        self.opened = True
        return SourceInfo("fake")

    def read(self):
        if self.seq == self.fail_at:
            raise self.fail_at_error
        if self.seq >= self.frames and not self.endless:
            self.exhausted.set()
        if self.seq in self.hold:
            assert self.hold.pop(self.seq).wait(WAIT_S)
        if self.seq >= self.frames and not self.endless:
            return None
        seq, self.seq = self.seq, self.seq + 1
        now = time.monotonic_ns()
        if self.gives_poses:
            person = self.endless or self.person[seq]
            return PoseFrame(seq, now, now, landmarks_of(seq) if person else None)
        return Frame(seq, now, np.full((4, 4, 3), seq % 256, dtype=np.uint8))

    def close(self):
        self.closed = True


class FakeEstimator:
    """Reads the frame index back from the image; the first call waits for `gate` when given.
    `done[seq]` is set once that frame was estimated."""

    name = "fake"

    def __init__(self, gate=None, fail=None):
        self.gate, self.fail = gate, fail
        self.seen = []
        self.busy = threading.Event()
        self.done = collections.defaultdict(threading.Event)
        self.opened = self.closed = False

    def open(self):
        self.opened = True

    def estimate(self, bgr):
        seq = int(bgr[0, 0, 0])
        self.seen.append(seq)
        if self.fail is not None:
            raise self.fail
        if self.gate is not None and len(self.seen) == 1:
            self.busy.set()
            assert self.gate.wait(WAIT_S)
        self.done[seq].set()
        return landmarks_of(seq)

    def close(self):
        self.closed = True


class FakeScorer:
    """Scores that depend on the window; records each window's frame indices. The first call
    waits for `gate` when given."""

    device = "fake"

    def __init__(self, n_items=8, gate=None, fail=None):
        self.catalog = SimpleNamespace(names=tuple(f"item{i}" for i in range(n_items)))
        self.gate, self.fail = gate, fail
        self.windows = []
        self.busy = threading.Event()

    def score(self, windows):
        self.windows.append(windows[0, :, 0, 0].astype(int).tolist())
        if self.fail is not None:
            raise self.fail
        if self.gate is not None and len(self.windows) == 1:
            self.busy.set()
            assert self.gate.wait(WAIT_S)
        items = np.arange(len(self.catalog.names), dtype=np.float32)
        return (np.cos(items + windows[0].mean()) / 2)[None]


def run_to_end(config, listeners=(), **fakes):
    """Run a pipeline (with extra `listeners`) until it ends; returns (pipeline, messages,
    outcome)."""
    pipeline = Pipeline(config, **fakes)
    messages, outcome = run_pipeline(pipeline, WAIT_S, listeners)
    return pipeline, messages, outcome


def config(**overrides) -> PipelineConfig:
    values = dict(source=SourceSpec("video", "fake"), headless=False, smoothing=0.0, window=3,
                  stride=1, reset_after=4)
    values.update(overrides)
    return PipelineConfig(**values)


def of_type(messages, kind):
    return [m for m in messages if isinstance(m, kind)]


def test_a_slow_pose_stage_only_ever_gets_the_newest_camera_frame():
    gate, finish = threading.Event(), threading.Event()
    estimator = FakeEstimator(gate=gate)
    source = FakeSource(10, lossless=False, hold={1: estimator.busy, 10: finish})
    pipeline = Pipeline(config(), source=source, estimator=estimator, recommender=FakeScorer())
    pipeline.start()
    try:
        assert estimator.busy.wait(WAIT_S) and source.exhausted.wait(WAIT_S)
        gate.set()
        assert estimator.done[9].wait(WAIT_S)
        finish.set()
        assert isinstance(pipeline.wait(WAIT_S), StreamEnded)
    finally:
        gate.set(), finish.set()
        pipeline.stop()
        assert pipeline.join(STOP_TIMEOUT_S)
    assert estimator.seen == [0, 9]
    assert pipeline.stats().frames_dropped == 8


FRAMES = POSE_QUEUE_CAPACITY + FRAME_QUEUE_CAPACITY + 20
"""More frames than every queue holds, so a lossless source must wait for its consumers."""


@pytest.mark.parametrize("poses", [False, True], ids=["video", "replay"])
def test_files_and_replays_are_lossless_behind_a_slow_stage(poses):
    gate = threading.Event()
    source = FakeSource(FRAMES, lossless=True, poses=poses)
    estimator, scorer = FakeEstimator(gate=gate), FakeScorer(gate=gate)
    pipeline = Pipeline(config(window=3, stride=2), source=source, estimator=estimator,
                        recommender=scorer)
    messages = []
    pipeline.add_listener(messages.append)
    pipeline.start()
    try:
        assert (scorer.busy if poses else estimator.busy).wait(WAIT_S)
        assert not source.exhausted.wait(0.3), "the source ran ahead of a blocked consumer"
        assert source.seq <= FRAME_QUEUE_CAPACITY + POSE_QUEUE_CAPACITY + 3
        gate.set()
        assert isinstance(pipeline.wait(WAIT_S), StreamEnded)
    finally:
        gate.set()
        pipeline.stop()
        assert pipeline.join(STOP_TIMEOUT_S)
    recommendations = of_type(messages, Recommendation)
    assert [r.window_end for r in recommendations] == list(range(2, FRAMES, 2))
    assert scorer.windows == [[e - 2, e - 1, e] for e in range(2, FRAMES, 2)]
    assert all(r.skipped_windows == 0 for r in recommendations)
    assert [p.seq for p in of_type(messages, PoseFrame)] == list(range(FRAMES))
    assert estimator.seen == ([] if poses else list(range(FRAMES)))


def test_live_inference_ranks_the_newest_window_and_counts_the_skipped():
    gate, finish = threading.Event(), threading.Event()
    scorer, estimator = FakeScorer(gate=gate), FakeEstimator()
    # one frame at a time through the pose stage (no drops) while the model is busy
    hold = {n: estimator.done[n - 1] for n in range(2, 40)}
    source = FakeSource(40, lossless=False, hold={**hold, 1: scorer.busy, 40: finish})
    pipeline = Pipeline(config(window=1, stride=1), source=source, estimator=estimator,
                        recommender=scorer)
    messages = []
    pipeline.add_listener(messages.append)
    pipeline.start()
    try:
        assert source.exhausted.wait(WAIT_S) and estimator.done[39].wait(WAIT_S)
        gate.set()
        finish.set()
        assert isinstance(pipeline.wait(WAIT_S), StreamEnded)
    finally:
        gate.set(), finish.set()
        pipeline.stop()
        assert pipeline.join(STOP_TIMEOUT_S)
    recommendations = of_type(messages, Recommendation)
    stats = pipeline.stats()
    assert [(r.window_end, r.skipped_windows) for r in recommendations] == [(0, 0), (39, 38)]
    assert scorer.windows == [[0], [39]]
    assert (stats.frames_dropped, stats.frames_with_person) == (0, 40)
    assert (stats.windows_ranked, stats.windows_skipped) == (2, 38)


def pattern(*runs):
    """(person?, count) runs -> a per-frame list of booleans."""
    return [person for person, count in runs for _ in range(count)]


@pytest.mark.parametrize("person, window, stride, reset_after, expected", [
    # a short gap is skipped (windows join the frames either side); a long one resets
    (pattern((True, 12), (False, 3), (True, 5), (False, 4), (True, 12)), 5, 5, 4,
     [("rec", [0, 1, 2, 3, 4]), ("rec", [5, 6, 7, 8, 9]), ("rec", [10, 11, 15, 16, 17]),
      ("none", 23), ("rec", [24, 25, 26, 27, 28]), ("rec", [29, 30, 31, 32, 33])]),
    # nobody at all: one NoPerson per absence, never a window
    (pattern((False, 10)), 3, 1, 4, [("none", 3)]),
    # the reset drops a partly filled buffer: windows need T new frames
    (pattern((True, 2), (False, 2), (True, 3)), 3, 1, 2, [("none", 3), ("rec", [4, 5, 6])]),
    (pattern((True, 3), (False, 1), (True, 1), (False, 1), (True, 1)), 3, 1, 2,
     [("rec", [0, 1, 2]), ("rec", [1, 2, 4]), ("rec", [2, 4, 6])]),
])
def test_frames_without_a_person_are_skipped_and_a_long_absence_resets(
        person, window, stride, reset_after, expected):
    source = FakeSource(len(person), poses=True, person=person)
    scorer = FakeScorer()
    _, messages, outcome = run_to_end(
        config(window=window, stride=stride, reset_after=reset_after), source=source,
        recommender=scorer)
    events = [("rec", None) if isinstance(m, Recommendation) else ("none", m.seq)
              for m in messages if isinstance(m, (Recommendation, NoPerson))]
    windows = iter(scorer.windows)
    assert [(kind, next(windows) if kind == "rec" else seq) for kind, seq in events] == expected
    assert outcome == StreamEnded(len(person))


def endless_source(kind):
    if kind == "replay-fast":
        return FakeSource(poses=True, endless=True)
    if kind == "camera":
        return FakeSource(lossless=False, endless=True)
    return FakeSource(lossless=True, endless=True)


@pytest.mark.parametrize("kind, fps", [("replay-fast", 0.0), ("replay-fast", 30.0),
                                       ("camera", None), ("video", 0.0)])
def test_stop_ends_every_thread_within_a_second(kind, fps):
    source = endless_source(kind)
    pipeline = Pipeline(config(fps=fps), source=source, estimator=FakeEstimator(),
                        recommender=FakeScorer())
    got_one = threading.Event()
    pipeline.add_listener(lambda m: isinstance(m, Recommendation) and got_one.set())
    pipeline.start()
    try:
        assert got_one.wait(WAIT_S)
    finally:
        started = time.monotonic()
        pipeline.stop()
        stopped = pipeline.join(STOP_TIMEOUT_S)
    assert stopped and time.monotonic() - started < STOP_TIMEOUT_S + 0.5
    assert pipeline.wait(0.1) is None and pipeline.exit_status == 0
    assert source.closed


class Boom(RuntimeError):
    pass


@pytest.mark.parametrize("stage, error, worker, status", [
    ("source", Boom("broken source"), "capture", 1),
    ("estimator", Boom("broken estimator"), "pose", 1),
    ("scorer", Boom("broken model"), "inference", 1),
    ("listener", Boom("broken listener"), "inference", 1),
    ("source", PoseRecError("camera 0: stopped delivering frames"), "capture", 2),
])
def test_a_worker_exception_ends_the_run_with_an_error(stage, error, worker, status):
    source = FakeSource(50, lossless=True, fail_at=5 if stage == "source" else None)
    source.fail_at_error = error
    estimator = FakeEstimator(fail=error if stage == "estimator" else None)
    scorer = FakeScorer(fail=error if stage == "scorer" else None)

    def failing_listener(message):
        if isinstance(message, Recommendation):
            raise error

    pipeline, _, outcome = run_to_end(
        config(), listeners=[failing_listener] if stage == "listener" else [], source=source,
        estimator=estimator, recommender=scorer)
    assert isinstance(outcome, WorkerFailed) and outcome.worker == worker
    assert outcome.error is error and pipeline.failure is outcome
    assert pipeline.exit_status == status
    assert source.closed and estimator.closed


@pytest.mark.parametrize("overrides, error", [
    (dict(window=0), "window"), (dict(stride=0), "stride"), (dict(top_k=0), "top_k"),
    (dict(reset_after=0), "reset_after"), (dict(smoothing=1.0), "smoothing"),
    (dict(smoothing=-0.1), "smoothing"), (dict(fps=-1.0), "fps"), (dict(fps=float("nan")), "fps"),
    (dict(max_frames=0), "max_frames"),
    (dict(source=SourceSpec("demo"), pose_model="m.task"), "--pose-model does not apply"),
])
def test_bad_config_values_are_errors(overrides, error):
    with pytest.raises(PoseRecError, match=error):
        config(**overrides)


def test_start_failure_closes_what_was_opened(tmp_path):
    source, estimator = FakeSource(), FakeEstimator()
    pipeline = Pipeline(config(jsonl=tmp_path / "missing" / "out.jsonl"), source=source,
                        estimator=estimator, recommender=FakeScorer())
    with pytest.raises(PoseRecError, match="no such directory"):
        pipeline.start()
    assert source.opened and source.closed and estimator.closed


def test_max_frames_ends_the_stream_and_sinks_write_every_record(tmp_path):
    console = io.StringIO()
    path = tmp_path / "out.jsonl"
    pipeline, messages, outcome = run_to_end(
        config(max_frames=12, jsonl=path, headless=True), console=console,
        source=FakeSource(poses=True, endless=True), recommender=FakeScorer())
    recommendations = of_type(messages, Recommendation)
    records = [json.loads(line) for line in path.read_text().splitlines()]
    assert outcome == StreamEnded(12) and len(recommendations) == 10
    assert records == [r.to_json() for r in recommendations]
    assert [line.split()[1] for line in console.getvalue().splitlines()] == [
        str(r.window_end) for r in recommendations]
    assert pipeline.latest_recommendation == recommendations[-1]
    assert pipeline.latest_pose.seq == 11


def test_recommendation_times_follow_the_stages():
    _, messages, _ = run_to_end(config(), source=FakeSource(8), estimator=FakeEstimator(),
                                recommender=FakeScorer())
    poses = {p.seq: p for p in of_type(messages, PoseFrame)}
    for rec in of_type(messages, Recommendation):
        pose = poses[rec.window_end]
        assert (rec.t_capture_ns, rec.t_pose_ns) == (pose.t_capture_ns, pose.t_pose_ns)
        assert pose.t_capture_ns <= pose.t_pose_ns <= rec.t_window_ns <= rec.t_rank_ns
        assert 0 <= rec.latency_ms < WAIT_S * 1000


@pytest.mark.parametrize("channel", [LatestWinsSlot(), LosslessQueue(2)])
def test_channels_wait_with_a_timeout(channel):
    assert channel.get(0.05) is None
    channel.put("a", threading.Event())
    assert channel.get(0.05) == "a"


def test_a_full_lossless_queue_gives_up_on_stop():
    queue_, stop = LosslessQueue(1), threading.Event()
    assert queue_.put(1, stop)
    stop.set()
    assert not queue_.put(2, stop)
    assert queue_.drain() == [1]


@pytest.mark.parametrize("alpha, hysteresis, top_k, rounds, expected_items", [
    # off: the plain top-k of the last window
    (0.0, 0.005, 2, [[0.5, 0.4, 0.0], [0.0, 0.4, 0.5]], [2, 1]),
    # smoothed: the average (0.375, 0.4, 0.125) is slower to switch
    (0.75, 0.0, 2, [[0.5, 0.4, 0.0], [0.0, 0.4, 0.5]], [1, 0]),
    # a shown item keeps its place against a newcomer ahead by less than the margin ...
    (0.5, 0.005, 1, [[0.30, 0.29, 0.0], [0.29, 0.302, 0.0]], [0]),
    (0.5, 0.0, 1, [[0.30, 0.29, 0.0], [0.29, 0.302, 0.0]], [1]),
    # ... but the shown items are always listed by their smoothed score, best first
    (0.5, 0.005, 2, [[0.30, 0.29, 0.0], [0.29, 0.30, 0.0], [0.30, 0.308, 0.0]], [1, 0]),
    (0.5, 0.005, 3, [[0.30, 0.29, 0.28], [0.28, 0.29, 0.31]], [2, 0, 1]),
    # a clear winner takes the first place at once
    (0.5, 0.005, 2, [[0.30, 0.29, 0.0], [0.10, 0.60, 0.0]], [1, 0]),
])
def test_smoothing_and_hysteresis(alpha, hysteresis, top_k, rounds, expected_items):
    smoother = ScoreSmoother(SmoothingConfig(alpha, hysteresis), top_k=top_k)
    for scores in rounds:
        items, values = smoother.update(np.array(scores, dtype=np.float32))
    assert items.tolist() == expected_items
    assert np.all(np.diff(values) <= hysteresis + 1e-7)


def test_smoothing_is_an_exponential_average_and_resets():
    smoother = ScoreSmoother(SmoothingConfig(0.75, 0.0), top_k=3)
    first, second = np.array([1.0, 0.0, 0.5]), np.array([0.0, 1.0, 0.5])
    smoother.update(first)
    items, values = smoother.update(second)
    expected = 0.75 * first + 0.25 * second
    np.testing.assert_allclose(values, expected[items], rtol=1e-6)
    smoother.reset()
    items, values = smoother.update(second)
    np.testing.assert_allclose(values, second[items], rtol=1e-6)


@pytest.mark.parametrize("message, output", [
    (NoPerson(seq=42, t_capture_ns=1), "frame     42  no person; waiting for one\n"),
    (StreamEnded(3), ""),
    (PoseFrame(1, 1, 1, landmarks_of(1)), ""),
])
def test_console_sink_shows_resets_and_nothing_else_but_rankings(message, output):
    stream = io.StringIO()
    sink = ConsoleSink(stream)
    sink.open()
    sink(message)
    sink.close()
    assert stream.getvalue() == output


def test_jsonl_sink_refuses_a_missing_directory(tmp_path):
    with pytest.raises(PoseRecError, match="no such directory"):
        JsonlSink(tmp_path / "nope" / "out.jsonl").open()


@pytest.mark.parametrize("poses, device, torch_threads, expected", [
    (False, "cpu", None, 1),     # MediaPipe shares the CPU: it keeps the other core
    (False, "cpu", 2, 2),        # an explicit --torch-threads wins
    (True, "cpu", None, "kept"),  # replay and demo: no MediaPipe in the path
    (False, "cuda:0", None, "kept"),
])
def test_torch_threads_leave_mediapipe_a_core(monkeypatch, poses, device, torch_threads, expected):
    import torch

    monkeypatch.setattr(torch, "set_num_threads", lambda n: calls.append(n))
    calls: list[int] = []
    scorer = FakeScorer()
    scorer.device = device
    run_to_end(config(torch_threads=torch_threads), source=FakeSource(6, poses=poses),
               estimator=FakeEstimator(), recommender=scorer)
    assert calls == ([] if expected == "kept" else [expected])
