"""MediaPipe alone: the pose model on frames already decoded into memory, nothing else.

The baseline the pipeline's throughput and window latency are compared with: the same source's
frames, read first (so decoding is not timed), then MediaPipe's legacy pose solution over them in
order, in tracking mode, as the pipeline's pose thread runs it. Both are warmed up with one
untimed call on the first frame: MediaPipe builds its graph on its first call (hundreds of ms),
a start-up cost, not a per-frame one.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..messages import Frame
from ..pose.mediapipe_legacy import LegacyPoseEstimator
from ..sources import SourceSpec, make_source
from .stats import LatencyStats


@dataclass(frozen=True)
class MediaPipeAlone:
    """Per-frame ms of `estimate()` and the wall time over all frames."""

    per_frame_ms: np.ndarray
    elapsed_s: float

    @property
    def fps(self) -> float:
        """Frames per second over the whole run."""
        return len(self.per_frame_ms) / self.elapsed_s

    def to_json(self) -> dict:
        """Frames, FPS and the per-frame statistics."""
        return {"frames": len(self.per_frame_ms), "elapsed_s": round(self.elapsed_s, 4),
                "throughput_fps": round(self.fps, 3),
                "per_frame": LatencyStats.from_ms(self.per_frame_ms).to_json()}


def decode_frames(spec: SourceSpec, frames: int, weights_dir: Path | None = None
                  ) -> list[np.ndarray]:
    """The first `frames` BGR images of an image source (video, camera, stream), in memory."""
    source = make_source(spec, weights_dir=weights_dir)
    source.open()
    images = []
    try:
        while len(images) < frames:
            frame = source.read()
            if frame is None:
                break
            if not isinstance(frame, Frame):
                raise ValueError(f"a {spec.kind} source gives poses, not images")
            images.append(frame.image)
    finally:
        source.close()
    return images


def time_mediapipe(images: list[np.ndarray]) -> MediaPipeAlone:
    """Run a fresh LegacyPoseEstimator over `images` in order, after one untimed call on the
    first; time each frame and the whole."""
    if not images:
        raise ValueError("no frames to run MediaPipe on")
    estimator = LegacyPoseEstimator()
    estimator.open()
    per_frame = np.empty(len(images))
    try:
        estimator.estimate(images[0])
        start = time.perf_counter_ns()
        for n, image in enumerate(images):
            t0 = time.perf_counter_ns()
            estimator.estimate(image)
            per_frame[n] = (time.perf_counter_ns() - t0) / 1e6
        elapsed_s = (time.perf_counter_ns() - start) / 1e9
    finally:
        estimator.close()
    return MediaPipeAlone(per_frame, elapsed_s)
