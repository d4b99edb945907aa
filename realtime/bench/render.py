"""The `render` stage of `poserec bench`: compositing one effect onto each frame at the source's
size with the one renderer (realtime.drawing.renderer), as the window and the outputs do.

The window and the outputs draw on their own threads, off the pose path, so the bench does not
draw inside its runs (that would slow them): a sink keeps up to MAX_FRAMES pose frames of the run
and `time_render` draws them afterwards, one after another, as a stream."""
from __future__ import annotations

import time

from ..messages import PoseFrame
from ..sources import SourceInfo

RENDER_EFFECT = "guitar"
"""The effect composited: a torso prop, in view whenever the shoulders are, and the largest art
a body effect draws (posed, turned and scaled every frame)."""

MAX_FRAMES = 120
"""Pose frames kept for the render stage (their images are shared with the pipeline)."""


class RenderSamples:
    """A pipeline sink that keeps the first MAX_FRAMES pose frames."""

    def __init__(self):
        self.poses: list[PoseFrame] = []

    def open(self) -> None:
        """Nothing to open."""

    def __call__(self, message: object) -> None:
        """Keep a PoseFrame while there is room."""
        if isinstance(message, PoseFrame) and len(self.poses) < MAX_FRAMES:
            self.poses.append(message)

    def close(self) -> None:
        """Nothing to close."""

    def time_render(self, info: SourceInfo) -> list[float]:
        """Milliseconds to composite RENDER_EFFECT on each kept frame at the source's size (as
        the outputs draw; its images' own size, or the canvas, when it reports none)."""
        from ..drawing.effects import load_effects
        from ..drawing.renderer import Renderer

        size = (info.width, info.height) if info.width and info.height else None
        renderer = Renderer(load_effects())
        if self.poses:  # the first call rasterises the art: not part of a frame's cost
            renderer.render(self.poses[0], RENDER_EFFECT, size=size)
        samples = []
        for pose in self.poses:
            start = time.perf_counter_ns()
            renderer.render(pose, RENDER_EFFECT, size=size)
            samples.append((time.perf_counter_ns() - start) / 1e6)
        return samples
