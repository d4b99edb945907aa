"""One renderer for every output: the window, the recording and the virtual camera show the same
frames, pixel for pixel, for the same input, and the effect picked in the window with ←/→ (one
EffectChoice shared by all of them); `--mirror` flips what is shown and leaves every score as
it was."""
from __future__ import annotations

import os
import sys
import types

import numpy as np
import pytest

from poserec_core.recommender import Ranking
from realtime.drawing.art import ArtBook
from realtime.drawing.effects import load_effects
from realtime.drawing.choice import EffectChoice
from realtime.drawing.renderer import Renderer, RenderOptions
from realtime.engine.pipeline import Pipeline, PipelineConfig
from realtime.messages import EffectScore, PoseFrame, Recommendation
from realtime.outputs import OutputsConfig, add_outputs, annotated_frame_sink
from realtime.outputs.recorder import VideoRecorder
from realtime.sources import SourceInfo, SourceSpec
from realtime.ui.app import drop_opencv_qt_plugins
from realtime.ui.stats import StreamStats
from realtime.ui.window import LiveWindow, WindowConfig

from .helpers import run_pipeline
from .media import make_person_video, person_frames

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_plugins()

SIZE = (320, 240)
FRAMES = 16


def recommendation(window_end: int, *names: str) -> Recommendation:
    scores = tuple(0.9 - 0.1 * n for n in range(len(names)))
    ranking = Ranking(tuple(range(len(names))), names, scores)
    return Recommendation(window_end, ranking, 1, 2, 3, 4, 5, "cpu", effects=tuple(
        EffectScore(name, item, score) for name, item, score in zip(names, ranking.items,
                                                                    scores)))


@pytest.fixture(scope="module")
def messages(reference_dir):
    """The sample's poses, fully visible, on frames of the astronaut, with rankings whose top
    effect changes: nothing, a hat, a basketball (held), a wall (behind the mask)."""
    poses = np.load(reference_dir / "sample_sequence.npy").astype(np.float32)[100:100 + FRAMES]
    poses[:, :, 3] = 1.0
    mask = np.zeros((SIZE[1], SIZE[0]), np.uint8)
    mask[40:220, 100:220] = 255
    out = []
    for seq, image in enumerate(person_frames(FRAMES, SIZE)):
        if seq in (3, 8, 12):
            top = {3: "hat", 8: "basketball", 12: "wall"}[seq]
            out.append(recommendation(seq, top, "glasses"))
        t = (seq + 1) * 33_000_000
        out.append(PoseFrame(seq, t, t, poses[seq], image, mask))
    return out


class Opened:
    """What annotated_frame_sink reads of an opened pipeline."""

    source_info = SourceInfo("test frames", SIZE[0], SIZE[1], 30.0)
    gives_poses = False
    lossless = True


def fake_pyvirtualcam(sent: list):
    class Camera:
        def __init__(self, width, height, fps, fmt=None):
            self.device = "/dev/video9"

        def send(self, frame):
            sent.append(frame.copy())

        def close(self):
            pass

    return types.SimpleNamespace(Camera=Camera, PixelFormat=types.SimpleNamespace(BGR="BGR"))


def output_frames(monkeypatch, tmp_path, messages, mirror=False, choice=None):
    """(virtual camera frames, recorder frames) of the outputs sink fed `messages`."""
    camera, recorded = [], []
    monkeypatch.setitem(sys.modules, "pyvirtualcam", fake_pyvirtualcam(camera))
    send = VideoRecorder.send
    monkeypatch.setattr(VideoRecorder, "send",
                        lambda self, frame: (recorded.append(frame.copy()), send(self, frame)))
    config = OutputsConfig(virtual_cam=True, mirror=mirror, record=tmp_path / "session.avi",
                           choice=choice or EffectChoice())
    sink = annotated_frame_sink(Opened(), config)
    sink.open()
    for message in messages:
        sink(message)
    sink.close()
    return camera, recorded


