"""The fast inference path: the composed encoder gives the eager encoder's and the reference's
scores within 1e-5, one window at a time and batched, for any window length."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from poserec_core import Recommender
from poserec_core.catalog_ranking import ClusteredRanker, ExactRanker, ScreenedRanker, recall_at_k
from poserec_core.encoder import PoseEncoder, windows_to_input
from poserec_core.fast_encoder import FastEncoder
from poserec_core.middle_product import MIDDLE_PRODUCT_POINTS, middle_product_plan
from poserec_core.pose_files import validate_poses
from poserec_core.scoring import normalize_prototypes, score_items, top_k
from poserec_core.windows import cut_windows

from .helpers import NEAR_TIE


@pytest.fixture(scope="module")
def eager(weights_dir) -> Recommender:
    """The published model with the eager PoseEncoder."""
    return Recommender.from_pretrained(device="cpu", weights_dir=weights_dir, fast=False)


@pytest.fixture(scope="module")
def sequence(reference_dir) -> np.ndarray:
    """The continuous 410-frame pose sequence the sample windows were cut from."""
    return validate_poses(np.load(reference_dir / "sample_sequence.npy"), 3, "sample_sequence")


@pytest.mark.parametrize("fast, encoder_type", [(True, FastEncoder), (False, PoseEncoder)])
def test_from_pretrained_uses_the_fast_encoder_unless_asked(weights_dir, fast, encoder_type):
    recommender = Recommender.from_pretrained(device="cpu", weights_dir=weights_dir, fast=fast)
    assert isinstance(recommender.encoder, encoder_type)


def test_the_published_window_length_runs_as_middle_products(recommender):
    assert recommender.encoder.block_paths(10) == ("dense", "middle product", "middle product")


@pytest.mark.parametrize("batch", [1, 7, 64, 81])
def test_fast_scores_equal_the_reference(recommender, sample_windows, reference_scores, batch):
    scores = np.concatenate([recommender.score(sample_windows[i:i + batch])
                             for i in range(0, len(sample_windows), batch)])
    assert scores.shape == reference_scores.shape
    assert np.abs(scores - reference_scores).max() <= NEAR_TIE


@pytest.mark.parametrize("batch", [1, 81])
def test_fast_equals_eager_on_the_sample(recommender, eager, sample_windows, batch):
    chunks = [sample_windows[i:i + batch] for i in range(0, len(sample_windows), batch)]
    fast_scores = np.concatenate([recommender.score(c) for c in chunks])
    eager_scores = np.concatenate([eager.score(c) for c in chunks])
    assert np.abs(fast_scores - eager_scores).max() <= NEAR_TIE


@pytest.mark.parametrize("frames", [1, 4, 9, 10, 16, 25])
def test_other_window_lengths_equal_eager(recommender, eager, sequence, frames):
    windows = cut_windows(sequence, frames, stride=frames + 3)[:16]
    assert np.abs(recommender.score(windows) - eager.score(windows)).max() <= NEAR_TIE


@pytest.mark.parametrize("persons", [2, 3])
def test_several_persons_are_averaged_as_in_eager(recommender, eager, sample_windows, persons):
    windows = torch.from_numpy(sample_windows[:4 * persons])
    x = torch.cat(torch.split(windows_to_input(windows), 4), dim=-1)   # (4, C, T, V, persons)
    with torch.inference_mode():
        fast, slow = (normalize_prototypes(r.encoder(x), r.catalog.num_prototypes)
                      for r in (recommender, eager))
    assert fast.shape == (4, 256)
    assert (fast - slow).abs().max().item() <= NEAR_TIE


def test_a_training_mode_encoder_is_refused(eager):
    with pytest.raises(ValueError, match="eval-mode"):
        FastEncoder(copy.deepcopy(eager.encoder).train())


@pytest.mark.parametrize("points", [MIDDLE_PRODUCT_POINTS, (0.0, 1.0, -1.0, 2.0, float("inf")),
                                    (0.0, 1.0, float("inf"))])
def test_middle_product_plan_computes_the_correlation(points):
    plan = middle_product_plan(points)
    n = plan.frames
    rng = np.random.default_rng(len(points))
    taps, x = rng.standard_normal(2 * n - 1), rng.standard_normal(n)
    direct = [sum(taps[j - t + n - 1] * x[j] for j in range(n)) for t in range(n)]
    planned = plan.interpolate @ ((plan.kernel @ taps) * (plan.evaluate @ x))
    assert plan.products == 2 * n - 1
    np.testing.assert_allclose(planned, direct, rtol=1e-9, atol=1e-9)


@pytest.mark.parametrize("points", [(0.0, 1.0), (0.0, 1.0, 1.0)])
def test_middle_product_plan_needs_an_odd_number_of_distinct_points(points):
    with pytest.raises(ValueError, match="distinct"):
        middle_product_plan(points)


@pytest.fixture(scope="module")
def sample_embeddings(recommender, sample_windows) -> torch.Tensor:
    """Raw encoder outputs (81, 256) of the sample windows."""
    return torch.from_numpy(recommender.embed(sample_windows))


def test_exact_ranker_ranks_like_the_recommender(recommender, sample_embeddings):
    ranker = ExactRanker(recommender.folded_items, recommender.catalog.num_prototypes)
    scores = score_items(sample_embeddings, recommender.folded_items,
                         recommender.catalog.num_prototypes)
    want_items, want_values = top_k(scores, 5)
    items, values = ranker.top_k(sample_embeddings, 5)
    assert (values - want_values).abs().max().item() <= NEAR_TIE
    assert recall_at_k(items.numpy(), want_items.numpy()) == 1.0


@pytest.mark.parametrize("candidates", [5, 64, 221])
def test_screened_ranker_returns_exact_scores_of_its_items(recommender, sample_embeddings,
                                                           candidates):
    ranker = ScreenedRanker(recommender.folded_items, recommender.catalog.num_prototypes,
                            candidates)
    items, values = ranker.top_k(sample_embeddings, 5)
    scores = score_items(sample_embeddings, recommender.folded_items,
                         recommender.catalog.num_prototypes)
    assert (torch.gather(scores, 1, items) - values).abs().max().item() <= NEAR_TIE
    assert (values[:, :-1] >= values[:, 1:]).all()


@pytest.mark.parametrize("clusters, probes", [(1, 1), (15, 4), (15, 15)])
def test_clustered_ranker_returns_exact_scores_of_its_items(recommender, sample_embeddings,
                                                            clusters, probes):
    ranker = ClusteredRanker(recommender.folded_items, recommender.catalog.num_prototypes,
                             clusters, probes)
    items, values = ranker.top_k(sample_embeddings, 5)
    scores = score_items(sample_embeddings, recommender.folded_items,
                         recommender.catalog.num_prototypes)
    assert items.shape == (len(sample_embeddings), 5)
    assert (torch.gather(scores, 1, items) - values).abs().max().item() <= NEAR_TIE
    assert (values[:, :-1] >= values[:, 1:]).all()


@pytest.mark.parametrize("ranker", [
    lambda items, p: ScreenedRanker(items, p, candidates=len(items)),
    lambda items, p: ClusteredRanker(items, p, clusters=8, probes=8),
])
def test_screening_or_probing_everything_gives_the_exact_ranking(recommender, sample_embeddings,
                                                                 ranker):
    prototypes = recommender.catalog.num_prototypes
    everything = ranker(recommender.folded_items, prototypes)
    exact = ExactRanker(recommender.folded_items, prototypes)
    assert recall_at_k(everything.top_k(sample_embeddings, 5)[0].numpy(),
                       exact.top_k(sample_embeddings, 5)[0].numpy()) == 1.0


@pytest.mark.parametrize("found, exact, recall", [
    ([[1, 2]], [[2, 1]], 1.0),
    ([[1, 2]], [[3, 4]], 0.0),
    ([[1, 2], [3, 4]], [[1, 5], [3, 4]], 0.75),
])
def test_recall_at_k(found, exact, recall):
    assert recall_at_k(np.array(found), np.array(exact)) == recall


@pytest.mark.parametrize("windows", [1, 3])
def test_a_result_is_not_overwritten_by_the_next_call(recommender, sample_windows, windows):
    first, second = (windows_to_input(torch.from_numpy(sample_windows[i:i + windows]))
                     for i in (0, 40))
    with torch.inference_mode():
        expected = recommender.encoder(first).clone()
        kept = recommender.encoder(first)
        recommender.encoder(second)
    assert torch.equal(kept, expected)


def test_threads_scoring_at_once_each_get_the_reference(recommender, sample_windows,
                                                        reference_scores):
    from concurrent.futures import ThreadPoolExecutor

    batches = [(i, i + b) for b in (1, 5, 16) for i in range(0, 48, b)]
    with ThreadPoolExecutor(3) as pool:
        scores = list(pool.map(lambda r: recommender.score(sample_windows[r[0]:r[1]]), batches))
    for (start, stop), got in zip(batches, scores):
        assert np.abs(got - reference_scores[start:stop]).max() <= NEAR_TIE


def test_batches_of_changing_sizes_share_buffers_and_get_the_reference(recommender,
                                                                      sample_windows,
                                                                      reference_scores):
    # One thread, sizes growing and shrinking: each size's views lie over the same buffers.
    starts = [(0, 16), (16, 19), (19, 36), (36, 37), (37, 46), (46, 62), (62, 64)]
    for start, stop in starts:
        got = recommender.score(sample_windows[start:stop])
        assert np.abs(got - reference_scores[start:stop]).max() <= NEAR_TIE
    space = recommender.encoder._workspace(10)
    assert len(space._buffers) < len(space._views)
