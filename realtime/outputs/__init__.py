"""Streamer outputs of `poserec live`, each a pipeline sink:

    server.py        --serve PORT: the OBS overlay page and the WebSocket feed of recommendations
    virtual_cam.py   --virtual-cam: the annotated frames as a webcam (pyvirtualcam)
    recorder.py      --record OUT.mp4 (the annotated frames), --record-poses OUT.npy (the poses)
    annotate.py      the annotated frame (video or chroma key, skeleton, effect preview), no Qt
    frame_stream.py  the thread that draws frames and feeds the recorder and the virtual camera

`add_outputs(pipeline, config)` attaches the ones the command line asked for.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from poserec_core.errors import PoseRecError

from .annotate import FrameAnnotator
from .frame_stream import AnnotatedFrameSink
from .recorder import PoseRecorder, VideoRecorder
from .server import DEFAULT_HOST, OverlayServer, ServerConfig
from .virtual_cam import VirtualCamera

DEFAULT_OUTPUT_FPS = 30.0
"""Frame rate given to the recorder and the virtual camera when neither `--fps` nor the source
states one."""


@dataclass(frozen=True)
class OutputsConfig:
    """The outputs `poserec live` was asked for. fps: the run's `--fps` (the recording and the
    virtual camera run at it when > 0, else at the source's rate)."""

    serve_port: int | None = None
    host: str | None = None
    virtual_cam: bool = False
    overlay_only: bool = False
    record: Path | None = None
    record_poses: Path | None = None
    fps: float | None = None

    def __post_init__(self):
        if self.host is not None and self.serve_port is None:
            raise PoseRecError("--host applies to --serve; add --serve PORT")
        if self.overlay_only and not (self.virtual_cam or self.record):
            raise PoseRecError("--overlay-only applies to --virtual-cam and --record; add one "
                               "of them")

    @property
    def draws_frames(self) -> bool:
        """Whether an output needs annotated frames."""
        return self.virtual_cam or self.record is not None


def add_outputs(pipeline, config: OutputsConfig) -> None:
    """Attach the configured outputs to `pipeline` (before its start()) as sinks; they open
    when it starts (errors are PoseRecError), those that can fail for want of a port or a device
    before those that create files, and close when it is joined."""
    if config.serve_port is not None:
        server_config = ServerConfig(config.serve_port, config.host or DEFAULT_HOST)
        pipeline.add_sink(lambda _: OverlayServer(server_config, announce=sys.stderr))
    if config.draws_frames:
        pipeline.add_sink(lambda opened: annotated_frame_sink(opened, config))
    if config.record_poses is not None:
        pipeline.add_sink(lambda _: PoseRecorder(config.record_poses))


def annotated_frame_sink(pipeline, config: OutputsConfig) -> AnnotatedFrameSink:
    """The drawing sink and its frame outputs, at the size of the opened source's frames."""
    from ..drawing.effects import load_effects

    info = pipeline.source_info
    if not (info.width and info.height):
        raise PoseRecError(f"--record and --virtual-cam need the frame size, which "
                           f"{info.description} does not report")
    size = (info.width, info.height)
    fps = config.fps or info.fps or DEFAULT_OUTPUT_FPS
    outputs = []
    if config.virtual_cam:
        outputs.append(VirtualCamera(size, fps, announce=sys.stderr))
    if config.record is not None:
        outputs.append(VideoRecorder(config.record, size, fps))
    annotator = FrameAnnotator(load_effects(), size, pose_only=pipeline.gives_poses,
                               overlay_only=config.overlay_only)
    return AnnotatedFrameSink(annotator, tuple(outputs), lossless=pipeline.lossless)
