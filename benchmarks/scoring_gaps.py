"""What a pause before each batch costs the scoring: CPU per window of `Recommender.score`.

A `poserec serve` replica scores a batch every 20-30 ms and sleeps between batches; this times
the same batches back to back and after a sleep of each given length, in the same process, on
one torch thread (as a one-CPU replica has), interleaved round by round:

    python benchmarks/scoring_gaps.py --batch 10 --gaps-ms 0 1 5 20 --rounds 300

Prints, per gap, the thread CPU time of the `score` calls alone per window (the sleep itself
costs no CPU), so the difference to the back-to-back row is what waking up cold costs.
"""
from __future__ import annotations

import argparse
import time

import numpy as np
import torch

from poserec_core import Recommender
from poserec_core.bundle import read_manifest
from poserec_core.weights_install import default_weights_dir


def main(argv: list[str] | None = None) -> int:
    """Time the batches and print one row per gap."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10, help="windows per batch (1..81)")
    parser.add_argument("--gaps-ms", type=float, nargs="+", default=[0, 1, 5, 20])
    parser.add_argument("--rounds", type=int, default=300)
    args = parser.parse_args(argv)
    if not 1 <= args.batch <= 81 or args.rounds < 1 or min(args.gaps_ms) < 0:
        parser.error("--batch must be 1..81, --rounds at least 1, gaps at least 0")
    torch.set_num_threads(1)
    recommender = Recommender.from_pretrained(device="cpu")
    windows = np.load(read_manifest(default_weights_dir()).path("sample")).astype(np.float32)
    for _ in range(20):
        recommender.score(windows[:args.batch])
    cpu = dict.fromkeys(args.gaps_ms, 0.0)
    for n in range(args.rounds):
        batch = windows[n % (len(windows) - args.batch + 1):][:args.batch]
        for gap in args.gaps_ms:
            time.sleep(gap / 1e3)
            start = time.thread_time()
            recommender.score(batch)
            cpu[gap] += time.thread_time() - start
    print(f"batch of {args.batch} windows, 1 torch thread, {args.rounds} rounds")
    print("gap ms  score CPU ms/window")
    for gap, seconds in cpu.items():
        print(f"{gap:6g}  {1e3 * seconds / (args.rounds * args.batch):.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
