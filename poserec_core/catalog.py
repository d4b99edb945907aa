"""The item catalog: names, per-prototype embeddings and prototype distribution, folded for scoring."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .errors import WeightsError


@dataclass(frozen=True)
class Catalog:
    """Items of the catalog. item_embeddings (P, n, D) float32; prototype_dis (n, P) float32."""

    names: tuple[str, ...]
    item_embeddings: np.ndarray
    prototype_dis: np.ndarray

    def __post_init__(self):
        emb, dis = self.item_embeddings, self.prototype_dis
        if emb.ndim != 3:
            raise WeightsError(f"item embeddings have shape {emb.shape}, expected (P, n_items, D)")
        p, n, _ = emb.shape
        if dis.shape != (n, p):
            raise WeightsError(f"prototype distribution has shape {dis.shape}, expected {(n, p)}")
        if len(self.names) != n:
            raise WeightsError(f"{len(self.names)} item names for {n} item embeddings")
        if not (np.isfinite(emb).all() and np.isfinite(dis).all()):
            raise WeightsError("the catalog holds NaN or infinite values")
        if (np.linalg.norm(emb, axis=2) == 0).any():
            raise WeightsError("an item embedding is all zeros and cannot be normalised")

    def __len__(self) -> int:
        return len(self.names)

    @property
    def num_prototypes(self) -> int:
        """P: prototypes (categories) each item is embedded in."""
        return self.item_embeddings.shape[0]

    def folded(self) -> np.ndarray:
        """(n_items, P*D) float32: per prototype c, the L2-normalised embedding times p[i, c].

        Scoring a window is then one inner product with its concatenated normalised video
        vectors, equal to sum_c p[i, c] * <video_c, item_c>.
        """
        emb = self.item_embeddings / np.linalg.norm(self.item_embeddings, axis=2, keepdims=True)
        weighted = emb * self.prototype_dis.T[:, :, None]
        return np.ascontiguousarray(weighted.transpose(1, 0, 2).reshape(len(self), -1),
                                    dtype=np.float32)
