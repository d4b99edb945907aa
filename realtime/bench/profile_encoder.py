"""Where the fast encoder's time goes: `torch.profiler` over `Recommender.score`, per operator.

    python -m realtime.bench.profile_encoder [--threads 2] [--rows 20]

For one window and a batch of 64 sample windows: the operators by self CPU time per call, with
their input shapes (which GEMM, which transform, which elementwise pass) and their share of the
total. The profiler adds its own cost per operator, so shares mean more than absolute times,
and one window's figures are an upper bound.
"""
from __future__ import annotations

import argparse

import numpy as np
import torch
from torch.profiler import ProfilerActivity, profile

from poserec_core import Recommender
from poserec_core.bundle import read_manifest
from poserec_core.pretrained import load_sample
from poserec_core.weights_install import default_weights_dir

CASES = ((1, 300), (64, 20))
"""(windows per call, profiled calls)."""


def profile_rows(recommender: Recommender, windows: np.ndarray, calls: int, rows: int) -> str:
    """The `rows` costliest operators of `recommender.score(windows)`, per call."""
    for _ in range(5):
        recommender.score(windows)
    with profile(activities=[ProfilerActivity.CPU], record_shapes=True) as prof:
        for _ in range(calls):
            recommender.score(windows)
    events = prof.key_averages(group_by_input_shape=True)
    total = sum(e.self_cpu_time_total for e in events)
    lines = [f"{len(windows)} window(s): {total / calls / 1e3:.3f} ms self CPU per call"]
    for e in sorted(events, key=lambda e: -e.self_cpu_time_total)[:rows]:
        lines.append(f"  {100 * e.self_cpu_time_total / total:5.1f} %  "
                     f"{e.self_cpu_time_total / calls:8.1f} us  x{e.count // calls:<2d} "
                     f"{e.key:<22s} {e.input_shapes}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    """Print both profiles."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--rows", type=int, default=20)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    manifest = read_manifest(default_weights_dir())
    sample = load_sample(manifest)
    recommender = Recommender.from_pretrained("cpu", manifest.directory)
    for batch, calls in CASES:
        windows = np.resize(sample, (batch,) + sample.shape[1:])
        print(profile_rows(recommender, windows, calls, args.rows), end="\n\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
