"""`poserec evaluate --data DIR --weights DIR`: Recall@K, HR@K, NDCG@K and AUC of a model."""
from __future__ import annotations

import json
from pathlib import Path

from poserec_core.device import DEVICE_CHOICES

from .arg_types import int_at_least

SPLITS = ("heldout", "all")


def add_parser(sub) -> None:
    """Register `evaluate`."""
    parser = sub.add_parser("evaluate", help="ranking metrics of a weights directory on a dataset")
    parser.add_argument("--data", type=Path, required=True, metavar="DIR", help="dataset directory")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="weights directory (default: $POSEREC_WEIGHTS_DIR or installed)")
    parser.add_argument("--split", choices=SPLITS, default="heldout",
                        help="heldout: the windows `poserec train` held out (its training.json); "
                             "all: every window of the dataset")
    parser.add_argument("--k", type=int_at_least(1), nargs="+", default=[1, 5, 10], metavar="K",
                        help="cut-offs for Recall@K, HR@K and NDCG@K (default: 1 5 10)")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.set_defaults(run=run)


def run(args) -> int:
    """Score the chosen windows over the whole catalog and print the metrics."""
    from poserec_core.training.evaluation import evaluate_weights

    result = evaluate_weights(args.data, args.weights, args.split == "heldout",
                              tuple(sorted(set(args.k))), args.device)
    if args.json:
        print(json.dumps({"split": args.split, **result}))
    else:
        print(f"{args.split} split, {result['metrics']['windows']} windows with a positive, "
              f"{result['catalog_items']} catalog items")
        for name, value in result["metrics"].items():
            if name != "windows":
                print(f"  {name:<10} {value:.4f}")
    return 0
