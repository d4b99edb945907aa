"""Training end to end on the planted synthetic data: learning, export, evaluate, catalog add,
resume, and the command line's errors."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
import torch

from poserec_core import Recommender
from poserec_core.bundle import read_manifest
from poserec_core.pretrained import load_catalog, load_state_dict
from poserec_core.training.config import TrainConfig
from poserec_core.training.dataset import load_dataset, save_dataset
from poserec_core.training.export import exported_roles
from poserec_core.training.metrics import chance_recall
from poserec_core.training.run import item_text_embeddings, published_encoder_state, train_run
from poserec_core.training.synthetic import MOTIONS, SyntheticSpec, make_synthetic
from poserec_core.training.text_embeddings import sentence_embedder
from poserec_core.training.trainer import Trainer
from realtime.cli import main

CPU = torch.device("cpu")
SPEC = SyntheticSpec()
CONFIG = TrainConfig(epochs=10, batch_windows=16, learning_rate=2e-3, lr_schedule="cosine",
                     loss="hinged", init="scratch", holdout=0.25, seed=0)
"""The short seeded run: 96 training windows x 10 epochs, from a freshly initialised encoder."""
JUMPING = [m.phrase for m in MOTIONS].index("jumping")
NEW_EFFECT = ("glitter (jumping)", "glitter that appear when someone is jumping")


def poserec(*args) -> int:
    """Run the CLI in this process (sharing the loaded sentence model); its exit status."""
    try:
        return main([str(a) for a in args])
    except SystemExit as exc:
        return exc.code


@pytest.fixture(scope="module")
def text_cache(tmp_path_factory):
    return tmp_path_factory.mktemp("text-cache")


@pytest.fixture(scope="module")
def synthetic_dir(tmp_path_factory):
    return save_dataset(tmp_path_factory.mktemp("synthetic"), make_synthetic(SPEC))


@pytest.fixture(scope="module")
def trained(synthetic_dir, text_cache, tmp_path_factory):
    embedder = sentence_embedder(text_cache)
    embedder.embed(list(load_dataset(synthetic_dir).item_text["name"]))  # model load, untimed
    start = time.perf_counter()
    result = train_run(synthetic_dir, tmp_path_factory.mktemp("run"), CONFIG, embedder, CPU)
    seconds = time.perf_counter() - start
    trained_windows = sum(r.windows for r in result.reports)
    print(f"\nsynthetic run: {seconds:.1f} s for {CONFIG.epochs} epochs, "
          f"{trained_windows / sum(r.seconds for r in result.reports):.1f} windows/s; held-out "
          + json.dumps({k: round(v, 4) for k, v in result.heldout_metrics.items()}))
    return result


def test_before_training_heldout_recall_is_near_chance(synthetic_dir, text_cache):
    dataset = load_dataset(synthetic_dir)
    text = item_text_embeddings(dataset, dataset.text_columns(), sentence_embedder(text_cache))
    untrained = Trainer(dataset, text, CONFIG, CPU)
    recall = untrained.evaluate(untrained.heldout_windows, (5,))["recall@5"]
    assert recall <= chance_recall(dataset.num_items, 5) + 0.15


def test_short_seeded_run_raises_heldout_recall_to_at_least_0_8(trained):
    assert [r.epoch for r in trained.reports] == list(range(1, CONFIG.epochs + 1))
    assert trained.heldout_metrics["windows"] == 32
    assert trained.heldout_metrics["recall@5"] >= 0.8
    assert trained.heldout_metrics["auc"] > 0.9


def test_export_has_the_release_layout_and_reloads_with_identical_scores(trained, synthetic_dir,
                                                                         weights_dir):
    windows = load_dataset(synthetic_dir).poses
    manifest = read_manifest(trained.export_dir)
    assert {role: e["file"] for role, e in manifest.files.items()} == exported_roles()
    exported = load_state_dict(manifest)
    published = load_state_dict(read_manifest(weights_dir))
    assert {k: v.shape for k, v in exported.items()} == {k: v.shape for k, v in published.items()}
    expected = trained.recommender.score(windows)
    eager = Recommender.from_pretrained(device="cpu", weights_dir=trained.export_dir, fast=False)
    np.testing.assert_array_equal(eager.score(windows), expected)
    # The default composed encoder folds BatchNorms into float32 matrices; the synthetic poses
    # have near-constant channels (visibility, most z), whose BatchNorm scale is large.
    default = Recommender.from_pretrained(device="cpu", weights_dir=trained.export_dir)
    np.testing.assert_allclose(default.score(windows), expected, atol=1e-4)


def test_evaluate_reports_the_heldout_metrics_of_training(trained, synthetic_dir, capsys):
    assert poserec("evaluate", "--data", synthetic_dir, "--weights", trained.export_dir,
                   "--json", "--device", "cpu") == 0
    report = json.loads(capsys.readouterr().out)
    assert report["split"] == "heldout" and report["catalog_items"] == SPEC.classes * 3
    assert report["metrics"] == pytest.approx(trained.heldout_metrics, abs=1e-6)


def test_catalog_add_appends_an_effect_that_ranks_with_its_motion(trained, synthetic_dir,
                                                                  text_cache, tmp_path):
    out = tmp_path / "extended"
    name, description = NEW_EFFECT
    assert poserec("catalog", "add", "--weights", trained.export_dir, "--name", name,
                   "--text", f"description={description}", "--out", out,
                   "--cache-dir", text_cache) == 0
    before = load_catalog(read_manifest(trained.export_dir))
    after = load_catalog(read_manifest(out))
    assert after.names == before.names + (name,)
    np.testing.assert_array_equal(after.item_embeddings[:, :-1], before.item_embeddings)
    np.testing.assert_array_equal(after.prototype_dis[:-1], before.prototype_dis)

    dataset = load_dataset(synthetic_dir)
    scores = Recommender.from_pretrained(device="cpu", weights_dir=out, fast=False).score(
        dataset.poses)
    np.testing.assert_array_equal(scores[:, :-1], trained.recommender.score(dataset.poses))
    in_top5 = (scores > np.sort(scores, axis=1)[:, [-6]]).astype(bool)[:, -1]
    jumping = dataset.groups % SPEC.classes == JUMPING
    assert in_top5[jumping].mean() >= 0.8
    assert in_top5[~jumping].mean() <= 0.2


def test_published_init_starts_from_the_released_encoder(synthetic_dir, text_cache, weights_dir):
    dataset = load_dataset(synthetic_dir)
    text = item_text_embeddings(dataset, dataset.text_columns(), sentence_embedder(text_cache))
    state = published_encoder_state(weights_dir)
    trainer = Trainer(dataset, text, TrainConfig(init="published"), CPU, state)
    for key, value in trainer.encoder.state_dict().items():
        torch.testing.assert_close(value, state[key], rtol=0, atol=0)


TINY = SyntheticSpec(videos_per_class=2)
TINY_CONFIG = {"epochs": 2, "batch_windows": 4, "learning_rate": 0.002, "init": "scratch",
               "holdout": 0.25, "loss": "hinged"}


@pytest.fixture(scope="module")
def tiny_runs(tmp_path_factory, text_cache):
    """One run of 2 epochs straight, one of 1 epoch resumed to 2; both through the CLI."""
    root = tmp_path_factory.mktemp("tiny")
    data = save_dataset(root / "data", make_synthetic(TINY))
    config = root / "config.json"
    config.write_text(json.dumps(TINY_CONFIG))
    common = ("--data", data, "--config", config, "--cache-dir", text_cache, "--device", "cpu")
    codes = [poserec("train", "--run-dir", root / "straight", *common),
             poserec("train", "--run-dir", root / "resumed", *common, "--epochs", 1),
             poserec("train", "--run-dir", root / "resumed", *common, "--resume")]
    return root, codes


def test_a_resumed_run_takes_the_same_steps_as_an_uninterrupted_one(tiny_runs):
    root, codes = tiny_runs
    assert codes == [0, 0, 0]
    straight, resumed = (torch.load(root / run / "checkpoint.pt", weights_only=True)
                         for run in ("straight", "resumed"))
    assert straight["epoch"] == resumed["epoch"] == 2
    for part in ("encoder", "item_side"):
        for key, value in straight[part].items():
            if "running" not in key and "num_batches" not in key:
                torch.testing.assert_close(resumed[part][key], value, rtol=0, atol=0)


def test_training_settings_come_from_the_config_file(tiny_runs):
    root, _ = tiny_runs
    record = json.loads((root / "straight" / "weights" / "training.json").read_text())
    assert {k: record["config"][k] for k in TINY_CONFIG} == TINY_CONFIG


CLI_ERRORS = [
    (["train", "--data", "{root}/nowhere", "--run-dir", "{root}/x"], "no such dataset directory"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/x", "--epochs", "0"], "minimum 1"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/x", "--holdout", "1"], "outside"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/x", "--loss", "soft"],
     "invalid choice"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/x", "--config", "{root}/bad.json"],
     "unknown setting"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/x", "--resume"], "no checkpoint"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/straight", "--init", "scratch"],
     "already holds a run"),
    (["train", "--data", "{root}/data", "--run-dir", "{root}/straight", "--config",
      "{root}/config.json", "--resume", "--learning-rate", "0.1"], "other settings"),
    (["evaluate", "--data", "{root}/data", "--weights", "{release}"], "no held-out split"),
    (["evaluate", "--data", "{root}/data", "--weights", "{release}", "--split", "all"],
     "does not start with the dataset's items"),
    (["evaluate", "--data", "{root}/data", "--k", "0"], "minimum 1"),
    (["catalog", "add", "--weights", "{release}", "--name", "x"], "no training record"),
    (["catalog", "add", "--weights", "{root}/straight/weights", "--name", "x", "--text",
      "colour=red"], "trained on the columns name, description"),
    (["catalog", "add", "--weights", "{root}/straight/weights", "--name", "x", "--text", "red"],
     "COLUMN=TEXT"),
]


@pytest.mark.parametrize("argv,message", CLI_ERRORS, ids=[" ".join(a[:2]) + f" {i}"
                                                          for i, (a, _) in enumerate(CLI_ERRORS)])
def test_user_errors_exit_2_with_one_line(tiny_runs, weights_dir, text_cache, capsys, argv,
                                          message):
    root, _ = tiny_runs
    (root / "bad.json").write_text('{"epoch": 3}')
    args = [a.format(root=root, release=weights_dir) for a in argv]
    if args[0] in ("train", "catalog"):
        args += ["--cache-dir", str(text_cache)]
    assert poserec(*args) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
