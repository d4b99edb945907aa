"""Parse the `--source` value: auto, a camera index, a video path, a URL, replay:FILE or demo."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from poserec_core.errors import PoseRecError

SOURCE_KINDS = ("auto", "camera", "video", "url", "replay", "demo")
URL_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://")
REPLAY_PREFIX = "replay:"
ACCEPTED_FORMS = ("auto, a camera index (0; `poserec cameras` lists them), a video file "
                  "(clip.mp4), an rtsp/http URL, replay:FILE.npy or demo")
"""What `--source` accepts, for error messages."""
LOOPING_KINDS = ("auto", "demo", "replay")
"""Sources `--loop` applies to (auto: when it falls back to the demo)."""
CAMERA_KINDS = ("auto", "camera")
"""Sources the camera mode (`--camera-size`, `--camera-fps`, `--fourcc`) applies to."""


@dataclass(frozen=True)
class CameraSize:
    """A camera frame size, `WxH` on the command line."""

    width: int
    height: int

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


@dataclass(frozen=True)
class CameraMode:
    """The mode asked of a camera; None leaves the camera's own choice."""

    size: CameraSize | None = None
    fps: float | None = None
    fourcc: str | None = None

    def __post_init__(self):
        if self.fourcc is not None and (len(self.fourcc) != 4 or not self.fourcc.isprintable()):
            raise PoseRecError(f"--fourcc {self.fourcc!r}: a FOURCC is 4 characters, as in MJPG")

    @property
    def asked(self) -> bool:
        """Whether anything was asked."""
        return self != CameraMode()

    def __str__(self) -> str:
        parts = [str(self.size)] if self.size else []
        parts += [f"{self.fps:g} fps"] if self.fps else []
        parts += [self.fourcc] if self.fourcc else []
        return ", ".join(parts)


@dataclass(frozen=True)
class SourceSpec:
    """A parsed `--source`: kind (one of SOURCE_KINDS) and target (index, path or URL).

    loop: whether a demo or replay starts over at its end (`--loop`); None: the source's own
    habit (the demo loops, a replay plays once). camera: the mode asked of a camera.
    """

    kind: str
    target: str = ""
    loop: bool | None = None
    camera: CameraMode = CameraMode()

    def __post_init__(self):
        if self.kind not in SOURCE_KINDS:
            raise ValueError(f"unknown source kind {self.kind!r}")
        if self.loop and self.kind not in LOOPING_KINDS:
            raise PoseRecError(f"--loop applies to --source demo and replay:FILE, not to a "
                               f"{self.kind} source")
        if self.camera.asked and self.kind not in CAMERA_KINDS:
            raise PoseRecError(f"--camera-size, --camera-fps and --fourcc apply to a camera "
                               f"(--source 0, or auto), not to a {self.kind} source")

    def __str__(self) -> str:
        """The `--source` text that parses back to this kind and target."""
        if self.kind in ("auto", "demo"):
            return self.kind
        return REPLAY_PREFIX + self.target if self.kind == "replay" else self.target

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
    """`auto`, `demo`, `replay:FILE`, a camera index (`0`), a URL, or a video file path.

    A bare word that names no file (`webcam`) is an error that lists the accepted forms.
    """
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
        raise PoseRecError(f"--source is empty; use {ACCEPTED_FORMS}")
    if not Path(text).suffix and not any(sep in text for sep in "/\\") and not Path(text).exists():
        raise PoseRecError(f"--source {text}: not a source; use {ACCEPTED_FORMS}")
    return SourceSpec("video", text)
