"""`poserec batch INPUT -o OUT_DIR`: score a corpus of videos on Ray (imported only when run)."""
from __future__ import annotations

import sys
from pathlib import Path

from .arg_types import int_at_least


def add_parser(sub) -> None:
    """Register `batch`."""
    parser = sub.add_parser(
        "batch", help="score a corpus of videos on Ray Data into Parquet tables",
        description="Poses every video in a pool of CPU actors, scores the windows in a pool of "
                    "scoring actors and writes OUT_DIR/{windows,videos,errors} as Parquet. "
                    "Videos already in OUT_DIR are skipped. Without --address a local Ray is "
                    "started for the run.")
    parser.add_argument("input", metavar="INPUT",
                        help="a folder of videos, a quoted glob ('clips/*.mp4'), a manifest "
                             "file of video paths (one a line) or one video")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="OUT_DIR")
    parser.add_argument("--address", metavar="ADDR",
                        help="an existing Ray cluster (e.g. ray://head:10001 or auto); "
                             "its nodes must see INPUT's paths")
    parser.add_argument("--num-gpus", type=int_at_least(0), default=0, metavar="G",
                        help="scoring actors with one GPU each (default 0: one on the CPU)")
    parser.add_argument("--pose-actors", type=int_at_least(1), metavar="N",
                        help="MediaPipe actors, one CPU each (default: the cluster's CPUs less "
                             "the scoring actors')")
    parser.add_argument("--top-k", type=int_at_least(1), default=5, metavar="K")
    parser.add_argument("--window", type=int_at_least(1), default=10, metavar="T")
    parser.add_argument("--stride", type=int_at_least(1), default=5, metavar="S")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Run the job and print one summary line."""
    from poserec_ray.batch_job import BatchConfig, run_batch
    from poserec_ray.ray_session import RaySettings

    report = run_batch(BatchConfig(
        input=args.input, out_dir=args.output, window=args.window, stride=args.stride,
        top_k=args.top_k, pose_actors=args.pose_actors, num_gpus=args.num_gpus,
        weights_dir=args.weights, ray=RaySettings(address=args.address),
        progress=sys.stderr.isatty()))
    new = report.videos - report.skipped
    if new == 0:
        print(f"{report.videos} videos, all already in {args.output}: nothing to do")
        return 0
    print(f"{report.videos} videos: {report.scored} scored ({report.windows} windows), "
          f"{report.failed} in errors, {report.skipped} already done; {new} in "
          f"{report.seconds:.1f} s with {report.pose_actors} pose actors "
          f"({report.videos_per_minute:.1f} videos/min) -> {args.output}")
    return 0
