"""`poserec weights install|verify`: hashes checked, pickles converted safely, clear errors."""
from __future__ import annotations

import shutil

import numpy as np
import pytest
import torch

from poserec_core.bundle import read_manifest
from poserec_core.encoder import load_encoder
from poserec_core.errors import WeightsError
from poserec_core.release import RELEASE_FILES
from realtime.cli.hints import poserec_command

from .helpers import run_main


def _copy_release(release_dir, dest, layout="flat"):
    dest.mkdir()
    for entry in RELEASE_FILES:
        target = dest / (entry.name if layout == "flat" else entry.upstream_path)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(release_dir / entry.name, target)
    return dest


@pytest.mark.parametrize("layout", ["flat", "upstream"])
def test_install_then_verify(capsys, release_dir, tmp_path, layout):
    source = _copy_release(release_dir, tmp_path / "src", layout)
    dest = tmp_path / "dest"
    code, out, err = run_main(capsys, "weights", "install", "--from", source, "--dir", dest)
    assert code == 0, err
    installed = sorted(p.name for p in dest.iterdir())
    assert installed == ["best_model_pose.pt", "item_data.csv", "item_feature.npy",
                         "manifest.json", "prototype_dis.npy", "sample.npy"]
    code, out, err = run_main(capsys, "weights", "verify", "--dir", dest)
    assert code == 0 and out.count("ok ") == 5, err
    assert np.load(dest / "item_feature.npy", allow_pickle=False).shape == (4, 221, 64)
    assert np.load(dest / "sample.npy", allow_pickle=False).shape == (81, 10, 33, 4)


def test_install_from_url(capsys, release_dir, tmp_path):
    source = _copy_release(release_dir, tmp_path / "src", "upstream")
    code, _, err = run_main(capsys, "weights", "install", "--from", source.as_uri(),
                            "--dir", tmp_path / "dest")
    assert code == 0, err


def _truncate(path):
    path.write_bytes(path.read_bytes()[:1000])


def _flip(path):
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("name, damage, message", [
    ("best_model_pose.pt", _truncate, "best_model_pose.pt: sha256"),
    ("item_feature.pkl", _flip, "item_feature.pkl: sha256"),
    ("sample.pkl", lambda p: p.unlink(), "sample.pkl: missing from"),
])
def test_install_refuses_bad_source(capsys, release_dir, tmp_path, name, damage, message):
    source = _copy_release(release_dir, tmp_path / "src")
    damage(source / name)
    dest = tmp_path / "dest"
    code, _, err = run_main(capsys, "weights", "install", "--from", source, "--dir", dest)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (dest / "manifest.json").exists()


def test_install_from_missing_directory(capsys, tmp_path):
    code, _, err = run_main(capsys, "weights", "install", "--from", tmp_path / "nope",
                            "--dir", tmp_path / "dest")
    assert code == 2 and "no such directory" in err


@pytest.mark.parametrize("name, damage, message", [
    ("item_feature.npy", _flip, "does not match the manifest"),
    # the hint names a command the user can type (here: the venv's script, not on the PATH)
    ("best_model_pose.pt", lambda p: p.unlink(), f"missing; run `{poserec_command()} weights install`"),
    ("manifest.json", lambda p: p.write_text("{"), "not a valid weights manifest"),
])
def test_verify_detects_damage(capsys, weights_dir, tmp_path, name, damage, message):
    copy = shutil.copytree(weights_dir, tmp_path / "w")
    damage(copy / name)
    code, _, err = run_main(capsys, "weights", "verify", "--dir", copy)
    assert code == 2 and message in err, err


def test_verify_without_install(capsys, tmp_path):
    code, _, err = run_main(capsys, "weights", "verify", "--dir", tmp_path)
    assert code == 2 and "no PoseRec weights" in err


def _state(weights_dir):
    return torch.load(weights_dir / "best_model_pose.pt", weights_only=True)


@pytest.mark.parametrize("edit, message", [
    (lambda s: s.pop("fc.bias"), "Missing key"),
    (lambda s: s.update(extra=torch.zeros(1)), "Unexpected key"),
    (lambda s: s.update({"fc.weight": torch.zeros(128, 256)}), "size mismatch"),
    (lambda s: s.update(A=torch.ones(1, 33, 33)), "adjacency"),
])
def test_encoder_rejects_wrong_keys_and_shapes(weights_dir, edit, message):
    state = _state(weights_dir)
    edit(state)
    with pytest.raises(WeightsError, match=message):
        load_encoder(state)


def test_manifest_paths_stay_inside(weights_dir, tmp_path):
    copy = shutil.copytree(weights_dir, tmp_path / "w")
    text = (copy / "manifest.json").read_text().replace('"item_data.csv"', '"../../etc/passwd"')
    (copy / "manifest.json").write_text(text)
    with pytest.raises(WeightsError, match="outside the weights directory"):
        read_manifest(copy).path("item_names")
