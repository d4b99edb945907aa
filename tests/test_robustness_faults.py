"""Faults while running: a camera that stalls, is unplugged or freezes; a video corrupt halfway;
a pose or inference thread that raises. The run notices, says so, recovers or ends cleanly."""
from __future__ import annotations

import io
import json
import os
import threading
import time

import numpy as np
import pytest

from realtime.engine.pipeline import STOP_TIMEOUT_S, Pipeline
from realtime.engine.source_watchdog import (FrameHeartbeat, HeartbeatState, WatchdogConfig,
                                             stall_reason)
from realtime.engine.worker import POLL_S
from realtime.messages import (PoseFrame, Recommendation, SourceIncomplete, SourceRecovered,
                               SourceReopenFailed, SourceStalled, StreamEnded, WorkerFailed)
from realtime.sources import VideoFileSource
from realtime.ui.app import drop_opencv_qt_plugins
from realtime.ui.bridge import PipelineBridge
from realtime.ui.hud import FROZEN, STALLED, WARNINGS, hud_lines
from realtime.ui.stats import StreamStats

from .faults import BUSY, WAIT_S, CameraScript, FaultyCamera, MessageLog, pipeline_threads
from .helpers import run_main, run_pipeline
from .media import make_empty_video, make_person_video
from .test_pipeline import FakeEstimator, FakeScorer, FakeSource, config

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_plugins()

FAST = WatchdogConfig(stall_after_s=0.3, reopen_first_s=0.05, reopen_max_s=0.2)
"""Short enough for tests; the bound on noticing a stall is stall_after_s + POLL_S."""

SLACK_S = 3.0
"""What a loaded CI machine may add to a bound before a test calls it broken."""


def start(camera, log: MessageLog, console=None, **overrides) -> Pipeline:
    pipeline = Pipeline(config(watchdog=FAST, headless=console is not None, **overrides),
                        source=camera, estimator=FakeEstimator(), recommender=FakeScorer(),
                        console=console)
    pipeline.add_listener(log)
    pipeline.start()
    return pipeline


def finish(pipeline: Pipeline) -> None:
    pipeline.stop()
    assert pipeline.join(STOP_TIMEOUT_S)
    assert pipeline_threads() == []


# ---- a camera that stops delivering, is unplugged, or freezes ---------------------------------

def test_a_camera_that_stops_delivering_is_noticed_within_the_bound_and_recovers():
    release = threading.Event()
    camera = FaultyCamera(CameraScript(stall_at={20: release}))
    log, console = MessageLog(), io.StringIO()
    pipeline = start(camera, log, console)
    try:
        assert log.wait_for(SourceStalled)
        release.set()
        assert log.wait_for(SourceRecovered)
    finally:
        release.set()
        finish(pipeline)
    stalled, recovered = log.of_type(SourceStalled)[0], log.of_type(SourceRecovered)[0]
    waited_s = (stalled.t_detected_ns - stalled.t_last_new_ns) / 1e9
    assert FAST.stall_after_s <= waited_s <= FAST.stall_after_s + POLL_S + SLACK_S
    assert not stalled.frozen and "camera 7: no frame for" in stalled.reason
    assert recovered.t_stalled_ns == stalled.t_detected_ns
    lines = console.getvalue().splitlines()
    assert f"source stalled: {stalled.reason}" in lines
    assert f"source recovered: camera 7 after {recovered.stalled_s:.1f} s" in lines
    assert [f.seq for f in log.of_type(PoseFrame)][-1] >= 20  # frames flow again after the stall


def test_an_unplugged_camera_is_reported_at_once_and_reopened_with_backoff():
    camera = FaultyCamera(CameraScript(lose_at={15}, failed_opens=3))
    log = MessageLog()
    pipeline = start(camera, log, max_frames=40)
    try:
        assert isinstance(pipeline.wait(WAIT_S), StreamEnded)
    finally:
        finish(pipeline)
    stalled, recovered = log.of_type(SourceStalled), log.of_type(SourceRecovered)
    assert len(stalled) == 1 and len(recovered) == 1
    assert stalled[0].reason.startswith("camera 7: stopped delivering frames")
    assert stalled[0].reason.endswith("; reopening it")
    # open() at start, then 3 failed attempts and the one that worked, each after its delay
    assert len(camera.opens) == 5 and camera.closed >= 1
    delays = np.diff(camera.opens[1:])
    expected = [0.1, 0.2, 0.2]  # 0.05 doubles, capped at reopen_max_s
    assert all(got >= 0.9 * want for got, want in zip(delays, expected)), delays
    # each failed attempt keeps its reason and says when the next one comes, once per step
    assert log.of_type(SourceReopenFailed) == [SourceReopenFailed(BUSY, n + 1, delay)
                                               for n, delay in enumerate(expected)]
    # the frame index runs on across the reopening: nothing repeated, nothing invented
    assert camera.seq == pipeline.stats().frames_read == 40
    seqs = [f.seq for f in log.of_type(PoseFrame)]
    assert seqs == sorted(set(seqs)) and seqs[-1] > 15
    assert pipeline.exit_status == 0


