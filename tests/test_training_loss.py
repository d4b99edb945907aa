"""The vectorised PoseRec loss equals a straightforward loop version on random batches."""
from __future__ import annotations

import math

import pytest
import torch

from poserec_core.training.loss import LossWeights, PairLabels, draw_dissimilar_ranks, posrec_loss


def loop_loss(video, items, dis, pairs, ranks, variant, margin, weights):
    """The loss written pair by pair, as the published code does, with the same documented
    choices as the vectorised one (a window never draws itself; its positives are never extra
    negatives)."""
    batch, num_prototypes, _ = video.shape
    window, item, label = pairs.window.tolist(), pairs.item.tolist(), pairs.label.tolist()

    def unit(v):
        return v / torch.sqrt(torch.sum(v * v))

    def score(i, it):
        return sum(dis[it, c] * torch.dot(unit(video[i, c]), unit(items[c, it]))
                   for c in range(num_prototypes))

    norm_terms = []
    for c in range(num_prototypes):
        video_norm = sum(torch.sqrt(torch.sum(video[i, c] ** 2)) for i in range(batch)) / batch
        item_norm = sum(torch.sqrt(torch.sum(items[c, it] ** 2)) for it in item) / len(item)
        norm_terms.append(video_norm + item_norm)
    norm = sum(norm_terms) / num_prototypes

    scores = [score(w, it) for w, it in zip(window, item)]
    bce = [-(y * torch.log(torch.sigmoid(s)) + (1 - y) * torch.log(1 - torch.sigmoid(s)))
           for s, y in zip(scores, label)]
    label_term = sum(bce) / len(bce)

    gaps = []
    for i in range(batch):
        similarity = {}
        for k in range(batch):
            if k != i:
                similarity[k] = sum(torch.dot(unit(video[i, c]), unit(video[k, c])).item()
                                    for c in range(num_prototypes))
        ascending = sorted(similarity, key=lambda k: (similarity[k], k))
        partner = ascending[int(ranks[i])] if ascending else None
        own_positive_items = {it for w, it, y in zip(window, item, label) if w == i and y == 1}
        hardest_negative, hardest_positive = None, None
        for m, (w, it, y) in enumerate(zip(window, item, label)):
            candidate = None
            if w == i and y == 0:
                candidate = scores[m]
            elif w == partner and y == 1 and it not in own_positive_items:
                candidate = score(i, it)
            if candidate is not None and (hardest_negative is None or candidate > hardest_negative):
                hardest_negative = candidate
            if w == i and y == 1 and (hardest_positive is None or scores[m] < hardest_positive):
                hardest_positive = scores[m]
        if hardest_negative is not None and hardest_positive is not None:
            gap = hardest_negative - hardest_positive + margin
            gaps.append(torch.clamp(gap, min=0) if variant == "hinged" else gap)
    triplet = sum(gaps) / len(gaps) if gaps else torch.zeros((), dtype=video.dtype)
    total = weights.label * label_term + weights.triplet * triplet + weights.norm * norm
    return label_term, norm, triplet, total


def random_batch(seed, batch, num_items, num_prototypes=4, dim=8, pairs_per_window=4,
                 spread=1.0):
    """Random raw embeddings, a distribution, and unique labelled pairs (some windows lack
    positives or negatives). A small `spread` makes the windows nearly alike."""
    gen = torch.Generator().manual_seed(seed)
    common = torch.randn(1, num_prototypes, dim, generator=gen, dtype=torch.float64)
    video = common + spread * torch.randn(batch, num_prototypes, dim, generator=gen,
                                          dtype=torch.float64)
    items = torch.randn(num_prototypes, num_items, dim, generator=gen, dtype=torch.float64)
    dis = torch.softmax(torch.randn(num_items, num_prototypes, generator=gen,
                                    dtype=torch.float64), dim=1)
    window, item, label = [], [], []
    for w in range(batch):
        count = int(torch.randint(1, pairs_per_window + 1, (1,), generator=gen))
        chosen = torch.randperm(num_items, generator=gen)[:count]
        window += [w] * len(chosen)
        item += chosen.tolist()
        label += torch.randint(0, 2, (len(chosen),), generator=gen).tolist()
    pairs = PairLabels(torch.tensor(window), torch.tensor(item),
                       torch.tensor(label, dtype=torch.float64))
    ranks = draw_dissimilar_ranks(batch, gen)
    return video, items, dis, pairs, ranks


