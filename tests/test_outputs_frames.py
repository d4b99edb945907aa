"""Annotated frames for the virtual camera and the recorder: what is drawn, the drawing thread's
hand-offs and failures, and `--virtual-cam` with and without a device."""
from __future__ import annotations

import sys
import types

import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking
from realtime.drawing.annotators import CanvasStyle
from realtime.drawing.effects import load_effects
from realtime.engine.pipeline import Pipeline, PipelineConfig
from realtime.drawing.renderer import Renderer, RenderOptions
from realtime.messages import EffectScore, PoseFrame, Recommendation
from realtime.outputs import OutputsConfig, add_outputs
from realtime.outputs.frame_stream import AnnotatedFrameSink, OutputFrames
from realtime.outputs.virtual_cam import VirtualCamera
from realtime.sources import SourceSpec

from .helpers import run_main, run_pipeline

SIZE = (320, 240)
VIDEO_GREY = 90


@pytest.fixture(scope="module")
def effects():
    return load_effects()


@pytest.fixture(scope="module")
def person(sample_windows) -> np.ndarray:
    """One real pose (33, 4) float32 from the published sample."""
    return np.ascontiguousarray(sample_windows[0, 0], dtype=np.float32)


def pose(landmarks, seq=0, grey=VIDEO_GREY, image=True) -> PoseFrame:
    """A pose frame whose image is one grey level (no image: a pose-only source's frame)."""
    frame = np.full((SIZE[1], SIZE[0], 3), grey, np.uint8) if image else None
    return PoseFrame(seq, seq * 1_000_000, seq * 1_000_000, landmarks, frame)


def recommendation(*names: str, window_end: int = 9) -> Recommendation:
    """A ranking of distinct names, best first."""
    scores = tuple(1.0 - 0.1 * n for n in range(len(names)))
    ranking = Ranking(tuple(range(len(names))), names, scores)
    return Recommendation(window_end, ranking, 1, 2, 3, 4, 5, "cpu",
                          effects=tuple(EffectScore(*entry) for entry in zip(names, ranking.items,
                                                                              scores)))


def output_frames(effects, overlay_only=False) -> OutputFrames:
    return OutputFrames(Renderer(effects), SIZE, RenderOptions(overlay_only=overlay_only))


@pytest.mark.parametrize("overlay_only, pose_only, expected", [
    (False, False, (VIDEO_GREY,) * 3),
    (False, True, CanvasStyle().canvas),
    (True, False, CanvasStyle().chroma_key),
    (True, True, CanvasStyle().chroma_key),
])
def test_the_background_is_the_video_the_canvas_or_the_chroma_key(
        effects, person, overlay_only, pose_only, expected):
    frame = output_frames(effects, overlay_only).draw(pose(person, image=not pose_only), None)
    assert frame.shape == (SIZE[1], SIZE[0], 3)
    assert tuple(frame[0, 0]) == tuple(expected)


@pytest.mark.parametrize("names, has_person, previewed", [
    (("basketball", "hat"), True, True),
    (("basketball", "hat"), False, False),
    (("no such effect",), True, False),
    ((), True, False),
])
def test_the_top_effect_is_drawn_on_the_body(effects, person, names, has_person, previewed):
    landmarks = person if has_person else None
    rec = recommendation(*names) if names else None
    without = output_frames(effects).draw(pose(landmarks), None)
    with_effect = output_frames(effects).draw(pose(landmarks), rec)
    assert (not np.array_equal(without, with_effect)) == previewed


class CollectingOutput:
    """A frame output that keeps what it gets, and can fail at a given frame."""

    def __init__(self, fail_at: int | None = None):
        self.frames: list[np.ndarray] = []
        self.fail_at = fail_at
        self.opened = self.closed = False

    def open(self):
        self.opened = True

    def send(self, frame):
        if len(self.frames) == self.fail_at:
            raise PoseRecError("collector: disk full")
        self.frames.append(frame)

    def close(self):
        self.closed = True


