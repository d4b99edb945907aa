"""`poserec live`: recommendations in real time from a camera, video, stream, replay or the demo."""
from __future__ import annotations

import argparse
import math
import os
import signal
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

from poserec_core.device import DEVICE_CHOICES
from poserec_core.errors import PoseRecError
from poserec_core.release import WINDOW_FRAMES

from ..engine.pipeline import Pipeline, PipelineConfig
from ..outputs import OutputsConfig, add_outputs
from ..outputs.obs_client import PASSWORD_VARIABLE
from ..outputs.obs_control import ObsConfig
from ..sources import SourceSpec, parse_source
from ..ui.display import display_problem
from .arg_types import float_in, int_at_least, int_in
from .camera_options import add_camera_options, with_camera_mode
from .config import WithSettings, add_config_options
from .hints import typeable
from .quiet import filtered_stderr

DEFAULTS = PipelineConfig()
"""The option defaults are the pipeline's."""

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that stop a headless run cleanly (exit status 128 + the signal's number)."""


def _source(text: str) -> SourceSpec:
    try:
        return parse_source(text)
    except PoseRecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _with_suffix(suffix: str, *others: str):
    def parse(text: str) -> Path:
        if Path(text).suffix.lower() not in (suffix, *others):
            raise argparse.ArgumentTypeError(f"{text!r} is not a {' or '.join((suffix, *others))} "
                                             "file")
        return Path(text)
    parse.__name__ = f"{suffix} file"
    return parse


def add_parser(sub) -> None:
    """Register `live`."""
    parser = sub.add_parser("live", help="recommend effects in real time (camera, video, URL, "
                                         "replay or demo)")
    add_config_options(parser, "live")
    parser.add_argument("--source", type=_source, default=DEFAULTS.source, metavar="S",
                        help="auto (default: camera 0 when one opens, else demo), a camera index, "
                             "a video file, an rtsp/http URL, replay:FILE (a pose sequence "
                             "(F, 33, 4) .npy) or demo (the installed sample: played once in "
                             "the console view, looped in the window)")
    parser.add_argument("--loop", action="store_true",
                        help="start the demo or a replay over at its end, until stopped")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default=DEFAULTS.device,
                        help="auto (default): CUDA when torch sees a GPU, else CPU")
    parser.add_argument("--window", type=int_at_least(1), default=DEFAULTS.window, metavar="T",
                        help="frames per window (default %(default)s, as the model was trained)")
    parser.add_argument("--stride", type=int_at_least(1), default=DEFAULTS.stride, metavar="S",
                        help="new frames with a person between re-ranks (default %(default)s)")
    parser.add_argument("--top-k", type=int_at_least(1), default=DEFAULTS.top_k, metavar="K",
                        help="items shown (default %(default)s)")
    parser.add_argument("--smoothing", type=float_in(0.0, 1.0, include_high=False),
                        default=DEFAULTS.smoothing, metavar="A",
                        help="weight of the past in the score average, in [0, 1); 0 turns "
                             "smoothing and hysteresis off (default %(default)s)")
    parser.add_argument("--reset-after", type=int_at_least(1), default=DEFAULTS.reset_after,
                        metavar="N", help="frames in a row without a person that clear the "
                                          "window (default %(default)s)")
    parser.add_argument("--headless", action="store_true",
                        help="no window: one console line per re-rank")
    parser.add_argument("--verbose", action="store_true",
                        help="also show the log lines of MediaPipe, TFLite and absl")
    parser.add_argument("--jsonl", type=Path, metavar="OUT",
                        help="write one JSON object per re-rank, flushed at once")
    parser.add_argument("--max-frames", type=int_at_least(1), metavar="N",
                        help="stop after reading N frames from the source")
    parser.add_argument("--fps", type=float_in(0.0, math.inf, include_high=False), metavar="F",
                        help="pace files, replays and the demo at F (default: their own rate; 0: "
                             "as fast as possible); asked of a camera")
    parser.add_argument("--screenshot", type=_with_suffix(".png"), metavar="PNG",
                        help="when the run ends, save the last frame with its skeleton "
                             "(headless) or the window as last shown")
    parser.add_argument("--pose-model", type=_with_suffix(".task"), metavar="FILE.task",
                        help="use MediaPipe's Tasks PoseLandmarker with this model instead of the "
                             "bundled legacy pose solution")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.add_argument("--remote", metavar="URL",
                        help="score windows on a `poserec serve` application at URL instead of "
                             "locally: a session at ws://HOST:STREAM_PORT/stream (serve "
                             "--stream-port), ws://HOST:8000/stream or grpc://HOST:PORT, or HTTP "
                             "JSON at http://HOST:8000/recommend")
    parser.add_argument("--torch-threads", type=int_at_least(1), metavar="N",
                        help="CPU threads for the encoder (default: 1 when MediaPipe runs on the "
                             "same CPU, leaving it the other cores; else torch's default)")
    streaming = parser.add_argument_group("streamer outputs: OBS overlay, virtual camera, recording")
    streaming.add_argument("--serve", type=int_in(0, 65535), metavar="PORT",
                           help="serve the OBS overlay page at http://HOST:PORT/ and each "
                                "recommendation on the WebSocket ws://HOST:PORT/ws (0: a free "
                                "port)")
    streaming.add_argument("--host", metavar="HOST",
                           help="address --serve listens on (default 127.0.0.1: this machine only)")
    streaming.add_argument("--virtual-cam", action="store_true",
                           help="send the annotated video to a virtual camera (v4l2loopback, OBS "
                                "Virtual Camera)")
    streaming.add_argument("--overlay-only", action="store_true",
                           help="--virtual-cam and --record show the skeleton and preview on "
                                "chroma green instead of the video")
    streaming.add_argument("--record", type=_with_suffix(".mp4", ".avi"), metavar="OUT.mp4",
                           help="record the annotated video (.mp4 or .avi)")
    streaming.add_argument("--obs", metavar="URL",
                           help="drive OBS Studio through obs-websocket 5 at URL (e.g. "
                                "ws://127.0.0.1:4455; password from $POSEREC_OBS_PASSWORD): the "
                                "effect's art on the body and the top names in its current scene")
    streaming.add_argument("--record-poses", type=_with_suffix(".npy"), metavar="OUT.npy",
                           help="record the poses with a person as (F, 33, 4); replay them with "
                                "--source replay:OUT.npy")
    streaming.add_argument("--mirror", action="store_true",
                           help="mirror what is shown and sent to the outputs (window, "
                                "--virtual-cam, --record, --screenshot); the model still sees "
                                "the unmirrored frames")
    streaming.add_argument("--segmentation", action=argparse.BooleanOptionalAction,
                           default=DEFAULTS.segmentation,
                           help="MediaPipe also cuts out the person, so that scene effects (a "
                                "wall, trees) are drawn behind them (default: on; "
                                "--no-segmentation saves about 3 ms of CPU a frame, and background "
                                "effects are then not drawn on camera video)")
    add_camera_options(parser)
    parser.set_defaults(run=WithSettings(parser, "live", run))