def test_a_camera_that_never_comes_back_still_stops_within_the_bound():
    camera = FaultyCamera(CameraScript(lose_at={5}, failed_opens=10 ** 9))
    log = MessageLog()
    pipeline = start(camera, log)
    try:
        assert log.wait_for(SourceStalled)
        assert not log.wait_for(StreamEnded, 3 * FAST.reopen_max_s)
    finally:
        finish(pipeline)
    assert pipeline.exit_status == 0 and len(camera.opens) > 3


@pytest.mark.parametrize("freeze, recovers", [((10, None), False), ((10, 400), True)],
                         ids=["frozen-for-ever", "frozen-for-2-s"])
def test_a_camera_that_repeats_one_image_is_reported_as_frozen(freeze, recovers):
    camera = FaultyCamera(CameraScript(freeze=freeze))
    log = MessageLog()
    pipeline = start(camera, log)
    try:
        assert log.wait_for(SourceStalled)
        assert log.wait_for(SourceRecovered, WAIT_S if recovers else 0.5) is recovers
    finally:
        finish(pipeline)
    stalled = log.of_type(SourceStalled)[0]
    assert stalled.frozen and "camera 7: the same image for" in stalled.reason


MS = 1_000_000


@pytest.mark.parametrize("frame_ms, new_ms, lost, expected", [
    (1_500, 1_500, None, None),
    (2_000, 100, None, ("src: the same image for 2.9 s (the camera is frozen)", True)),
    (100, 100, None, ("src: no frame for 2.9 s", False)),
    (None, None, None, ("src: no frame for 3.0 s", False)),
    (2_990, 2_990, "src: unplugged", ("src: unplugged; reopening it", False)),
], ids=["fresh", "frozen", "silent", "never-started", "lost"])
def test_stall_reasons_at_3_s_with_a_2_s_bound(frame_ms, new_ms, lost, expected):
    state = HeartbeatState(1, frame_ms and frame_ms * MS, new_ms and new_ms * MS, lost)
    assert stall_reason("src", state, 3_000 * MS, 0, stall_after_s=2.0) == expected


def test_the_heartbeat_tells_new_images_from_repeats():
    heartbeat, image = FrameHeartbeat(), np.zeros((4, 4, 3), np.uint8)
    heartbeat.frame(image, 10)
    heartbeat.lost("gone")
    heartbeat.frame(image.copy(), 20)
    state = heartbeat.wait(seen_version=0, timeout=0.0)
    assert (state.version, state.t_frame_ns, state.t_new_ns, state.lost) == (3, 20, 10, None)


@pytest.mark.parametrize("bad", [dict(stall_after_s=0), dict(reopen_first_s=0),
                                 dict(reopen_first_s=2.0, reopen_max_s=1.0)])
def test_bad_watchdog_timings_are_refused(bad):
    with pytest.raises(ValueError, match="bad watchdog timing"):
        WatchdogConfig(**bad)


# ---- a video corrupt halfway -------------------------------------------------------------------

def truncated_video(tmp_path, frames=40, make=make_person_video):
    """A `frames`-frame video cut in the middle of its data: the tail cannot be decoded."""
    path = make(tmp_path / "cut.avi", frames=frames, size=(96, 72))
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    return path


def test_a_video_corrupt_halfway_uses_the_decoded_frames_and_reports_the_rest(tmp_path):
    source, log = VideoFileSource(truncated_video(tmp_path)), MessageLog()
    pipeline = Pipeline(config(fps=0.0), source=source, estimator=FakeEstimator(),
                        recommender=FakeScorer())
    pipeline.add_listener(log)
    pipeline.start()
    try:
        outcome = pipeline.wait(WAIT_S)
    finally:
        finish(pipeline)
    incomplete = log.of_type(SourceIncomplete)
    assert len(incomplete) == 1 and incomplete[0] == pipeline.source_incomplete
    decoded = incomplete[0].frames_read
    assert 0 < decoded < incomplete[0].frames_declared == 40
    assert outcome == StreamEnded(decoded) and pipeline.exit_status == 0
    assert [f.seq for f in log.of_type(PoseFrame)] == list(range(decoded))
    assert f"only {decoded} of the 40 frames it declares could be decoded" in incomplete[0].reason


def test_live_on_a_truncated_video_warns_in_one_line_and_exits_0(capsys, weights_dir, tmp_path):
    video = truncated_video(tmp_path, frames=20, make=make_empty_video)
    code, _, err = run_main(capsys, "live", "--headless", "--source", video, "--fps", "0")
    warnings = [line for line in err.splitlines() if line.startswith("poserec live: warning: ")]
    assert code == 0, err
    assert len(warnings) == 1 and "of the 20 frames it declares could be decoded" in warnings[0]
    decoded = int(warnings[0].split("only ")[1].split()[0])
    assert f"{decoded} frames read" in err


