"""The training data format: pose windows, items with text columns, labelled (window, item) pairs.

A dataset is a directory of three files:

- `windows.npz`: `poses` (N, T, 33, 4) float pose windows (as `poserec extract` writes them)
  and, optionally, `groups` (N,) integers, e.g. a video id: the held-out split never puts
  windows of one group on both sides;
- `items.csv`: a header, then one row per item (item index = row order); a `name` column and
  any number of text columns (description, category, tags, ...);
- `pairs.csv`: a header `window,item,label`, then one row per labelled pair: the window index
  in `poses`, the item index in `items.csv`, and 1 (the item suits the window) or 0.
"""
from __future__ import annotations

import csv
import hashlib
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..bundle import sha256_file
from ..errors import PoseRecError
from ..pose_files import read_pose_windows, validate_poses

WINDOWS_FILE = "windows.npz"
ITEMS_FILE = "items.csv"
PAIRS_FILE = "pairs.csv"
NAME_COLUMN = "name"
PAIR_COLUMNS = ("window", "item", "label")


class DatasetError(PoseRecError):
    """A training dataset that is missing, malformed or inconsistent."""


@dataclass(frozen=True)
class PairDataset:
    """Pose windows, items and labelled pairs, validated and in memory."""

    poses: np.ndarray
    groups: np.ndarray
    pair_window: np.ndarray
    pair_item: np.ndarray
    pair_label: np.ndarray
    item_names: tuple[str, ...]
    item_text: dict[str, tuple[str, ...]]

    def __post_init__(self):
        validate_poses(self.poses, 4, "the dataset's poses")
        n_windows, n_items = len(self.poses), len(self.item_names)
        if self.groups.shape != (n_windows,):
            raise DatasetError(f"groups have shape {self.groups.shape}, expected ({n_windows},)")
        if not self.pair_window.shape == self.pair_item.shape == self.pair_label.shape:
            raise DatasetError("pair windows, items and labels differ in length")
        if len(self.pair_window) == 0:
            raise DatasetError("the dataset has no labelled pairs")
        _check_range(self.pair_window, n_windows, "window")
        _check_range(self.pair_item, n_items, "item")
        if not np.isin(self.pair_label, (0, 1)).all():
            raise DatasetError("pair labels must be 0 or 1")
        keys = self.pair_window.astype(np.int64) * n_items + self.pair_item
        if len(np.unique(keys)) != len(keys):
            raise DatasetError("a (window, item) pair is labelled twice; keep one row per pair")
        if NAME_COLUMN not in self.item_text:
            raise DatasetError(f"the items have no '{NAME_COLUMN}' column")
        for column, texts in self.item_text.items():
            if len(texts) != n_items:
                raise DatasetError(f"item column '{column}' has {len(texts)} rows for {n_items} items")

    @property
    def window_frames(self) -> int:
        """T: frames per pose window."""
        return self.poses.shape[1]

    @property
    def num_items(self) -> int:
        """Items in the catalog the dataset labels."""
        return len(self.item_names)

    def text_columns(self, columns: tuple[str, ...] | None = None) -> tuple[str, ...]:
        """The item columns to embed: `columns` after checking they exist, else all of them."""
        if not columns:
            return tuple(self.item_text)
        unknown = [c for c in columns if c not in self.item_text]
        if unknown:
            raise DatasetError(f"no item column {', '.join(map(repr, unknown))}; the items have "
                               + ", ".join(self.item_text))
        return tuple(columns)

    def positives(self, windows: np.ndarray) -> np.ndarray:
        """(len(windows), n_items) bool: the items labelled 1 for each of these windows."""
        row_of = np.full(len(self.poses), -1)
        row_of[windows] = np.arange(len(windows))
        keep = (self.pair_label == 1) & (row_of[self.pair_window] >= 0)
        matrix = np.zeros((len(windows), self.num_items), dtype=bool)
        matrix[row_of[self.pair_window[keep]], self.pair_item[keep]] = True
        return matrix


def _check_range(values: np.ndarray, size: int, what: str) -> None:
    bad = (values < 0) | (values >= size)
    if bad.any():
        raise DatasetError(f"pairs.csv: {what} index {int(values[bad][0])} is outside "
                           f"0..{size - 1}")


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    if not path.is_file():
        raise DatasetError(f"{path}: no such file; a dataset directory holds {WINDOWS_FILE}, "
                           f"{ITEMS_FILE} and {PAIRS_FILE}")
    try:
        with open(path, newline="", encoding="utf-8") as f:
            rows = list(csv.reader(f))
    except (UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"{path}: not a UTF-8 CSV file ({exc})") from None
    if not rows:
        raise DatasetError(f"{path}: the file is empty; it needs a header row")
    header = [h.strip() for h in rows[0]]
    body = [row for row in rows[1:] if any(cell.strip() for cell in row)]
    for number, row in enumerate(body, start=2):
        if len(row) != len(header):
            raise DatasetError(f"{path}: row {number} has {len(row)} fields, the header {len(header)}")
    return header, body


