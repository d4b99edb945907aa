"""Scoring: normalise the video's prototype vectors, one product with the folded catalog, top-k."""
from __future__ import annotations

import torch


def normalize_prototypes(embeddings: torch.Tensor, num_prototypes: int) -> torch.Tensor:
    """(N, P*D) raw encoder output -> each of the P chunks of D L2-normalised, concatenated."""
    n = embeddings.shape[0]
    chunks = embeddings.reshape(n, num_prototypes, -1)
    return (chunks / torch.linalg.vector_norm(chunks, dim=2, keepdim=True)).reshape(n, -1)


def score_items(embeddings: torch.Tensor, folded_items: torch.Tensor,
                num_prototypes: int) -> torch.Tensor:
    """(N, P*D) raw encoder output x (n_items, P*D) folded catalog -> (N, n_items) scores."""
    return normalize_prototypes(embeddings, num_prototypes) @ folded_items.T


def top_k(scores: torch.Tensor, k: int) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices and scores of the k best items per row, best first."""
    values, indices = torch.topk(scores, k=min(k, scores.shape[1]), dim=1)
    return indices, values
