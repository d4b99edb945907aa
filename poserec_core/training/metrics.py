"""Ranking metrics of held-out windows: Recall@K, HR@K, NDCG@K and AUC.

Every catalog item is ranked for each window; the items labelled 1 for the window are its
positives and every other item counts as a negative. Windows without a positive are left out.
Ties in the ranking are broken by item index (the lower index ranks first); AUC counts ties half.
"""
from __future__ import annotations

import numpy as np

from ..errors import PoseRecError


def chance_recall(num_items: int, k: int) -> float:
    """Expected Recall@k of a random ranking of `num_items` items: k / n (capped at 1)."""
    return min(k / num_items, 1.0)


def _auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """P(a positive scores above a negative), ties counted half."""
    pos, neg = scores[positive], scores[~positive]
    greater = (pos[:, None] > neg[None, :]).mean()
    equal = (pos[:, None] == neg[None, :]).mean()
    return float(greater + 0.5 * equal)


def ranking_metrics(scores: np.ndarray, positives: np.ndarray, ks: tuple[int, ...] = (1, 5, 10)
                    ) -> dict[str, float]:
    """Mean Recall@k, HR@k, NDCG@k for each k, and mean AUC, over windows with a positive.

    scores (N, n_items); positives (N, n_items) bool. Adds `windows`, the number evaluated.
    """
    if scores.shape != positives.shape or scores.ndim != 2:
        raise ValueError(f"scores {scores.shape} and positives {positives.shape} must be (N, n_items)")
    keep = positives.any(axis=1)
    scores, positives = scores[keep], positives[keep]
    if len(scores) == 0:
        raise PoseRecError("none of the windows to evaluate has an item labelled 1; evaluate "
                           "on windows with positive pairs")
    order = np.argsort(-scores, axis=1, kind="stable")
    hits = np.take_along_axis(positives, order, axis=1)
    num_positive = positives.sum(axis=1)
    discount = 1.0 / np.log2(np.arange(2, scores.shape[1] + 2))
    metrics: dict[str, float] = {}
    for k in ks:
        top = hits[:, :k]
        ideal = np.array([discount[:min(p, k)].sum() for p in num_positive])
        metrics[f"recall@{k}"] = float((top.sum(axis=1) / num_positive).mean())
        metrics[f"hr@{k}"] = float(top.any(axis=1).mean())
        metrics[f"ndcg@{k}"] = float(((top * discount[:top.shape[1]]).sum(axis=1) / ideal).mean())
    has_negative = num_positive < scores.shape[1]
    metrics["auc"] = (float(np.mean([_auc(s, p) for s, p in zip(scores[has_negative],
                                                                  positives[has_negative])]))
                      if has_negative.any() else float("nan"))
    metrics["windows"] = int(len(scores))
    return metrics
