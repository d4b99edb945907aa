"""Sources: parsing `--source`, pose replays, the demo sequence, video files, cameras, streams."""
from __future__ import annotations

import functools
import http.server
import threading

import numpy as np
import pytest

from poserec_core.errors import PoseFileError, PoseRecError
from poserec_core.windows import sequence_from_windows
from realtime.messages import Frame, PoseFrame
from realtime.sources import (CameraSource, SourceSpec, StreamSource, VideoFileSource,
                              load_demo_sequence, make_source, open_source, parse_source,
                              replay_source)

from .media import make_person_video


@pytest.mark.parametrize("text, kind, target", [
    ("auto", "auto", ""),
    ("demo", "demo", ""),
    ("0", "camera", "0"),
    ("02", "camera", "2"),
    ("replay:poses.npy", "replay", "poses.npy"),
    ("replay:/a/b c.npy", "replay", "/a/b c.npy"),
    ("rtsp://cam.local/stream", "url", "rtsp://cam.local/stream"),
    ("HTTP://10.0.0.2:8080/video", "url", "HTTP://10.0.0.2:8080/video"),
    ("clip.mp4", "video", "clip.mp4"),
    ("./0", "video", "./0"),
])
def test_parse_source(text, kind, target):
    assert parse_source(text) == SourceSpec(kind, target)


@pytest.mark.parametrize("text, error", [("replay:", "needs a file"), ("", "empty"),
                                         ("   ", "empty")])
def test_parse_source_rejects(text, error):
    with pytest.raises(PoseRecError, match=error):
        parse_source(text)


def test_demo_sequence_is_the_reference_sequence(weights_dir, reference_dir):
    reference = np.load(reference_dir / "sample_sequence.npy")
    sequence = load_demo_sequence(weights_dir)
    assert sequence.shape == (410, 33, 4) and sequence.dtype == np.float32
    np.testing.assert_array_equal(sequence, reference.astype(np.float32))


@pytest.mark.parametrize("corrupt, stride, error", [
    (False, 11, ValueError), (False, 0, ValueError), (True, 5, PoseRecError)])
def test_sequence_from_windows_refuses_what_does_not_overlap(sample_windows, corrupt, stride, error):
    windows = sample_windows[:4].copy()
    if corrupt:
        windows[2, 0] += 1.0
    with pytest.raises(error):
        sequence_from_windows(windows, stride)


@pytest.mark.parametrize("window, stride", [(10, 5), (10, 1), (10, 10), (4, 3)])
def test_sequence_from_windows_inverts_cutting(window, stride):
    from poserec_core.windows import cut_windows

    sequence = np.random.default_rng(window * stride).random((43, 33, 4)).astype(np.float32)
    windows = cut_windows(sequence, window, stride)
    covered = window + stride * (len(windows) - 1)
    np.testing.assert_array_equal(sequence_from_windows(windows, stride), sequence[:covered])


def read_all(source, limit: int = 10_000) -> list:
    items = []
    while len(items) < limit and (item := source.read()) is not None:
        items.append(item)
    return items


def test_replay_gives_every_pose_in_order_without_images(tmp_path):
    poses = np.random.default_rng(1).random((12, 33, 4))
    path = tmp_path / "poses.npy"
    np.save(path, poses)
    source = replay_source(path)
    info = source.open()
    frames = read_all(source)
    source.close()
    assert info.frames == 12 and info.fps == 30.0 and source.lossless and source.gives_poses
    assert [f.seq for f in frames] == list(range(12))
    assert all(isinstance(f, PoseFrame) and f.has_person for f in frames)
    np.testing.assert_array_equal(np.stack([f.landmarks for f in frames]), poses.astype(np.float32))
    assert (info.width, info.height) == (640, 480) and all(f.image is None for f in frames)
    assert all(b.t_capture_ns >= a.t_capture_ns for a, b in zip(frames, frames[1:]))


