"""`poserec bench --encoder`: encode+rank, eager against fast in the same run; rank alone.

- encode+rank: `Recommender.recommend(windows, top_k)` on the published sample windows, one
  window at a time and in batches, for the eager `PoseEncoder` and the `FastEncoder`, timed
  in interleaved rounds so both see the same machine; the ratio is eager p50 / fast p50.
- rank alone: top-k of one window's encoder output over the real catalog (221 items) and
  synthetic catalogs beyond it (`catalogs`): the Recommender's exact product (row-major
  catalog), the exact product on the transposed catalog (`ExactRanker`), and for large
  catalogs two approximate rankings, the bfloat16 screen (`ScreenedRanker`) and the k-means
  inverted file (`ClusteredRanker`), each with its recall@k against the exact ranking over all
  sample windows and the time it took to build.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from poserec_core import Recommender
from poserec_core.bundle import read_manifest
from poserec_core.catalog_ranking import (CLUSTER_PROBES, SCREEN_CANDIDATES, ClusteredRanker,
                                          ExactRanker, ScreenedRanker, recall_at_k)
from poserec_core.errors import PoseRecError
from poserec_core.pretrained import load_sample
from poserec_core.scoring import score_items, top_k
from poserec_core.weights_install import default_weights_dir

from .catalogs import synthetic_catalog
from .hardware import hardware_info, hardware_line
from .output import BenchResult
from .stats import LatencyStats, per_second, time_interleaved
from .table import format_table

BATCH_SIZES = (1, 8, 64)
CATALOG_SIZES = (221, 10_000, 100_000)
APPROXIMATE_FROM_ITEMS = 10_000
"""Catalogs of at least this many items are also ranked approximately (screen and index)."""
APPROXIMATE_METHODS = {"bfloat16_screen": ScreenedRanker, "clustered_index": ClusteredRanker}
RANK_METHODS = ("exact_row_major", "exact", *APPROXIMATE_METHODS)
TOP_K = 5
TARGET_ENCODE_RANK_MS = 0.75
TARGET_SPEEDUP = 4.0
TARGET_BATCH = 64
TARGET_BATCH_MS_PER_WINDOW = 0.45
TARGET_BATCH_SPEEDUP = 5.0
TARGET_RANK_100K_MS = 5.0


@dataclass(frozen=True)
class EncoderBenchConfig:
    """What `poserec bench --encoder` measures and how often."""

    device: str = "auto"
    weights_dir: Path | None = None
    runs: int = 100
    warmup: int = 10
    batches: tuple[int, ...] = BATCH_SIZES
    catalog_sizes: tuple[int, ...] = CATALOG_SIZES
    seed: int = 0


def encoder_table(doc: dict) -> str:
    """The readable report: hardware line, two tables, the issue's targets."""
    settings = doc["settings"]
    encode_rows = []
    for entry in doc["encode_rank"]:
        for path in ("eager", "fast"):
            s = entry[path]
            encode_rows.append([entry["batch"], path, s["min"], s["p50"], s["p95"], s["p99"],
                                s["max"],
                                entry[f"{path}_windows_per_s"],
                                f"{entry['speedup_p50']:.2f}x" if path == "fast" else ""])
    rank_rows = []
    for entry in doc["rank"]:
        for method in RANK_METHODS:
            if method in entry:
                s = entry[method]
                rank_rows.append([entry["items"], method, s["min"], s["p50"], s["p95"],
                                  s["p99"], s["max"], entry.get("recall_at_k", {}).get(method),
                                  entry.get("build_s", {}).get(method)])
    k, runs = settings["top_k"], settings["runs"]
    lines = [
        f"hardware: {hardware_line(doc['hardware'])}",
        f"{runs} timed runs after {settings['warmup']} warm-up runs; ms per call",
        "",
        f"encode+rank (Recommender.recommend, top-{k} of {settings['catalog_items']} items, "
        f"T={settings['window_frames']}; fast blocks: {', '.join(settings['fast_blocks'])})",
        format_table(["batch", "encoder", "min", "p50", "p95", "p99", "max", "windows/s",
                      "speedup"], encode_rows),
        f"fast vs eager on the {doc['agreement']['windows']} sample windows: max |score "
        f"difference| {doc['agreement']['max_abs_score_diff']:.2e}",
        "",
        f"rank alone (one window, top-{k}; bfloat16_screen: exact scores of "
        f"{settings['screen_candidates']} screened candidates; clustered_index: exact scores "
        f"in {settings['cluster_probes']} of sqrt(items) k-means clusters)",
        format_table(["items", "method", "min", "p50", "p95", "p99", "max",
                      f"recall@{k}", "build s"], rank_rows),
        "",
        "targets (medians of the same run, eager and fast interleaved; encode+rank: issue 16, "
        "rank alone: issue 5):",
        *(f"  {'met   ' if t['met'] else 'MISSED'} {t['name']}: {t['value']:.3f} "
          f"(limit {t['limit']})" for t in doc["targets"]),
    ]
    return "\n".join(lines)


