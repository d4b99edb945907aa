"""The recommender reproduces the published demo: scores, top-5, embeddings, adjacency."""
from __future__ import annotations

import numpy as np
import pytest
import torch

from poserec_core.skeleton import CONNECTIONS, NUM_LANDMARKS, Landmark, normalized_adjacency

from .helpers import same_ranking


def test_skeleton_is_blazepose():
    assert len(Landmark) == NUM_LANDMARKS == 33
    assert len(CONNECTIONS) == 35
    assert len({frozenset(c) for c in CONNECTIONS}) == 35


def test_adjacency_equals_checkpoint(release_dir):
    state = torch.load(release_dir / "best_model_pose.pt", weights_only=True)
    np.testing.assert_allclose(normalized_adjacency(), state["A"].numpy(), atol=1e-7, rtol=0)


def test_every_score_within_1e5(recommender, sample_windows, reference_scores):
    scores = recommender.score(sample_windows)
    assert scores.shape == reference_scores.shape == (81, 221)
    assert scores.dtype == np.float32
    assert np.abs(scores - reference_scores).max() <= 1e-5


def test_embeddings_within_1e4(recommender, sample_windows, reference_dir):
    reference = np.load(reference_dir / "sample_embeddings.npy")
    assert np.abs(recommender.embed(sample_windows) - reference).max() <= 1e-4


def test_top5_equals_reference(recommender, sample_windows, reference_scores, reference_top5):
    rankings = recommender.recommend(sample_windows, top_k=5)
    assert len(rankings) == len(reference_top5["windows"]) == 81
    for n, (ranking, ref) in enumerate(zip(rankings, reference_top5["windows"])):
        want = [entry["item"] for entry in ref["top5"]]
        assert same_ranking(list(ranking.items), want, reference_scores[n]), n
        assert list(ranking.names) == [recommender.catalog.names[i] for i in ranking.items]


@pytest.mark.parametrize("batch", [1, 7, 81])
def test_scores_do_not_depend_on_batching(recommender, sample_windows, reference_scores, batch):
    scores = np.concatenate([recommender.score(sample_windows[i:i + batch])
                             for i in range(0, 81, batch)])
    assert np.abs(scores - reference_scores).max() <= 1e-5


def test_catalog_matches_release(recommender):
    catalog = recommender.catalog
    assert len(catalog) == 221 and len(set(catalog.names)) == 108
    assert np.allclose(catalog.prototype_dis.sum(axis=1), 1, atol=1e-5)
