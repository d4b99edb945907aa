"""Evaluate a weights directory on a dataset, through the same Recommender that `live` uses."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..bundle import read_manifest
from ..errors import PoseRecError
from ..recommender import Recommender
from ..weights_install import default_weights_dir
from .dataset import PairDataset, dataset_fingerprint, load_dataset
from .export import TRAINING_ROLE, read_training_record
from .metrics import ranking_metrics


def heldout_windows(manifest, data_dir: Path) -> np.ndarray:
    """The windows a training run held out, after checking the weights were trained on this data."""
    if TRAINING_ROLE not in manifest.files:
        raise PoseRecError(f"{manifest.directory}: these weights record no held-out split (the "
                           "published release has none); pass --split all")
    record = read_training_record(manifest)
    if record.dataset_fingerprint != dataset_fingerprint(data_dir):
        raise PoseRecError(f"{manifest.directory} was trained on other data than {data_dir}; "
                           "its held-out split does not apply: pass --split all")
    if not record.heldout_windows:
        raise PoseRecError(f"{manifest.directory}: the run held out no windows (holdout 0); "
                           "pass --split all")
    return np.asarray(record.heldout_windows, dtype=np.int64)


def catalog_positives(dataset: PairDataset, windows: np.ndarray, names: tuple[str, ...]
                      ) -> np.ndarray:
    """(len(windows), catalog size) positives; the dataset's items must open the catalog."""
    if names[:dataset.num_items] != dataset.item_names:
        raise PoseRecError("the catalog does not start with the dataset's items (items.csv "
                           "names, in order); evaluate the weights trained on this dataset")
    positives = np.zeros((len(windows), len(names)), dtype=bool)
    positives[:, :dataset.num_items] = dataset.positives(windows)
    return positives


def evaluate_weights(data_dir: str | Path, weights_dir: str | Path | None, heldout: bool,
                     ks: tuple[int, ...], device: str = "auto") -> dict:
    """{"catalog_items": n, "metrics": {...}} of the held-out (or all) windows of a dataset."""
    data_dir = Path(data_dir)
    dataset = load_dataset(data_dir)
    directory = Path(weights_dir) if weights_dir is not None else default_weights_dir()
    manifest = read_manifest(directory)
    if dataset.window_frames != manifest.window_frames:
        raise PoseRecError(f"the dataset's windows have {dataset.window_frames} frames, the "
                           f"model was made for {manifest.window_frames}")
    windows = heldout_windows(manifest, data_dir) if heldout else np.arange(len(dataset.poses))
    recommender = Recommender.from_pretrained(device=device, weights_dir=directory)
    positives = catalog_positives(dataset, windows, recommender.catalog.names)
    scores = recommender.score(dataset.poses[windows])
    return {"catalog_items": len(recommender.catalog),
            "metrics": ranking_metrics(scores, positives, ks)}