def read_items(path: Path) -> tuple[tuple[str, ...], dict[str, tuple[str, ...]]]:
    """Item names and text columns from `items.csv` (a `name` column is required)."""
    header, rows = _read_csv(path)
    if NAME_COLUMN not in header or len(set(header)) != len(header) or "" in header:
        raise DatasetError(f"{path}: the header needs a '{NAME_COLUMN}' column and unique, "
                           f"non-empty column names (found {header})")
    columns = {h: tuple(row[i].strip() for row in rows) for i, h in enumerate(header)}
    names = columns[NAME_COLUMN]
    if not names:
        raise DatasetError(f"{path}: no items")
    for number, name in enumerate(names, start=2):
        if not name or "\n" in name or "\r" in name:
            raise DatasetError(f"{path}: row {number} has an empty or multi-line name")
    return names, columns


def read_pairs(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Window indices, item indices and 0/1 labels from `pairs.csv`."""
    header, rows = _read_csv(path)
    if tuple(header) != PAIR_COLUMNS:
        raise DatasetError(f"{path}: the header must be {','.join(PAIR_COLUMNS)} (found "
                           f"{','.join(header)})")
    try:
        table = np.array([[int(cell) for cell in row] for row in rows], dtype=np.int64)
    except ValueError as exc:
        raise DatasetError(f"{path}: every field must be an integer ({exc})") from None
    table = table.reshape(-1, 3)
    return table[:, 0], table[:, 1], table[:, 2].astype(np.float32)


def read_groups(path: Path, n_windows: int) -> np.ndarray:
    """`groups` of `windows.npz`, or one group per window when it has none."""
    with np.load(path, allow_pickle=False) as archive:
        if "groups" not in archive.files:
            return np.arange(n_windows, dtype=np.int64)
        groups = archive["groups"]
    if groups.dtype.kind not in "iu":
        raise DatasetError(f"{path}: 'groups' must hold integers, not {groups.dtype}")
    return groups.astype(np.int64)


def load_dataset(directory: str | Path) -> PairDataset:
    """Read and validate a dataset directory."""
    directory = Path(directory)
    if not directory.is_dir():
        raise DatasetError(f"{directory}: no such dataset directory")
    windows_path = directory / WINDOWS_FILE
    if not windows_path.is_file():
        raise DatasetError(f"{windows_path}: no such file; a dataset directory holds "
                           f"{WINDOWS_FILE}, {ITEMS_FILE} and {PAIRS_FILE}")
    poses = read_pose_windows(windows_path)
    names, text = read_items(directory / ITEMS_FILE)
    window, item, label = read_pairs(directory / PAIRS_FILE)
    return PairDataset(poses, read_groups(windows_path, len(poses)), window, item, label,
                       names, text)


def save_dataset(directory: str | Path, dataset: PairDataset) -> Path:
    """Write a dataset directory in the format `load_dataset` reads."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    np.savez(directory / WINDOWS_FILE, poses=dataset.poses, groups=dataset.groups)
    with open(directory / ITEMS_FILE, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(list(dataset.item_text))
        writer.writerows(zip(*dataset.item_text.values()))
    with open(directory / PAIRS_FILE, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(PAIR_COLUMNS)
        writer.writerows(zip(dataset.pair_window.tolist(), dataset.pair_item.tolist(),
                             dataset.pair_label.astype(int).tolist()))
    return directory


def dataset_fingerprint(directory: str | Path) -> str:
    """sha256 over the three files' hashes: which data a model was trained on."""
    digest = hashlib.sha256()
    for name in (WINDOWS_FILE, ITEMS_FILE, PAIRS_FILE):
        digest.update(sha256_file(Path(directory) / name).encode())
    return digest.hexdigest()


def holdout_split(groups: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Train and held-out window indices: a seeded `fraction` of the groups is held out.

    At least one group is held out when fraction > 0, and at least one is kept for training.
    """
    if not 0 <= fraction < 1:
        raise DatasetError(f"held-out fraction {fraction} is outside [0, 1)")
    unique = np.unique(groups)
    count = 0 if fraction == 0 else max(1, math.ceil(fraction * len(unique)))
    if count >= len(unique):
        raise DatasetError(f"cannot hold out {fraction:.0%} of {len(unique)} group(s) and keep "
                           "one to train on; add windows or groups, or lower the held-out fraction")
    held = np.random.default_rng(seed).permutation(unique)[:count]
    is_held = np.isin(groups, held)
    return np.flatnonzero(~is_held), np.flatnonzero(is_held)


class PairIndex:
    """The pairs of any set of windows, found without scanning all pairs each time."""

    def __init__(self, dataset: PairDataset):
        self.order = np.argsort(dataset.pair_window, kind="stable")
        self.starts = np.searchsorted(dataset.pair_window[self.order],
                                      np.arange(len(dataset.poses) + 1))
        self.dataset = dataset

    def pairs_of(self, windows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Local window index (position in `windows`), item and label of their pairs."""
        picked = [self.order[self.starts[w]:self.starts[w + 1]] for w in windows]
        local = np.repeat(np.arange(len(windows)), [len(p) for p in picked])
        index = np.concatenate(picked) if picked else np.empty(0, dtype=np.int64)
        return local, self.dataset.pair_item[index], self.dataset.pair_label[index]
