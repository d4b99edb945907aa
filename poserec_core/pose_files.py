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
    with np.errstate(over="ignore"):  # float64 beyond float32's range becomes inf: refused below
        poses = np.ascontiguousarray(array, dtype=np.float32)
    if not np.isfinite(poses).all():
        bad = int(np.count_nonzero(~np.isfinite(poses)))
        raise PoseFileError(f"{source}: {bad} NaN or infinite values (as float32); poses must be "
                            "finite")
    return poses


def _check_file(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        raise PoseFileError(f"{path}: no such file")
    size = path.stat().st_size
    if size == 0:
        raise PoseFileError(f"{path}: the file is empty")
    if size > max_bytes:
        raise PoseFileError(f"{path}: {size} bytes is over the {max_bytes}-byte limit for pose files")


_HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                   (2, 0): np.lib.format.read_array_header_2_0}


def _check_npy_header(stream, data_bytes: int, source: str) -> None:
    """Refuse a .npy whose header declares more data than the `data_bytes` that follow the magic
    string, before numpy allocates what the header asks for (a forged header cannot make a
    small file allocate terabytes)."""
    version = np.lib.format.read_magic(stream)
    reader = _HEADER_READERS.get(version)
    if reader is None:
        raise PoseFileError(f"{source}: .npy format version {version[0]}.{version[1]} is not "
                            "supported; save it with numpy.save")
    start = stream.tell()
    try:
        shape, _, dtype = reader(stream)
    except Exception as exc:  # numpy's header parser raises ValueError, SyntaxError, TokenError
        raise PoseFileError(f"{source}: not a plain .npy array (bad header: "
                            f"{type(exc).__name__})") from None
    available = data_bytes - (stream.tell() - start)
    declared = int(np.prod(shape, dtype=object)) * dtype.itemsize
    if declared > available:
        raise PoseFileError(f"{source}: truncated or forged .npy: its header declares shape "
                            f"{shape} ({declared} bytes), the file holds {max(available, 0)}")


def _load_npy(path: Path, max_bytes: int) -> np.ndarray:
    try:
        with open(path, "rb") as stream:
            _check_npy_header(stream, path.stat().st_size - np.lib.format.MAGIC_LEN, str(path))
            stream.seek(0)
            return np.load(stream, allow_pickle=False)
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
            with archive.zip.open(info) as member:
                _check_npy_header(member, info.file_size - np.lib.format.MAGIC_LEN,
                                  f"{path} ('poses')")
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
