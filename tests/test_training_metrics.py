"""Recall@K, HR@K, NDCG@K and AUC against their definitions on small hand-made rankings."""
from __future__ import annotations

import math

import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from poserec_core.training.metrics import chance_recall, ranking_metrics


def ranked(order: list[int]) -> np.ndarray:
    """Scores that rank the items in `order` first to last."""
    scores = np.zeros(len(order))
    scores[order] = np.arange(len(order), 0, -1)
    return scores


def dcg(ranks: list[int]) -> float:
    return sum(1 / math.log2(r + 1) for r in ranks)


# items ranked (best first), positive items, k, expected recall, hit, ndcg, auc
CASES = [
    ([0, 1, 2, 3, 4, 5], {0, 1}, 2, 1.0, 1.0, 1.0, 1.0),
    ([5, 4, 3, 2, 1, 0], {0, 1}, 2, 0.0, 0.0, 0.0, 0.0),
    ([2, 0, 3, 1, 4, 5], {0, 1}, 2, 0.5, 1.0, dcg([2]) / dcg([1, 2]), 5 / 8),
    ([2, 0, 3, 1, 4, 5], {0, 1}, 4, 1.0, 1.0, dcg([2, 4]) / dcg([1, 2]), 5 / 8),
    ([3, 4, 0, 5, 1, 2], {0}, 1, 0.0, 0.0, 0.0, 3 / 5),
    ([3, 4, 0, 5, 1, 2], {0}, 3, 1.0, 1.0, dcg([3]) / dcg([1]), 3 / 5),
    ([0, 1, 2, 3, 4, 5], {0, 1, 2}, 2, 2 / 3, 1.0, 1.0, 1.0),
]


@pytest.mark.parametrize("order,positive,k,recall,hit,ndcg,auc", CASES)
def test_metrics_of_one_ranking(order, positive, k, recall, hit, ndcg, auc):
    mask = np.zeros((1, len(order)), dtype=bool)
    mask[0, sorted(positive)] = True
    metrics = ranking_metrics(ranked(order)[None], mask, (k,))
    assert metrics[f"recall@{k}"] == pytest.approx(recall)
    assert metrics[f"hr@{k}"] == pytest.approx(hit)
    assert metrics[f"ndcg@{k}"] == pytest.approx(ndcg)
    assert metrics["auc"] == pytest.approx(auc)
    assert metrics["windows"] == 1


def test_metrics_average_over_windows_and_skip_windows_without_positives():
    scores = np.stack([ranked([0, 1, 2, 3]), ranked([3, 2, 1, 0]), ranked([0, 1, 2, 3])])
    positives = np.array([[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 0]], dtype=bool)
    metrics = ranking_metrics(scores, positives, (1,))
    assert metrics["windows"] == 2
    assert metrics["recall@1"] == pytest.approx(0.5)
    assert metrics["auc"] == pytest.approx(0.5)


def test_tied_scores_count_half_in_auc():
    metrics = ranking_metrics(np.zeros((1, 5)), np.array([[1, 1, 0, 0, 0]], dtype=bool), (1,))
    assert metrics["auc"] == pytest.approx(0.5)


@pytest.mark.parametrize("items,k", [(24, 5), (221, 10), (3, 5)])
def test_chance_recall_matches_random_rankings(items, k):
    rng = np.random.default_rng(0)
    scores = rng.random((4000, items))
    positives = np.zeros((4000, items), dtype=bool)
    positives[np.arange(4000), rng.integers(0, items, 4000)] = True
    measured = ranking_metrics(scores, positives, (k,))[f"recall@{k}"]
    assert measured == pytest.approx(chance_recall(items, k), abs=0.03)


@pytest.mark.parametrize("scores,positives,error", [
    (np.zeros((2, 3)), np.zeros((2, 3), dtype=bool), PoseRecError),
    (np.zeros((2, 3)), np.zeros((2, 4), dtype=bool), ValueError),
])
def test_nothing_to_evaluate_is_an_error(scores, positives, error):
    with pytest.raises(error):
        ranking_metrics(scores, positives)