CASES = [
    # seed, windows, items, spread of the windows, variant, margin, weights
    (0, 1, 5, 1.0, "published", None, LossWeights()),
    (1, 2, 5, 1.0, "published", None, LossWeights(norm=0.3)),
    (2, 5, 9, 1.0, "published", 2.0, LossWeights(label=0.5, triplet=2.0, norm=1.0)),
    (3, 16, 12, 1.0, "published", None, LossWeights()),
    (4, 7, 6, 1.0, "hinged", None, LossWeights(norm=0.1)),
    (5, 16, 12, 1.0, "hinged", 0.1, LossWeights()),
    (6, 12, 4, 1.0, "hinged", 2.0, LossWeights(label=0.0, triplet=1.0, norm=0.0)),
    (7, 33, 20, 1.0, "published", 0.3, LossWeights(label=1.0, triplet=0.5, norm=0.05)),
    (8, 10, 8, 0.05, "published", None, LossWeights()),
    (9, 9, 8, 0.05, "hinged", 0.2, LossWeights(norm=0.5)),
]


@pytest.mark.parametrize("seed,batch,num_items,spread,variant,margin,weights", CASES)
def test_vectorised_loss_equals_loop(seed, batch, num_items, spread, variant, margin, weights):
    video, items, dis, pairs, ranks = random_batch(seed, batch, num_items, spread=spread)
    video.requires_grad_(True)
    items.requires_grad_(True)
    got = posrec_loss(video, items, dis, pairs, ranks, variant, margin, weights)
    grad_got = torch.autograd.grad(got.total, (video, items), allow_unused=True)
    want_margin = {"published": 2.0, "hinged": 0.5}[variant] if margin is None else margin
    want = loop_loss(video, items, dis, pairs, ranks, variant, want_margin, weights)
    grad_want = torch.autograd.grad(want[3], (video, items), allow_unused=True)
    for g, w in zip((got.label, got.norm, got.triplet, got.total), want):
        torch.testing.assert_close(g, torch.as_tensor(w, dtype=torch.float64), rtol=1e-10, atol=1e-12)
    for g, w in zip(grad_got, grad_want):
        torch.testing.assert_close(g, w, rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("batch", [1, 2, 3, 8, 9, 64])
def test_dissimilar_ranks_stay_in_the_less_similar_half(batch):
    ranks = draw_dissimilar_ranks(batch, torch.Generator().manual_seed(batch))
    others = batch - 1
    assert ranks.shape == (batch,)
    assert int(ranks.min()) >= 0 and int(ranks.max()) < max(math.ceil(others / 2), 1)


@pytest.mark.parametrize("seed", range(4))
def test_published_variant_with_margin_two_never_needs_the_hinge(seed):
    video, items, dis, pairs, ranks = random_batch(seed, 12, 10)
    published = posrec_loss(video, items, dis, pairs, ranks, "published", 2.0)
    hinged = posrec_loss(video, items, dis, pairs, ranks, "hinged", 2.0)
    assert float(published.triplet) >= 0
    torch.testing.assert_close(published.triplet, hinged.triplet)


@pytest.mark.parametrize("variant,message", [("triplet", "unknown triplet variant"),
                                             ("", "unknown triplet variant")])
def test_unknown_variant_is_an_error(variant, message):
    video, items, dis, pairs, ranks = random_batch(0, 3, 5)
    with pytest.raises(ValueError, match=message):
        posrec_loss(video, items, dis, pairs, ranks, variant)


@pytest.mark.parametrize("field,value", [("label", -1.0), ("norm", math.nan), ("triplet", math.inf)])
def test_bad_loss_weights_are_rejected(field, value):
    with pytest.raises(ValueError, match=field):
        LossWeights(**{field: value})

