"""Read the published pickles without executing them: numpy arrays and plain containers only."""
from __future__ import annotations

import io
import pickle
from pathlib import Path

import numpy as np

from .errors import UnsafePickleError

_ALLOWED_GLOBALS = frozenset({
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
})


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """An unpickler whose only reachable callables rebuild ndarrays and dtypes."""

    def find_class(self, module: str, name: str):
        if (module, name) not in _ALLOWED_GLOBALS:
            raise UnsafePickleError(f"refuses to load {module}.{name}")
        return super().find_class(module, name)

    def persistent_load(self, pid):
        raise UnsafePickleError("refuses persistent references")


def _check_arrays(obj, path: Path):
    arrays = obj if isinstance(obj, list) else [obj]
    for a in arrays:
        if not isinstance(a, np.ndarray):
            raise UnsafePickleError(
                f"{path}: holds a {type(a).__name__}, not a numpy array; refusing it")
        if a.dtype.hasobject or a.dtype.kind not in "biuf":
            raise UnsafePickleError(f"{path}: holds an array of dtype {a.dtype}; refusing it")
    return obj


def load_numpy_pickle(path: Path, max_bytes: int) -> np.ndarray | list[np.ndarray]:
    """Load a pickle holding one numeric ndarray or a list of them, executing nothing else.

    Raises UnsafePickleError for any other content (the file's code is never run) and
    UnsafePickleError/PoseFileError-compatible messages naming the file.
    """
    path = Path(path)
    size = path.stat().st_size
    with open(path, "rb") as f:
        data = f.read(max_bytes + 1)  # the file may have grown since stat()
    if max(size, len(data)) > max_bytes:
        raise UnsafePickleError(f"{path}: {max(size, len(data))} bytes is over the "
                                f"{max_bytes}-byte limit")
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(
            f"{path}: not a plain numpy pickle ({exc}); it was not executed") from None
    except Exception as exc:  # truncated or garbled stream
        raise UnsafePickleError(f"{path}: unreadable pickle ({type(exc).__name__}: {exc})") from None
    return _check_arrays(obj, path)
