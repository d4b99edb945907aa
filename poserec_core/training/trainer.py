"""Train the pose encoder and the item side together on a PairDataset, seeded and resumable.

Each epoch's shuffle and hard-negative draws come from (seed, epoch), so a run resumed from a
checkpoint takes the same steps as one that never stopped.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

from ..catalog import Catalog
from ..encoder import PoseEncoder, load_encoder, windows_to_input
from ..recommender import Recommender
from .config import TrainConfig
from .dataset import PairDataset, PairIndex, holdout_split
from .item_side import ItemSide
from .loss import PairLabels, draw_dissimilar_ranks, posrec_loss
from .metrics import ranking_metrics


@dataclass(frozen=True)
class EpochReport:
    """Mean loss terms of one epoch, how many windows it trained on, and how long it took."""

    epoch: int
    windows: int
    seconds: float
    label: float
    norm: float
    triplet: float
    total: float

    @property
    def windows_per_second(self) -> float:
        """Training speed: windows through forward and backward per second."""
        return self.windows / self.seconds if self.seconds > 0 else float("inf")


def epoch_generators(seed: int, epoch: int) -> tuple[np.random.Generator, torch.Generator]:
    """The shuffle and hard-negative random streams of one epoch, from (seed, epoch) alone."""
    sequence = np.random.SeedSequence([seed, epoch])
    torch_seed = int(sequence.generate_state(1, dtype=np.uint64)[0] >> np.uint64(1))
    return np.random.default_rng(sequence), torch.Generator().manual_seed(torch_seed)


class Trainer:
    """Trains a PoseEncoder (published layout) and an ItemSide with the PoseRec loss."""

    def __init__(self, dataset: PairDataset, text: np.ndarray, config: TrainConfig,
                 device: torch.device, encoder_state: dict | None = None):
        """text: (n_items, K, E) frozen embeddings of the items' text columns.
        encoder_state: the published state dict to fine-tune (config.init == "published")."""
        if text.shape[0] != dataset.num_items:
            raise ValueError(f"{text.shape[0]} text embeddings for {dataset.num_items} items")
        self.dataset, self.config, self.device = dataset, config, device
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(config.seed)
            encoder = load_encoder(encoder_state) if encoder_state is not None else PoseEncoder()
            self.item_side = ItemSide(text.shape[1], text.shape[2]).to(device)
        self.encoder = encoder.to(device)
        self.text = torch.from_numpy(np.ascontiguousarray(text, dtype=np.float32)).to(device)
        self.optimizer = torch.optim.Adam(
            [*self.encoder.parameters(), *self.item_side.parameters()],
            lr=config.learning_rate, weight_decay=config.weight_decay)
        self.train_windows, self.heldout_windows = holdout_split(dataset.groups, config.holdout,
                                                                 config.seed)
        self.pairs = PairIndex(dataset)
        self.epoch = 0
        self.batchnorm_stale = False

    def train_epoch(self, on_batch: Callable[[int], None] | None = None) -> EpochReport:
        """One pass over the training windows in seeded random batches; `on_batch(windows)`."""
        rng, generator = epoch_generators(self.config.seed, self.epoch)
        order = rng.permutation(self.train_windows)
        for group in self.optimizer.param_groups:
            group["lr"] = self.config.learning_rate_at(self.epoch)
        self.encoder.train()
        sums, steps, trained, start = np.zeros(4), 0, 0, time.perf_counter()
        size = self.config.batch_windows
        for first in range(0, len(order), size):
            windows = order[first:first + size]
            ranks = draw_dissimilar_ranks(len(windows), generator)
            local, item, label = self.pairs.pairs_of(windows)
            if len(local):
                terms = self._step(windows, local, item, label, ranks)
                sums += [t.item() for t in (terms.label, terms.norm, terms.triplet, terms.total)]
                steps += 1
                trained += len(windows)
            if on_batch is not None:
                on_batch(len(windows))
        self.batchnorm_stale = True
        self.epoch += 1
        mean = sums / max(steps, 1)
        return EpochReport(self.epoch, trained, time.perf_counter() - start, *map(float, mean))

    @torch.no_grad()
    def _recalibrate_batchnorm(self) -> None:
        """Recompute every BatchNorm's running statistics over the training windows.

        The running averages kept during an epoch lag behind weights that change quickly;
        eval mode (inference, export) needs the statistics of the final weights.
        """
        norms = [m for m in self.encoder.modules()
                 if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d))]
        momenta = [m.momentum for m in norms]
        for m in norms:
            m.reset_running_stats()
            m.momentum = None
        self.encoder.train()
        size = self.config.batch_windows
        for first in range(0, len(self.train_windows), size):
            poses = self.dataset.poses[self.train_windows[first:first + size]]
            self.encoder(windows_to_input(torch.from_numpy(poses).to(self.device)))
        for m, momentum in zip(norms, momenta):
            m.momentum = momentum
        self.batchnorm_stale = False

    def _step(self, windows, local, item, label, ranks):
        poses = torch.from_numpy(self.dataset.poses[windows]).to(self.device)
        video = self.encoder(windows_to_input(poses)).reshape(len(windows),
                                                             self.item_side.num_prototypes, -1)
        items, distribution = self.item_side(self.text)
        pairs = PairLabels(torch.from_numpy(local).to(self.device),
                           torch.from_numpy(item).to(self.device),
                           torch.from_numpy(label).to(self.device))
        terms = posrec_loss(video, items, distribution, pairs, ranks, self.config.loss,
                            self.config.effective_margin, self.config.loss_weights())
        self.optimizer.zero_grad(set_to_none=True)
        terms.total.backward()
        self.optimizer.step()
        return terms

    def catalog(self) -> Catalog:
        """The dataset's items as a scoring catalog, from the current item side."""
        return self.item_side.catalog(self.dataset.item_names, self.text)

    def recommender(self) -> Recommender:
        """The current model in eval mode, scoring exactly as an exported one will."""
        if self.batchnorm_stale:
            self._recalibrate_batchnorm()
        self.encoder.eval()
        return Recommender(self.encoder, self.catalog(), self.device)

    def evaluate(self, windows: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)) -> dict[str, float]:
        """Ranking metrics of these windows over the whole catalog."""
        scores = self.recommender().score(self.dataset.poses[windows])
        return ranking_metrics(scores, self.dataset.positives(windows), ks)

    def state_dict(self) -> dict:
        """Everything a resume needs: both models, the optimizer and the epochs done."""
        return {"encoder": self.encoder.state_dict(), "item_side": self.item_side.state_dict(),
                "optimizer": self.optimizer.state_dict(), "epoch": self.epoch}

    def load_state_dict(self, state: dict) -> None:
        """Restore a `state_dict()` (strict)."""
        self.encoder.load_state_dict(state["encoder"], strict=True)
        self.item_side.load_state_dict(state["item_side"], strict=True)
        self.optimizer.load_state_dict(state["optimizer"])
        self.epoch = int(state["epoch"])
        self.batchnorm_stale = self.epoch > 0
