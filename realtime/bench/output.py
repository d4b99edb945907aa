"""Where benchmark results go: one result type, output paths checked before a run, JSON written
atomically."""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from poserec_core.bundle import atomic_write_bytes
from poserec_core.errors import PoseRecError


@dataclass
class BenchResult:
    """A bench's JSON document (figures), how it reads as a table, and the raw ms samples of
    each series (for the plot)."""

    document: dict
    report: Callable[[dict], str]
    samples: dict[str, np.ndarray] = field(default_factory=dict)

    def table(self) -> str:
        """The readable report of the document."""
        return self.report(self.document)


def check_output_path(path: Path, suffix: str, option: str) -> Path:
    """A writable-looking output file for `option`: the right suffix, in an existing directory."""
    path = Path(path)
    if path.suffix.lower() != suffix:
        raise PoseRecError(f"{option} {path}: the file name must end in {suffix}")
    if not path.parent.is_dir():
        raise PoseRecError(f"{option} {path}: no such directory {path.parent}; create it first")
    if path.is_dir():
        raise PoseRecError(f"{option} {path}: is a directory; give a file name")
    return path


def write_json(path: Path, document: dict) -> None:
    """Write `document` as indented JSON; readers see the old file or the new one, never a part."""
    atomic_write_bytes(Path(path), (json.dumps(document, indent=2) + "\n").encode())
