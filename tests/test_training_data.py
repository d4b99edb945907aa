"""The training dataset format, the held-out split, the synthetic generator and the config."""
from __future__ import annotations

import json

import numpy as np
import pytest

from poserec_core.errors import PoseFileError
from poserec_core.training.config import ConfigError, TrainConfig, read_config_file
from poserec_core.training.dataset import (DatasetError, PairIndex, holdout_split, load_dataset,
                                           save_dataset)
from poserec_core.training.synthetic import SyntheticSpec, item_class, make_synthetic

SMALL = SyntheticSpec(videos_per_class=2, windows_per_video=3)


@pytest.fixture(scope="module")
def small():
    return make_synthetic(SMALL)


def test_dataset_round_trips_through_its_files(tmp_path, small):
    loaded = load_dataset(save_dataset(tmp_path / "data", small))
    np.testing.assert_array_equal(loaded.poses, small.poses)
    for field in ("groups", "pair_window", "pair_item", "pair_label"):
        np.testing.assert_array_equal(getattr(loaded, field), getattr(small, field))
    assert loaded.item_names == small.item_names
    assert loaded.item_text == small.item_text


def _write(tmp_path, small, items=None, pairs=None, windows=None):
    directory = save_dataset(tmp_path / "data", small)
    if items is not None:
        (directory / "items.csv").write_text(items)
    if pairs is not None:
        (directory / "pairs.csv").write_text(pairs)
    if windows is not None:
        np.savez(directory / "windows.npz", **windows)
    return directory


BAD_DATASETS = [
    ("pairs: wrong header", dict(pairs="window,item\n0,0\n"), DatasetError, "header must be"),
    ("pairs: not integers", dict(pairs="window,item,label\n0,a,1\n"), DatasetError, "integer"),
    ("pairs: label 2", dict(pairs="window,item,label\n0,0,2\n"), DatasetError, "0 or 1"),
    ("pairs: item out of range", dict(pairs="window,item,label\n0,99,1\n"), DatasetError,
     "item index 99"),
    ("pairs: window out of range", dict(pairs="window,item,label\n-1,0,1\n"), DatasetError,
     "window index -1"),
    ("pairs: duplicate", dict(pairs="window,item,label\n0,0,1\n0,0,0\n"), DatasetError,
     "labelled twice"),
    ("pairs: none", dict(pairs="window,item,label\n"), DatasetError, "no labelled pairs"),
    ("pairs: short row", dict(pairs="window,item,label\n0,0\n"), DatasetError, "row 2"),
    ("items: no name column", dict(items="title,description\na,b\n"), DatasetError, "'name'"),
    ("items: empty name", dict(items="name,description\n,b\n"), DatasetError, "empty"),
    ("items: duplicate column", dict(items="name,name\na,b\n"), DatasetError, "unique"),
    ("items: empty file", dict(items=""), DatasetError, "empty"),
    ("windows: wrong shape", dict(windows={"poses": np.zeros((4, 10, 17, 4), np.float32)}),
     PoseFileError, "33 BlazePose"),
    ("windows: no poses", dict(windows={"frames": np.zeros(3)}), PoseFileError, "'poses'"),
    ("windows: float groups",
     dict(windows={"poses": np.zeros((48, 10, 33, 4), np.float32), "groups": np.zeros(48)}),
     DatasetError, "integers"),
]


@pytest.mark.parametrize("case,files,error,message", BAD_DATASETS, ids=[c[0] for c in BAD_DATASETS])
def test_malformed_datasets_are_rejected_with_a_clear_error(tmp_path, small, case, files, error,
                                                            message):
    directory = _write(tmp_path, small, **files)
    with pytest.raises(error, match=message):
        load_dataset(directory)


@pytest.mark.parametrize("missing", ["windows.npz", "items.csv", "pairs.csv"])
def test_a_missing_file_is_named(tmp_path, small, missing):
    directory = save_dataset(tmp_path / "data", small)
    (directory / missing).unlink()
    with pytest.raises(DatasetError, match=missing):
        load_dataset(directory)


