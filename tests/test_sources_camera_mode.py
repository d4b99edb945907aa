"""The camera mode: `--camera-size`, `--camera-fps`, `--fourcc` parse, reach the camera through
the SourceSpec, are set on the capture (FOURCC before the size), and the source line reports what
the camera actually gave. No camera here: the capture is a stand-in that grants only the modes
its "driver" lists, as V4L2 does (it keeps the nearest it has and says nothing)."""
from __future__ import annotations

import argparse

import cv2
import pytest

from realtime.cli import build_parser
from realtime.cli.camera_options import camera_fps, camera_size, fourcc
from realtime.cli.live import pipeline_config
from realtime.sources import CameraMode, CameraSize, CameraSource, parse_source

from .helpers import run_main


@pytest.mark.parametrize("text, expected", [
    ("1280x720", CameraSize(1280, 720)), ("1920X1080", CameraSize(1920, 1080)),
    (" 640 x 480 ", CameraSize(640, 480)), ("16384x1", CameraSize(16384, 1)),
])
def test_camera_size_parses(text, expected):
    assert camera_size(text) == expected


@pytest.mark.parametrize("parse, text, error", [
    (camera_size, "12x", "'12x' is not a size WxH, as in 1280x720"),
    (camera_size, "1280*720", "not a size WxH"),
    (camera_size, "0x720", "each side must be in [1, 16384]"),
    (camera_size, "20000x10", "each side must be in [1, 16384]"),
    (camera_size, "-1x5", "not a size WxH"),
    (fourcc, "MJPEG", "'MJPEG' is not a FOURCC (4 characters"),
    (fourcc, "MJ", "is not a FOURCC"),
    (fourcc, "MJ\tG", "is not a FOURCC"),
    (camera_fps, "0", "0 is not a frame rate"),
    (camera_fps, "-5", "outside"),
    (camera_fps, "fast", "'fast' is not a number"),
])
def test_bad_camera_values_are_refused(parse, text, error):
    with pytest.raises(argparse.ArgumentTypeError) as info:
        parse(text)
    assert error in str(info.value)


def test_fourcc_is_upper_cased_and_fps_is_a_number():
    assert fourcc("mjpg") == "MJPG"
    assert camera_fps("29.97") == 29.97


@pytest.mark.parametrize("args, error", [
    (["--camera-size", "12x"], "poserec live: error: argument --camera-size: '12x' is not a size"),
    (["--fourcc", "MJPEG"], "poserec live: error: argument --fourcc: 'MJPEG' is not a FOURCC"),
    (["--camera-fps", "0"], "poserec live: error: argument --camera-fps: 0 is not a frame rate"),
    (["--source", "demo", "--camera-size", "1280x720"],
     "poserec live: error: --camera-size, --camera-fps and --fourcc apply to a camera (--source 0, "
     "or auto), not to a demo source"),
    (["--source", "clip.mp4", "--fourcc", "MJPG"], "not to a video source"),
    (["--source", "rtsp://127.0.0.1:9/x", "--camera-fps", "30"], "not to a url source"),
])
def test_a_bad_camera_option_is_one_line_and_exit_2(capsys, args, error):
    code, out, err = run_main(capsys, "live", "--headless", *args)
    assert code == 2 and out == ""
    assert err.startswith("poserec live: error: ") and error in err
    assert len(err.splitlines()) == 1


@pytest.mark.parametrize("source", ["0", "auto", "3"])
def test_the_mode_reaches_the_camera_source_spec(source):
    args = build_parser().parse_args(["live", "--source", source, "--camera-size", "1920x1080",
                                      "--camera-fps", "30", "--fourcc", "mjpg"])
    spec = pipeline_config(args).source
    assert (spec.kind, spec.target) == (parse_source(source).kind, parse_source(source).target)
    assert spec.camera == CameraMode(CameraSize(1920, 1080), 30.0, "MJPG")


def test_no_camera_option_leaves_the_camera_its_own_mode():
    args = build_parser().parse_args(["live", "--source", "0"])
    assert pipeline_config(args).source.camera == CameraMode()
    assert not CameraMode().asked


def fourcc_code(text: str) -> float:
    return float(cv2.VideoWriter_fourcc(*text))