@pytest.mark.parametrize("frames", [1, 30])
def test_lossless_sources_get_every_frame_drawn_in_order(effects, person, frames):
    output = CollectingOutput()
    sink = AnnotatedFrameSink(output_frames(effects), (output,), lossless=True)
    sink.open()
    for seq in range(frames):
        sink(pose(person, seq, grey=seq))
    sink.close()
    assert [int(f[0, 0, 0]) for f in output.frames] == list(range(frames)) and output.closed


def test_an_output_failure_is_raised_to_the_pipeline_and_closes_the_outputs(effects, person):
    output = CollectingOutput(fail_at=2)
    sink = AnnotatedFrameSink(output_frames(effects), (output,), lossless=True)
    sink.open()
    with pytest.raises(PoseRecError, match="disk full"):
        for seq in range(200):
            sink(pose(person, seq))
    sink.close()  # already raised once: close does not raise it again
    assert len(output.frames) == 2 and output.closed


def fake_pyvirtualcam(error: str | None = None):
    """A stand-in for pyvirtualcam: its Camera raises RuntimeError(error), or keeps frames."""
    class Camera:
        sent: list = []

        def __init__(self, width, height, fps, fmt=None):
            if error is not None:
                raise RuntimeError(error)
            self.size, self.fmt, self.device = (width, height), fmt, "/dev/video9"

        def send(self, frame):
            Camera.sent.append(frame)

        def close(self):
            pass

    return types.SimpleNamespace(Camera=Camera, PixelFormat=types.SimpleNamespace(BGR="BGR"))


@pytest.mark.parametrize("module, platform, says", [
    (fake_pyvirtualcam("No v4l2 loopback device found.\nSee the docs."), "linux",
     "no virtual camera device (No v4l2 loopback device found); install "
     "v4l2loopback (sudo apt-get install v4l2loopback-dkms)"),
    (fake_pyvirtualcam("OBS Virtual Camera is not installed"), "win32",
     "no virtual camera device (OBS Virtual Camera is not installed); install OBS Studio"),
    (fake_pyvirtualcam("OBS Virtual Camera is not installed"), "darwin",
     "install OBS Studio, then in OBS click Start Virtual Camera once and Stop it"),
    (None, "linux", "--virtual-cam needs the pyvirtualcam package: pip install pyvirtualcam=="),
])
def test_no_virtual_camera_is_one_line_saying_what_to_install(monkeypatch, module, platform, says):
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    with pytest.raises(PoseRecError) as raised:
        VirtualCamera(SIZE, 30.0, platform=platform).open()
    assert says in str(raised.value) and "\n" not in str(raised.value)


def test_the_virtual_camera_gets_every_annotated_frame(monkeypatch, recommender, weights_dir):
    module = fake_pyvirtualcam()
    monkeypatch.setitem(sys.modules, "pyvirtualcam", module)
    pipeline = Pipeline(PipelineConfig(source=SourceSpec("demo"), fps=0.0, max_frames=30,
                                       headless=False, weights_dir=weights_dir),
                        recommender=recommender)
    add_outputs(pipeline, OutputsConfig(virtual_cam=True))
    run_pipeline(pipeline, 60)
    assert pipeline.failure is None
    sent = module.Camera.sent
    assert len(sent) == 30 and all(f.shape == (480, 640, 3) for f in sent)


@pytest.mark.parametrize("extra", [[], ["--overlay-only", "--record", "{tmp}/session.mp4"]])
def test_virtual_cam_without_a_device_exits_2_with_one_line(capsys, weights_dir, tmp_path, extra):
    """Real pyvirtualcam on a machine without v4l2loopback (this one, CI)."""
    extra = [arg.format(tmp=tmp_path) for arg in extra]
    code, _, err = run_main(capsys, "live", "--source", "demo", "--headless", "--device", "cpu",
                            "--virtual-cam", *extra)
    assert code == 2, err
    assert len(err.strip().splitlines()) == 1
    assert "poserec live: error: --virtual-cam: no virtual camera device" in err
    assert "v4l2loopback" in err
    assert not (tmp_path / "session.mp4").exists()  # nothing is created before the camera opens