def pipeline_config(args) -> PipelineConfig:
    """The PipelineConfig the command line describes."""
    return PipelineConfig(source=with_camera_mode(_with_loop(args), args),
                          device=args.device, window=args.window,
                          stride=args.stride, top_k=args.top_k, smoothing=args.smoothing,
                          reset_after=args.reset_after, fps=args.fps, max_frames=args.max_frames,
                          jsonl=args.jsonl, headless=args.headless, pose_model=args.pose_model,
                          weights_dir=args.weights, remote=args.remote,
                          torch_threads=args.torch_threads, segmentation=args.segmentation)


def _with_loop(args) -> SourceSpec:
    """The source, looping with `--loop`; without it the console view plays the demo once and
    the window keeps the source's own habit (the demo loops, a replay plays once)."""
    loop = True if args.loop else (False if args.headless else None)
    return replace(args.source, loop=loop)


def outputs_config(args) -> OutputsConfig:
    """The OutputsConfig the command line describes."""
    return OutputsConfig(serve_port=args.serve, host=args.host, virtual_cam=args.virtual_cam,
                         overlay_only=args.overlay_only, record=args.record,
                         record_poses=args.record_poses, fps=args.fps, mirror=args.mirror,
                         obs=None if args.obs is None else
                         ObsConfig(args.obs, os.environ.get(PASSWORD_VARIABLE)))


def run(args) -> int:
    """Run the pipeline headless, or hand it to the Qt window, MediaPipe's own log lines hidden
    unless `--verbose`; return the exit status."""
    if args.window != WINDOW_FRAMES:
        print(f"poserec live: warning: --window {args.window}: the model was trained on windows "
              f"of {WINDOW_FRAMES} frames; other lengths give rankings nobody has checked",
              file=sys.stderr)
    with filtered_stderr(enabled=not args.verbose):
        return _run(args)