# ---- a worker that raises ----------------------------------------------------------------------

class ScorerFailingAt(FakeScorer):
    """Raises on its `n`-th window."""

    def __init__(self, n: int, error: Exception):
        super().__init__()
        self.n, self.error = n, error

    def score(self, windows):
        if len(self.windows) + 1 == self.n:
            raise self.error
        return super().score(windows)


class EstimatorFailingAt(FakeEstimator):
    """Raises on the first frame from `seq` on (a camera may drop frame `seq` itself), once
    `ranked` is set."""

    def __init__(self, seq: int, error: Exception, ranked: threading.Event):
        super().__init__()
        self.at, self.error, self.ranked = seq, error, ranked

    def estimate(self, bgr):
        if int(bgr[0, 0, 0]) >= self.at:
            assert self.ranked.wait(WAIT_S)
            raise self.error
        return super().estimate(bgr)


@pytest.mark.parametrize("stage, live", [("pose", False), ("inference", False), ("pose", True),
                                         ("inference", True)],
                         ids=["pose-file", "inference-file", "pose-camera", "inference-camera"])
def test_a_failing_worker_ends_the_run_flushes_the_sinks_and_leaves_no_thread(tmp_path, stage,
                                                                              live):
    error = RuntimeError(f"the {stage} stage broke")
    ranked, log = threading.Event(), MessageLog()

    def log_and_mark(message):
        log(message)
        if len(log.of_type(Recommendation)) >= 4:
            ranked.set()

    source = FaultyCamera(CameraScript()) if live else FakeSource(200, lossless=True)
    estimator = EstimatorFailingAt(40, error, ranked) if stage == "pose" else FakeEstimator()
    scorer = ScorerFailingAt(5, error) if stage == "inference" else FakeScorer()
    out = tmp_path / "out.jsonl"
    pipeline = Pipeline(config(jsonl=out, watchdog=FAST), source=source, estimator=estimator,
                        recommender=scorer)
    _, outcome = run_pipeline(pipeline, WAIT_S, [log_and_mark], keep=False)  # asserts the join
    assert pipeline_threads() == []
    assert isinstance(outcome, WorkerFailed) and outcome.worker == stage and outcome.error is error
    assert pipeline.exit_status == 1
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert records == [r.to_json() for r in log.of_type(Recommendation)] and len(records) >= 4


# ---- the window's HUD says so ------------------------------------------------------------------

@pytest.mark.parametrize("messages, shown", [
    ([], None),
    ([SourceStalled("camera 7", "camera 7: no frame for 2.1 s", False, 0, 1)], STALLED),
    ([SourceStalled("camera 7", "camera 7: the same image for 2.1 s", True, 0, 1)], FROZEN),
    ([SourceStalled("camera 7", "camera 7: no frame for 2.1 s", False, 0, 1),
      SourceRecovered("camera 7", 1, 5)], None),
], ids=["flowing", "stalled", "frozen", "recovered"])
def test_the_hud_shows_a_stalled_source_until_it_recovers(qapp, messages, shown):
    bridge = PipelineBridge(StreamStats())
    for message in messages:
        bridge.deliver(message)
    lines = dict(hud_lines(bridge.stats.snapshot(), paused=False))
    assert lines.get("source") == shown
    assert shown is None or shown in WARNINGS


def test_the_console_and_the_hud_say_why_a_lost_camera_does_not_reopen(qapp):
    camera = FaultyCamera(CameraScript(lose_at={5}, failed_opens=10 ** 9))
    log, console = MessageLog(), io.StringIO()
    bridge = PipelineBridge(StreamStats())
    pipeline = start(camera, log, console)
    pipeline.add_listener(bridge.deliver)
    try:
        deadline = time.monotonic() + WAIT_S
        while len(log.of_type(SourceReopenFailed)) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        finish(pipeline)
    failures = log.of_type(SourceReopenFailed)
    assert len(failures) >= 3 and all(f.reason == BUSY for f in failures)
    lines = [line for line in console.getvalue().splitlines()
             if line.startswith("source reopen failed")]
    assert lines[:3] == [f"source reopen failed (attempt {n}): {BUSY}; retrying in {delay:g} s"
                         for n, delay in ((1, 0.1), (2, 0.2), (3, 0.2))]
    assert len(lines) == len(failures), "one line per attempt, no repeats"
    hud = dict(hud_lines(bridge.stats.snapshot(), paused=False))
    assert hud["reopen"] == "camera 7: cannot be opened (it is busy); retry in 0.2 s"
    bridge.deliver(SourceRecovered("camera 7", 1, 5))
    assert "reopen" not in dict(hud_lines(bridge.stats.snapshot(), paused=False))
