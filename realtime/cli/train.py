"""`poserec train --data DIR --run-dir RUN`: train the encoder and the item side on one's data."""
from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from poserec_core.device import DEVICE_CHOICES, resolve_device
from poserec_core.training.config import (ENCODER_INITS, LR_SCHEDULES, TrainConfig,
                                          read_config_file)
from poserec_core.training.loss import TRIPLET_VARIANTS

from .arg_types import float_in, int_at_least

_DEFAULTS = TrainConfig()


def _column_list(text: str) -> tuple[str, ...]:
    return tuple(c.strip() for c in text.split(",") if c.strip())


def add_parser(sub) -> None:
    """Register `train`."""
    parser = sub.add_parser(
        "train", help="train on a dataset of pose windows, items and labelled pairs",
        description="Train the pose encoder and the item side on a dataset directory "
                    "(windows.npz, items.csv, pairs.csv; see README: Training on your own data). "
                    "Settings come "
                    "from the defaults, then --config FILE.json, then the flags given.")
    parser.add_argument("--data", type=Path, required=True, metavar="DIR", help="dataset directory")
    parser.add_argument("--run-dir", type=Path, required=True, metavar="RUN",
                        help="where the checkpoint goes (and the export, without --export)")
    parser.add_argument("--export", type=Path, metavar="DIR",
                        help="weights directory to export to (default: RUN/weights)")
    parser.add_argument("--config", type=Path, metavar="FILE.json",
                        help="JSON object of settings named as the flags, with underscores")
    parser.add_argument("--resume", action="store_true", help="continue RUN from its checkpoint")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto")
    parser.add_argument("--weights", type=Path, metavar="DIR",
                        help="installed release to fine-tune from (default: $POSEREC_WEIGHTS_DIR "
                             "or installed)")
    parser.add_argument("--cache-dir", type=Path, metavar="DIR",
                        help="text-embedding cache (default: ~/.cache/poserec/text-embeddings)")
    settings = parser.add_argument_group("settings (default in brackets)")
    d = _DEFAULTS
    settings.add_argument("--epochs", type=int_at_least(1), help=f"[{d.epochs}]")
    settings.add_argument("--batch-windows", type=int_at_least(2), help=f"[{d.batch_windows}]")
    settings.add_argument("--learning-rate", type=float_in(1e-8, 1.0), help=f"[{d.learning_rate}]")
    settings.add_argument("--lr-schedule", choices=LR_SCHEDULES,
                          help=f"cosine decay over the epochs, or constant [{d.lr_schedule}]")
    settings.add_argument("--weight-decay", type=float_in(0.0, 1.0, include_high=False),
                          help=f"[{d.weight_decay}]")
    settings.add_argument("--seed", type=int_at_least(0), help=f"[{d.seed}]")
    settings.add_argument("--holdout", type=float_in(0.0, 1.0, include_high=False),
                          help=f"fraction of groups held out for evaluation [{d.holdout}]")
    settings.add_argument("--loss", choices=TRIPLET_VARIANTS,
                          help=f"triplet term: published (no hinge) or hinged [{d.loss}]")
    settings.add_argument("--margin", type=float_in(0.0, 10.0),
                          help="triplet margin [2.0 published, 0.5 hinged]")
    settings.add_argument("--label-weight", type=float_in(0.0, 1e3), help=f"[{d.label_weight}]")
    settings.add_argument("--triplet-weight", type=float_in(0.0, 1e3), help=f"[{d.triplet_weight}]")
    settings.add_argument("--norm-weight", type=float_in(0.0, 1e3), help=f"[{d.norm_weight}]")
    settings.add_argument("--init", choices=ENCODER_INITS,
                          help=f"encoder start: the published weights or scratch [{d.init}]")
    settings.add_argument("--columns", type=_column_list, metavar="A,B",
                          help="item columns to embed [all columns of items.csv]")
    parser.set_defaults(run=run)


def resolve_config(args) -> TrainConfig:
    """Defaults, then the config file, then the flags that were given."""
    values = read_config_file(args.config) if args.config else {}
    for field in fields(TrainConfig):
        given = getattr(args, field.name, None)
        if given is not None:
            values[field.name] = list(given) if field.name == "columns" else given
    return TrainConfig.from_dict(values, str(args.config or "the flags"))


def run(args) -> int:
    """Train, checkpoint every epoch, export, print the held-out metrics."""
    from tqdm import tqdm

    from poserec_core.training.run import train_run
    from poserec_core.training.text_embeddings import sentence_embedder

    config = resolve_config(args)
    device = resolve_device(args.device)
    show_bar = sys.stderr.isatty()

    def progress(epoch: int, windows: int):
        bar = tqdm(total=windows, desc=f"epoch {epoch}/{config.epochs}", unit="window",
                   file=sys.stderr, disable=not show_bar, leave=False)

        def advance(count: int) -> None:
            bar.update(count)
            if bar.n >= windows:
                bar.close()
        return advance

    def report(r) -> None:
        print(f"epoch {r.epoch}/{config.epochs}: loss {r.total:.4f} (label {r.label:.4f}, "
              f"triplet {r.triplet:.4f}, norm {r.norm:.3f}), {r.windows} windows in "
              f"{r.seconds:.1f} s, {r.windows_per_second:.1f} windows/s", file=sys.stderr,
              flush=True)

    result = train_run(args.data, args.run_dir, config, sentence_embedder(args.cache_dir),
                       device, export_dir=args.export, resume=args.resume,
                       weights_dir=args.weights, on_epoch=report, on_batch_factory=progress)
    if result.heldout_metrics:
        shown = ", ".join(f"{k} {v:.3f}" for k, v in result.heldout_metrics.items()
                          if k != "windows")
        print(f"held-out ({result.heldout_metrics['windows']} windows): {shown}")
    print(f"exported to {result.export_dir}")
    return 0
