"""The inference thread: pose frames into the ring buffer, a re-rank every `stride` new frames.

Drop rule. The queue from the pose stage is lossless. With `drain` off (files, replays) the
worker takes one frame at a time and ranks every window that falls due, so nothing is skipped
and a slow model makes the producers wait. With `drain` on (cameras, streams) it first takes
every frame already queued; when several windows fell due meanwhile it ranks only the newest
and counts the others in `Recommendation.skipped_windows`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking

from ..messages import EffectScore, Listener, NoPerson, PoseFrame, Recommendation, StreamEnded
from .channels import LosslessQueue
from .ring_buffer import PoseRingBuffer
from .smoothing import ScoreSmoother, SmoothingConfig, name_groups
from .worker import POLL_S, Worker


class WindowScorer(Protocol):
    """What the worker needs of a `poserec_core.Recommender`."""

    device: object
    catalog: object

    def score(self, windows: np.ndarray) -> np.ndarray:
        """(N, T, 33, 4) windows -> (N, n_items) scores."""


@dataclass(frozen=True)
class InferenceConfig:
    """window: T frames per window; stride: new frames between re-ranks; reset_after: frames
    in a row without a person that clear the buffer; drain: rank only the newest due window."""

    window: int
    stride: int
    top_k: int
    reset_after: int
    drain: bool
    smoothing: SmoothingConfig

    def __post_init__(self):
        check_counts(self.window, self.stride, self.top_k, self.reset_after)


def check_counts(window: int, stride: int, top_k: int, reset_after: int) -> None:
    """The one check of the window, stride, top-k and reset-after counts (the pipeline's and
    the inference thread's): each at least 1, else a PoseRecError naming the first that is not."""
    for name, value in (("window", window), ("stride", stride), ("top_k", top_k),
                        ("reset_after", reset_after)):
        if value < 1:
            raise PoseRecError(f"{name} must be at least 1, got {value}")


def rerank_due(pushed: int, window: int, stride: int) -> bool:
    """Whether the `pushed`-th frame since the last clear completes a window to rank."""
    return pushed >= window and (pushed - window) % stride == 0


@dataclass
class InferenceStats:
    """Counters of the inference thread (read from other threads; each is one int)."""

    frames: int = 0
    frames_with_person: int = 0
    windows_ranked: int = 0
    windows_skipped: int = 0
    resets: int = 0


class InferenceWorker(Worker):
    """Consumes PoseFrames, publishes Recommendation, NoPerson and finally StreamEnded."""

    name = "inference"

    def __init__(self, config: InferenceConfig, scorer: WindowScorer, inbox: LosslessQueue,
                 publish: Listener):
        super().__init__(report=publish)
        self.config = config
        self.stats = InferenceStats()
        self._scorer = scorer
        self._inbox = inbox
        self._publish = publish
        self._buffer = PoseRingBuffer(config.window)
        self._smoother = ScoreSmoother(config.smoothing, config.top_k)
        self._effects = ScoreSmoother(config.smoothing, config.top_k,
                                      groups=name_groups(scorer.catalog.names))
        self._misses = 0
        self._due = 0

    def run(self) -> None:
        """Take frames until the stream ends or stop() is called."""
        while not self.stopping:
            first = self._inbox.get(POLL_S)
            if first is None:
                continue
            batch = [first, *self._inbox.drain()] if self.config.drain else [first]
            ended = None
            for item in batch:
                if isinstance(item, StreamEnded):
                    ended = item
                    break
                self._take(item)
            if self._due:
                self._rank(skipped=self._due - 1)
                self._due = 0
            if ended is not None:
                self._publish(ended)
                return

    def _take(self, frame: PoseFrame) -> None:
        self.stats.frames += 1
        if not frame.has_person:
            self._misses += 1
            if self._misses == self.config.reset_after:
                self._buffer.clear()
                self._smoother.reset()
                self._effects.reset()
                self.stats.resets += 1
                self.stats.windows_skipped += self._due
                self._due = 0
                self._publish(NoPerson(frame.seq, frame.t_capture_ns))
            return
        self._misses = 0
        self.stats.frames_with_person += 1
        self._buffer.push(frame)
        if rerank_due(self._buffer.pushed, self.config.window, self.config.stride):
            self._due += 1

    def _rank(self, skipped: int) -> None:
        window = self._buffer.window()
        t_window = time.monotonic_ns()
        scores = self._scorer.score(window.poses[None])[0]
        t_encode = time.monotonic_ns()
        items, values = self._smoother.update(scores)
        names = self._scorer.catalog.names
        ranking = Ranking(tuple(int(i) for i in items), tuple(names[i] for i in items),
                          tuple(float(v) for v in values))
        effects = tuple(EffectScore(names[i], int(i), float(v))
                        for i, v in zip(*self._effects.update(scores)))
        t_rank = time.monotonic_ns()
        self.stats.windows_ranked += 1
        self.stats.windows_skipped += skipped
        self._publish(Recommendation(
            window_end=window.end_seq, ranking=ranking, t_capture_ns=int(window.t_capture_ns[-1]),
            t_pose_ns=int(window.t_pose_ns[-1]), t_window_ns=t_window, t_encode_ns=t_encode,
            t_rank_ns=t_rank, device=str(self._scorer.device), skipped_windows=skipped,
            effects=effects))