@pytest.mark.parametrize("fraction,seed", [(0.25, 0), (0.25, 1), (0.5, 3), (0.1, 0), (0.0, 0)])
def test_holdout_split_keeps_groups_whole_and_is_seeded(small, fraction, seed):
    train, held = holdout_split(small.groups, fraction, seed)
    assert sorted(np.concatenate([train, held]).tolist()) == list(range(len(small.groups)))
    assert not set(small.groups[train]) & set(small.groups[held])
    groups = len(np.unique(small.groups))
    assert len(np.unique(small.groups[held])) == (0 if fraction == 0 else
                                                  max(1, int(np.ceil(fraction * groups))))
    again_train, again_held = holdout_split(small.groups, fraction, seed)
    np.testing.assert_array_equal(held, again_held)


@pytest.mark.parametrize("groups,fraction", [(np.zeros(5, np.int64), 0.2),
                                             (np.arange(2), 0.9), (np.arange(4), 1.0)])
def test_holdout_split_refuses_to_leave_nothing_to_train_on(groups, fraction):
    with pytest.raises(DatasetError):
        holdout_split(groups, fraction, 0)


@pytest.mark.parametrize("windows", [[0], [5, 2], list(range(48))[::7], []])
def test_pair_index_finds_exactly_the_pairs_of_the_windows(small, windows):
    local, item, label = PairIndex(small).pairs_of(np.asarray(windows, dtype=np.int64))
    want = sorted((windows.index(w), i, float(y)) for w, i, y in
                  zip(small.pair_window, small.pair_item, small.pair_label) if w in windows)
    assert sorted(zip(local.tolist(), item.tolist(), label.tolist())) == want


def test_synthetic_pairs_follow_the_planted_classes(small):
    classes = item_class(SMALL)
    window_class = small.groups % SMALL.classes
    positive = small.pair_label == 1
    assert (classes[small.pair_item[positive]] == window_class[small.pair_window[positive]]).all()
    assert (classes[small.pair_item[~positive]] != window_class[small.pair_window[~positive]]).all()
    assert small.positives(np.arange(len(small.poses))).sum(axis=1).tolist() == \
        [SMALL.items_per_class] * len(small.poses)


def test_synthetic_data_is_seeded():
    a, b, c = (make_synthetic(SyntheticSpec(videos_per_class=1, seed=s)) for s in (4, 4, 5))
    np.testing.assert_array_equal(a.poses, b.poses)
    assert not np.array_equal(a.poses, c.poses)


CONFIGS = [
    ({"epochs": 0}, "epochs"),
    ({"batch_windows": 1}, "batch_windows"),
    ({"learning_rate": 0}, "learning_rate"),
    ({"holdout": 1.0}, "holdout"),
    ({"loss": "triplet"}, "loss"),
    ({"margin": -1}, "margin"),
    ({"init": "random"}, "init"),
    ({"norm_weight": -0.5}, "norm"),
    ({"epochs": "5"}, "integer"),
    ({"epochs": True}, "epochs"),
    ({"learning_rate": "fast"}, "number"),
    ({"columns": 3}, "columns"),
    ({"epoch": 5}, "unknown setting"),
]


@pytest.mark.parametrize("values,message", CONFIGS)
def test_bad_config_values_are_errors(values, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(values)


def test_config_file_round_trips(tmp_path):
    config = TrainConfig(epochs=3, loss="hinged", margin=0.3, columns=("name", "description"))
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config.to_dict()))
    assert TrainConfig.from_dict(read_config_file(path)) == config


@pytest.mark.parametrize("text,message", [("{", "not valid JSON"), ("[1, 2]", "JSON object"),
                                          ('{"epochs": 0}', "epochs")])
def test_bad_config_files_are_errors(tmp_path, text, message):
    path = tmp_path / "config.json"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        read_config_file(path)
