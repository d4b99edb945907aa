"""Load the parts of a verified weights directory: encoder state dict, catalog, sample windows."""
from __future__ import annotations

import numpy as np
import torch

from .bundle import Manifest, load_names, load_npy
from .catalog import Catalog
from .errors import WeightsError
from .pose_files import validate_poses
from .release import EMBEDDING_DIM
from .torch_files import load_tensors


def load_state_dict(manifest: Manifest) -> dict[str, torch.Tensor]:
    """The encoder state dict, loaded with `weights_only=True` after its hash is checked."""
    path = manifest.path("encoder")
    state = load_tensors(path)
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: holds a {type(state).__name__}, expected a state dict")
    return state


def load_catalog(manifest: Manifest) -> Catalog:
    """Item names, per-prototype embeddings and prototype distribution, hash-checked; the
    embeddings (P, n_items, D) must match the encoder's P * D = EMBEDDING_DIM outputs."""
    path = manifest.path("item_embeddings")
    embeddings = load_npy(path).astype(np.float32, copy=False)
    if embeddings.ndim == 3 and embeddings.shape[0] * embeddings.shape[2] != EMBEDDING_DIM:
        raise WeightsError(f"{path}: item embeddings have shape {embeddings.shape}, "
                           f"{embeddings.shape[0] * embeddings.shape[2]} values per item where "
                           f"the encoder gives {EMBEDDING_DIM}")
    dis = load_npy(manifest.path("prototype_dis")).astype(np.float32, copy=False)
    return Catalog(load_names(manifest.path("item_names")), embeddings, dis)


def load_sample(manifest: Manifest) -> np.ndarray:
    """The published sample windows (81, 10, 33, 4) as float32."""
    return validate_poses(load_npy(manifest.path("sample")), 4, "the installed sample")
