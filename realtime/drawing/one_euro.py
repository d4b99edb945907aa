"""The One-Euro filter (Casiez, Roussel and Vogel, CHI 2012): a low-pass filter whose cutoff rises
with speed, so a still value stops jittering and a moving one does not lag."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class OneEuroSpec:
    """min_cutoff_hz: cutoff at rest (lower: steadier); beta: cutoff added per unit of speed
    (higher: less lag when moving); d_cutoff_hz: cutoff of the speed estimate."""

    min_cutoff_hz: float = 1.0
    beta: float = 0.02
    d_cutoff_hz: float = 1.0


def _alpha(cutoff_hz, dt_s: float):
    tau = 1.0 / (2.0 * math.pi * cutoff_hz)
    return 1.0 / (1.0 + tau / dt_s)


class OneEuroFilter:
    """Filters a vector of values, element by element; reset() makes the next value snap."""

    def __init__(self, spec: OneEuroSpec = OneEuroSpec()):
        self.spec = spec
        self._value: np.ndarray | None = None
        self._speed: np.ndarray | None = None
        self._t_ns = 0

    def reset(self) -> None:
        """Forget the past: the next value is taken as it is."""
        self._value = None

    def update(self, value, t_ns: int) -> np.ndarray:
        """The filtered value after `value` arrived at `t_ns` (monotonic ns); a time that does
        not advance returns the last filtered value."""
        value = np.asarray(value, dtype=np.float64)
        if self._value is None:
            self._value, self._speed, self._t_ns = value, np.zeros_like(value), t_ns
            return self._value.copy()
        dt = (t_ns - self._t_ns) / 1e9
        if dt <= 0:
            return self._value.copy()
        spec = self.spec
        speed = (value - self._value) / dt
        self._speed = self._speed + _alpha(spec.d_cutoff_hz, dt) * (speed - self._speed)
        cutoff = spec.min_cutoff_hz + spec.beta * np.abs(self._speed)
        self._value = self._value + _alpha(cutoff, dt) * (value - self._value)
        self._t_ns = t_ns
        return self._value.copy()
