"""Export a trained model as a weights directory that `Recommender.from_pretrained` loads.

The files carry the installed release's names and layouts (`best_model_pose.pt` state dict,
`item_feature.npy` (P, n, D), `prototype_dis.npy` (n, P), `item_data.csv`) plus two of its
own: `item_side.pt` (the trained item encoder, for `poserec catalog add`) and `training.json`
(text model, columns, held-out windows, config, metrics). `manifest.json` hashes them all.
"""
from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from ..bundle import Manifest, atomic_write_bytes, write_manifest
from ..catalog import Catalog
from ..errors import WeightsError
from ..release import RELEASE_FILES
from ..torch_files import load_tensors
from .item_side import ItemSide

FILE_OF_ROLE = {e.role: e.installed_as for e in RELEASE_FILES if e.role != "sample"}
"""encoder, item_embeddings, prototype_dis, item_names: the installed release's file names."""
ITEM_SIDE_ROLE, ITEM_SIDE_FILE = "item_side", "item_side.pt"
TRAINING_ROLE, TRAINING_FILE = "training", "training.json"
TRAINING_FORMAT = "poserec-training/1"


@dataclass(frozen=True)
class TrainingRecord:
    """How an exported model was trained: read back by `evaluate` and `catalog add`."""

    text_model: str
    columns: tuple[str, ...]
    input_dim: int
    num_prototypes: int
    prototype_dim: int
    dataset_fingerprint: str
    heldout_windows: tuple[int, ...]
    config: dict
    metrics: dict

    def to_json(self) -> str:
        """The record as the JSON text of `training.json`."""
        data = {"format": TRAINING_FORMAT, **asdict(self)}
        data["columns"], data["heldout_windows"] = list(self.columns), list(self.heldout_windows)
        return json.dumps(data, indent=2) + "\n"

    @classmethod
    def from_json(cls, text: str, source: str) -> "TrainingRecord":
        """Parse `training.json`; a malformed one is a WeightsError."""
        try:
            data = json.loads(text)
            if data.pop("format", None) != TRAINING_FORMAT:
                raise ValueError(f"format is not {TRAINING_FORMAT!r}")
            record = cls(**data)
            return cls(**{**asdict(record), "columns": tuple(record.columns),
                          "heldout_windows": tuple(int(w) for w in record.heldout_windows)})
        except (ValueError, TypeError) as exc:
            raise WeightsError(f"{source}: not a valid training record ({exc})") from None


def _save_npy(path: Path, array: np.ndarray) -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.ascontiguousarray(array, dtype=np.float32), allow_pickle=False)
    atomic_write_bytes(path, buffer.getvalue())


def _save_state_dict(path: Path, module: torch.nn.Module) -> None:
    buffer = io.BytesIO()
    torch.save({k: v.detach().cpu().clone() for k, v in module.state_dict().items()}, buffer)
    atomic_write_bytes(path, buffer.getvalue())


def write_catalog_files(directory: Path, catalog: Catalog) -> None:
    """Write a catalog's embeddings, distribution and names under the release's file names."""
    _save_npy(directory / FILE_OF_ROLE["item_embeddings"], catalog.item_embeddings)
    _save_npy(directory / FILE_OF_ROLE["prototype_dis"], catalog.prototype_dis)
    names = "".join(f"{name}\n" for name in catalog.names)
    atomic_write_bytes(directory / FILE_OF_ROLE["item_names"], names.encode("utf-8"))


def exported_roles() -> dict[str, str]:
    """Role -> file name of every file an export holds."""
    return {**FILE_OF_ROLE, ITEM_SIDE_ROLE: ITEM_SIDE_FILE, TRAINING_ROLE: TRAINING_FILE}


def export_weights(directory: str | Path, encoder: torch.nn.Module, item_side: ItemSide,
                   catalog: Catalog, record: TrainingRecord, window_frames: int,
                   origin: str) -> Path:
    """Write a complete weights directory (files first, the manifest last)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    _save_state_dict(directory / FILE_OF_ROLE["encoder"], encoder)
    _save_state_dict(directory / ITEM_SIDE_FILE, item_side)
    write_catalog_files(directory, catalog)
    atomic_write_bytes(directory / TRAINING_FILE, record.to_json().encode("utf-8"))
    write_manifest(directory, exported_roles(), origin=origin, window_frames=window_frames)
    return directory


def read_training_record(manifest: Manifest) -> TrainingRecord:
    """The `training.json` of a trained export; the published release has none."""
    if TRAINING_ROLE not in manifest.files:
        raise WeightsError(f"{manifest.directory}: these weights hold no training record (the "
                           "published release has none); use the export of `poserec train`")
    path = manifest.path(TRAINING_ROLE)
    return TrainingRecord.from_json(path.read_text(encoding="utf-8"), str(path))


def load_item_side(manifest: Manifest) -> tuple[ItemSide, TrainingRecord]:
    """The trained item side of an export (in eval mode) and its training record."""
    record = read_training_record(manifest)
    path = manifest.path(ITEM_SIDE_ROLE)
    state = load_tensors(path)
    item_side = ItemSide(len(record.columns), record.input_dim, record.num_prototypes,
                         record.prototype_dim)
    try:
        item_side.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise WeightsError(f"{path}: the item side does not fit its training record "
                           f"({str(exc).splitlines()[0]})") from None
    return item_side.eval(), record
