"""Where frames come from: cameras, video files, network streams, pose replays and the demo.

`open_source(spec, ...)` turns a parsed `--source` into an opened Source and what it delivers.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from poserec_core.errors import PoseRecError

from .base import Source, SourceInfo, SourceLost, SourceTruncated
from .opencv_sources import CameraSource, StreamSource, VideoFileSource
from .pose_sources import PoseSequenceSource, demo_source, load_demo_sequence, replay_source
from .spec import ACCEPTED_FORMS, CameraMode, CameraSize, SourceSpec, parse_source

AUTO_CAMERA = 0
"""The camera `--source auto` tries before falling back to the demo."""

__all__ = ["ACCEPTED_FORMS", "CameraMode", "CameraSize", "CameraSource", "PoseSequenceSource", "Source", "SourceInfo", "SourceLost",
           "SourceSpec", "SourceTruncated", "StreamSource", "VideoFileSource", "demo_source",
           "load_demo_sequence", "make_source", "open_source", "parse_source", "replay_source"]


def make_source(spec: SourceSpec, requested_fps: float | None = None,
                weights_dir: Path | None = None) -> Source:
    """The (unopened) source a spec names; `auto` is resolved by open_source()."""
    if spec.kind == "camera":
        return CameraSource(spec.camera_index, requested_fps, mode=spec.camera)
    if spec.kind == "video":
        return VideoFileSource(spec.path)
    if spec.kind == "url":
        if requested_fps:
            raise PoseRecError(f"--fps does not apply to a network stream ({spec.target}): it "
                               "runs at its own rate")
        return StreamSource(spec.target)
    if spec.kind == "replay":
        return replay_source(spec.path, loop=bool(spec.loop))
    if spec.kind == "demo":
        return demo_source(weights_dir, loop=spec.loop is not False)
    raise ValueError(f"make_source cannot build a {spec.kind!r} source")


def open_source(spec: SourceSpec, requested_fps: float | None = None,
                weights_dir: Path | None = None) -> tuple[Source, SourceInfo]:
    """Open the source; `auto` is camera AUTO_CAMERA when it opens, else the demo.

    requested_fps is asked of a camera (unless `spec.camera` names a rate); file and replay
    sources are paced by the capture thread.
    """
    if spec.kind != "auto":
        source = make_source(spec, requested_fps, weights_dir)
        return source, source.open()
    camera = CameraSource(AUTO_CAMERA, requested_fps, mode=spec.camera)
    try:
        info = camera.open()
    except PoseRecError:
        demo = demo_source(weights_dir, loop=spec.loop is not False)
        info = demo.open()
        return demo, replace(info, description=f"auto: no camera opened, so {info.description}")
    return camera, replace(info, description=f"auto: {info.description}")
