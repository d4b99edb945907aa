"""The live window's plumbing: newest-wins signals, HUD statistics, panel markers, display
checks. Qt runs offscreen."""
from __future__ import annotations

import os
import threading

import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking
from realtime.messages import NoPerson, PoseFrame, Recommendation, StreamEnded, WorkerFailed
from realtime.ui.app import (NoDisplayError, check_screenshot_dir, drop_opencv_qt_plugins,
                             require_display)
from realtime.ui.bridge import PipelineBridge
from realtime.ui.panel import Change, departed, item_entries, panel_rows
from realtime.ui.stats import StreamStats

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_plugins()

MS = 1_000_000


def pose(seq: int, t_ms: float, pose_ms: float = 20.0) -> PoseFrame:
    t = int(t_ms * MS)
    return PoseFrame(seq, t, t + int(pose_ms * MS), np.zeros((33, 4), np.float32))


def recommendation(window_end: int, items=(1, 2, 3), t_ms: float = 0.0, latency_ms: float = 50.0,
                   skipped: int = 0) -> Recommendation:
    t = int(t_ms * MS)
    step = int(latency_ms * MS / 4)
    ranking = Ranking(tuple(items), tuple(f"item{i}" for i in items),
                      tuple(1.0 - 0.1 * n for n in range(len(items))))
    return Recommendation(window_end, ranking, t, t + step, t + 2 * step, t + 3 * step,
                          t + 4 * step, "cpu", skipped)


# ---- newest wins ------------------------------------------------------------------------------

def test_poses_coalesce_to_the_newest_with_one_signal(qapp):
    bridge = PipelineBridge(StreamStats())
    signals = []
    bridge.pose_ready.connect(lambda: signals.append("pose"))
    for seq in range(10):
        bridge.deliver(pose(seq, seq * 33))
    assert signals == ["pose"]
    assert bridge.take_pose().seq == 9
    assert bridge.take_pose() is None
    bridge.deliver(pose(10, 330))
    assert signals == ["pose", "pose"]


def test_recommendations_coalesce_to_the_newest(qapp):
    bridge = PipelineBridge(StreamStats())
    signals = []
    bridge.recommendation_ready.connect(lambda: signals.append("rec"))
    for n in range(5):
        bridge.deliver(recommendation(9 + 5 * n))
    assert signals == ["rec"]
    assert bridge.take_recommendation().window_end == 29


@pytest.mark.parametrize("message, signal", [
    (NoPerson(3, 0), "no_person"), (StreamEnded(40), "ended"),
    (WorkerFailed("pose", PoseRecError("camera gone")), "failed"),
])
def test_control_messages_are_never_dropped(qapp, message, signal):
    bridge = PipelineBridge(StreamStats())
    received = []
    getattr(bridge, signal).connect(received.append)
    bridge.deliver(message)
    bridge.deliver(message)
    assert received == [message, message]


def test_messages_from_a_worker_thread_arrive_on_the_gui_thread(qtbot):
    bridge = PipelineBridge(StreamStats())
    seen = []
    bridge.pose_ready.connect(lambda: seen.append((threading.current_thread(), bridge.take_pose())))
    worker = threading.Thread(target=lambda: [bridge.deliver(pose(s, s)) for s in range(50)])
    with qtbot.waitSignal(bridge.pose_ready, timeout=5000):
        worker.start()
        worker.join(5)
    qtbot.waitUntil(lambda: seen and seen[-1][1] is not None and seen[-1][1].seq == 49)
    assert all(thread is threading.main_thread() for thread, _ in seen)
    assert len(seen) <= 50


# ---- HUD statistics ---------------------------------------------------------------------------

def test_stats_measure_rate_pose_time_and_drops():
    stats = StreamStats(span_s=10)
    seqs = [0, 1, 2, 5, 6, 10]  # 2 + 3 frames dropped before the pose stage
    for n, seq in enumerate(seqs):
        stats.record_pose(pose(seq, n * 40.0, pose_ms=10.0 + n))
    snap = stats.snapshot()
    assert snap.capture_fps == pytest.approx(25.0)
    assert snap.pose_ms == pytest.approx(12.5)
    assert snap.dropped_frames == 5


def test_stats_window_latency_is_the_median_of_the_last_seconds():
    stats = StreamStats(span_s=1.0)
    for n, latency in enumerate([500.0, 10.0, 30.0, 20.0]):
        stats.record_recommendation(recommendation(9 + 5 * n, t_ms=n * 400.0, latency_ms=latency,
                                                   skipped=n % 2))
    snap = stats.snapshot()
    assert snap.latency_ms == pytest.approx(20.0)  # 500 ms fell out of the last second
    assert snap.skipped_windows == 2
    assert snap.device == "cpu"


