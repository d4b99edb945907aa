"""`Recommender`: pose windows in, item scores and top-k rankings out."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from .bundle import read_manifest
from .catalog import Catalog
from .device import resolve_device
from .errors import PoseRecError
from .encoder import load_encoder, windows_to_input
from .fast_encoder import FastEncoder
from .pose_files import validate_poses
from .pretrained import load_catalog, load_state_dict
from .scoring import score_items, top_k
from .weights_install import default_weights_dir

BATCH_WINDOWS = 256
"""Windows encoded per forward pass; bounds memory for long files."""


@dataclass(frozen=True)
class Ranking:
    """The top-k items of one window, best first."""

    items: tuple[int, ...]
    names: tuple[str, ...]
    scores: tuple[float, ...]

    def __post_init__(self):
        if not len(self.items) == len(self.names) == len(self.scores):
            raise ValueError("items, names and scores differ in length")

    def to_json(self) -> list[dict]:
        """[{"item": i, "name": s, "score": x}, ...] as in `poserec recommend --json`."""
        return [{"item": int(i), "name": n, "score": float(s)}
                for i, n, s in zip(self.items, self.names, self.scores)]


def check_top_k(top_k: int, n_items: int) -> None:
    """A top-k between 1 and the catalog's size, else a PoseRecError naming both."""
    if not 1 <= top_k <= n_items:
        raise PoseRecError(f"--top-k {top_k}: choose between 1 and the catalog's {n_items} items")


def rankings_document(rankings: list[Ranking], top_k: int) -> dict:
    """The JSON document of `poserec recommend --json`: {"top_k": K, "windows": [{"window": n,
    "top": [...]}]}."""
    return {"top_k": top_k, "windows": [{"window": n, "top": r.to_json()}
                                        for n, r in enumerate(rankings)]}


def _joined(batches: list[torch.Tensor]) -> np.ndarray:
    """The batches' rows as one host array (no copy to join a single batch)."""
    return (batches[0] if len(batches) == 1 else torch.cat(batches)).cpu().numpy()


class Recommender:
    """Ranks a catalog of effects for pose windows (N, T, 33, 4) with an encoder on a device."""

    def __init__(self, encoder: Callable[[torch.Tensor], torch.Tensor], catalog: Catalog,
                 device: torch.device):
        self.encoder = encoder
        self.catalog = catalog
        self.device = device
        self.folded_items = torch.from_numpy(catalog.folded()).to(device)

    @classmethod
    def from_pretrained(cls, device: str = "auto", weights_dir: str | Path | None = None,
                        fast: bool = True) -> "Recommender":
        """Load verified weights from `weights_dir` (default: POSEREC_WEIGHTS_DIR or installed).

        fast: the composed `FastEncoder`, prepared for the release's window length (default);
        False keeps the eager `PoseEncoder` module (for tests, training and export).
        """
        manifest = read_manifest(weights_dir if weights_dir is not None else default_weights_dir())
        torch_device = resolve_device(device)
        encoder = load_encoder(load_state_dict(manifest)).to(torch_device)
        if fast:
            encoder = FastEncoder(encoder)
            encoder.prepare(manifest.window_frames)
        return cls(encoder, load_catalog(manifest), torch_device)

    @torch.inference_mode()
    def embed(self, windows: np.ndarray) -> np.ndarray:
        """Raw encoder outputs (N, 256) float32 for windows (N, T, 33, 4)."""
        return _joined([self._encode(b) for b in self._batches(windows)])

    @torch.inference_mode()
    def score(self, windows: np.ndarray) -> np.ndarray:
        """Scores (N, n_items) float32 of every item for each window."""
        return _joined([self._score(b) for b in self._batches(windows)])

    @torch.inference_mode()
    def recommend(self, windows: np.ndarray, top_k: int = 5) -> list[Ranking]:
        """The `top_k` best items of each window, best first."""
        check_top_k(top_k, len(self.catalog))
        rankings = []
        for batch in self._batches(windows):
            rankings.extend(self.rank_scores(self._score(batch), top_k))
        return rankings

    def rank_scores(self, scores: torch.Tensor, k: int) -> list[Ranking]:
        """Rankings from a (N, n_items) score tensor."""
        indices, values = (t.cpu().numpy() for t in top_k(scores, k))
        names = self.catalog.names
        return [Ranking(tuple(int(i) for i in row), tuple(names[i] for i in row),
                        tuple(float(s) for s in vals)) for row, vals in zip(indices, values)]

    def _encode(self, batch: torch.Tensor) -> torch.Tensor:
        return self.encoder(windows_to_input(batch))

    def _score(self, batch: torch.Tensor) -> torch.Tensor:
        return score_items(self._encode(batch), self.folded_items, self.catalog.num_prototypes)

    def _batches(self, windows: np.ndarray):
        windows = validate_poses(np.asarray(windows), 4, "windows")
        for start in range(0, len(windows), BATCH_WINDOWS):
            yield torch.from_numpy(windows[start:start + BATCH_WINDOWS]).to(self.device)
