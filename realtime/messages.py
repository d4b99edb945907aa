"""Messages between threads: frozen dataclasses that validate their shapes, monotonic-ns times."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Union

import numpy as np

from poserec_core.recommender import Ranking
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS


def _ms(later_ns: int, earlier_ns: int) -> float:
    return (later_ns - earlier_ns) / 1e6


@dataclass(frozen=True)
class Frame:
    """A captured image (BGR, H x W x 3 uint8) with its index in the source and capture time."""

    seq: int
    t_capture_ns: int
    image: np.ndarray

    def __post_init__(self):
        if self.image.ndim != 3 or self.image.shape[2] != 3 or self.image.dtype != np.uint8:
            raise ValueError(f"Frame.image must be (H, W, 3) uint8, got {self.image.shape} "
                             f"{self.image.dtype}")


@dataclass(frozen=True)
class PoseFrame:
    """The pose of one frame: landmarks (33, 4) float32, or None when no person was found.

    `image` is the frame the pose came from (shared, not copied), None for pose-only sources.
    `mask` is MediaPipe's person segmentation of that image (H, W) uint8, 255 = person, when
    segmentation is on and a person was found; else None.
    """

    seq: int
    t_capture_ns: int
    t_pose_ns: int
    landmarks: np.ndarray | None
    image: np.ndarray | None = field(default=None, repr=False, compare=False)
    mask: np.ndarray | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if self.landmarks is not None and (
                self.landmarks.shape != (NUM_LANDMARKS, NUM_CHANNELS)
                or self.landmarks.dtype != np.float32):
            raise ValueError(f"PoseFrame.landmarks must be (33, 4) float32, got "
                             f"{self.landmarks.shape} {self.landmarks.dtype}")
        if self.t_pose_ns < self.t_capture_ns:
            raise ValueError("PoseFrame.t_pose_ns is before its capture")
        if self.mask is not None and (
                self.mask.ndim != 2 or self.mask.dtype != np.uint8 or self.image is None
                or self.mask.shape != self.image.shape[:2] or self.landmarks is None):
            raise ValueError(f"PoseFrame.mask must be (H, W) uint8 of a frame with an image and "
                             f"a person, got {self.mask.shape} {self.mask.dtype}")

    @property
    def has_person(self) -> bool:
        """Whether a person was detected in this frame."""
        return self.landmarks is not None


@dataclass(frozen=True)
class EffectScore:
    """One distinct effect of a ranking: its name, its best item in the catalog, that score."""

    name: str
    item: int
    score: float

    def __post_init__(self):
        if not self.name or self.item < 0:
            raise ValueError(f"EffectScore needs a name and an item >= 0, got {self.name!r} "
                             f"{self.item}")

    def to_json(self) -> dict:
        """{"name": s, "item": i, "score": x}."""
        return {"name": self.name, "item": int(self.item), "score": float(self.score)}


@dataclass(frozen=True)
class Recommendation:
    """The ranking of one window, with the time each stage finished (time.monotonic_ns()).

    window_end: source index of the window's last frame; t_capture_ns: that frame's capture.
    ranking: the raw top-k items (names repeat); effects: the top-k distinct names, best first,
    each with its best item (what a person is shown; effects[0] is the selected effect).
    """

    window_end: int
    ranking: Ranking
    t_capture_ns: int
    t_pose_ns: int
    t_window_ns: int
    t_encode_ns: int
    t_rank_ns: int
    device: str
    skipped_windows: int = 0
    effects: tuple[EffectScore, ...] = ()

    def __post_init__(self):
        times = (self.t_capture_ns, self.t_pose_ns, self.t_window_ns, self.t_encode_ns,
                 self.t_rank_ns)
        if any(b < a for a, b in zip(times, times[1:])):
            raise ValueError(f"Recommendation stage times are out of order: {times}")
        if self.window_end < 0 or self.skipped_windows < 0:
            raise ValueError("Recommendation.window_end and skipped_windows must be >= 0")
        names = [effect.name for effect in self.effects]
        if len(set(names)) != len(names):
            raise ValueError(f"Recommendation.effects repeats a name: {names}")
        scores = [effect.score for effect in self.effects]
        if any(b > a for a, b in zip(scores, scores[1:])):
            raise ValueError(f"Recommendation.effects are not best first: {scores}")

    @property
    def latency_ms(self) -> float:
        """Window latency: capture of the window's last frame to its ranking."""
        return _ms(self.t_rank_ns, self.t_capture_ns)

    def stage_ms(self) -> dict[str, float]:
        """Milliseconds spent in each stage for the window's last frame."""
        return {"pose": _ms(self.t_pose_ns, self.t_capture_ns),
                "buffer": _ms(self.t_window_ns, self.t_pose_ns),
                "encode": _ms(self.t_encode_ns, self.t_window_ns),
                "rank": _ms(self.t_rank_ns, self.t_encode_ns)}

    def to_json(self) -> dict:
        """The record `--jsonl` writes and the WebSocket sends."""
        return {"window_end": self.window_end, "top": self.ranking.to_json(),
                "effects": [effect.to_json() for effect in self.effects],
                "latency_ms": round(self.latency_ms, 3),
                "stages_ms": {k: round(v, 3) for k, v in self.stage_ms().items()},
                "t_capture_ns": self.t_capture_ns, "device": self.device,
                "skipped_windows": self.skipped_windows}


