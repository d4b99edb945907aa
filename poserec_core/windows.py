"""Cut a pose sequence into the overlapping windows the encoder scores."""
from __future__ import annotations

import numpy as np

from .errors import PoseFileError


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


def sequence_from_windows(windows: np.ndarray, stride: int) -> np.ndarray:
    """Rebuild the sequence (F, ...) that overlapping windows (N, T, ...) were cut from.

    Window 0, then the last `stride` frames of each later window; the overlaps must agree.
    """
    n, t = windows.shape[:2]
    if not 0 < stride <= t:
        raise ValueError(f"stride {stride} does not fit windows of {t} frames")
    if not np.array_equal(windows[1:, :t - stride], windows[:-1, stride:]):
        raise PoseFileError(f"the {n} windows do not overlap by {t - stride} frames; they are not "
                           "cuts of one sequence")
    tail = windows[1:, t - stride:].reshape((-1,) + windows.shape[2:])
    return np.concatenate([windows[0], tail])
