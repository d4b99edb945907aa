"""Parse the `--source` value: auto, a camera index, a video path, a URL, replay:FILE or demo."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from poserec_core.errors import PoseRecError

SOURCE_KINDS = ("auto", "camera", "video", "url", "replay", "demo")
URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
REPLAY_PREFIX = "replay:"


@dataclass(frozen=True)
class SourceSpec:
    """A parsed `--source`: kind (one of SOURCE_KINDS) and target (index, path or URL)."""

    kind: str
    target: str = ""

    def __post_init__(self):
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}")

    @property
    def camera_index(self) -> int:
        """The camera number of a `camera` source."""
        return int(self.target)

    @property
    def path(self) -> Path:
        """The file of a `video` or `replay` source."""
        return Path(self.target)

    @property
    def gives_poses(self) -> bool:
        """Whether the source replays poses (no MediaPipe)."""
        return self.kind in ("replay", "demo")


def parse_source(text: str) -> SourceSpec:
    """`auto`, `demo`, `replay:FILE`, a camera index (`0`), a URL, or a video file path."""
    text = text.strip()
    if text in ("auto", "demo"):
        return SourceSpec(text)
    if text.startswith(REPLAY_PREFIX):
        target = text[len(REPLAY_PREFIX):]
        if not target:
            raise PoseRecError("--source replay: needs a file, as in replay:poses.npy")
        return SourceSpec("replay", target)
    if text.isdigit():
        return SourceSpec("camera", str(int(text)))
    if text.lower().startswith(URL_SCHEMES):
        return SourceSpec("url", text)
    if not text:
        raise PoseRecError("--source is empty; use auto, a camera index, a video file, a URL, "
                           "replay:FILE or demo")
    return SourceSpec("video", text)
