"""Cut a pose sequence into the overlapping windows the encoder scores."""
from __future__ import annotations

import numpy as np


def window_starts(num_frames: int, window: int, stride: int) -> range:
    """Start indices of every full window: 0, stride, 2*stride, ... while start + window <= F."""
    if window < 1 or stride < 1:
        raise ValueError(f"window and stride must be at least 1, got {window} and {stride}")
    return range(0, max(num_frames - window + 1, 0), stride)


def cut_windows(sequence: np.ndarray, window: int, stride: int) -> np.ndarray:
    """(F, ...) -> (N, window, ...) with window n = frames [n*stride, n*stride + window).

    The published sample was cut this way: window n of `sample.pkl` is frames [5n, 5n+10).
    """
    starts = window_starts(len(sequence), window, stride)
    if len(starts) == 0:
        return np.empty((0, window) + sequence.shape[1:], dtype=sequence.dtype)
    return np.stack([sequence[s:s + window] for s in starts])
