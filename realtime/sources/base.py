"""What every source offers the capture thread."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from poserec_core.errors import PoseRecError

from ..messages import Frame, PoseFrame


class SourceLost(PoseRecError):
    """A live source (camera, network stream) stopped delivering frames; the capture thread
    closes it and reopens it with backoff until it comes back or the run is stopped."""


class SourceTruncated(PoseRecError):
    """A video file ended before the frame count its container declares (truncated or corrupt
    halfway): the frames decoded so far were used, the capture thread reports the rest."""

    def __init__(self, source: str, frames_read: int, frames_declared: int):
        super().__init__(f"{source}: only {frames_read} of the {frames_declared} frames it "
                         f"declares could be decoded; the other {frames_declared - frames_read} "
                         "were not used (the file is truncated or corrupt)")
        self.source = source
        self.frames_read = frames_read
        self.frames_declared = frames_declared


@dataclass(frozen=True)
class SourceInfo:
    """What an opened source actually delivers (a camera may not grant what was asked).

    fps: the source's own frame rate (None when unknown); file and replay sources are paced at
    it unless `--fps` says otherwise. frames: the length of a file or replay, None for live ones.
    asked: the camera mode that was asked and not granted (None when granted or not asked).
    """

    description: str
    width: int | None = None
    height: int | None = None
    fps: float | None = None
    fourcc: str | None = None
    frames: int | None = None
    asked: str | None = None

    def summary(self) -> str:
        """One line: what was opened, its resolution, rate and codec when known."""
        parts = [self.description]
        if self.width and self.height:
            parts.append(f"{self.width}x{self.height}")
        if self.fps:
            parts.append(f"{self.fps:g} fps")
        if self.fourcc:
            parts.append(self.fourcc)
        if self.frames is not None:
            parts.append(f"{self.frames} frames")
        line = ", ".join(parts)
        return f"{line} (asked for {self.asked}; the camera gave this instead)" if self.asked else line


class Source(Protocol):
    """A source of frames. open() in the main thread (errors are PoseRecError), read() in the
    capture thread, close() after that thread ended.

    lossless: every frame must reach the model (files, replays); False for cameras and streams,
    whose stale frames are dropped. gives_poses: read() returns PoseFrames and MediaPipe is
    skipped (replay, demo); otherwise it returns Frames.
    """

    lossless: bool
    gives_poses: bool

    def open(self) -> SourceInfo:
        """Open the device or file; raise PoseRecError with what to do when it cannot."""

    def read(self) -> Frame | PoseFrame | None:
        """The next frame, stamped with its index in the source and capture time; None at the end.

        A camera or stream that stops raises SourceLost; a video file that ends before its
        declared length raises SourceTruncated.
        """

    def close(self) -> None:
        """Release the device or file."""
