"""A weights directory: the encoder state dict and the catalog, bound by a hash manifest.

`poserec weights install` and `poserec train --export` both write one; every load checks each
file's sha256 against `manifest.json` before reading it.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .errors import WeightsError

MANIFEST_NAME = "manifest.json"
MANIFEST_FORMAT = "poserec-weights/1"
REQUIRED_ROLES = ("encoder", "item_embeddings", "prototype_dis", "item_names")
"""Files every weights directory has; `sample` is optional (the published demo input)."""


def sha256_file(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write a file so that readers see the old content or the new one, never a part."""
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_manifest(directory: Path, files: dict[str, str], origin: str, window_frames: int) -> Path:
    """Hash the given files (role -> file name in `directory`) and write the manifest."""
    missing = [r for r in REQUIRED_ROLES if r not in files]
    if missing:
        raise ValueError(f"manifest lacks roles {missing}")
    entries = {role: {"file": name, "sha256": sha256_file(Path(directory) / name)}
               for role, name in files.items()}
    manifest = {"format": MANIFEST_FORMAT, "origin": origin, "window_frames": window_frames,
                "files": entries}
    path = Path(directory) / MANIFEST_NAME
    atomic_write_bytes(path, (json.dumps(manifest, indent=2) + "\n").encode())
    return path


@dataclass(frozen=True)
class Manifest:
    """A parsed manifest: where each role's file is and the hash it must have."""

    directory: Path
    origin: str
    window_frames: int
    files: dict

    def path(self, role: str) -> Path:
        """The file of a role, after checking its sha256 against the manifest."""
        entry = self.files.get(role)
        if entry is None:
            raise WeightsError(f"{self.directory}: the weights have no '{role}' file")
        path = self.directory / entry["file"]
        if path.resolve().parent != self.directory.resolve():
            raise WeightsError(f"{self.directory / MANIFEST_NAME}: '{entry['file']}' points outside "
                               "the weights directory")
        if not path.is_file():
            raise WeightsError(f"{path}: missing; run `poserec weights install` again")
        actual = sha256_file(path)
        if actual != entry["sha256"]:
            raise WeightsError(f"{path}: sha256 {actual[:12]}... does not match the manifest's "
                               f"{entry['sha256'][:12]}...; the file is corrupt or was replaced: "
                               "run `poserec weights install` again")
        return path

    def verify(self) -> list[tuple[str, Path]]:
        """Check every file; return (role, path) pairs. Raises WeightsError on the first bad one."""
        return [(role, self.path(role)) for role in self.files]


def read_manifest(directory: str | Path) -> Manifest:
    """Parse `directory/manifest.json`, with a clear error when weights are not installed."""
    directory = Path(directory)
    path = directory / MANIFEST_NAME
    if not path.is_file():
        raise WeightsError(f"no PoseRec weights in {directory} (no {MANIFEST_NAME}); run "
                           "`poserec weights install` or set POSEREC_WEIGHTS_DIR")
    try:
        data = json.loads(path.read_text())
        if data.get("format") != MANIFEST_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {MANIFEST_FORMAT!r}")
        files = data["files"]
        for role in REQUIRED_ROLES:
            if not isinstance(files.get(role), dict):
                raise ValueError(f"no '{role}' entry")
        for role, entry in files.items():
            if not (isinstance(entry, dict) and isinstance(entry.get("file"), str)
                    and isinstance(entry.get("sha256"), str)):
                raise ValueError(f"the '{role}' entry needs a file name and a sha256")
        return Manifest(directory, str(data["origin"]), int(data["window_frames"]), files)
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"{path}: not a valid weights manifest ({exc}); run "
                           "`poserec weights install` again") from None


def load_npy(path: Path) -> np.ndarray:
    """An installed .npy array, never unpickling."""
    try:
        return np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as exc:
        raise WeightsError(f"{path}: unreadable array ({exc})") from None


def load_names(path: Path) -> tuple[str, ...]:
    """Item names, one a line (the published `item_data.csv` has no header)."""
    return tuple(line.strip() for line in path.read_text(encoding="utf-8").splitlines()
                 if line.strip())