def _run(args) -> int:
    if not args.headless and (problem := display_problem()) is not None:
        print(typeable(f"poserec live: {problem}: showing the console view instead (for the "
                       "window, run it on a desktop or under `xvfb-run -a poserec live`)"),
              file=sys.stderr)
        args = argparse.Namespace(**{**vars(args), "headless": True})
    pipeline = Pipeline(pipeline_config(args))
    outputs = outputs_config(args)
    add_outputs(pipeline, outputs)
    if not args.headless:
        return _run_window(pipeline, args, outputs.choice)
    if args.screenshot is not None and not args.screenshot.parent.is_dir():
        raise PoseRecError(f"--screenshot {args.screenshot}: no such directory "
                           f"{args.screenshot.parent}")
    with _stop_on_signals(pipeline) as received:
        pipeline.start()
        try:
            print(f"poserec live: source {pipeline.source_info.summary()}", file=sys.stderr)
            pipeline.wait()
        finally:
            pipeline.stop()
            pipeline.join()
    _report(pipeline)
    _warn_incomplete(pipeline)
    _report_close_failures(pipeline)
    if pipeline.failure is not None:
        _report_failure(pipeline.failure)
        return pipeline.exit_status
    if args.screenshot is not None:
        _save_screenshot(pipeline.latest_pose, pipeline.latest_recommendation, args.screenshot,
                         args.mirror)
        print(f"poserec live: screenshot saved to {args.screenshot.resolve()}", file=sys.stderr)
    return 128 + received[0] if received else pipeline.exit_status


def _run_window(pipeline, args, choice) -> int:
    """The Qt window (realtime.ui) starts, shows and stops the pipeline; its ←/→ pick is
    `choice`, the one the outputs read."""
    from ..ui.app import AppConfig, run_window
    from ..ui.window import WindowConfig

    config = AppConfig(window=WindowConfig(top_k=args.top_k, mirror=args.mirror),
                       close_at_end=args.max_frames is not None, screenshot=args.screenshot,
                       choice=choice)
    status = run_window(pipeline, config)
    _warn_incomplete(pipeline)
    _report_close_failures(pipeline)
    if pipeline.failure is not None:
        _report_failure(pipeline.failure)
    return status


@contextmanager
def _stop_on_signals(pipeline):
    """While inside, SIGINT and SIGTERM stop the pipeline; yields the list of signals received."""
    received: list[int] = []

    def handle(signum, frame):
        received.append(signum)
        pipeline.stop()

    previous = {s: signal.signal(s, handle) for s in STOP_SIGNALS}
    try:
        yield received
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)


def _report(pipeline) -> None:
    stats = pipeline.stats()
    print(f"poserec live: {stats.frames_read} frames read, {stats.frames_dropped} dropped, "
          f"{stats.frames_with_person} with a person; {stats.windows_ranked} windows ranked, "
          f"{stats.windows_skipped} skipped; {stats.resets} no-person resets", file=sys.stderr)


def _warn_incomplete(pipeline) -> None:
    """One line when a video file ended early (its decoded frames were used)."""
    if pipeline.source_incomplete is not None:
        print(f"poserec live: warning: {pipeline.source_incomplete.reason}", file=sys.stderr)


def _report_close_failures(pipeline) -> None:
    """One line for each part (sink, MediaPipe, source) whose close() raised; the others were
    closed all the same."""
    for failure in pipeline.close_failures:
        print(f"poserec live: error: {failure.worker} failed: "
              f"{type(failure.error).__name__}: {failure.error}", file=sys.stderr)


def _report_failure(failure) -> None:
    """A user error is raised for the CLI's one line (status 2); anything else is printed here."""
    if isinstance(failure.error, PoseRecError):
        raise failure.error
    print(f"poserec live: error: the {failure.worker} thread failed: "
          f"{type(failure.error).__name__}: {failure.error}", file=sys.stderr)


def _save_screenshot(pose, recommendation, path: Path, mirror: bool) -> None:
    """The last frame as the outputs draw it (the one renderer): skeleton and selected effect."""
    import cv2

    from ..drawing.effects import load_effects
    from ..drawing.choice import selected_effect
    from ..drawing.renderer import Renderer, RenderOptions

    if pose is None or (pose.image is None and pose.landmarks is None):
        raise PoseRecError(f"--screenshot {path}: no frame was captured")
    image = Renderer(load_effects()).render(pose, selected_effect(recommendation),
                                            RenderOptions(mirror=mirror))
    if not cv2.imwrite(str(path), image):
        raise PoseRecError(f"--screenshot {path}: could not write it")
