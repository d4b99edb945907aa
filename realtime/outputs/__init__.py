"""Streamer outputs of `poserec live`, each a pipeline sink:

    server.py        --serve PORT: the OBS overlay pages (card, /ar) and the WebSocket feed
    ar_layer.py      what /ar needs: the art by effect name, the selected effect's pose per frame
    obs_control.py   --obs URL: the effect's art and the top names as sources in OBS's scene
    obs_client.py    the small obs-websocket 5 client it talks through
    virtual_cam.py   --virtual-cam: the annotated frames as a webcam (pyvirtualcam)
    recorder.py      --record OUT.mp4 (the annotated frames), --record-poses OUT.npy (the poses)
    frame_stream.py  the thread that draws frames (realtime.drawing.renderer) for the recorder
                     and the virtual camera

`add_outputs(pipeline, config)` attaches the ones the command line asked for.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from poserec_core.errors import PoseRecError

from ..drawing.choice import EffectChoice
from .frame_stream import AnnotatedFrameSink, OutputFrames
from .obs_control import ObsConfig, ObsControlSink
from .recorder import PoseRecorder, VideoRecorder
from .server import DEFAULT_HOST, OverlayServer, ServerConfig
from .virtual_cam import VirtualCamera

DEFAULT_OUTPUT_FPS = 30.0
"""Frame rate given to the recorder and the virtual camera when neither `--fps` nor the source
states one."""


@dataclass(frozen=True)
class OutputsConfig:
    """The outputs `poserec live` was asked for. fps: the run's `--fps` (the recording and the
    virtual camera run at it when > 0, else at the source's rate). mirror: the recording and the
    virtual camera show the video mirrored (`--mirror`). choice: the effect they and OBS show (the
    window's ←/→ pick when the window is given the same EffectChoice; default: the top
    effect)."""

    serve_port: int | None = None
    host: str | None = None
    virtual_cam: bool = False
    overlay_only: bool = False
    record: Path | None = None
    record_poses: Path | None = None
    fps: float | None = None
    obs: ObsConfig | None = None
    mirror: bool = False
    choice: EffectChoice = field(default_factory=EffectChoice, compare=False)

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
        pipeline.add_sink(lambda opened: OverlayServer(server_config, announce=sys.stderr,
                                                       frame_size=frame_size(opened),
                                                       choice=config.choice))
    if config.obs is not None:
        pipeline.add_sink(lambda opened: obs_control_sink(opened, config))
    if config.draws_frames:
        pipeline.add_sink(lambda opened: annotated_frame_sink(opened, config))
    if config.record_poses is not None:
        pipeline.add_sink(lambda _: PoseRecorder(config.record_poses))


def frame_size(pipeline) -> tuple[int, int] | None:
    """The opened source's (width, height), None when it does not report one."""
    info = pipeline.source_info
    return (info.width, info.height) if info.width and info.height else None


def obs_control_sink(pipeline, config: OutputsConfig) -> ObsControlSink:
    """The OBS sink: the catalog's art and the effect poser, at the opened source's size,
    mirrored with `--mirror`."""
    from ..drawing.art import ArtBook
    from ..drawing.effects import load_effects
    from ..drawing.posing import EffectPoser
    from .obs_control import ArtFiles

    book = ArtBook(load_effects())
    return ObsControlSink(config.obs, EffectPoser(book.catalog, book), ArtFiles(book),
                          frame_size(pipeline), mirror=config.mirror, choice=config.choice)


def annotated_frame_sink(pipeline, config: OutputsConfig) -> AnnotatedFrameSink:
    """The drawing sink and its frame outputs, at the size of the opened source's frames."""
    from ..drawing.effects import load_effects
    from ..drawing.renderer import Renderer, RenderOptions

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
    options = RenderOptions(overlay_only=config.overlay_only, mirror=config.mirror)
    frames = OutputFrames(Renderer(load_effects()), size, options, config.choice)
    return AnnotatedFrameSink(frames, tuple(outputs), lossless=pipeline.lossless)
