"""Recordings of a live session: the pose sequence (`--record-poses OUT.npy`) and the annotated
video (`--record OUT.mp4`).

The pose recording holds the frames with a person, in order: exactly what the ring buffer sees.
Frames without a person are not rows of it (a replay row is always a pose), so
`--source replay:OUT.npy` reproduces the session's rankings while its `window_end` indices count
recorded frames only. Every frame is appended to a valid `.npy` as it arrives: its header, whose
length numpy keeps fixed while the first axis grows, is rewritten after each frame, so a crash
loses at most the frames still in flight.
"""
from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS

from ..messages import PoseFrame

POSE_DTYPE = np.dtype("<f4")
"""How recorded poses are stored: little-endian float32, as PoseFrame landmarks are."""

VIDEO_FOURCCS = {".mp4": "mp4v", ".avi": "MJPG"}
"""The codec `--record` writes for each file type (both ship with OpenCV's pip wheels)."""


def writable_path(option: str, path: Path) -> Path:
    """`path`, once its directory exists; PoseRecError naming the option otherwise."""
    if not path.parent.is_dir():
        raise PoseRecError(f"{option} {path}: no such directory {path.parent}")
    return path


def _pose_header(frames: int) -> dict:
    return {"descr": POSE_DTYPE.str, "fortran_order": False,
            "shape": (frames, NUM_LANDMARKS, NUM_CHANNELS)}


class PoseRecorder:
    """Sink of `--record-poses`: each PoseFrame with a person appended to a growing `.npy`
    (F, 33, 4) float32; after every frame the file is a complete `.npy` of the frames so far."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.frames = 0
        self._file: BinaryIO | None = None

    def open(self) -> None:
        """Create (or truncate) the file as an empty sequence (0, 33, 4)."""
        writable_path("--record-poses", self.path)
        try:
            self._file = open(self.path, "wb")
        except OSError as exc:
            raise PoseRecError(f"--record-poses {self.path}: cannot write it ({exc.strerror})"
                               ) from None
        self._write_header()
        self._file.flush()

    def __call__(self, message: object) -> None:
        """Append the landmarks of a frame with a person; other messages are not poses."""
        if not isinstance(message, PoseFrame) or message.landmarks is None:
            return
        self._file.seek(0, os.SEEK_END)
        self._file.write(message.landmarks.astype(POSE_DTYPE, copy=False).tobytes())
        self.frames += 1
        self._write_header()
        self._file.flush()

    def close(self) -> None:
        """Write the final header, sync the file to disk and close it."""
        if self._file is None:
            return
        self._write_header()
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        self._file = None

    def _write_header(self) -> None:
        self._file.seek(0)
        np.lib.format.write_array_header_1_0(self._file, _pose_header(self.frames))


class VideoRecorder:
    """Frame output of `--record`: each annotated BGR frame of `size` (width, height) becomes
    one video frame at `fps`, with the codec VIDEO_FOURCCS names for the file type."""

    def __init__(self, path: Path, size: tuple[int, int], fps: float):
        self.path = Path(path)
        self.size = size
        self.fps = fps
        self._writer = None

    def open(self) -> None:
        """Create the video file; PoseRecError when OpenCV cannot write it."""
        import cv2

        writable_path("--record", self.path)
        fourcc = VIDEO_FOURCCS.get(self.path.suffix.lower())
        if fourcc is None:
            raise PoseRecError(f"--record {self.path}: use a {' or '.join(VIDEO_FOURCCS)} file")
        writer = cv2.VideoWriter(str(self.path), cv2.VideoWriter_fourcc(*fourcc), self.fps,
                                 self.size)
        if not writer.isOpened():
            writer.release()
            raise PoseRecError(f"--record {self.path}: OpenCV cannot write a {fourcc} video there")
        self._writer = writer

    def send(self, frame: np.ndarray) -> None:
        """Append one frame (H, W, 3) BGR of the recorder's size."""
        self._writer.write(frame)

    def close(self) -> None:
        """Finish the file (OpenCV writes the index on release)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
