"""`poserec cameras`: the cameras `--source N` can open, with their names (and, on Linux, the
modes their driver lists).

Names come from `cv2-enumerate-cameras` on the platform's own capture backend (V4L2 on Linux,
Media Foundation on Windows, AVFoundation on macOS), whose indices are the ones `--source N`
opens. Without that package, indices 0..PROBED_INDICES-1 are probed with OpenCV. No camera is
not an error: one line says so (exit 0); `poserec doctor` reports it as missing.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Callable, Iterable

from .hints import typeable

PROBED_INDICES = 10
"""How many indices the OpenCV fallback tries when the cameras cannot be enumerated."""

NO_CAMERA = ("no camera found: plug one in (a USB webcam shows up as /dev/video0 on Linux), or "
             "use `poserec live --source demo`, a video file or an rtsp/http URL")


@dataclass(frozen=True)
class Camera:
    """A camera `--source index` opens: its name, device path (when known) and the modes its
    driver lists ("MJPG 1280x720 @ 30 fps"; empty when the platform does not say)."""

    index: int
    name: str
    path: str | None = None
    modes: tuple[str, ...] = ()

    def lines(self) -> list[str]:
        """How `poserec cameras` shows it: one line, then one indented line per mode."""
        where = f" ({self.path})" if self.path else ""
        head = f"camera {self.index}: {self.name}{where}"
        if not self.modes:
            return [head + "  (modes: not listed by the platform; ask with --camera-size)"]
        return [head] + [f"    {mode}" for mode in self.modes]


def capture_backend(platform: str = sys.platform) -> int:
    """The OpenCV capture backend whose indices `cv2.VideoCapture(index)` opens here."""
    import cv2

    if platform.startswith("linux"):
        return cv2.CAP_V4L2
    if platform.startswith("win"):
        return cv2.CAP_MSMF
    if platform == "darwin":
        return cv2.CAP_AVFOUNDATION
    return cv2.CAP_ANY


def enumerated_cameras(modes_of: Callable[[str], tuple[str, ...]] | None = None) -> list[Camera]:
    """The cameras `cv2-enumerate-cameras` finds on this platform's backend; raises ImportError
    or NotImplementedError when it cannot enumerate here."""
    from cv2_enumerate_cameras import enumerate_cameras

    if modes_of is None:
        from .camera_modes import device_modes as modes_of
    found = enumerate_cameras(capture_backend())
    return cameras_from(found, modes_of)


def cameras_from(found: Iterable, modes_of: Callable[[str], tuple[str, ...]]) -> list[Camera]:
    """Cameras from enumerated records (`index`, `name`, `path` attributes), by index."""
    cameras = {}
    for info in found:
        path = getattr(info, "path", None) or None
        modes = modes_of(path) if path else ()
        cameras.setdefault(int(info.index), Camera(int(info.index), info.name or f"camera "
                                                   f"{info.index}", path, tuple(modes)))
    return [cameras[index] for index in sorted(cameras)]


def probed_cameras(count: int = PROBED_INDICES) -> list[Camera]:
    """The indices below `count` that OpenCV opens (no names: the platform did not say)."""
    import cv2

    from ..sources.opencv_sources import _quiet_opencv

    found = []
    with _quiet_opencv():
        for index in range(count):
            capture = cv2.VideoCapture(index)
            try:
                if capture.isOpened():
                    found.append(Camera(index, f"camera {index} (name unknown)"))
            finally:
                capture.release()
    return found


def list_cameras(enumerate_fn: Callable[[], list[Camera]] = enumerated_cameras,
                 probe_fn: Callable[[], list[Camera]] = probed_cameras) -> list[Camera]:
    """The cameras here: enumerated by name, else (no enumeration on this platform) probed."""
    try:
        return enumerate_fn()
    except (ImportError, NotImplementedError):
        return probe_fn()


def report(cameras: list[Camera]) -> list[str]:
    """The lines `poserec cameras` prints."""
    if not cameras:
        return [typeable(NO_CAMERA)]
    return [line for camera in cameras for line in camera.lines()] + [
        typeable(f"open one with `poserec live --source {cameras[0].index}`")]


def add_parser(sub) -> None:
    """Register `cameras`."""
    parser = sub.add_parser("cameras", help="list the cameras --source N can open")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Print the cameras (or the one line that says there is none); exit 0 either way."""
    for line in report(list_cameras()):
        print(line)
    return 0
