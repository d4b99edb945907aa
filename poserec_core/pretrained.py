"""Load the parts of a verified weights directory: encoder state dict, catalog, sample windows."""
from __future__ import annotations

import pickle
import zipfile

import numpy as np
import torch

from .bundle import Manifest, load_names, load_npy
from .catalog import Catalog
from .errors import WeightsError
from .pose_files import validate_poses


def load_state_dict(manifest: Manifest) -> dict[str, torch.Tensor]:
    """The encoder state dict, loaded with `weights_only=True` after its hash is checked."""
    path = manifest.path("encoder")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except (pickle.UnpicklingError, RuntimeError, EOFError, zipfile.BadZipFile, OSError) as exc:
        raise WeightsError(f"{path}: not a loadable state dict ({str(exc).splitlines()[0]})") from None
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: holds a {type(state).__name__}, expected a state dict")
    return state


def load_catalog(manifest: Manifest) -> Catalog:
    """Item names, per-prototype embeddings and prototype distribution, hash-checked."""
    embeddings = load_npy(manifest.path("item_embeddings")).astype(np.float32, copy=False)
    dis = load_npy(manifest.path("prototype_dis")).astype(np.float32, copy=False)
    return Catalog(load_names(manifest.path("item_names")), embeddings, dis)


def load_sample(manifest: Manifest) -> np.ndarray:
    """The published sample windows (81, 10, 33, 4) as float32."""
    return validate_poses(load_npy(manifest.path("sample")), 4, "the installed sample")
