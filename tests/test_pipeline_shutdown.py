"""Shutdown never loses data: when a part's close() raises, every other sink, MediaPipe and the
source are closed all the same, each failure is reported, and the exit status says so."""
from __future__ import annotations

import socket

import cv2
import numpy as np
import pytest

from realtime.engine.pipeline import Pipeline, PipelineConfig
from realtime.outputs import OutputsConfig, add_outputs
from realtime.outputs.server import OverlayServer
from realtime.sources import SourceSpec, VideoFileSource

from .helpers import run_main, run_pipeline
from .media import make_person_video

FRAMES = 24
RUN_TIMEOUT_S = 60.0


class SamplePoses:
    """A pose estimator that gives the published sample's poses in order; records close()."""

    name = "sample"

    def __init__(self, sequence: np.ndarray):
        self.sequence, self.calls, self.closed = sequence, 0, False

    def open(self):
        pass

    def estimate(self, bgr):
        pose = self.sequence[self.calls % len(self.sequence)]
        self.calls += 1
        return pose

    def close(self):
        self.closed = True


class TrackedVideo(VideoFileSource):
    """A real video file source that remembers being closed."""

    closed = False

    def close(self):
        super().close()
        self.closed = True


class ClosingSink:
    """A listener sink whose close() raises `error` (or nothing); records that it was called."""

    def __init__(self, error: BaseException | None = None):
        self.error, self.closed = error, False

    def open(self):
        pass

    def __call__(self, message):
        pass

    def close(self):
        self.closed = True
        if self.error is not None:
            raise self.error


class BrokenSink(ClosingSink):
    """close() raises a plain bug."""


class StuckSink(ClosingSink):
    """close() times out, as the overlay server and the frame sink do by design."""


FAILING = {"broken": lambda: BrokenSink(RuntimeError("disk full")),
           "stuck": lambda: StuckSink(TimeoutError("the sink's thread did not stop within 2 s"))}


@pytest.mark.parametrize("failing", [["broken"], ["stuck"], ["broken", "stuck"]])
def test_a_sink_that_fails_to_close_leaves_every_other_part_closed_and_every_frame_recorded(
        recommender, reference_dir, tmp_path, failing):
    video = make_person_video(tmp_path / "person.avi", FRAMES, (160, 120))
    source = TrackedVideo(video)
    estimator = SamplePoses(np.load(reference_dir / "sample_sequence.npy").astype(np.float32))
    pipeline = Pipeline(PipelineConfig(source=SourceSpec("video", str(video)), fps=0.0,
                                       headless=False, smoothing=0.0),
                        recommender=recommender, source=source, estimator=estimator)
    bad = [FAILING[name]() for name in failing]
    for sink in bad:  # before the recorders: the old bare loop never reached them
        pipeline.add_sink(lambda _, sink=sink: sink)
    add_outputs(pipeline, OutputsConfig(record=tmp_path / "session.avi",
                                        record_poses=tmp_path / "poses.npy"))
    last = ClosingSink()
    pipeline.add_sink(lambda _: last)

    run_pipeline(pipeline, RUN_TIMEOUT_S)

    assert pipeline.failure is None
    assert [f.worker for f in pipeline.close_failures] == [
        f"closing {type(sink).__name__}" for sink in bad]
    assert [type(f.error) for f in pipeline.close_failures] == [type(s.error) for s in bad]
    assert pipeline.exit_status == 1
    assert all(sink.closed for sink in bad) and last.closed
    assert estimator.closed and source.closed
    recorded = cv2.VideoCapture(str(tmp_path / "session.avi"))
    frames = 0
    while recorded.read()[0]:
        frames += 1
    recorded.release()
    assert frames == FRAMES
    assert np.load(tmp_path / "poses.npy", allow_pickle=False).shape == (FRAMES, 33, 4)


def test_a_clean_shutdown_has_no_close_failures(recommender, tmp_path):
    pipeline = Pipeline(PipelineConfig(source=SourceSpec("demo"), fps=0.0, max_frames=20,
                                       headless=False), recommender=recommender)
    sink = ClosingSink()
    pipeline.add_sink(lambda _: sink)
    run_pipeline(pipeline, RUN_TIMEOUT_S)
    assert sink.closed and pipeline.close_failures == () and pipeline.exit_status == 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_live_reports_a_server_that_does_not_stop_in_one_line_and_keeps_the_recording(
        capsys, monkeypatch, weights_dir, tmp_path):
    original = OverlayServer.close

    def close_then_time_out(self):
        original(self)
        raise TimeoutError("the overlay server did not stop within 2 s")

    monkeypatch.setattr(OverlayServer, "close", close_then_time_out)
    poses = tmp_path / "poses.npy"
    code, _, err = run_main(capsys, "live", "--source", "demo", "--headless", "--fps", "0",
                            "--max-frames", "30", "--serve", _free_port(),
                            "--record-poses", poses)
    lines = [line for line in err.splitlines() if "failed" in line]
    assert code == 1
    assert lines == ["poserec live: error: closing OverlayServer failed: TimeoutError: "
                     "the overlay server did not stop within 2 s"]
    assert np.load(poses, allow_pickle=False).shape == (30, 33, 4)