def _windows(sample: np.ndarray, count: int) -> np.ndarray:
    """The first `count` sample windows, the sample repeated when it has fewer."""
    return np.resize(sample, (count,) + sample.shape[1:])


def _encode_rank(eager: Recommender, fast: Recommender, sample: np.ndarray,
                 config: EncoderBenchConfig, result: BenchResult,
                 log: Callable[[str], None]) -> list[dict]:
    entries = []
    for batch in config.batches:
        log(f"encode+rank, batch {batch}: eager and fast, {config.runs} runs")
        windows = _windows(sample, batch)
        times = time_interleaved({
            "eager": lambda: eager.recommend(windows, top_k=TOP_K),
            "fast": lambda: fast.recommend(windows, top_k=TOP_K),
        }, config.runs, config.warmup)
        stats = {name: LatencyStats.from_ms(t) for name, t in times.items()}
        for name, t in times.items():
            result.samples[f"encode+rank b={batch} {name}"] = t
        entries.append({
            "batch": batch,
            **{name: s.to_json() for name, s in stats.items()},
            **{f"{name}_windows_per_s": round(per_second(batch, s.p50), 3)
               for name, s in stats.items()},
            "speedup_p50": round(stats["eager"].p50 / stats["fast"].p50, 3),
            "speedup_min": round(stats["eager"].min / stats["fast"].min, 3),
        })
    return entries


def _rank_alone(fast: Recommender, sample: np.ndarray, config: EncoderBenchConfig,
                result: BenchResult, log: Callable[[str], None]) -> list[dict]:
    with torch.inference_mode():
        embeddings = torch.from_numpy(fast.embed(sample)).to(fast.device)
    one = embeddings[:1]
    prototypes = fast.catalog.num_prototypes
    entries = []
    for size in config.catalog_sizes:
        log(f"rank alone, {size} items, {config.runs} runs")
        catalog = (fast.catalog if size == len(fast.catalog)
                   else synthetic_catalog(fast.catalog, size, config.seed))
        folded = torch.from_numpy(catalog.folded()).to(fast.device)
        exact = ExactRanker(folded, prototypes)
        calls = {
            "exact_row_major": lambda: top_k(score_items(one, folded, prototypes), TOP_K)[0].cpu(),
            "exact": lambda: exact.top_k(one, TOP_K)[0].cpu(),
        }
        approximate, build_s = {}, {}
        if size >= APPROXIMATE_FROM_ITEMS:
            for method, ranker_type in APPROXIMATE_METHODS.items():
                start = time.perf_counter()
                approximate[method] = ranker_type(folded, prototypes)
                build_s[method] = round(time.perf_counter() - start, 3)
                calls[method] = lambda r=approximate[method]: r.top_k(one, TOP_K)[0].cpu()
        with torch.inference_mode():
            times = time_interleaved(calls, config.runs, config.warmup)
            entry = {"items": size, **{m: LatencyStats.from_ms(t).to_json()
                                       for m, t in times.items()}}
            if approximate:
                truth = exact.top_k(embeddings, TOP_K)[0].cpu().numpy()
                entry["recall_at_k"] = {
                    m: recall_at_k(r.top_k(embeddings, TOP_K)[0].cpu().numpy(), truth)
                    for m, r in approximate.items()}
                entry["build_s"] = build_s
        for method, t in times.items():
            result.samples[f"rank {size} {method}"] = t
        entries.append(entry)
    return entries


