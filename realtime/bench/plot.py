"""`--plot OUT.png`: one box plot per measured quantity, latency on a log axis."""
from __future__ import annotations

import io
from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (after choosing the headless backend)

from poserec_core.bundle import atomic_write_bytes  # noqa: E402


def plot_latency(path: Path, series: dict[str, np.ndarray], title: str) -> None:
    """Box plots (whiskers at p1 and p99) of each series of ms samples, written atomically."""
    names = list(series)
    fig, ax = plt.subplots(figsize=(9, 0.45 * len(names) + 1.6))
    try:
        ax.boxplot([series[n] for n in names], vert=False, whis=(1, 99), showfliers=True,
                   flierprops={"markersize": 2}, medianprops={"color": "black"})
        ax.set_yticks(range(1, len(names) + 1), names)
        ax.invert_yaxis()
        ax.set_xscale("log")
        ax.set_xlabel("latency per call (ms, log scale)")
        ax.set_title(title, fontsize=10)
        ax.grid(axis="x", which="both", alpha=0.3)
        fig.tight_layout()
        buffer = io.BytesIO()
        fig.savefig(buffer, format="png", dpi=110)
    finally:
        plt.close(fig)
    atomic_write_bytes(Path(path), buffer.getvalue())
