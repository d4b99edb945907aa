"""`poserec recommend`: the published demo's lists, the JSON contract, and every bad input."""
from __future__ import annotations

import json
import pickle
import shutil

import numpy as np
import pytest

from .helpers import run_main, run_poserec, same_ranking


def test_text_output_is_the_published_demo(weights_dir, release_dir, reference_top5,
                                           reference_scores):
    args = ("recommend", "--poses", release_dir / "sample.pkl", "--top-k", "5")
    text, as_json = run_poserec(*args), run_poserec(*args, "--json")
    assert text.returncode == 0 and as_json.returncode == 0, text.stderr + as_json.stderr
    lines = text.stdout.strip().splitlines()
    windows = json.loads(as_json.stdout)["windows"]
    assert len(lines) == len(windows) == 81
    for n, (line, window, ref) in enumerate(zip(lines, windows, reference_top5["windows"])):
        assert line == " ".join(e["name"] for e in window["top"])  # the demo prints names so
        items = [e["item"] for e in window["top"]]
        assert same_ranking(items, [e["item"] for e in ref["top5"]], reference_scores[n]), n


def test_json_contract(capsys, weights_dir, release_dir, reference_scores):
    code, out, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl",
                              "--top-k", "3", "--json", "--device", "cpu")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["top_k"] == 3 and len(doc["windows"]) == 81
    for n, window in enumerate(doc["windows"]):
        assert window["window"] == n and len(window["top"]) == 3
        for entry in window["top"]:
            assert set(entry) == {"item", "name", "score"}
            assert abs(entry["score"] - reference_scores[n, entry["item"]]) <= 1e-5


@pytest.mark.parametrize("suffix", [".npy", ".npz"])
def test_npy_and_npz_inputs(capsys, weights_dir, sample_windows, tmp_path, suffix):
    path = tmp_path / f"poses{suffix}"
    if suffix == ".npy":
        np.save(path, sample_windows[:4])
    else:
        np.savez(path, poses=sample_windows[:4])
    code, out, err = run_main(capsys, "recommend", "--poses", path, "--json")
    assert code == 0, err
    assert len(json.loads(out)["windows"]) == 4


class _CreatesFile:
    """A pickle payload whose loading would create a file, if it were ever executed."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return (open, (self.target, "w"))


def _write(tmp_path, name, content):
    path = tmp_path / name
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    return path


def _npy(array):
    return lambda p: np.save(p, array)


def _good(n=2, t=10, v=33, c=4, dtype=np.float32):
    return np.random.default_rng(0).random((n, t, v, c)).astype(dtype)


def _with(value):
    a = _good()
    a[1, 3, 5, 0] = value
    return a


def _truncated(p):
    np.save(p, _good())
    p.write_bytes(p.read_bytes()[:200])


BAD_POSES = [
    ("missing.npy", None, "no such file"),
    ("poses.txt", b"1 2 3", "unknown pose file type"),
    ("empty.npy", b"", "the file is empty"),
    ("rank3.npy", _npy(_good()[0]), "shape (10, 33, 4), expected (N, T, 33, 4)"),
    ("v17.npy", _npy(_good(v=17)), "shape (2, 10, 17, 4)"),
    ("c3.npy", _npy(_good(c=3)), "shape (2, 10, 33, 3)"),
    ("ints.npy", _npy(_good().astype(np.int64)), "dtype int64"),
    ("nan.npy", _npy(_with(np.nan)), "1 NaN or infinite values"),
    ("inf.npy", _npy(_with(np.inf)), "1 NaN or infinite values"),
    ("truncated.npy", _truncated, "truncated"),
    ("objects.npy", lambda p: np.save(p, np.array([{"a": 1}], dtype=object), allow_pickle=True),
     "not a plain .npy array"),
    ("noposes.npz", lambda p: np.savez(p, windows=_good()), "no array named 'poses'"),
    ("list.pkl", lambda p: p.write_bytes(pickle.dumps([1, 2])), "holds a int, not a numpy array"),
]


@pytest.mark.parametrize("name, content, message", BAD_POSES, ids=[b[0] for b in BAD_POSES])
def test_bad_pose_files_exit_2_with_one_line(capsys, weights_dir, tmp_path, name, content, message):
    path = tmp_path / name if content is None else _write(tmp_path, name, content)
    code, out, err = run_main(capsys, "recommend", "--poses", path)
    assert code == 2
    assert err.count("\n") == 1 and message in err, err
    assert out == ""


def test_malicious_pickle_is_never_executed(capsys, weights_dir, tmp_path):
    target = tmp_path / "pwned"
    path = tmp_path / "evil.pkl"
    path.write_bytes(pickle.dumps(_CreatesFile(target)))
    code, _, err = run_main(capsys, "recommend", "--poses", path)
    assert code == 2 and "not a plain numpy pickle" in err and "refuses to load io.open" in err
    assert not target.exists()


@pytest.mark.parametrize("args, message", [
    (["--top-k", "0"], "below the minimum 1"),
    (["--top-k", "x"], "is not an integer"),
    (["--top-k", "222"], "--top-k 222: choose between 1 and the catalog's 221 items"),
    (["--device", "tpu"], "invalid choice"),
])
def test_bad_options_exit_2(capsys, weights_dir, release_dir, args, message):
    code, _, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl", *args)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_weights_not_installed(capsys, release_dir, tmp_path):
    code, _, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl",
                            "--weights", tmp_path)
    assert code == 2 and "no PoseRec weights" in err and "poserec weights install" in err


def test_weights_hash_mismatch(capsys, weights_dir, release_dir, tmp_path):
    copy = shutil.copytree(weights_dir, tmp_path / "weights")
    data = bytearray((copy / "item_feature.npy").read_bytes())
    data[-1] ^= 0xFF
    (copy / "item_feature.npy").write_bytes(bytes(data))
    code, _, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl",
                            "--weights", copy)
    assert code == 2 and "item_feature.npy" in err and "does not match" in err, err
