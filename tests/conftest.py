"""Shared fixtures: the release installed once per session from $POSEREC_WEIGHTS_SOURCE."""
from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def release_source() -> Path:
    """The directory of published release files CI and tests install from."""
    source = os.environ.get("POSEREC_WEIGHTS_SOURCE") or str(SHARED / "poserec-release")
    path = Path(source)
    assert (path / "best_model_pose.pt").is_file(), (
        f"release files not found in {path}: set POSEREC_WEIGHTS_SOURCE")
    return path


@pytest.fixture(scope="session", autouse=True)
def no_user_settings(tmp_path_factory):
    """No developer's own `poserec live` settings reach a test: the settings file is looked for
    in an empty XDG_CONFIG_HOME, and no POSEREC_<OPTION> variable of `live` is set."""
    from realtime.cli import live
    from realtime.cli.config import settings_of

    os.environ["XDG_CONFIG_HOME"] = str(tmp_path_factory.mktemp("config-home"))
    commands = argparse.ArgumentParser().add_subparsers()
    live.add_parser(commands)
    for setting in settings_of(commands.choices["live"]).values():
        os.environ.pop(setting.variable, None)


@pytest.fixture(scope="session")
def release_dir() -> Path:
    """The published release files (read-only)."""
    return release_source()


@pytest.fixture(scope="session")
def reference_dir() -> Path:
    """The published demo's outputs: the ground truth."""
    path = Path(os.environ.get("POSEREC_REFERENCE_DIR") or SHARED / "reference")
    assert (path / "sample_scores.npy").is_file(), f"reference outputs not found in {path}"
    return path


@pytest.fixture(scope="session")
def weights_dir(tmp_path_factory, release_dir) -> Path:
    """The release installed into a fresh directory; POSEREC_WEIGHTS_DIR points at it."""
    from poserec_core.weights_install import install_release

    dest = install_release(str(release_dir), tmp_path_factory.mktemp("weights"))
    os.environ["POSEREC_WEIGHTS_DIR"] = str(dest)
    return dest


@pytest.fixture(scope="session")
def recommender(weights_dir):
    """The published model on the CPU."""
    from poserec_core import Recommender

    return Recommender.from_pretrained(device="cpu", weights_dir=weights_dir)


@pytest.fixture(scope="session")
def reference_scores(reference_dir) -> np.ndarray:
    """(81, 221) float32 scores of the published demo."""
    return np.load(reference_dir / "sample_scores.npy")


@pytest.fixture(scope="session")
def reference_top5(reference_dir) -> list:
    """The published demo's top-5 per window."""
    return json.loads((reference_dir / "sample_top5.json").read_text())


@pytest.fixture(scope="session")
def sample_windows(weights_dir) -> np.ndarray:
    """The published sample windows (81, 10, 33, 4), from the installed release."""
    from poserec_core.bundle import read_manifest
    from poserec_core.pretrained import load_sample

    return load_sample(read_manifest(weights_dir))
