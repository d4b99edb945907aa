"""Read and validate pose arrays from user files (.npy, .npz with key `poses`, published .pkl)."""
from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from .errors import PoseFileError
from .safe_pickle import load_numpy_pickle
from .skeleton import NUM_CHANNELS, NUM_LANDMARKS

MAX_POSE_FILE_BYTES = 1 << 30
"""Pose files above this size (1 GiB, about 2 million frames in float64) are refused unread."""

_SUFFIXES = (".npy", ".npz", ".pkl")


def validate_poses(array: np.ndarray, rank: int, source: str) -> np.ndarray:
    """Check a pose array of the given rank ending in (33, 4); return it as float32.

    rank 4 is (N windows, T, 33, 4); rank 3 is a sequence (F frames, 33, 4).
    """
    layout = "(N, T, 33, 4)" if rank == 4 else "(F, 33, 4)"
    if not isinstance(array, np.ndarray):
        raise PoseFileError(f"{source}: holds {type(array).__name__}, expected an array {layout}")
    if array.dtype.kind != "f":
        raise PoseFileError(f"{source}: dtype {array.dtype}, expected floating point poses {layout}")
    if array.ndim != rank or array.shape[-2:] != (NUM_LANDMARKS, NUM_CHANNELS):
        raise PoseFileError(f"{source}: shape {array.shape}, expected {layout} "
                            "(33 BlazePose landmarks of x, y, z, visibility)")
    if array.size == 0:
        raise PoseFileError(f"{source}: holds no poses (shape {array.shape})")
    if not np.isfinite(array).all():
        bad = int(np.count_nonzero(~np.isfinite(array)))
        raise PoseFileError(f"{source}: {bad} NaN or infinite values; poses must be finite")
    return np.ascontiguousarray(array, dtype=np.float32)


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise PoseFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise PoseFileError(f"{path}: the file is empty")
    if size > max_bytes:
        raise PoseFileError(f"{path}: {size} bytes is over the {max_bytes}-byte limit for pose files")


def _load_npy(path: Path, max_bytes: int) -> np.ndarray:
    try:
        return np.load(path, allow_pickle=False, mmap_mode=None)
    except ValueError as exc:
        raise PoseFileError(f"{path}: not a plain .npy array ({exc})") from None
    except (OSError, EOFError) as exc:
        raise PoseFileError(f"{path}: unreadable or truncated .npy ({exc})") from None


def _load_npz(path: Path, max_bytes: int) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            if "poses" not in archive.files:
                raise PoseFileError(f"{path}: no array named 'poses' (found: "
                                    f"{', '.join(archive.files) or 'nothing'})")
            info = archive.zip.getinfo("poses.npy")
            if info.file_size > max_bytes:
                raise PoseFileError(f"{path}: 'poses' unpacks to {info.file_size} bytes, over the "
                                    f"{max_bytes}-byte limit")
            return archive["poses"]
    except PoseFileError:
        raise
    except (ValueError, OSError, EOFError, zipfile.BadZipFile, KeyError) as exc:
        raise PoseFileError(f"{path}: unreadable .npz ({exc})") from None


def _load_pkl(path: Path, max_bytes: int) -> np.ndarray:
    obj = load_numpy_pickle(path, max_bytes)
    if isinstance(obj, list):
        raise PoseFileError(f"{path}: holds a list of arrays, expected one array (N, T, 33, 4)")
    return obj


_LOADERS = {".npy": _load_npy, ".npz": _load_npz, ".pkl": _load_pkl}


def load_pose_array(path: str | Path, max_bytes: int = MAX_POSE_FILE_BYTES) -> np.ndarray:
    """Read the raw array of a pose file, refusing files over `max_bytes` before reading them."""
    path = Path(path)
    loader = _LOADERS.get(path.suffix.lower())
    if loader is None:
        raise PoseFileError(f"{path}: unknown pose file type '{path.suffix}'; use "
                            + ", ".join(_SUFFIXES))
    _check_file(path, max_bytes)
    return loader(path, max_bytes)


def read_pose_windows(path: str | Path, max_bytes: int = MAX_POSE_FILE_BYTES) -> np.ndarray:
    """Pose windows (N, T, 33, 4) float32 from a .npy, .npz (key `poses`) or published .pkl."""
    return validate_poses(load_pose_array(path, max_bytes), 4, str(path))


def read_pose_sequence(path: str | Path, max_bytes: int = MAX_POSE_FILE_BYTES) -> np.ndarray:
    """A continuous pose sequence (F, 33, 4) float32 from a .npy or .npz (key `poses`)."""
    return validate_poses(load_pose_array(path, max_bytes), 3, str(path))
