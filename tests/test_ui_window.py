"""The live window, offscreen: skeleton pixels, the top-k panel, keys, closing, run_window on a
fake source and on the demo source, and `poserec live` without a display."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from PyQt5.QtCore import Qt, QTimer
from PyQt5.QtGui import QColor, QImage

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking
from poserec_core.skeleton import Landmark
from realtime.drawing.annotators import SkeletonStyle
from realtime.drawing.art import ArtBook
from realtime.drawing.effects import load_effects
from realtime.drawing.placement import pixel_points
from realtime.engine.smoothing import ScoreSmoother, SmoothingConfig, name_groups
from realtime.messages import (EffectScore, NoPerson, PoseFrame, Recommendation, StreamEnded,
                               WorkerFailed)
from realtime.sources import SourceInfo
from realtime.ui import app as ui_app
from realtime.ui.app import AppConfig, drop_opencv_qt_plugins, run_window
from realtime.ui.stats import StreamStats
from realtime.ui.view import VideoView, ViewStyle
from realtime.ui.window import LiveWindow, WindowConfig

from .helpers import run_poserec

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_plugins()

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE_SIZE = (640, 480)
GREY = (60, 60, 60)
WINDOW, STRIDE, TOP_K = 10, 5, 5
STOP_WITHIN_S = 5.0


@pytest.fixture(scope="module")
def sequence(reference_dir) -> np.ndarray:
    """The published sample's 410 poses (F, 33, 4), float32."""
    return np.load(reference_dir / "sample_sequence.npy").astype(np.float32)


@pytest.fixture(scope="module")
def rankings(recommender, sample_windows):
    """The distinct top-5 effects of every sample window, each name at its best item, as
    Rankings (window n ends at frame 5n + 9)."""
    names = recommender.catalog.names
    distinct = ScoreSmoother(SmoothingConfig(0.0), TOP_K, groups=name_groups(names))
    rankings = []
    for scores in recommender.score(sample_windows):
        items, values = distinct.update(scores)
        rankings.append(Ranking(tuple(int(i) for i in items), tuple(names[i] for i in items),
                                tuple(float(v) for v in values)))
    return rankings


def grey_image() -> np.ndarray:
    return np.full((IMAGE_SIZE[1], IMAGE_SIZE[0], 3), GREY, np.uint8)


def pose_frame(seq: int, landmarks: np.ndarray | None, image=None) -> PoseFrame:
    t = time.monotonic_ns()
    return PoseFrame(seq, t, t, landmarks, grey_image() if image is None else image)


def recommendation(window_end: int, ranking) -> Recommendation:
    """A recommendation whose distinct effects are `ranking`'s items (their names differ)."""
    t = time.monotonic_ns()
    effects = tuple(EffectScore(n, i, s) for i, n, s in zip(ranking.items, ranking.names,
                                                            ranking.scores))
    return Recommendation(window_end, ranking, t, t, t, t, t, "cpu", effects=effects)


