"""One training run, end to end: data, text embeddings, epochs with checkpoints, export."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from ..bundle import read_manifest
from ..errors import PoseRecError
from ..pretrained import load_state_dict
from ..recommender import Recommender
from ..weights_install import default_weights_dir
from .checkpoint import RunIdentity, checkpoint_path, load_checkpoint, save_checkpoint
from .config import TrainConfig
from .dataset import PairDataset, dataset_fingerprint, load_dataset
from .export import TrainingRecord, export_weights
from .text_embeddings import TextEmbedder, embed_columns
from .trainer import EpochReport, Trainer

EVALUATION_KS = (1, 5, 10)
"""The K of Recall@K, HR@K and NDCG@K that training reports."""


@dataclass(frozen=True)
class RunResult:
    """What a finished run produced: the trained model (as exported), where it exported, its
    held-out metrics and the reports of the epochs trained in this call."""

    recommender: Recommender
    export_dir: Path
    heldout_metrics: dict
    reports: tuple[EpochReport, ...]


def item_text_embeddings(dataset: PairDataset, columns: tuple[str, ...],
                         embedder: TextEmbedder) -> np.ndarray:
    """(n_items, K, E) embeddings of the chosen item columns."""
    return embed_columns({c: dataset.item_text[c] for c in columns}, embedder)


def published_encoder_state(weights_dir: Path | None) -> dict:
    """The installed release's encoder state dict, the starting point of `init=published`."""
    return load_state_dict(read_manifest(weights_dir or default_weights_dir()))


def train_run(data_dir: Path, run_dir: Path, config: TrainConfig, embedder: TextEmbedder,
              device: torch.device, export_dir: Path | None = None, resume: bool = False,
              weights_dir: Path | None = None,
              on_epoch: Callable[[EpochReport], None] | None = None,
              on_batch_factory: Callable[[int, int], Callable[[int], None]] | None = None
              ) -> RunResult:
    """Train (or resume) a run in `run_dir`, checkpointing every epoch, then export.

    on_batch_factory(epoch, windows) returns the per-batch callback of an epoch (a progress
    bar); on_epoch receives each epoch's report.
    """
    dataset = load_dataset(data_dir)
    columns = dataset.text_columns(config.columns)
    identity = RunIdentity(config, dataset_fingerprint(data_dir), embedder.model_id)
    if not resume and checkpoint_path(run_dir).is_file():
        raise PoseRecError(f"{run_dir} already holds a run; pass --resume to continue it or "
                           "choose another --run-dir")
    checkpoint = load_checkpoint(run_dir, identity) if resume else None
    text = item_text_embeddings(dataset, columns, embedder)
    initial = (published_encoder_state(weights_dir)
               if config.init == "published" and checkpoint is None else None)
    trainer = Trainer(dataset, text, config, device, initial)
    if checkpoint is not None:
        trainer.load_state_dict(checkpoint)
    reports = []
    while trainer.epoch < config.epochs:
        on_batch = (on_batch_factory(trainer.epoch + 1, len(trainer.train_windows))
                    if on_batch_factory else None)
        report = trainer.train_epoch(on_batch)
        save_checkpoint(run_dir, trainer.state_dict(), identity)
        reports.append(report)
        if on_epoch is not None:
            on_epoch(report)
    metrics = (trainer.evaluate(trainer.heldout_windows, EVALUATION_KS)
               if len(trainer.heldout_windows) else {})
    record = TrainingRecord(
        text_model=embedder.model_id, columns=columns, input_dim=text.shape[2],
        num_prototypes=trainer.item_side.num_prototypes,
        prototype_dim=trainer.item_side.prototype_dim,
        dataset_fingerprint=identity.dataset_fingerprint,
        heldout_windows=tuple(int(w) for w in trainer.heldout_windows),
        config=config.to_dict(), metrics=metrics)
    recommender = trainer.recommender()
    target = export_dir or Path(run_dir) / "weights"
    export_weights(target, recommender.encoder, trainer.item_side, recommender.catalog, record,
                   dataset.window_frames, origin=f"poserec train --data {data_dir}")
    return RunResult(recommender, target, metrics, tuple(reports))
