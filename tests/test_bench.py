"""`poserec bench --encoder`: the report's structure, its JSON and plot, and its pieces.

Timings are never asserted: only that every figure is there, ordered and consistent.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from realtime.bench.catalogs import synthetic_catalog
from realtime.bench.encoder import (APPROXIMATE_FROM_ITEMS, APPROXIMATE_METHODS, BATCH_SIZES,
                                    CATALOG_SIZES, RANK_METHODS)
from realtime.bench.output import check_output_path, write_json
from realtime.bench.stats import LatencyStats, time_interleaved
from realtime.bench.table import format_table

from .helpers import NEAR_TIE, run_main, run_poserec

STAT_KEYS = {"count", "min", "p50", "p95", "p99", "max", "mean"}
RUNS = 3


@pytest.fixture(scope="module")
def bench_run(weights_dir, tmp_path_factory):
    """One quick `poserec bench --encoder` run: (process, JSON document, plot path)."""
    out = tmp_path_factory.mktemp("bench")
    proc = run_poserec("bench", "--encoder", "--runs", RUNS, "--warmup", 1, "--device", "cpu",
                       "--threads", 1,
                       "--json", out / "bench.json", "--plot", out / "bench.png", timeout=300)
    assert proc.returncode == 0, proc.stderr
    return proc, json.loads((out / "bench.json").read_text()), out / "bench.png"


def assert_stats(stats: dict):
    assert set(stats) == STAT_KEYS and stats["count"] == RUNS
    assert 0 < stats["min"] <= stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"]


def test_hardware_and_settings_are_recorded(bench_run):
    proc, doc, _ = bench_run
    hardware = doc["hardware"]
    assert hardware["device"] == "cpu" and hardware["gpu"] is None
    assert hardware["cpu"] and hardware["cpu_cores"] >= 1 and hardware["torch_threads"] == 1
    assert hardware["torch"] in proc.stdout and hardware["cpu"] in proc.stdout
    assert doc["settings"]["runs"] == RUNS and doc["settings"]["window_frames"] == 10
    assert doc["agreement"]["windows"] == 81
    assert doc["agreement"]["max_abs_score_diff"] <= NEAR_TIE


@pytest.mark.parametrize("batch", BATCH_SIZES)
def test_encode_rank_compares_eager_and_fast(bench_run, batch):
    _, doc, _ = bench_run
    [entry] = [e for e in doc["encode_rank"] if e["batch"] == batch]
    assert_stats(entry["eager"])
    assert_stats(entry["fast"])
    for stat in ("p50", "min"):
        assert entry[f"speedup_{stat}"] == pytest.approx(
            entry["eager"][stat] / entry["fast"][stat], rel=1e-2)
    for path in ("eager", "fast"):
        assert entry[f"{path}_windows_per_s"] == pytest.approx(
            batch * 1000 / entry[path]["p50"], rel=1e-2)


@pytest.mark.parametrize("items", CATALOG_SIZES)
def test_rank_alone_per_catalog_size(bench_run, items):
    _, doc, _ = bench_run
    [entry] = [e for e in doc["rank"] if e["items"] == items]
    approximate = items >= APPROXIMATE_FROM_ITEMS
    measured = [m for m in RANK_METHODS if m in entry]
    assert measured == list(RANK_METHODS if approximate else RANK_METHODS[:2])
    for method in measured:
        assert_stats(entry[method])
    assert ("recall_at_k" in entry) == ("build_s" in entry) == approximate
    if approximate:
        assert set(entry["recall_at_k"]) == set(entry["build_s"]) == set(APPROXIMATE_METHODS)
        assert all(0.0 <= r <= 1.0 for r in entry["recall_at_k"].values())
        assert all(t > 0 for t in entry["build_s"].values())


def test_targets_and_table(bench_run):
    proc, doc, _ = bench_run
    assert [t["limit"] for t in doc["targets"]] == [0.75, 4.0, 0.45, 5.0] + [5.0] * len(
        RANK_METHODS)
    assert all(isinstance(t["met"], bool) for t in doc["targets"])
    single, batch = (next(e for e in doc["encode_rank"] if e["batch"] == b) for b in (1, 64))
    values = [single["fast"]["p50"], single["speedup_p50"], batch["fast"]["p50"] / 64,
              batch["speedup_p50"]]
    for target, value in zip(doc["targets"], values):
        assert target["value"] == pytest.approx(value)
        higher_is_better = "eager p50 / fast p50" in target["name"]
        assert target["met"] == (value >= target["limit"] if higher_is_better
                                 else value <= target["limit"])
        assert target["name"] in proc.stdout
    for text in ("encode+rank", "rank alone", "targets", "eager", "fast", *RANK_METHODS):
        assert text in proc.stdout


def test_plot_is_a_png(bench_run):
    _, _, plot = bench_run
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["bench", "--encoder", "--runs", "0"], "below the minimum 1"),
    (["bench", "--encoder", "--warmup", "x"], "is not an integer"),
    (["bench", "--encoder", "--threads", "0"], "below the minimum 1"),
    (["bench", "--encoder", "--json", "/no/such/dir/out.json"], "no such directory"),
    (["bench", "--encoder", "--plot", "out.jpg"], "must end in .png"),
    (["bench", "--encoder", "--json", "out.txt"], "must end in .json"),
    (["bench", "--encoder", "--device", "tpu"], "invalid choice"),
])
def test_user_errors_exit_2_with_one_line(capsys, args, message):
    code, out, err = run_main(capsys, *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1


def test_missing_weights_exit_2(capsys, tmp_path):
    code, _, err = run_main(capsys, "bench", "--encoder", "--weights", tmp_path)
    assert code == 2 and "poserec weights install" in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("samples", [[3.0], [1.0, 2.0], list(np.linspace(0.1, 9.0, 101)),
                                     list(np.random.default_rng(0).exponential(2.0, 1000))])
def test_latency_stats_are_numpys_percentiles(samples):
    stats = LatencyStats.from_ms(samples)
    assert stats.count == len(samples)
    assert (stats.min, stats.max) == (min(samples), max(samples))
    assert [stats.p50, stats.p95, stats.p99] == pytest.approx(np.percentile(samples, [50, 95, 99]))
    assert stats.min <= stats.p50 <= stats.p95 <= stats.p99 <= stats.max


@pytest.mark.parametrize("samples", [[], [[1.0, 2.0]]])
def test_latency_stats_need_a_flat_non_empty_sequence(samples):
    with pytest.raises(ValueError):
        LatencyStats.from_ms(samples)


@pytest.mark.parametrize("runs, warmup", [(1, 0), (3, 2)])
def test_time_interleaved_alternates_the_calls(runs, warmup):
    order = []
    times = time_interleaved({"a": lambda: order.append("a"), "b": lambda: order.append("b")},
                             runs, warmup)
    assert order == ["a", "b"] * (runs + warmup)
    assert {k: v.shape for k, v in times.items()} == {"a": (runs,), "b": (runs,)}
    assert all((v >= 0).all() for v in times.values())


@pytest.mark.parametrize("rows", [[["eager", 1.23456, 7]], [["a", 1234.5, None], ["bb", 0.5, 3]]])
def test_format_table_aligns_columns(rows):
    lines = format_table(["name", "ms", "n"], rows).splitlines()
    assert len(lines) == len(rows) + 2 and set(lines[1].replace(" ", "")) == {"-"}
    widths = {len(line) for line in lines[2:]}
    assert max(widths) <= len(lines[1])


@pytest.mark.parametrize("document", [{"a": 1}, {"nested": {"p50": 0.5, "runs": [1, 2]}}])
def test_write_json_replaces_the_file_whole(tmp_path, document):
    path = tmp_path / "out.json"
    path.write_text("old content")
    write_json(path, document)
    assert json.loads(path.read_text()) == document
    assert [p.name for p in tmp_path.iterdir()] == ["out.json"]


@pytest.mark.parametrize("name, suffix, ok", [
    ("out.json", ".json", True), ("OUT.PNG", ".png", True), ("out.png", ".json", False),
    ("missing/out.json", ".json", False), ("dir.json", ".json", False),
])
def test_check_output_path(tmp_path, name, suffix, ok):
    (tmp_path / "dir.json").mkdir()
    if ok:
        assert check_output_path(tmp_path / name, suffix, "--out") == tmp_path / name
    else:
        with pytest.raises(PoseRecError, match="--out"):
            check_output_path(tmp_path / name, suffix, "--out")


@pytest.mark.parametrize("size", [221, 300, 2000])
def test_synthetic_catalog_extends_the_real_one(recommender, size):
    real = recommender.catalog
    catalog = synthetic_catalog(real, size, seed=1)
    assert len(catalog) == size and catalog.names[:len(real)] == real.names
    np.testing.assert_array_equal(catalog.item_embeddings[:, :len(real)], real.item_embeddings)
    np.testing.assert_array_equal(synthetic_catalog(real, size, seed=1).item_embeddings,
                                  catalog.item_embeddings)


def test_synthetic_catalog_cannot_shrink(recommender):
    with pytest.raises(ValueError, match="below"):
        synthetic_catalog(recommender.catalog, 10)
