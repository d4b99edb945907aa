"""Image sources read with OpenCV: a camera, a video file, a network stream (rtsp/http)."""
from __future__ import annotations

import os
import time
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from poserec_core.errors import PoseRecError

from ..messages import Frame
from .base import SourceInfo, SourceLost, SourceTruncated
from .spec import CameraMode

STREAM_TIMEOUT_MS = 5000
"""How long opening a network stream, or waiting for one of its frames, may take."""

FFMPEG_LOG_LEVEL = "-8"
"""AV_LOG_QUIET for OpenCV's FFmpeg backend (OPENCV_FFMPEG_LOGLEVEL, read once, when FFmpeg first
opens something): its own lines ("[tcp @ 0x...] Connection refused", "[mjpeg @ 0x...] error dc")
would come on top of the one line that says what failed. Set the variable to see them again."""


def _fourcc(code: float) -> str | None:
    value = int(code)
    text = "".join(chr((value >> (8 * i)) & 0xFF) for i in range(4))
    return text if value and text.isprintable() else None


def _info(capture, description: str, has_length: bool) -> SourceInfo:
    import cv2

    count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    return SourceInfo(description, int(capture.get(cv2.CAP_PROP_FRAME_WIDTH)) or None,
                      int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT)) or None,
                      float(capture.get(cv2.CAP_PROP_FPS)) or None,
                      _fourcc(capture.get(cv2.CAP_PROP_FOURCC)),
                      count if has_length and count > 0 else None)


@contextmanager
def _quiet_opencv():
    """Silence OpenCV's own log while probing a device (its warnings are not the user's errors),
    and FFmpeg's unless the user asked for it."""
    import cv2

    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", FFMPEG_LOG_LEVEL)
    previous = cv2.getLogLevel()
    cv2.setLogLevel(0)
    try:
        yield
    finally:
        cv2.setLogLevel(previous)


class _OpenCVSource:
    """Shared read/close of a cv2.VideoCapture; subclasses open it."""

    gives_poses = False
    lossless = False

    def __init__(self):
        self._capture = None
        self._seq = 0

    def read(self) -> Frame | None:
        """The next BGR frame, or None at the end (see each source's `_on_end`)."""
        ok, image = self._capture.read()
        if not ok:
            return self._on_end()
        frame = Frame(self._seq, time.monotonic_ns(), image)
        self._seq += 1
        return frame

    def _on_end(self) -> None:
        return None

    def close(self) -> None:
        """Release the capture."""
        if self._capture is not None:
            self._capture.release()
            self._capture = None


class CameraSource(_OpenCVSource):
    """A local camera by index, asked for a 1-frame buffer (stale frames are dropped) and for
    `mode` (`--camera-size`, `--camera-fps` or else `--fps`, `--fourcc`)."""

    def __init__(self, index: int, requested_fps: float | None = None,
                 mode: CameraMode = CameraMode()):
        super().__init__()
        self.index = index
        self.mode = mode if mode.fps or not requested_fps else replace(mode, fps=requested_fps)

    def open(self) -> SourceInfo:
        """Open the camera, ask for the mode; report the size, FPS and FOURCC it actually gives
        (`SourceInfo.asked` says what it did not grant)."""
        import cv2

        with _quiet_opencv():
            capture = cv2.VideoCapture(self.index)
            if not capture.isOpened():
                capture.release()
                raise PoseRecError(f"camera {self.index}: cannot be opened (no such device, or it "
                                   "is busy; `poserec cameras` lists them); pass --source with a "
                                   "video file, a URL, replay:FILE or demo")
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        mode = self.mode
        if mode.fourcc:  # before the size: V4L2 picks the sizes a format offers
            capture.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter_fourcc(*mode.fourcc))
        if mode.size:
            capture.set(cv2.CAP_PROP_FRAME_WIDTH, mode.size.width)
            capture.set(cv2.CAP_PROP_FRAME_HEIGHT, mode.size.height)
        if mode.fps:
            capture.set(cv2.CAP_PROP_FPS, mode.fps)
        self._capture = capture
        info = _info(capture, f"camera {self.index}", has_length=False)
        refused = not_granted(mode, info)
        return replace(info, asked=str(refused)) if refused.asked else info

    def _on_end(self) -> None:
        raise SourceLost(f"camera {self.index}: stopped delivering frames (unplugged or taken by "
                         "another program)")


FPS_TOLERANCE = 0.5
"""Frames per second a camera may differ from the rate asked and still count as granting it."""


def not_granted(mode: CameraMode, info: SourceInfo) -> CameraMode:
    """The parts of the mode asked that an opened camera does not give (CameraMode() when it
    gives them all)."""
    size = mode.size is not None and (info.width, info.height) != (mode.size.width,
                                                                  mode.size.height)
    fps = bool(mode.fps) and (info.fps is None or abs(info.fps - mode.fps) > FPS_TOLERANCE)
    fourcc = mode.fourcc is not None and (info.fourcc or "").upper() != mode.fourcc.upper()
    return CameraMode(mode.size if size else None, mode.fps if fps else None,
                      mode.fourcc if fourcc else None)


class VideoFileSource(_OpenCVSource):
    """A video file, read frame by frame; lossless. `option` names where the path came from in
    error messages ("--source" for `live`, "" for `extract`'s VIDEO argument)."""

    lossless = True

    def __init__(self, path: Path, option: str = "--source"):
        super().__init__()
        self.path = Path(path)
        self._named = f"{option} {self.path}".lstrip()
        self._declared: int | None = None

    def open(self) -> SourceInfo:
        """Open the file; a missing or undecodable file is a PoseRecError."""
        import cv2

        if not self.path.is_file():
            raise PoseRecError(f"{self._named}: no such video file")
        with _quiet_opencv():
            capture = cv2.VideoCapture(str(self.path))
        if not capture.isOpened():
            raise PoseRecError(f"{self._named}: OpenCV cannot open it as a video")
        self._capture = capture
        info = _info(capture, f"video {self.path}", has_length=True)
        self._declared = info.frames
        return info

    def _on_end(self) -> None:
        """The end of the file; SourceTruncated when it comes before the declared frame count."""
        if self._declared and self._seq < self._declared:
            raise SourceTruncated(f"video {self.path}", self._seq, self._declared)


class StreamSource(_OpenCVSource):
    """A network stream (rtsp, http, ...) as OpenCV's FFmpeg backend opens it; stale frames drop.

    A stream that declares a length (a video file served over HTTP) ends after its last frame;
    one that stops before (a live camera stream) raises SourceLost, so that it is reopened.
    """

    def __init__(self, url: str):
        super().__init__()
        self.url = url
        self._declared = 0

    def open(self) -> SourceInfo:
        """Connect, waiting at most STREAM_TIMEOUT_MS."""
        import cv2

        params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, STREAM_TIMEOUT_MS,
                  cv2.CAP_PROP_READ_TIMEOUT_MSEC, STREAM_TIMEOUT_MS]
        with _quiet_opencv():
            capture = cv2.VideoCapture(self.url, cv2.CAP_ANY, params)
            if not capture.isOpened():
                capture.release()
                raise PoseRecError(f"--source {self.url}: cannot open the stream (unreachable, or "
                                   "not a video OpenCV can decode)")
        capture.set(cv2.CAP_PROP_BUFFERSIZE, 1)
        self._capture = capture
        self._declared = max(int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), 0)
        return _info(capture, f"stream {self.url}", has_length=False)

    def _on_end(self) -> None:
        if not self._declared or self._seq < self._declared:
            raise SourceLost(f"stream {self.url}: stopped delivering frames")
