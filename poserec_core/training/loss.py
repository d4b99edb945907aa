"""The PoseRec training loss, vectorised over a batch: norm, label and triplet terms.

A batch is B pose windows and M labelled (window, item) pairs among them. The score of an
item for a window is sum_c p[item, c] * cos(video_c[window], item_c[item]), as at inference.

Triplet term ("pose-aware transductive hard-negative mining"), per window i: the hardest
negative is the highest score among i's negative pairs and the extra negatives; the hardest
positive is the lowest score among i's positive pairs. The extra negatives are the positive
items of a dissimilar window j(i), scored against i: j(i) is drawn at random from the less
similar half of the other windows of the batch (similarity: sum over prototypes of the dot
products of the normalised video embeddings). The term is hardest negative - hardest
positive + margin, averaged over the windows that have both.

Two details differ from the published loop, on purpose: window i itself is never drawn as
j(i) (the published code sets its own similarity to 1, so with similar windows it could draw
itself and score its own positives as negatives), and an item labelled positive for i is not
used as an extra negative of i.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch.nn import functional as F

TRIPLET_VARIANTS = ("published", "hinged")
"""`published`: hardest negative - hardest positive + margin, no hinge (the authors' code);
`hinged`: max(0, that), so windows already separated by the margin stop contributing."""

DEFAULT_MARGINS = {"published": 2.0, "hinged": 0.5}
"""With cosine scores in [-1, 1] the published margin 2 never lets the hinge act; the hinged
variant therefore defaults to a smaller margin."""


@dataclass(frozen=True)
class LossWeights:
    """Weights of the three terms in the total loss.

    The norm term defaults to 0: the published code computes it but rebuilds it with
    `torch.Tensor(list)`, which cuts it from the graph, so it never had a gradient there.
    """

    label: float = 1.0
    triplet: float = 1.0
    norm: float = 0.0

    def __post_init__(self):
        for name in ("label", "triplet", "norm"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                raise ValueError(f"loss weight {name}={value} must be finite and >= 0")


@dataclass(frozen=True)
class LossTerms:
    """The loss terms of one batch (scalar tensors) and their weighted total."""

    label: torch.Tensor
    norm: torch.Tensor
    triplet: torch.Tensor
    total: torch.Tensor


@dataclass(frozen=True)
class PairLabels:
    """The labelled pairs of a batch: window index in the batch, item index, 0/1 label (M,)."""

    window: torch.Tensor
    item: torch.Tensor
    label: torch.Tensor

    def __post_init__(self):
        if not self.window.shape == self.item.shape == self.label.shape or self.window.ndim != 1:
            raise ValueError("pair window, item and label must be 1-d tensors of one length")


def dissimilar_half(batch_size: int) -> int:
    """How many of the other B - 1 windows form the less similar half: ceil((B - 1) / 2), >= 1."""
    return max(batch_size // 2, 1)


def draw_dissimilar_ranks(batch_size: int, generator: torch.Generator | None = None
                          ) -> torch.Tensor:
    """For each window, a rank drawn uniformly from the less similar half (0 = least similar)."""
    return torch.randint(0, dissimilar_half(batch_size), (batch_size,), generator=generator)


def normalized(embeddings: torch.Tensor) -> torch.Tensor:
    """L2-normalise the last dimension."""
    return embeddings / torch.linalg.vector_norm(embeddings, dim=-1, keepdim=True)


def pair_item_vectors(items: torch.Tensor, prototype_dis: torch.Tensor,
                      item_index: torch.Tensor) -> torch.Tensor:
    """(M, P*D): per pair, its item's normalised prototype embeddings scaled by p[item, c]."""
    chosen = normalized(items[:, item_index, :]) * prototype_dis[item_index].T[:, :, None]
    return chosen.permute(1, 0, 2).reshape(len(item_index), -1)


def dissimilar_windows(video_unit: torch.Tensor, ranks: torch.Tensor) -> torch.Tensor:
    """j(i) for each window: the window at `ranks[i]` in ascending similarity to i, self excluded."""
    with torch.no_grad():
        flat = video_unit.reshape(len(video_unit), -1)
        similarity = flat @ flat.T
        similarity.fill_diagonal_(math.inf)
        order = torch.argsort(similarity, dim=1, stable=True)
        return order[torch.arange(len(order), device=order.device), ranks.to(order.device)]


def posrec_loss(video: torch.Tensor, items: torch.Tensor, prototype_dis: torch.Tensor,
                pairs: PairLabels, ranks: torch.Tensor, variant: str = "published",
                margin: float | None = None, weights: LossWeights = LossWeights()) -> LossTerms:
    """The loss of a batch.

    video (B, P, D) raw encoder outputs; items (P, n, D) raw item embeddings; prototype_dis
    (n, P); pairs: M labelled pairs; ranks (B,) from `draw_dissimilar_ranks`; variant one of
    TRIPLET_VARIANTS; margin defaults to DEFAULT_MARGINS[variant].
    """
    if variant not in TRIPLET_VARIANTS:
        raise ValueError(f"unknown triplet variant {variant!r}; expected one of {TRIPLET_VARIANTS}")
    margin = DEFAULT_MARGINS[variant] if margin is None else margin
    batch = video.shape[0]
    pair_items = items[:, pairs.item, :]
    norm = (torch.linalg.vector_norm(video, dim=2).mean(dim=0)
            + torch.linalg.vector_norm(pair_items, dim=2).mean(dim=1)).mean()

    video_unit = normalized(video)
    cross = video_unit.reshape(batch, -1) @ pair_item_vectors(items, prototype_dis, pairs.item).T
    pair_range = torch.arange(len(pairs.window), device=video.device)
    scores = cross[pairs.window, pair_range]
    label = F.binary_cross_entropy_with_logits(scores, pairs.label.to(scores.dtype))

    rows = torch.arange(batch, device=video.device)[:, None]
    positive = pairs.label > 0.5
    own = pairs.window[None, :] == rows
    own_positive = own & positive[None, :]
    positive_items = torch.zeros(batch, items.shape[1], dtype=torch.bool, device=video.device)
    positive_items[pairs.window[positive], pairs.item[positive]] = True
    partner = dissimilar_windows(video_unit, ranks)
    extra = ((pairs.window[None, :] == partner[:, None]) & positive[None, :]
             & ~positive_items[:, pairs.item] & (partner != rows[:, 0])[:, None])
    candidates = (own & ~positive[None, :]) | extra
    hardest_negative = cross.masked_fill(~candidates, -math.inf).amax(dim=1)
    hardest_positive = cross.masked_fill(~own_positive, math.inf).amin(dim=1)
    has_both = candidates.any(dim=1) & own_positive.any(dim=1)
    gap = hardest_negative[has_both] - hardest_positive[has_both] + margin
    if variant == "hinged":
        gap = torch.relu(gap)
    triplet = gap.mean() if bool(has_both.any()) else cross.sum() * 0.0

    total = weights.label * label + weights.triplet * triplet + weights.norm * norm
    return LossTerms(label=label, norm=norm, triplet=triplet, total=total)