def window_frames(qtbot, messages, mirror=False, keys=0, choice=None):
    """The window's frames for `messages`; after the first ranking it steps `keys` entries down
    the list (the → key)."""
    effects = load_effects()
    window = LiveWindow(effects, ArtBook(effects), StreamStats(),
                        WindowConfig(top_k=2, mirror=mirror), choice=choice)
    qtbot.addWidget(window)
    shown = []
    ranked = False
    for message in messages:
        if isinstance(message, Recommendation):
            window.show_recommendation(message)
            if not ranked:
                window.select_step(keys)
                ranked = True
        else:
            window.show_pose(message)
            shown.append(window.frame.copy())
    return shown


@pytest.mark.parametrize("mirror", [False, True])
def test_window_recording_and_virtual_camera_agree_pixel_for_pixel(qtbot, monkeypatch, tmp_path,
                                                                  messages, mirror):
    camera, recorded = output_frames(monkeypatch, tmp_path, messages, mirror)
    shown = window_frames(qtbot, messages, mirror)
    assert len(shown) == len(camera) == len(recorded) == FRAMES
    for n, (a, b, c) in enumerate(zip(shown, camera, recorded)):
        assert np.array_equal(a, b) and np.array_equal(a, c), f"frame {n}"
    effects = load_effects()
    poses = [m for m in messages if isinstance(m, PoseFrame)]
    plain = [Renderer(effects).render(p, None) for p in poses]
    drawn = [not np.array_equal(a, p[:, ::-1] if mirror else p) for a, p in zip(shown, plain)]
    assert drawn == [n >= 3 for n in range(FRAMES)], "an effect is on every frame after the first"


@pytest.mark.parametrize("mirror", [False, True])
def test_the_effect_picked_in_the_window_is_the_one_recorded_and_sent_to_the_camera(
        qtbot, monkeypatch, tmp_path, messages, mirror):
    choice = EffectChoice()
    shown = window_frames(qtbot, messages, mirror, keys=1, choice=choice)  # → : "glasses"
    assert choice.rank == 1
    camera, recorded = output_frames(monkeypatch, tmp_path, messages, mirror, choice)
    renderer = Renderer(load_effects())
    poses = [m for m in messages if isinstance(m, PoseFrame)]
    expected = [renderer.render(p, "glasses" if n >= 3 else None, RenderOptions(mirror=mirror))
                for n, p in enumerate(poses)]
    for n, (a, b, c, e) in enumerate(zip(shown, camera, recorded, expected)):
        assert np.array_equal(a, e) and np.array_equal(b, e) and np.array_equal(c, e), f"frame {n}"
    top_only = output_frames(monkeypatch, tmp_path, messages, mirror)[0]  # no pick: the top
    assert not np.array_equal(top_only[5], camera[5])


def test_mirroring_flips_the_outputs_and_leaves_every_score_unchanged(recommender, tmp_path,
                                                                      monkeypatch):
    video = make_person_video(tmp_path / "person.avi", frames=30, size=SIZE)
    runs = {}
    for mirror in (False, True):
        camera = []
        monkeypatch.setitem(sys.modules, "pyvirtualcam", fake_pyvirtualcam(camera))
        pipeline = Pipeline(PipelineConfig(source=SourceSpec("video", str(video)), fps=0.0,
                                           smoothing=0.0, headless=False),
                            recommender=recommender)
        add_outputs(pipeline, OutputsConfig(virtual_cam=True, mirror=mirror))
        messages, _ = run_pipeline(pipeline, 120)
        assert pipeline.failure is None, pipeline.failure
        runs[mirror] = ([m.to_json()["top"] for m in messages if isinstance(m, Recommendation)],
                        camera)
    (scores, plain), (mirrored_scores, mirrored) = runs[False], runs[True]
    assert scores and mirrored_scores == scores
    assert len(plain) == len(mirrored) == 30
    before_any_effect = 9  # the first window ends at frame 9; the effect's smoothing runs on
    assert all(np.array_equal(m, p[:, ::-1])  # each run's clock, the video and skeleton do not
               for m, p in zip(mirrored[:before_any_effect], plain))
    assert all(np.abs(m.astype(int) - p[:, ::-1]).mean() < 3 for m, p in zip(mirrored, plain))
