"""`poserec bench`: latency figures. `--encoder`: encode+rank (eager vs fast) and rank alone."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from poserec_core.device import DEVICE_CHOICES
from poserec_core.errors import PoseRecError

from ..bench.output import check_output_path, write_json
from ..engine.pipeline import PipelineConfig
from ..sources import SourceSpec, parse_source
from .arg_types import float_in, int_at_least
from .quiet import filtered_stderr

PIPELINE_DEFAULTS = PipelineConfig()


def add_parser(sub) -> None:
    """Register `bench`."""
    parser = sub.add_parser("bench", help="measure latency: percentiles, throughput, hardware")
    parser.add_argument("--encoder", action="store_true",
                        help="encode+rank alone, eager against fast (batches 1, 8, 64), and rank "
                             "alone for catalogs of 221, 10,000 and 100,000 items")
    parser.add_argument("--json", type=Path, metavar="OUT",
                        help="also write the figures as JSON (written atomically)")
    parser.add_argument("--plot", type=Path, metavar="PNG",
                        help="also plot the latency distribution of each measurement")
    parser.add_argument("--runs", type=int_at_least(1), default=100, metavar="N",
                        help="timed runs per measurement (default 100)")
    parser.add_argument("--warmup", type=int_at_least(0), default=10, metavar="N",
                        help="untimed runs before them (default 10)")
    parser.add_argument("--threads", type=int_at_least(1), metavar="N",
                        help="torch CPU threads (default: with --encoder torch's choice, one per core; "
                             "for the pipeline 1 when MediaPipe shares the CPU)")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.add_argument("--verbose", action="store_true",
                        help="also show the log lines of MediaPipe, TFLite and absl")
    pipeline = parser.add_argument_group("the pipeline benchmark (without --encoder)")
    pipeline.add_argument("--source", type=_definite_source, default=SourceSpec("demo"),
                          metavar="S", help="demo (default), replay:FILE, a video file, a camera "
                                            "index or a URL")
    pipeline.add_argument("--frames", type=int_at_least(1), default=300, metavar="N",
                          help="frames per run, and frames MediaPipe alone runs on, decoded into "
                               "memory first (default %(default)s)")
    pipeline.add_argument("--fps", type=float_in(1.0, 240.0), metavar="F",
                          help="rate of the paced run (default: the source's own); the unpaced "
                               "run of a file, replay or demo always runs as fast as it can")
    pipeline.add_argument("--stride", type=int_at_least(1), default=PIPELINE_DEFAULTS.stride,
                          metavar="S", help="new frames between re-ranks (default %(default)s)")
    pipeline.add_argument("--as-camera", action="store_true",
                          help="also play the video file as a camera would (paced at its rate, "
                               "latest frame wins, stale frames dropped): run `camera`")
    pipeline.add_argument("--smoothing", type=float_in(0.0, 1.0, include_high=False),
                          default=PIPELINE_DEFAULTS.smoothing, metavar="A",
                          help="weight of the past in the score average, in [0, 1); 0 turns it "
                               "off (default %(default)s)")
    parser.set_defaults(run=run)


def _definite_source(text: str) -> SourceSpec:
    """A --source other than `auto`: a benchmark must say what it measured."""
    try:
        spec = parse_source(text)
    except PoseRecError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    if spec.kind == "auto":
        raise argparse.ArgumentTypeError("auto is not a definite source; name demo, "
                                         "replay:FILE, a video file, a camera index or a URL")
    return spec


def run(args) -> int:
    """Check the output paths first, measure, print the table, write --json and --plot."""
    if args.encoder and args.as_camera:
        raise PoseRecError("--as-camera is a pipeline run; leave out --encoder")
    json_path = check_output_path(args.json, ".json", "--json") if args.json else None
    plot_path = check_output_path(args.plot, ".png", "--plot") if args.plot else None
    import torch

    if args.threads is not None:
        torch.set_num_threads(args.threads)
    if args.encoder:
        result, title = _encoder_bench(args, _log)
    else:
        with filtered_stderr(enabled=not args.verbose):
            result, title = _pipeline_bench(args, _log)
    print(result.table())
    if json_path is not None:
        write_json(json_path, result.document)
    if plot_path is not None:
        from ..bench.plot import plot_latency

        plot_latency(plot_path, result.samples,
                     f"{title}: {result.document['hardware']['cpu']}, "
                     f"{result.document['hardware']['device']}")
    return 0


def _log(line: str) -> None:
    """Progress on stderr, so that stdout holds only the table."""
    print(f"bench: {line}", file=sys.stderr)


def _encoder_bench(args, log):
    """`--encoder`: encode+rank, eager against fast, and rank alone; (result, plot title)."""
    from ..bench.encoder import EncoderBenchConfig, run_encoder_bench

    config = EncoderBenchConfig(device=args.device, weights_dir=args.weights, runs=args.runs,
                                warmup=args.warmup)
    return run_encoder_bench(config, log=log), "poserec bench --encoder"


def _pipeline_bench(args, log):
    """The streaming pipeline per stage and per window, and MediaPipe alone; (result, title)."""
    from ..bench.pipeline import PipelineBenchConfig, run_pipeline_bench

    config = PipelineBenchConfig(source=args.source, frames=args.frames, fps=args.fps,
                                 device=args.device, stride=args.stride,
                                 smoothing=args.smoothing, weights_dir=args.weights,
                                 torch_threads=args.threads, as_camera=args.as_camera)
    return run_pipeline_bench(config, log=log), f"poserec bench --source {config.source.kind}"
