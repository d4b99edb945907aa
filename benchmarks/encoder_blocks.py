"""Eager and fast encode+rank timed in blocks of each path's own calls, not call by call.

`poserec bench --encoder` alternates eager and fast call by call, so every fast call starts on
caches the eager call just filled (the live pipeline's cold case). This times each path in
blocks of consecutive calls (the warm case of `poserec serve` and `poserec batch`), the blocks
interleaved round by round so both paths see the same machine:

    python benchmarks/encoder_blocks.py --threads 2 --rounds 5

Prints the p50 of one window and of a batch of 64 for each path, and eager / fast.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from poserec_core import Recommender
from poserec_core.bundle import read_manifest
from poserec_core.weights_install import default_weights_dir

WARM_UP_CALLS = 10


def _block(recommender: Recommender, windows: np.ndarray, calls: int) -> list[float]:
    for _ in range(WARM_UP_CALLS):
        recommender.recommend(windows, top_k=5)
    times = []
    for _ in range(calls):
        start = time.perf_counter()
        recommender.recommend(windows, top_k=5)
        times.append(time.perf_counter() - start)
    return times


def main(argv: list[str] | None = None) -> int:
    """Time the blocks and print one line per batch size."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    parser.add_argument("--rounds", type=int, default=5, help="blocks per path and size")
    parser.add_argument("--calls", type=int, default=60, help="timed calls per one-window "
                                                              "block (batch-64 blocks: an eighth)")
    args = parser.parse_args(argv)
    if args.threads < 1 or args.rounds < 1 or args.calls < 8:
        parser.error("--threads and --rounds must be at least 1, --calls at least 8")
    torch.set_num_threads(args.threads)
    manifest = read_manifest(default_weights_dir())
    paths = {"eager": Recommender.from_pretrained("cpu", manifest.directory, fast=False),
             "fast": Recommender.from_pretrained("cpu", manifest.directory)}
    sample = np.load(manifest.path("sample")).astype(np.float32)
    sizes = {1: (sample[:1], args.calls), 64: (np.resize(sample, (64,) + sample.shape[1:]),
                                               args.calls // 8)}
    times = {(name, size): [] for name in paths for size in sizes}
    for _ in range(args.rounds):
        for size, (windows, calls) in sizes.items():
            for name, recommender in paths.items():
                times[name, size] += _block(recommender, windows, calls)
    print(f"{args.threads} torch threads, {args.rounds} rounds of blocks; p50 ms a window")
    for size in sizes:
        eager, fast = (1e3 * float(np.median(times[name, size])) / size for name in paths)
        print(f"batch {size:2d}: eager {eager:.3f}  fast {fast:.3f}  eager / fast {eager / fast:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