def test_demo_loops_and_keeps_counting(weights_dir):
    source = make_source(SourceSpec("demo"), weights_dir=weights_dir)
    info = source.open()
    frames = read_all(source, limit=420)
    source.close()
    assert info.frames is None and [f.seq for f in frames] == list(range(420))
    np.testing.assert_array_equal(frames[410].landmarks, frames[0].landmarks)


@pytest.mark.parametrize("content, error", [
    (None, "no such file"),
    (np.zeros((5, 10, 33, 4)), "expected \\(F, 33, 4\\)"),
    (np.zeros((5, 33, 3)), "expected \\(F, 33, 4\\)"),
    (np.full((5, 33, 4), np.nan), "NaN"),
])
def test_replay_refuses_bad_files(tmp_path, content, error):
    path = tmp_path / "poses.npy"
    if content is not None:
        np.save(path, content)
    with pytest.raises(PoseFileError, match=error):
        replay_source(path).open()


def test_video_file_gives_every_frame_and_what_it_holds(tmp_path):
    path = make_person_video(tmp_path / "person.avi", frames=8, size=(160, 120))
    source = VideoFileSource(path)
    info = source.open()
    frames = read_all(source)
    source.close()
    assert (info.width, info.height, info.fps, info.frames, info.fourcc) == (
        160, 120, 30.0, 8, "MJPG")
    assert source.lossless and not source.gives_poses
    assert [f.seq for f in frames] == list(range(8))
    assert all(isinstance(f, Frame) and f.image.shape == (120, 160, 3) for f in frames)


@pytest.mark.parametrize("make_source_, error", [
    (lambda p: VideoFileSource(p / "missing.avi"), "no such video file"),
    (lambda p: VideoFileSource((p / "notes.avi", (p / "notes.avi").write_text("hello"))[0]),
     "cannot open it as a video"),
    (lambda p: CameraSource(97), "camera 97: cannot be opened"),
    (lambda p: StreamSource("http://127.0.0.1:9/none.mjpg"), "cannot open the stream"),
])
def test_sources_that_cannot_open_say_so(tmp_path, make_source_, error):
    with pytest.raises(PoseRecError, match=error):
        make_source_(tmp_path).open()


def test_fps_does_not_apply_to_a_stream():
    with pytest.raises(PoseRecError, match="--fps does not apply"):
        make_source(SourceSpec("url", "rtsp://x/y"), requested_fps=15)


class FakeCamera:
    """A CameraSource stand-in that opens or not."""

    lossless, gives_poses = False, False

    def __init__(self, index, requested_fps=None, opens=True, mode=None):
        self.index, self.opens = index, opens

    def open(self):
        from realtime.sources import SourceInfo

        if not self.opens:
            raise PoseRecError("camera 0: cannot be opened")
        return SourceInfo("camera 0", 1280, 720, 30.0, "MJPG")


@pytest.mark.parametrize("camera_opens, expected", [(True, "auto: camera 0"),
                                                    (False, "auto: no camera opened, so demo")])
def test_auto_is_camera_0_else_demo(monkeypatch, weights_dir, camera_opens, expected):
    import realtime.sources as sources

    monkeypatch.setattr(sources, "CameraSource",
                        lambda index, fps=None, mode=None: FakeCamera(index, fps, opens=camera_opens))
    source, info = open_source(SourceSpec("auto"), weights_dir=weights_dir)
    assert info.description.startswith(expected)
    assert source.gives_poses is (not camera_opens)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    """Serves files without logging each request."""

    def log_message(self, *args):
        pass


def test_a_network_stream_is_read_as_a_live_source(tmp_path):
    make_person_video(tmp_path / "person.avi", frames=6, size=(160, 120))
    handler = functools.partial(QuietHandler, directory=str(tmp_path))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        source = StreamSource(f"http://127.0.0.1:{server.server_address[1]}/person.avi")
        info = source.open()
        frames = read_all(source)
        source.close()
    finally:
        server.shutdown()
        thread.join(5)
    assert (info.width, info.height, info.frames) == (160, 120, None)
    assert not source.lossless and [f.seq for f in frames] == list(range(6))
