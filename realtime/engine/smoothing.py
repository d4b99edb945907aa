"""Score smoothing for the live view: an exponential moving average and a top-k hysteresis.

With `alpha` 0 both are off and the ranking is the plain top-k of each window's scores, as
`poserec recommend` gives. Given `groups` (items that share a name share a group), the smoother
ranks groups instead: each group scores as its best item, and the top-k are distinct names.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

DEFAULT_HYSTERESIS = 0.005
"""Score margin by which a newcomer must beat a shown item (about twice the median gap between
the 5th and 6th item of the published sample's windows)."""


@dataclass(frozen=True)
class SmoothingConfig:
    """alpha: weight of the past in the average, in [0, 1); 0 turns smoothing and hysteresis off.

    hysteresis: an item shown in the previous top-k stays shown unless another item's
    smoothed score beats it by more than this margin; shown items are ordered by smoothed score.
    """

    alpha: float
    hysteresis: float = DEFAULT_HYSTERESIS

    def __post_init__(self):
        if not 0.0 <= self.alpha < 1.0:
            raise ValueError(f"smoothing alpha must be in [0, 1), got {self.alpha}")
        if not self.hysteresis >= 0.0:
            raise ValueError(f"hysteresis must be >= 0, got {self.hysteresis}")

    @property
    def enabled(self) -> bool:
        """Whether any smoothing applies."""
        return self.alpha > 0.0


def plain_top_k(scores: np.ndarray, k: int) -> np.ndarray:
    """Indices of the k highest scores, best first."""
    k = min(k, len(scores))
    best = np.argpartition(-scores, k - 1)[:k]
    return best[np.argsort(-scores[best], kind="stable")]


def name_groups(names) -> np.ndarray:
    """Each item's group (n_items,): items with the same name share one, numbered 0, 1, ..."""
    return np.unique(np.asarray(names, dtype=object), return_inverse=True)[1].reshape(-1)


def best_of_groups(scores: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Each group's best item (n_groups,), by group number (a tie goes to the lower index)."""
    order = np.argsort(-scores, kind="stable")
    _, first = np.unique(groups[order], return_index=True)
    return order[first]


class ScoreSmoother:
    """Turns each window's scores (n_items,) into the shown top-k: items and smoothed scores.

    With `groups` (see name_groups) the top-k are groups, each shown as its best item: the
    distinct effects; the hysteresis then keeps a shown name, whichever of its items is best."""

    def __init__(self, config: SmoothingConfig, top_k: int, groups: np.ndarray | None = None):
        self.config = config
        self.top_k = top_k
        self.groups = groups
        self._average: np.ndarray | None = None
        self._shown: np.ndarray = np.empty(0, dtype=np.int64)

    def reset(self) -> None:
        """Forget the average and the shown items (after the person left)."""
        self._average = None
        self._shown = np.empty(0, dtype=np.int64)

    def update(self, scores: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Fold in one window's scores; return the shown items and their smoothed scores."""
        if not self.config.enabled:
            best = self._best(scores)
            items = best[plain_top_k(scores[best], self.top_k)]
            return items, scores[items]
        alpha = self.config.alpha
        self._average = (scores.astype(np.float64) if self._average is None
                         else alpha * self._average + (1.0 - alpha) * scores)
        best = self._best(self._average)
        average = self._average[best]
        favoured = average.copy()
        favoured[self._shown] += self.config.hysteresis
        members = plain_top_k(favoured, self.top_k)
        self._shown = members[np.argsort(-average[members], kind="stable")]
        items = best[self._shown]
        return items, self._average[items].astype(np.float32)

    def _best(self, scores: np.ndarray) -> np.ndarray:
        """The item that stands for each entry ranked: every item, or each group's best."""
        if self.groups is None:
            return np.arange(len(scores))
        return best_of_groups(scores, self.groups)