def _targets(doc: dict) -> list[dict]:
    """The issue's encoder-side targets, where this run measured them."""
    targets = []
    single = next((e for e in doc["encode_rank"] if e["batch"] == 1), None)
    if single is not None:
        targets.append({"name": "encode+rank one window, fast p50 (ms)",
                        "value": single["fast"]["p50"], "limit": TARGET_ENCODE_RANK_MS,
                        "met": single["fast"]["p50"] <= TARGET_ENCODE_RANK_MS})
        targets.append({"name": "encode+rank one window, eager p50 / fast p50",
                        "value": single["speedup_p50"], "limit": TARGET_SPEEDUP,
                        "met": single["speedup_p50"] >= TARGET_SPEEDUP})
    batch = next((e for e in doc["encode_rank"] if e["batch"] == TARGET_BATCH), None)
    if batch is not None:
        per_window = batch["fast"]["p50"] / TARGET_BATCH
        targets.append({"name": f"encode+rank batch of {TARGET_BATCH}, fast p50 per window (ms)",
                        "value": per_window, "limit": TARGET_BATCH_MS_PER_WINDOW,
                        "met": per_window <= TARGET_BATCH_MS_PER_WINDOW})
        targets.append({"name": f"encode+rank batch of {TARGET_BATCH}, eager p50 / fast p50",
                        "value": batch["speedup_p50"], "limit": TARGET_BATCH_SPEEDUP,
                        "met": batch["speedup_p50"] >= TARGET_BATCH_SPEEDUP})
    for entry in doc["rank"]:
        if entry["items"] == 100_000:
            for method in RANK_METHODS:
                recall = entry.get("recall_at_k", {}).get(method)
                note = "" if recall is None else f", recall@{TOP_K} {recall:.4f}"
                targets.append({"name": f"rank alone 100,000 items, {method} p50 (ms){note}",
                                "value": entry[method]["p50"], "limit": TARGET_RANK_100K_MS,
                                "met": entry[method]["p50"] <= TARGET_RANK_100K_MS})
    return targets


def run_encoder_bench(config: EncoderBenchConfig,
                      log: Callable[[str], None] = lambda _: None) -> BenchResult:
    """Measure everything above; the figures in `document`, the samples for the plot."""
    manifest = read_manifest(config.weights_dir if config.weights_dir is not None
                             else default_weights_dir())
    if "sample" not in manifest.files:
        raise PoseRecError(f"{manifest.directory}: no sample windows installed to benchmark "
                           "with; run `poserec weights install`")
    sample = load_sample(manifest)
    log("loading the eager and the fast recommender")
    eager = Recommender.from_pretrained(config.device, manifest.directory, fast=False)
    fast = Recommender.from_pretrained(config.device, manifest.directory, fast=True)
    agreement = float(np.abs(fast.score(sample) - eager.score(sample)).max())
    result = BenchResult({}, encoder_table)
    doc = result.document
    doc.update({
        "benchmark": "encoder",
        "hardware": hardware_info(fast.device),
        "settings": {"runs": config.runs, "warmup": config.warmup, "top_k": TOP_K,
                     "window_frames": int(sample.shape[1]), "catalog_items": len(fast.catalog),
                     "batches": list(config.batches), "catalog_sizes": list(config.catalog_sizes),
                     "screen_candidates": SCREEN_CANDIDATES, "cluster_probes": CLUSTER_PROBES,
                     "seed": config.seed,
                     "fast_blocks": list(fast.encoder.block_paths(int(sample.shape[1])))},
        "agreement": {"windows": len(sample), "max_abs_score_diff": agreement},
    })
    doc["encode_rank"] = _encode_rank(eager, fast, sample, config, result, log)
    doc["rank"] = _rank_alone(fast, sample, config, result, log)
    doc["targets"] = _targets(doc)
    return result
