"""The item side: frozen text embeddings of an item's columns -> per-prototype embeddings and
the item's distribution over the prototypes ("item-aware implicit prototype learning").

Per prototype c, a weighted sum of the K column embeddings (one learned weight per column,
initialised to 1), then Linear(E, D). Separately, a weighted sum of the columns with its own
weights, Linear(E, D), cosine similarity with P learned prototype vectors, softmax over P.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..catalog import Catalog
from ..release import NUM_PROTOTYPES, PROTOTYPE_DIM


class ItemSide(nn.Module):
    """Text embeddings (n, K, E) -> item embeddings (P, n, D) and prototype distribution (n, P).

    E (`input_dim`) is the sentence encoder's width: 768 in the paper, 384 for all-MiniLM-L6-v2.
    """

    def __init__(self, num_columns: int, input_dim: int, num_prototypes: int = NUM_PROTOTYPES,
                 prototype_dim: int = PROTOTYPE_DIM):
        super().__init__()
        if min(num_columns, input_dim, num_prototypes, prototype_dim) < 1:
            raise ValueError("ItemSide needs at least one column, prototype and dimension")
        self.column_weights = nn.Parameter(torch.ones(num_prototypes, num_columns))
        self.prototype_maps = nn.ModuleList(
            nn.Linear(input_dim, prototype_dim) for _ in range(num_prototypes))
        self.distribution_column_weights = nn.Parameter(torch.ones(num_columns))
        self.distribution_map = nn.Linear(input_dim, prototype_dim)
        self.prototypes = nn.Embedding(num_prototypes, prototype_dim)

    @property
    def num_columns(self) -> int:
        """K: text columns per item."""
        return self.column_weights.shape[1]

    @property
    def input_dim(self) -> int:
        """E: width of one column's text embedding."""
        return self.distribution_map.in_features

    @property
    def num_prototypes(self) -> int:
        """P: prototypes (categories) each item is embedded in."""
        return self.column_weights.shape[0]

    @property
    def prototype_dim(self) -> int:
        """D: width of an item's embedding per prototype."""
        return self.distribution_map.out_features

    def forward(self, text: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """text (n, K, E) -> raw item embeddings (P, n, D), prototype distribution (n, P)."""
        if text.ndim != 3 or text.shape[1:] != (self.num_columns, self.input_dim):
            raise ValueError(f"text embeddings of shape {tuple(text.shape)}, expected "
                             f"(n, {self.num_columns}, {self.input_dim})")
        mixed = torch.einsum("pk,nke->pne", self.column_weights, text)
        embeddings = torch.stack([fc(m) for fc, m in zip(self.prototype_maps, mixed)])
        summary = self.distribution_map(torch.einsum("k,nke->ne", self.distribution_column_weights,
                                                     text))
        cosine = nn.functional.cosine_similarity(summary[:, None, :],
                                                 self.prototypes.weight[None, :, :], dim=2)
        return embeddings, torch.softmax(cosine, dim=1)

    @torch.no_grad()
    def catalog(self, names: tuple[str, ...], text: torch.Tensor) -> Catalog:
        """The scoring catalog of these items: the item side's outputs as float32 arrays."""
        embeddings, distribution = self(text)
        return Catalog(tuple(names), embeddings.cpu().numpy().astype(np.float32),
                       distribution.cpu().numpy().astype(np.float32))