class DriverStandIn:
    """A cv2.VideoCapture stand-in for a camera whose driver has `modes` {(fourcc, w, h): fps
    list}; it starts in its first mode, takes a format, size or rate it has and keeps its
    current one otherwise. As OpenCV's V4L2 backend does, a width waits for the height and the
    two are asked together. Records every set() in order."""

    MODES = {("YUYV", 640, 480): (30.0,), ("YUYV", 1280, 720): (10.0,),
             ("MJPG", 640, 480): (30.0,), ("MJPG", 1280, 720): (30.0, 15.0)}
    instances: list = []

    def __init__(self, index):
        self.index = index
        self.fourcc, self.width, self.height = next(iter(self.MODES))
        self.fps = self.MODES[(self.fourcc, self.width, self.height)][0]
        self.calls = []
        self.pending_width = None
        DriverStandIn.instances.append(self)

    def isOpened(self):
        return True

    def set(self, prop, value):
        self.calls.append((prop, value))
        if prop == cv2.CAP_PROP_FOURCC:
            code = int(value)
            text = "".join(chr((code >> (8 * i)) & 0xFF) for i in range(4))
            if any(m[0] == text for m in self.MODES):
                self.fourcc = text
        elif prop == cv2.CAP_PROP_FRAME_WIDTH:
            self.pending_width = int(value)
        elif prop == cv2.CAP_PROP_FRAME_HEIGHT:
            size = (self.pending_width or self.width, int(value))
            if (self.fourcc, *size) in self.MODES:
                self.width, self.height = size
                rates = self.MODES[(self.fourcc, *size)]
                self.fps = self.fps if self.fps in rates else rates[0]
        elif prop == cv2.CAP_PROP_FPS and value in self.MODES.get(
                (self.fourcc, self.width, self.height), ()):
            self.fps = value
        return True

    def get(self, prop):
        return {cv2.CAP_PROP_FRAME_WIDTH: self.width, cv2.CAP_PROP_FRAME_HEIGHT: self.height,
                cv2.CAP_PROP_FPS: self.fps, cv2.CAP_PROP_FOURCC: fourcc_code(self.fourcc),
                cv2.CAP_PROP_FRAME_COUNT: -1}.get(prop, 0.0)

    def release(self):
        pass


@pytest.fixture
def driver(monkeypatch):
    DriverStandIn.instances = []
    monkeypatch.setattr(cv2, "VideoCapture", DriverStandIn)
    return DriverStandIn


@pytest.mark.parametrize("mode, requested_fps, summary", [
    (CameraMode(), None, "camera 0, 640x480, 30 fps, YUYV"),
    (CameraMode(CameraSize(1280, 720), 30.0, "MJPG"), None, "camera 0, 1280x720, 30 fps, MJPG"),
    (CameraMode(CameraSize(1280, 720), None, "MJPG"), 15.0, "camera 0, 1280x720, 15 fps, MJPG"),
    (CameraMode(CameraSize(1920, 1080), None, "MJPG"), None,
     "camera 0, 640x480, 30 fps, MJPG (asked for 1920x1080; the camera gave this instead)"),
    (CameraMode(CameraSize(1280, 720), 30.0), None,
     "camera 0, 1280x720, 10 fps, YUYV (asked for 30 fps; the camera gave this instead)"),
    (CameraMode(fourcc="H264"), 60.0,
     "camera 0, 640x480, 30 fps, YUYV (asked for 60 fps, H264; the camera gave this instead)"),
])
def test_the_source_line_reports_the_mode_the_camera_gave(driver, mode, requested_fps, summary):
    source = CameraSource(0, requested_fps, mode=mode)
    info = source.open()
    source.close()
    assert info.summary() == summary


def test_the_format_is_set_before_the_size_and_camera_fps_wins_over_fps(driver):
    source = CameraSource(0, 15.0, mode=CameraMode(CameraSize(1280, 720), 30.0, "MJPG"))
    source.open()
    source.close()
    props = [prop for prop, _ in driver.instances[-1].calls if prop != cv2.CAP_PROP_BUFFERSIZE]
    assert props == [cv2.CAP_PROP_FOURCC, cv2.CAP_PROP_FRAME_WIDTH, cv2.CAP_PROP_FRAME_HEIGHT,
                     cv2.CAP_PROP_FPS]
    assert dict(driver.instances[-1].calls)[cv2.CAP_PROP_FPS] == 30.0


def test_asking_a_mode_of_a_missing_camera_is_one_line(capsys):
    """No camera on this machine: the real open fails with the one line (exit 2)."""
    code, _, err = run_main(capsys, "live", "--source", "97", "--headless",
                            "--camera-size", "1280x720", "--fourcc", "MJPG")
    assert code == 2
    assert err.startswith("poserec live: error: camera 97: cannot be opened")
    assert len(err.splitlines()) == 1