def test_stats_before_any_message_are_unknown():
    snap = StreamStats().snapshot()
    assert (snap.capture_fps, snap.pose_ms, snap.latency_ms, snap.device) == (None,) * 4


# ---- panel markers ----------------------------------------------------------------------------

def ranking(*items: int) -> list:
    """The panel's raw-item entries of a ranking of `items`."""
    return item_entries(Ranking(items, tuple(f"n{i}" for i in items),
                                tuple(0.9 - 0.01 * n for n in range(len(items)))))


@pytest.mark.parametrize("previous, current, changes, gone", [
    (None, (1, 2, 3), [(Change.SAME, 0)] * 3, []),
    ((1, 2, 3), (1, 2, 3), [(Change.SAME, 0)] * 3, []),
    ((1, 2, 3), (3, 1, 2), [(Change.UP, 2), (Change.DOWN, 1), (Change.DOWN, 1)], []),
    ((1, 2, 3), (1, 4, 2), [(Change.SAME, 0), (Change.NEW, 0), (Change.DOWN, 1)], ["n3"]),
    ((1, 2, 3), (7, 8, 9), [(Change.NEW, 0)] * 3, ["n1", "n2", "n3"]),
])
def test_panel_marks_entries_moves_and_departures(previous, current, changes, gone):
    before = None if previous is None else ranking(*previous)
    rows = panel_rows(ranking(*current), before)
    assert [(r.change, r.places) for r in rows] == changes
    assert [r.rank for r in rows] == list(range(1, len(current) + 1))
    assert [r.item for r in rows] == list(current)
    assert departed(ranking(*current), before) == gone


def test_panel_tells_repeated_names_apart_by_item():
    current = item_entries(Ranking((31, 54, 14), ("basketball", "saddle", "basketball"),
                                   (0.9, 0.8, 0.7)))
    previous = item_entries(Ranking((14, 31, 54), ("basketball", "basketball", "saddle"),
                                    (0.9, 0.8, 0.7)))
    assert [(r.change, r.places) for r in panel_rows(current, previous)] == [
        (Change.UP, 1), (Change.UP, 1), (Change.DOWN, 2)]


# ---- display and environment ------------------------------------------------------------------

@pytest.mark.parametrize("environ, platform, ok", [
    ({}, "linux", False),
    ({"DISPLAY": ""}, "linux", False),
    ({"QT_QPA_PLATFORM": "xcb"}, "linux", False),
    ({"DISPLAY": ":99"}, "linux", True),
    ({"WAYLAND_DISPLAY": "wayland-0"}, "linux", True),
    ({"QT_QPA_PLATFORM": "offscreen"}, "linux", True),
    ({"QT_QPA_PLATFORM": "vnc:size=800x600"}, "linux", True),
    ({}, "darwin", True),
    ({}, "win32", True),
])
def test_no_display_is_one_line_that_says_what_to_do(environ, platform, ok):
    if ok:
        require_display(environ, platform)
        return
    with pytest.raises(NoDisplayError) as caught:
        require_display(environ, platform)
    message = str(caught.value)
    assert "\n" not in message and "--headless" in message and "xvfb-run" in message
    assert isinstance(caught.value, PoseRecError)


def test_opencv_qt_plugin_path_is_dropped_but_a_users_is_kept(tmp_path):
    import cv2

    opencv = {"QT_QPA_PLATFORM_PLUGIN_PATH": os.path.join(os.path.dirname(cv2.__file__), "qt",
                                                          "plugins")}
    drop_opencv_qt_plugins(opencv)
    assert "QT_QPA_PLATFORM_PLUGIN_PATH" not in opencv
    users = {"QT_QPA_PLATFORM_PLUGIN_PATH": str(tmp_path)}
    drop_opencv_qt_plugins(users)
    assert users == {"QT_QPA_PLATFORM_PLUGIN_PATH": str(tmp_path)}


@pytest.mark.parametrize("relative, ok", [(None, True), ("shot.png", True),
                                          ("missing/shot.png", False)])
def test_screenshot_directory_must_exist(tmp_path, relative, ok):
    path = None if relative is None else tmp_path / relative
    if ok:
        check_screenshot_dir(path)
    else:
        with pytest.raises(PoseRecError, match="no such directory"):
            check_screenshot_dir(path)
