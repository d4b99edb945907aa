"""The pose thread: captured frames in, PoseFrames (landmarks or "no person") out, losslessly."""
from __future__ import annotations

import time
from ..messages import Frame, Listener, PoseFrame, StreamEnded
from ..pose.estimator import PoseEstimator
from .channels import LatestWinsSlot, LosslessQueue
from .worker import POLL_S, Worker


class PoseWorker(Worker):
    """Runs the estimator on each Frame; passes StreamEnded on and stops after it.

    `inbox` is a LatestWinsSlot for live sources (the newest frame only) or a LosslessQueue for
    files; `outbox` (to inference) is lossless. Every PoseFrame is also handed to `publish`.
    """

    name = "pose"

    def __init__(self, estimator: PoseEstimator, inbox: LatestWinsSlot | LosslessQueue,
                 outbox: LosslessQueue, publish: Listener):
        super().__init__(report=publish)
        self._estimator = estimator
        self._inbox = inbox
        self._outbox = outbox
        self._publish = publish

    def run(self) -> None:
        """Estimate until the stream ends or stop() is called."""
        while not self.stopping:
            item = self._inbox.get(POLL_S)
            if item is None:
                continue
            if isinstance(item, Frame):
                item = self._estimate(item)
                self._publish(item)
            if not self._outbox.put(item, self._stop_event) or isinstance(item, StreamEnded):
                return

    def _estimate(self, frame: Frame) -> PoseFrame:
        landmarks = self._estimator.estimate(frame.image)
        mask = getattr(self._estimator, "mask", None)  # only segmenting backends have one
        return PoseFrame(frame.seq, frame.t_capture_ns, time.monotonic_ns(), landmarks, frame.image,
                         mask)
