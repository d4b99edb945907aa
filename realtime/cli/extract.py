"""`poserec extract VIDEO -o OUT.npz`: pose windows from a video."""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from poserec_core.errors import PoseRecError

from .arg_types import int_at_least
from .quiet import filtered_stderr


def add_parser(sub) -> None:
    """Register `extract`."""
    parser = sub.add_parser("extract", help="pose windows of a video, as an .npz for `recommend`")
    parser.add_argument("video", type=Path, metavar="VIDEO")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.npz")
    parser.add_argument("--window", type=int_at_least(1), default=10, metavar="T")
    parser.add_argument("--stride", type=int_at_least(1), default=5, metavar="S")
    parser.add_argument("--verbose", action="store_true",
                        help="also show the log lines of MediaPipe, TFLite and absl")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Extract, cut windows, write `poses` (N, T, 33, 4) and `frame_index` (N, T)."""
    from ..pose.extract import extract_poses, require_windows

    if args.output.suffix != ".npz":
        raise PoseRecError(f"{args.output}: the output must be an .npz file")
    if not args.output.parent.is_dir():
        raise PoseRecError(f"{args.output.parent}: no such directory for the output")
    progress = sys.stderr.isatty()  # asked before stderr becomes the filter's pipe
    with filtered_stderr(enabled=not args.verbose):
        poses = extract_poses(args.video, progress=progress)
    if poses.incomplete is not None:
        print(f"poserec extract: warning: {poses.incomplete}", file=sys.stderr)
    require_windows(poses, args.video, args.window, args.stride)
    windows, frame_index = poses.windows(args.window, args.stride)
    tmp = args.output.with_name(f".{args.output.name}.tmp.npz")
    np.savez(tmp, poses=windows, frame_index=frame_index, fps=np.float64(poses.fps),
             frames_read=np.int64(poses.frames_read))
    tmp.replace(args.output)
    print(f"{args.video}: {poses.frames_read} frames, a person in {len(poses.landmarks)}, "
          f"{len(windows)} windows of {args.window} -> {args.output}")
    return 0
