"""Which effect every output shows: the one the window picked with ←/→ (its rank among the
listed entries), by default the top distinct effect.

One EffectChoice is shared by the window (which sets it, on the GUI thread) and every output
that draws or places an effect (the recorder and virtual camera, the /ar page, OBS), which read
it on their own threads. It holds a rank, not a name: each output applies it to the newest
ranking it has, so all of them show the same entry of the same ranking even though rankings
reach them at slightly different times.
"""
from __future__ import annotations

import threading

from ..messages import Recommendation


def listed_names(recommendation: Recommendation, raw_items: bool = False) -> tuple[str, ...]:
    """The names a person is shown for a ranking, best first: its distinct effects, or (on
    request) its raw items, whose names repeat."""
    if raw_items:
        return tuple(recommendation.ranking.names)
    return tuple(effect.name for effect in recommendation.effects)


def selected_effect(recommendation: Recommendation | None, rank: int = 0,
                    raw_items: bool = False) -> str | None:
    """The name at `rank` of what the ranking lists (the last one when it lists fewer);
    None before a ranking or when it lists nothing."""
    if recommendation is None:
        return None
    names = listed_names(recommendation, raw_items)
    return names[min(rank, len(names) - 1)] if names else None


class EffectChoice:
    """The shown entry's rank (0: the top) and whether the raw items are listed; thread-safe."""

    def __init__(self, rank: int = 0, raw_items: bool = False):
        if rank < 0:
            raise ValueError(f"EffectChoice rank must be >= 0, got {rank}")
        self._lock = threading.Lock()
        self._state = (rank, raw_items)

    def choose(self, rank: int, raw_items: bool = False) -> None:
        """Show the entry at `rank` (0: the top) of the distinct effects, or of the raw items."""
        if rank < 0:
            raise ValueError(f"EffectChoice rank must be >= 0, got {rank}")
        with self._lock:
            self._state = (rank, raw_items)

    @property
    def rank(self) -> int:
        """The chosen rank (0: the top entry)."""
        with self._lock:
            return self._state[0]

    @property
    def raw_items(self) -> bool:
        """Whether the rank counts raw items instead of distinct effects."""
        with self._lock:
            return self._state[1]

    def effect(self, recommendation: Recommendation | None) -> str | None:
        """The chosen effect's name in `recommendation` (see selected_effect)."""
        with self._lock:
            rank, raw_items = self._state
        return selected_effect(recommendation, rank, raw_items)
