"""`poserec recommend --poses FILE`: rank the catalog for each window of a pose file."""
from __future__ import annotations

import json
from pathlib import Path

from poserec_core import Recommender
from poserec_core.recommender import rankings_document
from poserec_core.device import DEVICE_CHOICES
from poserec_core.pose_files import read_pose_windows

from .arg_types import int_at_least


def add_parser(sub) -> None:
    """Register `recommend`."""
    parser = sub.add_parser("recommend", help="rank the effects for each window of a pose file")
    parser.add_argument("--poses", type=Path, required=True, metavar="FILE",
                        help=".npy (N, T, 33, 4), .npz with key 'poses', or the published .pkl")
    parser.add_argument("--top-k", type=int_at_least(1), default=5, metavar="K")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Print the top-k of every window, as text or as the contract's JSON."""
    windows = read_pose_windows(args.poses)
    recommender = Recommender.from_pretrained(device=args.device, weights_dir=args.weights)
    rankings = recommender.recommend(windows, top_k=args.top_k)
    if args.json:
        print(json.dumps(rankings_document(rankings, args.top_k)))
    else:
        for ranking in rankings:
            print(" ".join(ranking.names))
    return 0