@dataclass(frozen=True)
class NoPerson:
    """Published after `reset_after` frames in a row without a person; the buffer was cleared."""

    seq: int
    t_capture_ns: int


@dataclass(frozen=True)
class StreamEnded:
    """The source has no more frames (end of file or replay); workers drain and stop."""

    frames: int


@dataclass(frozen=True)
class WorkerFailed:
    """A worker raised; the main thread ends the run with this error and a non-zero status."""

    worker: str
    error: BaseException


@dataclass(frozen=True)
class SourceStalled:
    """A live source stopped giving new frames: none came (`frozen` False) or every one was the
    same image (`frozen` True) since `t_last_new_ns`; `reason` says so in one line. Published
    once per stall, at `t_detected_ns`, by the watchdog."""

    source: str
    reason: str
    frozen: bool
    t_last_new_ns: int
    t_detected_ns: int

    def __post_init__(self):
        if self.t_detected_ns < self.t_last_new_ns:
            raise ValueError("SourceStalled.t_detected_ns is before its last new frame")


@dataclass(frozen=True)
class SourceRecovered:
    """New frames flow again after a SourceStalled (the source was reopened, or the image moved)."""

    source: str
    t_stalled_ns: int
    t_recovered_ns: int

    def __post_init__(self):
        if self.t_recovered_ns < self.t_stalled_ns:
            raise ValueError("SourceRecovered.t_recovered_ns is before the stall")

    @property
    def stalled_s(self) -> float:
        """Seconds from the stall's detection to the recovery."""
        return (self.t_recovered_ns - self.t_stalled_ns) / 1e9


@dataclass(frozen=True)
class SourceReopenFailed:
    """Reopening a lost camera or stream failed for `reason` (the source's own one line, such as
    "camera 0: cannot be opened ... busy"); the capture thread tries again in `retry_in_s`
    seconds. Published once per failed attempt, so at most once per backoff step."""

    reason: str
    attempt: int
    retry_in_s: float

    def __post_init__(self):
        if self.attempt < 1 or self.retry_in_s < 0:
            raise ValueError(f"SourceReopenFailed: attempt {self.attempt}, retry in "
                             f"{self.retry_in_s} s")


@dataclass(frozen=True)
class SourceIncomplete:
    """A video file ended before its declared length: its `frames_read` decoded frames were used,
    the rest could not be decoded; `reason` says so in one line."""

    reason: str
    frames_read: int
    frames_declared: int

    def __post_init__(self):
        if not 0 <= self.frames_read < self.frames_declared:
            raise ValueError(f"SourceIncomplete: {self.frames_read} of {self.frames_declared} "
                             "frames is not an early end")


Message = Union[PoseFrame, Recommendation, NoPerson, SourceStalled, SourceRecovered,
                SourceReopenFailed, SourceIncomplete, StreamEnded, WorkerFailed]
"""Everything the pipeline publishes to its listeners (Frames only travel capture -> pose).
A listener dispatches with isinstance on the types it uses and ignores the others."""

Listener = Callable[[Message], None]
"""A listener of the pipeline's messages; it runs on the publishing worker's thread."""
