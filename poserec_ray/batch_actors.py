"""The corpus job's two actor classes for Ray Data: video path -> pose windows -> top-k lists.

Both take and return Ray Data numpy batches (dicts of columns), one row per video; columns
whose rows differ in length are object arrays of arrays. Ray Data builds each class once per
actor, so the constructor is where the actor sets up; neither module-level code imports Ray.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from poserec_core.errors import PoseRecError
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS
from realtime.pose.extract import extract_poses, require_windows
from realtime.pose.mediapipe_legacy import LegacyPoseEstimator

from .model_parts import ModelParts

AGGREGATION = "mean-score"
"""How a video's windows make its own top-k: each item's score averaged over the windows."""


class ReusedGraphEstimator(LegacyPoseEstimator):
    """A LegacyPoseEstimator whose MediaPipe graph is built once per actor and only reset (its
    tracking state cleared) at the start of each video, so every video is posed as
    `poserec extract` poses it. The graph lives as long as the actor's process."""

    def open(self) -> None:
        """Build the graph on the first video; reset it on the next ones."""
        if self._pose is None:
            super().open()
        else:
            self._pose.reset()

    def close(self) -> None:
        """Keep the graph for the next video."""


def _column(values: list) -> np.ndarray:
    """A batch column; an object array when rows are arrays of different shapes."""
    if values and isinstance(values[0], np.ndarray):
        column = np.empty(len(values), dtype=object)
        column[:] = values
        return column
    return np.array(values)


def _batch(rows: list[dict]) -> dict[str, np.ndarray]:
    return {key: _column([row[key] for row in rows]) for key in rows[0]}


class PoseExtractor:
    """Poses each video of a batch with one MediaPipe graph; frames are decoded here, never
    shipped. A video that cannot be read or has too few frames with a person gets `error`."""

    def __init__(self, window: int, stride: int):
        self.window = window
        self.stride = stride
        self.estimator = ReusedGraphEstimator()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """{"video"} -> {"video", "error", "frames", "frames_with_person", "window_end", "poses"}."""
        return _batch([self._extract(Path(str(video))) for video in batch["video"]])

    def _extract(self, path: Path) -> dict:
        import cv2

        try:
            poses = extract_poses(path, self.estimator, progress=False)
            require_windows(poses, path, self.window, self.stride)
        except (PoseRecError, OSError, cv2.error) as exc:
            return {"video": str(path), "error": str(exc) or type(exc).__name__, "frames": 0,
                    "frames_with_person": 0, "window_end": np.zeros(0, np.int64),
                    "poses": np.zeros((0, self.window, NUM_LANDMARKS, NUM_CHANNELS), np.float32)}
        windows, frame_index = poses.windows(self.window, self.stride)
        return {"video": str(path), "error": "", "frames": poses.frames_read,
                "frames_with_person": len(poses.landmarks), "window_end": frame_index[:, -1],
                "poses": windows}


class WindowScorer:
    """Scores the windows of a batch of videos in one pass (CPU or CUDA) and ranks the catalog
    for each window and, by AGGREGATION, for each video. Rows with an `error` pass through."""

    def __init__(self, parts: ModelParts, device: str, top_k: int):
        self.recommender = parts.recommender(device)
        self.top_k = top_k

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Adds "items", "scores" (per window, (n, k)) and "video_items", "video_scores" ((k,))."""
        ok = [n for n, error in enumerate(batch["error"]) if not error]
        counts = [len(batch["poses"][n]) for n in ok]
        scores = (torch.from_numpy(self.recommender.score(
            np.concatenate([batch["poses"][n] for n in ok]))) if ok else None)
        ranked, start = {}, 0
        for n, count in zip(ok, counts):
            ranked[n] = self._rank(scores[start:start + count])
            start += count
        empty = (np.zeros((0, self.top_k), np.int32), np.zeros((0, self.top_k), np.float32),
                 np.zeros(0, np.int32), np.zeros(0, np.float32))
        rows = []
        for n in range(len(batch["video"])):
            items, window_scores, video_items, video_scores = ranked.get(n, empty)
            rows.append({key: batch[key][n] for key in
                         ("video", "error", "frames", "frames_with_person", "window_end")}
                        | {"items": items, "scores": window_scores, "video_items": video_items,
                           "video_scores": video_scores})
        return _batch(rows)

    def _rank(self, scores: torch.Tensor) -> tuple[np.ndarray, ...]:
        windows = self.recommender.rank_scores(scores, self.top_k)
        video = self.recommender.rank_scores(scores.mean(dim=0, keepdim=True), self.top_k)[0]
        return (np.array([r.items for r in windows], np.int32),
                np.array([r.scores for r in windows], np.float32),
                np.array(video.items, np.int32), np.array(video.scores, np.float32))
