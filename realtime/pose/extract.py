"""Pose windows from a video file, with the published extractor's semantics."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS
from poserec_core.windows import cut_windows, window_starts

from .mediapipe_legacy import LegacyPoseEstimator


@dataclass(frozen=True)
class ExtractedPoses:
    """Detected frames of a video: landmarks (F, 33, 4) and their frame indices in the video."""

    landmarks: np.ndarray
    frame_index: np.ndarray
    frames_read: int
    fps: float

    def windows(self, window: int, stride: int) -> tuple[np.ndarray, np.ndarray]:
        """Windows of `window` consecutive detected frames every `stride`, and their frame indices."""
        return (cut_windows(self.landmarks, window, stride),
                cut_windows(self.frame_index, window, stride))


def open_video(path: Path):
    """An opened cv2.VideoCapture for a file, or a PoseRecError naming the problem."""
    import cv2

    if not path.is_file():
        raise PoseRecError(f"{path}: no such video file")
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        raise PoseRecError(f"{path}: OpenCV cannot open it as a video")
    return capture


def extract_poses(path: Path, estimator: LegacyPoseEstimator | None = None,
                  progress: bool = True) -> ExtractedPoses:
    """Run MediaPipe over every frame; frames without a detected person are skipped."""
    import cv2
    from tqdm import tqdm

    capture = open_video(path)
    estimator = estimator or LegacyPoseEstimator()
    total = int(capture.get(cv2.CAP_PROP_FRAME_COUNT)) or None
    fps = float(capture.get(cv2.CAP_PROP_FPS) or 0.0)
    landmarks, indices = [], []
    frames_read = 0
    estimator.open()
    try:
        with tqdm(total=total, unit="frame", desc=path.name, disable=not progress or None,
                  leave=False) as bar:
            while True:
                ok, frame = capture.read()
                if not ok:
                    break
                pose = estimator.estimate(frame)
                if pose is not None:
                    landmarks.append(pose)
                    indices.append(frames_read)
                frames_read += 1
                bar.update()
    finally:
        estimator.close()
        capture.release()
    if frames_read == 0:
        raise PoseRecError(f"{path}: no frame could be decoded")
    shape = (len(landmarks), NUM_LANDMARKS, NUM_CHANNELS)
    return ExtractedPoses(np.array(landmarks, dtype=np.float32).reshape(shape),
                          np.array(indices, dtype=np.int64), frames_read, fps)


def require_windows(poses: ExtractedPoses, path: Path, window: int, stride: int) -> None:
    """Raise a clear error when the video has too few frames with a person for one window."""
    if len(window_starts(len(poses.landmarks), window, stride)) == 0:
        raise PoseRecError(f"{path}: a person was found in {len(poses.landmarks)} of "
                           f"{poses.frames_read} frames; a window needs {window}")
