"""Pose windows from a video file, with the published extractor's semantics."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS
from poserec_core.windows import cut_windows, window_starts

from ..sources import SourceTruncated, VideoFileSource
from .mediapipe_legacy import LegacyPoseEstimator


@dataclass(frozen=True)
class ExtractedPoses:
    """Detected frames of a video: landmarks (F, 33, 4) and their frame indices in the video;
    `incomplete` says why the file ended early (None when it was read to its end)."""

    landmarks: np.ndarray
    frame_index: np.ndarray
    frames_read: int
    fps: float
    incomplete: str | None = None

    def windows(self, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
        """Windows of `window` consecutive detected frames every `stride`, and their frame indices."""
        return (cut_windows(self.landmarks, window, stride),
                cut_windows(self.frame_index, window, stride))


def extract_poses(path: Path, estimator: LegacyPoseEstimator | None = None,
                  progress: bool = True) -> ExtractedPoses:
    """Run MediaPipe over every frame, read through the same VideoFileSource as `poserec live`;
    frames without a detected person are skipped. A file that ends before its declared length
    keeps the frames decoded so far and says why in `incomplete`."""
    from tqdm import tqdm

    source = VideoFileSource(path, option="")
    info = source.open()
    estimator = estimator or LegacyPoseEstimator()
    landmarks, indices = [], []
    frames_read, incomplete = 0, None
    try:
        estimator.open()
        with tqdm(total=info.frames, unit="frame", desc=path.name,
                  disable=not progress, leave=False) as bar:
            while True:
                try:
                    frame = source.read()
                except SourceTruncated as exc:
                    incomplete = str(exc)
                    break
                if frame is None:
                    break
                pose = estimator.estimate(frame.image)
                if pose is not None:
                    landmarks.append(pose)
                    indices.append(frames_read)
                frames_read += 1
                bar.update()
    finally:
        estimator.close()
        source.close()
    if frames_read == 0:
        raise PoseRecError(f"{path}: no frame could be decoded")
    shape = (len(landmarks), NUM_LANDMARKS, NUM_CHANNELS)
    return ExtractedPoses(np.array(landmarks, dtype=np.float32).reshape(shape),
                          np.array(indices, dtype=np.int64), frames_read, info.fps or 0.0,
                          incomplete)


def require_windows(poses: ExtractedPoses, path: Path, window: int, stride: int) -> None:
    """Raise a clear error when the video has too few frames with a person for one window."""
    if len(window_starts(len(poses.landmarks), window, stride)) == 0:
        raise PoseRecError(f"{path}: a person was found in {len(poses.landmarks)} of "
                           f"{poses.frames_read} frames; a window needs {window}")
