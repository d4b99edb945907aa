"""Top-k over large catalogs (10^4 to 10^5 items): exact, bfloat16-screened, or clustered.

The published catalog (221 items) is ranked by `Recommender` with the exact product; these
rankers are for catalogs large enough that reading the item matrix dominates. For one window
the product is memory-bound (100,000 items x 256 floats is 102 MB), so:

- `ExactRanker` keeps the folded catalog transposed, (P*D, n_items) contiguous, which the CPU
  BLAS reads faster for a single window than the row-major (n_items, P*D) layout;
- `ScreenedRanker` reads a bfloat16 copy (half the bytes) to pick `candidates` items per window,
  then scores those candidates exactly from the float32 rows;
- `ClusteredRanker` (an inverted file) groups the items by k-means cluster once, then scores
  exactly only the items of each window's `probes` closest clusters (about a tenth of the
  100,000-item benchmark catalog).

The last two return exact scores, but their rankings miss an item when the screen or the probe
did: measure that with `recall_at_k` against ExactRanker.
"""
from __future__ import annotations

import math

import numpy as np
import torch

from .scoring import normalize_prototypes, top_k

SCREEN_CANDIDATES = 64
"""Items per window that the bfloat16 screen passes on to exact re-scoring."""
CLUSTER_PROBES = 16
"""Clusters per window whose items ClusteredRanker scores."""
KMEANS_ITERATIONS = 10
KMEANS_SAMPLES_PER_CLUSTER = 40
"""k-means trains on this many items per cluster (a random subset), then assigns all items."""


class ExactRanker:
    """Exact float32 top-k of a folded catalog (n_items, P*D) for raw encoder outputs (N, P*D)."""

    def __init__(self, folded_items: torch.Tensor, num_prototypes: int):
        self.num_prototypes = num_prototypes
        self.items_t = folded_items.T.contiguous()

    def __len__(self) -> int:
        return self.items_t.shape[1]

    def top_k(self, embeddings: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices and scores (N, k) of the best items per window, best first."""
        return top_k(normalize_prototypes(embeddings, self.num_prototypes) @ self.items_t, k)


class ScreenedRanker:
    """Top-k by a bfloat16 screen of the catalog, then exact float32 scores of the candidates."""

    def __init__(self, folded_items: torch.Tensor, num_prototypes: int,
                 candidates: int = SCREEN_CANDIDATES):
        if candidates < 1:
            raise ValueError(f"candidates must be at least 1, got {candidates}")
        self.num_prototypes = num_prototypes
        self.candidates = min(candidates, len(folded_items))
        self.items = folded_items.contiguous()
        self.items_bf16 = self.items.to(torch.bfloat16)

    def __len__(self) -> int:
        return self.items.shape[0]

    def top_k(self, embeddings: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices and exact scores (N, k) of the best screened items per window, best first."""
        if k > self.candidates:
            raise ValueError(f"k={k} is above the {self.candidates} screened candidates")
        videos = normalize_prototypes(embeddings, self.num_prototypes)
        rough = videos.to(torch.bfloat16) @ self.items_bf16.T
        _, candidates = torch.topk(rough, self.candidates, dim=1)            # (N, c)
        exact = torch.bmm(self.items[candidates], videos[:, :, None])[:, :, 0]  # (N, c)
        positions, values = top_k(exact, k)
        return torch.gather(candidates, 1, positions), values


class ClusteredRanker:
    """Exact scores of the items in each window's `probes` best k-means clusters, then top-k.

    clusters: sqrt(n_items) by default. Spherical k-means (unit centroids, items assigned by
    inner product) runs on a seeded random subset, so the same catalog and seed give the same
    index.
    """

    def __init__(self, folded_items: torch.Tensor, num_prototypes: int,
                 clusters: int | None = None, probes: int = CLUSTER_PROBES, seed: int = 0):
        n = len(folded_items)
        self.num_prototypes = num_prototypes
        clusters = clusters or max(1, round(math.sqrt(n)))
        self.probes = min(probes, clusters)
        self.centroids = self._kmeans(folded_items, clusters, seed)
        assignment = torch.cat([torch.argmax(chunk @ self.centroids.T, dim=1)
                                for chunk in torch.split(folded_items, 16384)])
        order = torch.argsort(assignment, stable=True)
        self.ids = order
        self.items = folded_items[order].contiguous()
        ends = torch.cumsum(torch.bincount(assignment, minlength=clusters), 0).tolist()
        self.spans = list(zip([0] + ends[:-1], ends))

    @staticmethod
    def _kmeans(items: torch.Tensor, clusters: int, seed: int) -> torch.Tensor:
        """(clusters, P*D) unit centroids of spherical k-means on a seeded subset of the items."""
        generator = torch.Generator().manual_seed(seed)
        pick = torch.randperm(len(items), generator=generator)
        train = items[pick[:clusters * KMEANS_SAMPLES_PER_CLUSTER].to(items.device)]
        centroids = train[:clusters]
        centroids = centroids / torch.linalg.vector_norm(centroids, dim=1, keepdim=True)
        for _ in range(KMEANS_ITERATIONS):
            assignment = torch.argmax(train @ centroids.T, dim=1)
            members = torch.nn.functional.one_hot(assignment, clusters).to(train.dtype)
            sums = members.T @ train
            centroids = torch.where(members.sum(0)[:, None] > 0, sums, centroids)
            centroids = centroids / torch.linalg.vector_norm(centroids, dim=1, keepdim=True)
        return centroids

    def __len__(self) -> int:
        return len(self.items)

    def top_k(self, embeddings: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
        """Indices and exact scores (N, k) of the best probed items per window, best first."""
        videos = normalize_prototypes(embeddings, self.num_prototypes)
        best = torch.topk(videos @ self.centroids.T, self.probes, dim=1).indices.tolist()
        indices, values = [], []
        for video, clusters in zip(videos, best):
            spans = [self.spans[c] for c in clusters]
            scores = videos.new_empty(sum(b - a for a, b in spans))
            if len(scores) < k:
                raise ValueError(f"the {self.probes} probed clusters hold {len(scores)} items, "
                                 f"fewer than k={k}")
            start = 0
            for a, b in spans:  # into one small buffer: no copy of the probed rows
                torch.mv(self.items[a:b], video, out=scores[start:start + b - a])
                start += b - a
            top = torch.topk(scores, k)
            indices.append(torch.cat([self.ids[a:b] for a, b in spans])[top.indices])
            values.append(top.values)
        return torch.stack(indices), torch.stack(values)


def recall_at_k(found: np.ndarray, exact: np.ndarray) -> float:
    """Mean share of each row's exact top-k items (N, k) that `found` (N, k) also holds."""
    if found.shape != exact.shape:
        raise ValueError(f"shapes differ: {found.shape} and {exact.shape}")
    hits = [len(set(f.tolist()) & set(e.tolist())) for f, e in zip(found, exact)]
    return float(np.sum(hits)) / exact.size
