"""The weights as data that Ray ships to its actors: read and hash-checked once, on the driver.

Actors on other nodes then need neither the weights directory nor its path: each writes the
files into a temporary folder and loads them with `Recommender.from_pretrained`, which checks
every hash again and builds the same recommender as `poserec recommend`.
"""
from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path

from poserec_core import Recommender
from poserec_core.bundle import MANIFEST_NAME, REQUIRED_ROLES, load_names, read_manifest
from poserec_core.weights_install import default_weights_dir


@dataclass(frozen=True)
class ModelParts:
    """The manifest and the files a Recommender needs (name -> bytes), and the item names."""

    files: dict[str, bytes]
    names: tuple[str, ...]

    @classmethod
    def load(cls, weights_dir: str | Path | None = None) -> "ModelParts":
        """Read `weights_dir` (default: POSEREC_WEIGHTS_DIR or installed), checking every hash."""
        manifest = read_manifest(weights_dir if weights_dir is not None else default_weights_dir())
        paths = [manifest.directory / MANIFEST_NAME] + [manifest.path(r) for r in REQUIRED_ROLES]
        return cls({p.name: p.read_bytes() for p in paths},
                   load_names(manifest.path("item_names")))

    def recommender(self, device: str) -> Recommender:
        """A Recommender on `device` (auto, cpu, cuda), loaded from these files."""
        with tempfile.TemporaryDirectory(prefix="poserec-weights-") as folder:
            for name, data in self.files.items():
                (Path(folder) / name).write_bytes(data)
            return Recommender.from_pretrained(device=device, weights_dir=folder)
