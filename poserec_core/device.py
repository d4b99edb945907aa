"""Choose the torch device from a user's `--device` value."""
from __future__ import annotations

import torch

from .errors import PoseRecError

DEVICE_CHOICES = ("auto", "cpu", "cuda")


def resolve_device(name: str) -> torch.device:
    """`auto`: CUDA when torch sees a GPU, else CPU; `cuda` without a GPU is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise PoseRecError("--device cuda: torch sees no CUDA GPU here (torch "
                               f"{torch.__version__}); use --device cpu or auto")
        return torch.device(name)
    raise PoseRecError(f"--device {name!r}: expected one of {', '.join(DEVICE_CHOICES)}")
