"""`poserec export --format onnx OUT.onnx`: the encoder and scoring as one ONNX graph, checked."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from poserec_core.errors import PoseRecError

from .arg_types import int_at_least

FORMATS = ("onnx",)
MAX_EXPORT_ERROR = 1e-5
"""Largest |onnxruntime - torch| score on the installed sample that the export accepts."""


def add_parser(sub) -> None:
    """Register `export`."""
    parser = sub.add_parser("export", help="export the scoring model (ONNX, dynamic batch size)")
    parser.add_argument("output", type=Path, metavar="OUT.onnx")
    parser.add_argument("--format", choices=FORMATS, required=True)
    parser.add_argument("--window", type=int_at_least(1), metavar="T",
                        help="frames per window (default: the weights' own, 10)")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Export on the CPU, then score the installed sample with onnxruntime and with the torch
    Recommender and compare."""
    from poserec_core import Recommender
    from poserec_core.bundle import read_manifest
    from poserec_core.encoder import load_encoder
    from poserec_core.onnx_export import OnnxScorer, export_onnx
    from poserec_core.pretrained import load_catalog, load_sample, load_state_dict
    from poserec_core.weights_install import default_weights_dir

    manifest = read_manifest(args.weights or default_weights_dir())
    window = args.window or manifest.window_frames
    export_onnx(load_encoder(load_state_dict(manifest)), load_catalog(manifest), args.output,
                window)
    if "sample" not in manifest.files or window != manifest.window_frames:
        print(f"wrote {args.output} (T={window}, dynamic batch); not checked: no sample windows "
              f"of {window} frames in {manifest.directory}")
        return 0
    sample = load_sample(manifest)
    recommender = Recommender.from_pretrained(device="cpu", weights_dir=manifest.directory)
    error = float(np.abs(OnnxScorer(args.output).load().score(sample)
                         - recommender.score(sample)).max())
    if error > MAX_EXPORT_ERROR:
        raise PoseRecError(f"{args.output}: onnxruntime's scores differ from torch's by {error:.2e} "
                           f"(> {MAX_EXPORT_ERROR:.0e}) on the sample; do not use this file")
    print(f"wrote {args.output} (T={window}, dynamic batch); onnxruntime matches torch on the "
          f"{len(sample)} sample windows within {error:.1e}")
    return 0
