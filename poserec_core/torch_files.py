"""The one way the project reads a torch file: tensors only, every failure as one user error."""
from __future__ import annotations

import pickle
import zipfile
from pathlib import Path

import torch

from .errors import PoseRecError, WeightsError

LOAD_FAILURES = (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError)
"""What torch.load raises for a file that is missing, truncated, corrupt or not tensors only."""


def load_tensors(path: Path, what: str = "state dict",
                 error: type[PoseRecError] = WeightsError) -> object:
    """`torch.load(path)` on the CPU with `weights_only=True` (nothing in the file is executed);
    a file it cannot read raises `error` naming the path and `what` was expected."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except LOAD_FAILURES as exc:
        raise error(f"{path}: not a loadable {what} ({str(exc).splitlines()[0]})") from None
