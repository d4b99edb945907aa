"""`poserec cameras`: the real "no camera" answer on this camera-less machine; the listing's
format through injected enumeration records; the V4L2 mode query against a stand-in driver and
the ioctl numbers of <linux/videodev2.h>."""
from __future__ import annotations

import ctypes
from pathlib import Path
from types import SimpleNamespace

import pytest

from realtime.cli import camera_modes
from realtime.cli.cameras import NO_CAMERA, Camera, cameras_from, list_cameras, report
from realtime.cli.hints import typeable

from .helpers import run_poserec

HAS_VIDEO_DEVICE = any(Path("/dev").glob("video*"))


@pytest.mark.skipif(HAS_VIDEO_DEVICE, reason="this machine has a /dev/video device")
def test_no_camera_is_one_plain_line_and_exit_0():
    result = run_poserec("cameras")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [result.stdout.strip()]
    assert result.stdout.startswith("no camera found: plug one in")
    assert "poserec live --source demo`" in result.stdout and result.stderr == ""


def test_the_listing_names_each_camera_its_path_and_modes():
    found = [SimpleNamespace(index=2, name="HD Pro Webcam C920", path="/dev/video2"),
             SimpleNamespace(index=0, name="Integrated Camera", path="/dev/video0"),
             SimpleNamespace(index=0, name="Integrated Camera", path="/dev/video0")]
    modes = {"/dev/video0": ("MJPG 1280x720 @ 30 fps", "YUYV 640x480 @ 30, 15 fps"),
             "/dev/video2": ()}
    cameras = cameras_from(found, modes.__getitem__)
    assert [c.index for c in cameras] == [0, 2]
    assert report(cameras) == [
        "camera 0: Integrated Camera (/dev/video0)",
        "    MJPG 1280x720 @ 30 fps",
        "    YUYV 640x480 @ 30, 15 fps",
        "camera 2: HD Pro Webcam C920 (/dev/video2)  (modes: not listed by the platform; ask "
        "with --camera-size)",
        typeable("open one with `poserec live --source 0`"),
    ]


def test_a_record_without_path_or_name_still_lists():
    cameras = cameras_from([SimpleNamespace(index=1, name="", path=None)], lambda path: ())
    assert cameras == [Camera(1, "camera 1")]


def test_no_enumeration_here_falls_back_to_probing():
    def cannot():
        raise ImportError("No module named 'cv2_enumerate_cameras'")

    assert list_cameras(cannot, lambda: [Camera(0, "camera 0 (name unknown)")]) == [
        Camera(0, "camera 0 (name unknown)")]
    assert report([]) == [typeable(NO_CAMERA)]


def test_the_ioctl_numbers_and_layouts_are_the_kernel_s():
    """Values printed by a C program including /usr/include/linux/videodev2.h (gcc, x86_64)."""
    assert camera_modes.VIDIOC_QUERYCAP == 0x80685600
    assert camera_modes.VIDIOC_ENUM_FMT == 0xC0405602
    assert camera_modes.VIDIOC_ENUM_FRAMESIZES == 0xC02C564A
    assert camera_modes.VIDIOC_ENUM_FRAMEINTERVALS == 0xC034564B
    assert (camera_modes.Frmsizeenum.width.offset, camera_modes.Frmivalenum.denominator.offset,
            camera_modes.Fmtdesc.pixelformat.offset) == (12, 24, 44)
    assert ctypes.sizeof(camera_modes.Capability) == 104


def v4l2_code(text: str) -> int:
    return sum(ord(c) << (8 * i) for i, c in enumerate(text))


class DriverStandIn:
    """Answers the VIDIOC_ENUM_* ioctls for a camera with MJPG (two discrete sizes, rates 1/30
    and 1/15 s) and a YUYV whose sizes are a stepwise range; False past the last entry."""

    SIZES = {"MJPG": [(1280, 720), (640, 480)]}
    INTERVALS = [(1, 30), (1, 15), (1001, 30000)]

    def __call__(self, request, struct) -> bool:
        if request == camera_modes.VIDIOC_ENUM_FMT:
            formats = ["MJPG", "YUYV"]
            if struct.index >= len(formats):
                return False
            struct.pixelformat = v4l2_code(formats[struct.index])
            return True
        if request == camera_modes.VIDIOC_ENUM_FRAMESIZES:
            name = "".join(chr((struct.pixel_format >> (8 * i)) & 0xFF) for i in range(4))
            if name == "YUYV":
                struct.type = 3  # V4L2_FRMSIZE_TYPE_STEPWISE
                return struct.index == 0
            sizes = self.SIZES[name]
            if struct.index >= len(sizes):
                return False
            struct.type = camera_modes.V4L2_FRMSIZE_TYPE_DISCRETE
            struct.width, struct.height = sizes[struct.index]
            return True
        if request == camera_modes.VIDIOC_ENUM_FRAMEINTERVALS:
            intervals = self.INTERVALS if struct.width == 1280 else self.INTERVALS[:1]
            if struct.index >= len(intervals):
                return False
            struct.type = camera_modes.V4L2_FRMIVAL_TYPE_DISCRETE
            struct.numerator, struct.denominator = intervals[struct.index]
            return True
        return False


def test_modes_read_from_the_driver():
    assert camera_modes.modes(DriverStandIn()) == (
        "MJPG 1280x720 @ 30, 29.97, 15 fps", "MJPG 640x480 @ 30 fps",
        "YUYV (any size from the driver's range)")


def test_a_device_that_cannot_be_opened_lists_no_modes(tmp_path):
    assert camera_modes.device_modes(str(tmp_path / "video9")) == ()
    assert camera_modes.driver_name(str(tmp_path / "video9")) is None
    assert camera_modes.device_modes("/dev/video0", platform="darwin") == ()
