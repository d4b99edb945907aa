"""`poserec live` camera-mode options: `--camera-size WxH`, `--camera-fps F`, `--fourcc CODE`.

They are asked of the camera when it opens; the source line then reports the mode it actually
gave (a camera may silently give another). Given with a source that is not a camera (a video,
a URL, a replay, the demo) they are an error (one line, exit 2), not a silent no-op.
"""
from __future__ import annotations

import argparse
import math
import re
from dataclasses import replace

from ..sources import CameraMode, CameraSize, SourceSpec
from .arg_types import float_in

MAX_SIDE = 16384
"""The largest camera frame side accepted (pixels)."""

SIZE_PATTERN = re.compile(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*")


def camera_size(text: str) -> CameraSize:
    """`WxH` (`1280x720`), each side in [1, MAX_SIDE]."""
    match = SIZE_PATTERN.fullmatch(text)
    if not match:
        raise argparse.ArgumentTypeError(f"{text!r} is not a size WxH, as in 1280x720")
    width, height = int(match[1]), int(match[2])
    if not (1 <= width <= MAX_SIDE and 1 <= height <= MAX_SIDE):
        raise argparse.ArgumentTypeError(f"{text!r}: each side must be in [1, {MAX_SIDE}]")
    return CameraSize(width, height)


camera_size.__name__ = "size WxH"


def fourcc(text: str) -> str:
    """A FOURCC pixel format: 4 printable ASCII characters (MJPG, YUYV, H264), upper-cased."""
    code = text.strip()
    if len(code) != 4 or not code.isascii() or not code.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a FOURCC (4 characters, as in MJPG "
                                         "or YUYV)")
    return code.upper()


fourcc.__name__ = "FOURCC"


def camera_fps(text: str) -> float:
    """A frame rate above 0 (frames per second)."""
    value = float_in(0.0, math.inf, include_high=False)(text)
    if value == 0:
        raise argparse.ArgumentTypeError("0 is not a frame rate; leave --camera-fps out for the "
                                         "camera's own")
    return value


camera_fps.__name__ = "frame rate"


def add_camera_options(parser: argparse.ArgumentParser) -> None:
    """Add the camera-mode options to `live`'s parser, in a group of their own."""
    group = parser.add_argument_group("camera mode (asked of the camera; the source line says "
                                      "what it gave; `poserec cameras` lists the cameras)")
    group.add_argument("--camera-size", type=camera_size, metavar="WxH",
                       help="frame size to ask of the camera, as in 1280x720")
    group.add_argument("--camera-fps", type=camera_fps, metavar="F",
                       help="frame rate to ask of the camera (default: --fps when given, else "
                            "the camera's own)")
    group.add_argument("--fourcc", type=fourcc, metavar="CODE",
                       help="pixel format to ask of the camera, as in MJPG (often needed for "
                            "1080p at 30 fps over USB 2) or YUYV")


def camera_mode(args: argparse.Namespace) -> CameraMode:
    """The camera mode the command line asked for (nothing asked: the camera's own)."""
    return CameraMode(size=getattr(args, "camera_size", None),
                      fps=getattr(args, "camera_fps", None),
                      fourcc=getattr(args, "fourcc", None))


def with_camera_mode(source: SourceSpec, args: argparse.Namespace) -> SourceSpec:
    """`source` carrying the camera mode of `args`; a PoseRecError (exit 2) when a mode is asked
    of a source that is not a camera."""
    return replace(source, camera=camera_mode(args))