class FakePipeline:
    """A Pipeline stand-in: one thread replays the sample's poses as PoseFrames on a grey image
    and, every STRIDE frames, the Recommender's ranking of the window that just ended; then
    StreamEnded. `fail_at` sends WorkerFailed(PoseRecError) at that frame instead."""

    def __init__(self, sequence, rankings, fps: float = 120.0, max_frames: int | None = None,
                 fail_at: int | None = None):
        self.gives_poses = False
        self.source_info = SourceInfo("fake: the published sample on a grey image")
        self.sequence, self.rankings = sequence, rankings
        self.period_s = 1.0 / fps
        self.frames = len(sequence) if max_frames is None else max_frames
        self.fail_at = fail_at
        self.failure: WorkerFailed | None = None
        self.listeners = []
        self.published = []
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="fake-pipeline", daemon=True)

    def add_listener(self, listener) -> None:
        self.listeners.append(listener)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def join(self, timeout: float) -> bool:
        self.thread.join(timeout)
        return not self.thread.is_alive()

    @property
    def exit_status(self) -> int:
        return 0 if self.failure is None else 2

    def _publish(self, message) -> None:
        self.published.append(message)
        for listener in self.listeners:
            listener(message)

    def _run(self) -> None:
        for seq in range(self.frames):
            if self._stop.wait(self.period_s):
                return
            if seq == self.fail_at:
                self.failure = WorkerFailed("capture", PoseRecError("the camera was unplugged"))
                self._publish(self.failure)
                return
            self._publish(pose_frame(seq, self.sequence[seq]))
            if seq >= WINDOW - 1 and (seq - WINDOW + 1) % STRIDE == 0:
                self._publish(recommendation(seq, self.rankings[(seq - WINDOW + 1) // STRIDE]))
        self._publish(StreamEnded(self.frames))


class RecordingWindow(LiveWindow):
    """LiveWindow that counts the poses it took and keeps what its panel showed at closing."""

    instances: list = []

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        RecordingWindow.instances.append(self)
        self.rows_at_close = None
        self.recommendation_at_close = None
        self.poses_taken = 0

    def show_pose(self, frame):
        self.poses_taken += frame is not None
        super().show_pose(frame)

    def closeEvent(self, event):  # noqa: N802
        self.rows_at_close = self.panel.rows()
        self.recommendation_at_close = self.recommendation
        super().closeEvent(event)


@pytest.fixture
def recording(monkeypatch):
    RecordingWindow.instances = []
    monkeypatch.setattr(ui_app, "LiveWindow", RecordingWindow)
    return RecordingWindow.instances


@pytest.fixture
def window(qtbot):
    effects = load_effects()
    win = LiveWindow(effects, ArtBook(effects), StreamStats(), WindowConfig(top_k=TOP_K))
    qtbot.addWidget(win)
    win.resize(1360, 720)
    win.show()
    qtbot.waitExposed(win)
    return win


def shown(pose: np.ndarray) -> np.ndarray:
    """The pose with every landmark fully visible."""
    pose = pose.copy()
    pose[:, 3] = 1.0
    return pose


def video_pixels(window) -> QImage:
    return window.video.grab().toImage()


def joint_positions(window, landmarks, indices):
    rect = window.video.image_rect()
    points = pixel_points(landmarks, (rect.width(), rect.height()))
    return [(rect.left() + int(round(points[i][0])), rect.top() + int(round(points[i][1])))
            for i in indices]


def colour_at(image: QImage, x: int, y: int) -> tuple[int, int, int]:
    c = QColor(image.pixel(x, y))
    return c.red(), c.green(), c.blue()


WHITE = tuple(reversed(SkeletonStyle().joint))
WELL_APART = (Landmark.LEFT_SHOULDER, Landmark.RIGHT_HIP, Landmark.LEFT_KNEE, Landmark.RIGHT_KNEE,
              Landmark.LEFT_ANKLE)
KEY = {"S": Qt.Key_S, "P": Qt.Key_P, "O": Qt.Key_O, "H": Qt.Key_H, "Space": Qt.Key_Space,
       "Right": Qt.Key_Right, "Left": Qt.Key_Left, "N": Qt.Key_N, "B": Qt.Key_B,
       "F": Qt.Key_F, "Esc": Qt.Key_Escape, "Q": Qt.Key_Q}


def press(qtbot, window, *keys: str) -> None:
    for key in keys:
        qtbot.keyClick(window, KEY[key])


# ---- the skeleton at the landmarks ------------------------------------------------------------

def test_skeleton_is_drawn_at_the_landmarks_and_s_hides_it(qtbot, window, sequence):
    landmarks = shown(sequence[0])
    window.show_pose(pose_frame(0, landmarks))
    positions = joint_positions(window, landmarks, WELL_APART)
    image = video_pixels(window)
    assert [colour_at(image, x, y) for x, y in positions] == [WHITE] * len(positions)
    press(qtbot, window, "S")
    image = video_pixels(window)
    assert [colour_at(image, x, y) for x, y in positions] == [GREY[::-1]] * len(positions)
    press(qtbot, window, "S")
    image = video_pixels(window)
    assert [colour_at(image, x, y) for x, y in positions] == [WHITE] * len(positions)


def test_a_frame_without_a_person_shows_the_image_and_says_so(window, sequence):
    window.show_pose(pose_frame(0, shown(sequence[0])))
    window.show_pose(pose_frame(1, None))
    assert window.video.content.banner == "No person in view"
    assert window.renderer.effect_pose is None


# ---- the panel ----------------------------------------------------------------------------------

def test_panel_shows_the_current_top_k_with_markers(window, rankings):
    window.show_recommendation(recommendation(9, rankings[0]))
    rows = window.panel.rows()
    assert [r.name for r in rows] == list(rankings[0].names)
    assert [r.score for r in rows] == list(rankings[0].scores)
    later = next(r for r in rankings[1:] if r.items != rankings[0].items)
    window.show_recommendation(recommendation(14, later))
    rows = window.panel.rows()
    assert [r.item for r in rows] == list(later.items)
    before = {name: rank for rank, name in enumerate(rankings[0].names)}  # marks follow names
    for row in rows:
        if row.name not in before:
            assert row.change.value == "new"
        else:
            assert row.places == abs(before[row.name] - (row.rank - 1))


def test_no_person_state_lasts_until_the_next_ranking(window, rankings):
    window.show_recommendation(recommendation(9, rankings[0]))
    window.show_no_person(NoPerson(20, time.monotonic_ns()))
    assert window.panel.content.no_person
    window.show_recommendation(recommendation(24, rankings[1]))
    assert not window.panel.content.no_person


# ---- keys -----------------------------------------------------------------------------------------

@pytest.mark.parametrize("keys, selected", [
    ((), 0), (("Right",), 1), (("N", "N"), 2), (("Left",), TOP_K - 1),
    (("B", "B", "Right"), TOP_K - 1), (("Right",) * TOP_K, 0),
])
def test_keys_cycle_the_previewed_effect_through_the_top_k(qtbot, window, sequence, rankings,
                                                          keys, selected):
    window.show_pose(pose_frame(0, shown(sequence[0])))
    window.show_recommendation(recommendation(9, rankings[0]))
    press(qtbot, window, *keys)
    assert window.selected == selected
    assert window.effect == rankings[0].names[selected]
    assert window.panel.content.selected == selected


def test_preview_is_drawn_on_the_body_and_p_hides_it(qtbot, window, sequence, rankings):
    landmarks = shown(sequence[0])
    window.show_pose(pose_frame(0, landmarks))
    window.show_recommendation(recommendation(9, rankings[0]))
    assert window.renderer.effect_pose is not None
    with_preview = window.video.grab().toImage()
    press(qtbot, window, "P")
    without = window.video.grab().toImage()
    assert with_preview != without
    press(qtbot, window, "P")
    assert window.video.grab().toImage() == with_preview


def corner_colour(window) -> tuple[int, int, int]:
    """The colour near the video's bottom-right corner (clear of HUD, banner and body)."""
    rect = window.video.image_rect()
    return colour_at(window.video.grab().toImage(), rect.right() - 5, rect.bottom() - 5)


@pytest.mark.parametrize("key, check", [
    ("O", lambda w, before, after: corner_colour(w) == tuple(reversed(
        ViewStyle().canvas.chroma_key)) and not w.panel.isVisible()),
    ("H", lambda w, before, after: w.layers.help and before != after),
    ("Space", lambda w, before, after: w.layers.paused and before != after),
])
def test_layer_keys_toggle(qtbot, window, sequence, key, check):
    window.show_pose(pose_frame(0, shown(sequence[0])))
    before = window.video.grab().toImage()
    assert corner_colour(window) == GREY[::-1]
    press(qtbot, window, key)
    assert check(window, before, window.video.grab().toImage())
    press(qtbot, window, key)
    assert window.panel.isVisible() and not window.layers.help and not window.layers.paused
    assert window.video.grab().toImage() == before


def test_pause_freezes_the_view(qtbot, window, sequence, rankings):
    window.show_pose(pose_frame(0, shown(sequence[0])))
    window.show_recommendation(recommendation(9, rankings[0]))
    press(qtbot, window, "Space")
    window.show_pose(pose_frame(1, shown(sequence[1])))
    window.show_recommendation(recommendation(14, rankings[1]))
    assert window.pose.seq == 0 and window.recommendation.window_end == 9
    press(qtbot, window, "Space")
    window.show_pose(pose_frame(2, shown(sequence[2])))
    assert window.pose.seq == 2


def test_escape_closes_help_and_q_closes_the_window(qtbot, window):
    press(qtbot, window, "H")
    assert window.layers.help
    press(qtbot, window, "Esc")
    assert not window.layers.help and window.isVisible()
    with qtbot.waitSignal(window.closing, timeout=2000):
        press(qtbot, window, "Q")
    assert window.closed


def test_f_toggles_fullscreen(qtbot, window):
    press(qtbot, window, "F")
    assert window.windowState() & Qt.WindowFullScreen
    press(qtbot, window, "F")
    assert not window.windowState() & Qt.WindowFullScreen


# ---- run_window: threads, closing, screenshot -----------------------------------------------------

def args(max_frames: int | None = None, screenshot=None) -> AppConfig:
    """The AppConfig `poserec live --top-k TOP_K [--max-frames N] [--screenshot PNG]` builds."""
    return AppConfig(WindowConfig(top_k=TOP_K), close_at_end=max_frames is not None,
                     screenshot=screenshot)


@pytest.mark.timeout(60)
def test_run_window_on_a_fake_source_to_its_end(qapp, tmp_path, sequence, rankings, recording):
    fake = FakePipeline(sequence, rankings, max_frames=60)
    shot = tmp_path / "live.png"
    assert run_window(fake, args(max_frames=60, screenshot=shot)) == 0
    assert not fake.thread.is_alive()
    last = [m for m in fake.published if isinstance(m, Recommendation)][-1]
    window = recording[0]
    assert window.recommendation_at_close.window_end == last.window_end
    assert [r.name for r in window.rows_at_close] == list(last.ranking.names)
    image = QImage(str(shot))
    assert (image.width(), image.height()) == ui_app.WINDOW_SIZE


@pytest.mark.timeout(60)
def test_a_slow_paint_never_holds_back_the_pipeline(qapp, sequence, rankings, recording,
                                                   monkeypatch):
    slow = VideoView.frame_image

    def paint_slowly(self, target):
        time.sleep(0.1)  # a paint far slower than the source's 120 frames per second
        return slow(self, target)

    monkeypatch.setattr(VideoView, "frame_image", paint_slowly)
    fake = FakePipeline(sequence, rankings, fps=120, max_frames=120)
    assert run_window(fake, args(max_frames=120)) == 0
    poses = [m for m in fake.published if isinstance(m, PoseFrame)]
    assert len(poses) == 120 and isinstance(fake.published[-1], StreamEnded)
    blocked_s = 0.1 * len(poses)  # what publishing would take if each frame waited for a paint
    assert (poses[-1].t_capture_ns - poses[0].t_capture_ns) / 1e9 < blocked_s / 2
    assert recording[0].poses_taken < len(poses), "every frame was drawn: nothing coalesced"
    assert recording[0].pose.seq == poses[-1].seq, "the newest frame was not the last shown"


@pytest.mark.timeout(60)
def test_closing_the_window_stops_the_pipeline(qapp, sequence, rankings, recording):
    fake = FakePipeline(sequence, rankings, fps=30)  # 410 frames: about 14 s unless stopped
    QTimer.singleShot(700, lambda: recording[0].close())
    started = time.monotonic()
    assert run_window(fake, args()) == 0
    assert time.monotonic() - started < STOP_WITHIN_S + 2
    assert not fake.thread.is_alive()
    assert not isinstance(fake.published[-1], StreamEnded)


@pytest.mark.timeout(60)
def test_a_worker_failure_closes_the_window_with_its_status(qapp, sequence, rankings, recording):
    fake = FakePipeline(sequence, rankings, fail_at=30)
    assert run_window(fake, args()) == 2
    assert not fake.thread.is_alive()
    assert recording[0].closed


@pytest.mark.timeout(120)
def test_run_window_on_the_demo_source(qapp, tmp_path, weights_dir, recording):
    from realtime.engine.pipeline import Pipeline, PipelineConfig
    from realtime.sources import parse_source

    config = PipelineConfig(source=parse_source("demo"), device="cpu", max_frames=40, fps=0,
                            headless=False, weights_dir=weights_dir)
    pipeline = Pipeline(config)
    shot = tmp_path / "demo.png"
    assert run_window(pipeline, args(max_frames=40, screenshot=shot)) == 0
    assert shot.stat().st_size > 0
    assert not [t for t in threading.enumerate() if t.name.startswith("poserec-")]
    window = recording[0]
    assert window.config.pose_only
    last = pipeline.latest_recommendation
    assert [r.name for r in window.rows_at_close] == [e.name for e in last.effects]  # distinct names
    assert window.pose is not None and window.pose.seq == 39


@pytest.mark.timeout(60)
def test_a_stop_signal_closes_the_window_and_stops_the_pipeline(qapp, sequence, rankings,
                                                                recording):
    fake = FakePipeline(sequence, rankings, fps=30)
    before = signal.getsignal(signal.SIGTERM)
    QTimer.singleShot(500, lambda: os.kill(os.getpid(), signal.SIGTERM))
    assert run_window(fake, args()) == 128 + signal.SIGTERM
    assert not fake.thread.is_alive()
    assert signal.getsignal(signal.SIGTERM) is before


def test_a_pipeline_that_cannot_start_is_a_user_error(qapp, tmp_path):
    from realtime.engine.pipeline import Pipeline, PipelineConfig
    from realtime.sources import parse_source

    before = signal.getsignal(signal.SIGINT), sys.excepthook
    pipeline = Pipeline(PipelineConfig(source=parse_source("demo"), device="cpu",
                                       headless=False, weights_dir=tmp_path))
    with pytest.raises(PoseRecError):
        run_window(pipeline, args())
    assert (signal.getsignal(signal.SIGINT), sys.excepthook) == before


def test_an_effect_missing_from_the_catalog_has_no_preview(qtbot, window, sequence):
    window.show_pose(pose_frame(0, shown(sequence[0])))
    window.show_recommendation(recommendation(9, Ranking((0, 1), ("unicorn", "hat"), (0.9, 0.8))))
    assert window.effect is None and window.renderer.effect_pose is None
    assert not window.video.grab().isNull()
    press(qtbot, window, "Right")
    assert window.effect == "hat" and window.renderer.effect_pose is not None


# ---- the command line ---------------------------------------------------------------------------

def test_live_without_a_display_says_so_in_one_line_and_runs_the_console_view(weights_dir):
    env = {"DISPLAY": "", "WAYLAND_DISPLAY": "", "QT_QPA_PLATFORM": ""}
    result = run_poserec("live", "--source", "demo", "--max-frames", "12", env=env, timeout=120)
    assert result.returncode == 0, result.stderr
    notice = [line for line in result.stderr.splitlines() if "no display" in line]
    assert len(notice) == 1 and "console view" in notice[0] and "xvfb-run -a" in notice[0]
    assert "effects" in result.stdout + result.stderr   # the console view's recommendation lines


@pytest.mark.timeout(180)
def test_live_window_under_xvfb_writes_the_screenshot(tmp_path, weights_dir):
    xvfb_run = shutil.which("xvfb-run")
    assert xvfb_run, "xvfb-run is missing: run `make system-deps` (the Makefile's test target does)"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    shot = tmp_path / "live.png"
    result = subprocess.run([xvfb_run, "-a", sys.executable, "-m", "realtime.cli", "live",
                             "--source", "demo", "--max-frames", "30", "--fps", "0",
                             "--screenshot", str(shot)], capture_output=True, text=True,
                            timeout=170, env=env, cwd=REPO)
    assert result.returncode == 0, result.stderr
    image = QImage(str(shot))
    assert (image.width(), image.height()) == ui_app.WINDOW_SIZE
