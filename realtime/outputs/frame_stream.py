"""The annotated frame stream: a pipeline sink whose own thread draws each pose frame (with the
newest recommendation) and hands it to the frame outputs, the recorder and the virtual camera.

Drop rule. For lossless sources (files, replays, demo) the hand-off is a bounded LosslessQueue:
every frame is drawn and sent, and a slow output makes the source wait, as every other stage
does. For cameras and streams it is a LatestWinsSlot: a slow output gets the newest frame and
never holds up pose estimation or inference.
"""
from __future__ import annotations

import threading
from typing import Protocol

import numpy as np

from ..drawing.choice import EffectChoice
from ..drawing.renderer import Renderer, RenderOptions
from ..engine.channels import LatestWinsSlot, LosslessQueue
from ..engine.worker import POLL_S, Worker
from ..messages import PoseFrame, Recommendation, WorkerFailed

FRAME_QUEUE_CAPACITY = 8
"""Pose frames waiting to be drawn (lossless sources)."""

DRAIN_TIMEOUT_S = 5.0
"""How long close() waits for the frames still queued to be drawn and sent."""

END_OF_FRAMES = "end of frames"
"""Put after the last frame: the drawing thread sends what is queued before it, then ends."""


class FrameOutput(Protocol):
    """Where annotated frames go: open() may raise PoseRecError, send() gets BGR frames of the
    output's size in the drawing thread, close() after that thread ended."""

    def open(self) -> None:
        """Open the device or file."""

    def send(self, frame: np.ndarray) -> None:
        """Take one annotated frame."""

    def close(self) -> None:
        """Release the device or file."""


class OutputFrames:
    """The outputs' frames: the one renderer at the outputs' `size` (width, height), showing the
    effect `choice` picks of the ranking (the window's, default the top) with `options`
    (overlay mode, mirror)."""

    def __init__(self, renderer: Renderer, size: tuple[int, int],
                 options: RenderOptions = RenderOptions(), choice: EffectChoice | None = None):
        self.renderer = renderer
        self.size = size
        self.options = options
        self.choice = EffectChoice() if choice is None else choice

    def draw(self, pose: PoseFrame, recommendation: Recommendation | None) -> np.ndarray:
        """The composited BGR frame of one pose with the newest recommendation."""
        return self.renderer.render(pose, self.choice.effect(recommendation), self.options,
                                    self.size)


class FrameDrawingWorker(Worker):
    """Takes (PoseFrame, Recommendation or None) pairs, draws each and sends it to every output,
    until END_OF_FRAMES or stop()."""

    name = "outputs"

    def __init__(self, inbox: LatestWinsSlot | LosslessQueue, frames: OutputFrames,
                 outputs: tuple[FrameOutput, ...], report):
        super().__init__(report=report)
        self._inbox = inbox
        self._frames = frames
        self._outputs = outputs

    @property
    def stop_event(self) -> threading.Event:
        """Set by stop(): a producer waiting for room in the inbox gives up."""
        return self._stop_event

    def run(self) -> None:
        """Draw and send until the end marker or stop()."""
        while not self.stopping:
            item = self._inbox.get(POLL_S)
            if item is None:
                continue
            if item is END_OF_FRAMES:
                return
            pose, recommendation = item
            frame = self._frames.draw(pose, recommendation)
            for output in self._outputs:
                output.send(frame)


class AnnotatedFrameSink:
    """Sink for `--record` and `--virtual-cam`: opens the outputs, draws on its own thread.

    A failure of that thread (an output that stops taking frames) is raised by the next call,
    so it fails the pipeline worker that called, and the run ends with it.
    """

    def __init__(self, frames: OutputFrames, outputs: tuple[FrameOutput, ...], lossless: bool):
        self.outputs = outputs
        self._inbox = LosslessQueue(FRAME_QUEUE_CAPACITY) if lossless else LatestWinsSlot()
        self._worker = FrameDrawingWorker(self._inbox, frames, outputs, self._on_failure)
        self._recommendation: Recommendation | None = None
        self._failure: WorkerFailed | None = None
        self._failure_raised = False
        self._opened: list[FrameOutput] = []

    def open(self) -> None:
        """Open every output (closing those already opened if one fails), start the thread."""
        try:
            for output in self.outputs:
                output.open()
                self._opened.append(output)
        except BaseException:
            self._close_outputs()
            raise
        self._worker.start()

    def __call__(self, message: object) -> None:
        """Queue each pose frame with the newest recommendation; remember recommendations."""
        if self._failure is not None:
            self._failure_raised = True
            raise self._failure.error
        if isinstance(message, Recommendation):
            self._recommendation = message
        elif isinstance(message, PoseFrame):
            self._inbox.put((message, self._recommendation), self._worker.stop_event)

    def close(self) -> None:
        """Send the frames still queued, end the thread, close the outputs; then raise the
        thread's failure if no call raised it yet, or TimeoutError when it did not end within
        DRAIN_TIMEOUT_S (its outputs are left open under it)."""
        self._inbox.put(END_OF_FRAMES, self._worker.stop_event)
        if not self._worker.join(DRAIN_TIMEOUT_S):
            self._worker.stop()
            raise TimeoutError(f"the outputs thread did not end within {DRAIN_TIMEOUT_S:g} s")
        self._close_outputs()
        if self._failure is not None and not self._failure_raised:
            raise self._failure.error

    def _on_failure(self, failure: WorkerFailed) -> None:
        self._failure = failure
        self._worker.stop()

    def _close_outputs(self) -> None:
        for output in reversed(self._opened):
            output.close()
        self._opened.clear()
