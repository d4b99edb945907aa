"""`poserec batch`: score a corpus of videos on Ray Data and write Parquet tables.

Pipeline: the video paths (one block each) -> PoseExtractor actors (CPU, one MediaPipe graph
each) -> WindowScorer actors (CUDA with --num-gpus, else CPU) -> the driver, which writes the
rows into OUT_DIR (see tables.py), so OUT_DIR is a folder on the driver's machine even when
the actors run on a cluster. Videos already in OUT_DIR are skipped without starting Ray.
"""
from __future__ import annotations

import logging
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from .batch_actors import AGGREGATION, PoseExtractor, WindowScorer
from .corpus import list_videos
from .model_parts import ModelParts
from .ray_session import RaySettings, ray_session, require_resources
from .tables import JobSettings, ResultTables

SCORER_CPUS = 1
"""CPUs each scoring actor reserves (it feeds the GPU, or computes on the CPU)."""
SCORE_BATCH_VIDEOS = 4
"""Videos whose windows a scoring actor encodes in one pass."""
FLUSH_VIDEOS = 32
"""Videos buffered on the driver between two committed Parquet parts."""
MAX_BLOCKS = 4096
"""Most blocks the list of videos is cut into (one video a block below that)."""


@dataclass(frozen=True)
class BatchConfig:
    """One corpus job, as the command line fills it."""

    input: str
    out_dir: Path
    window: int = 10
    stride: int = 5
    top_k: int = 5
    pose_actors: int | None = None
    """None: the cluster's CPUs less the scoring actors' (at least 1)."""
    num_gpus: int = 0
    """Scoring actors with one GPU each; 0: one scoring actor on the CPU."""
    weights_dir: Path | None = None
    ray: RaySettings = field(default_factory=RaySettings)
    progress: bool = True


@dataclass(frozen=True)
class BatchReport:
    """What a run did. `seconds` is the pipeline's time, from the first actor to the last row."""

    videos: int
    skipped: int
    scored: int
    failed: int
    windows: int
    pose_actors: int
    seconds: float

    @property
    def videos_per_minute(self) -> float:
        """Videos taken through the pipeline (scored or failed) per minute of `seconds`."""
        return 60.0 * (self.scored + self.failed) / self.seconds if self.seconds else 0.0


def run_batch(config: BatchConfig) -> BatchReport:
    """List the corpus, skip what OUT_DIR already holds, run the rest through Ray, write rows."""
    videos = list_videos(config.input)
    parts = ModelParts.load(config.weights_dir)
    tables = ResultTables(config.out_dir, JobSettings(config.window, config.stride, config.top_k,
                                                      AGGREGATION))
    done = tables.open()
    todo = [v for v in videos if str(v) not in done]
    if not todo:
        return BatchReport(len(videos), len(videos), 0, 0, 0, 0, 0.0)
    scorers = config.num_gpus or 1
    local_cpus = max(os.cpu_count() or 1, (config.pose_actors or 1) + scorers * SCORER_CPUS)
    settings = config.ray if config.ray.address else RaySettings(num_cpus=local_cpus)
    with ray_session(settings) as resources:
        pose_actors = config.pose_actors or max(1, int(resources.get("CPU", 1))
                                                - scorers * SCORER_CPUS)
        require_resources(resources, pose_actors + scorers * SCORER_CPUS, config.num_gpus,
                          "--pose-actors or --num-gpus")
        start = time.monotonic()
        counts = _collect(_pipeline(todo, parts, config, pose_actors), tables, parts, config,
                          len(todo))
        seconds = time.monotonic() - start
    return BatchReport(len(videos), len(videos) - len(todo), *counts, pose_actors, seconds)


def _pipeline(todo: list[Path], parts: ModelParts, config: BatchConfig, pose_actors: int):
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False  # the driver shows one bar, per video
    logging.getLogger("ray.data").setLevel(logging.WARNING)
    logging.getLogger("ray.data._internal.progress").setLevel(logging.ERROR)  # "bars disabled"
    dataset = ray.data.from_items([{"video": str(v)} for v in todo],
                                  override_num_blocks=min(len(todo), MAX_BLOCKS))
    dataset = dataset.map_batches(
        PoseExtractor, fn_constructor_kwargs={"window": config.window, "stride": config.stride},
        batch_size=1, compute=ray.data.ActorPoolStrategy(size=pose_actors), num_cpus=1)
    return dataset.map_batches(
        WindowScorer, fn_constructor_kwargs={
            "parts": parts, "device": "cuda" if config.num_gpus else "cpu", "top_k": config.top_k},
        batch_size=SCORE_BATCH_VIDEOS, compute=ray.data.ActorPoolStrategy(size=config.num_gpus or 1),
        num_cpus=SCORER_CPUS, num_gpus=1 if config.num_gpus else 0)


def _collect(dataset, tables: ResultTables, parts: ModelParts, config: BatchConfig,
             total: int) -> tuple[int, int, int]:
    """Write every video's rows as results arrive; returns (scored, failed, windows)."""
    names = parts.names
    scored = failed = windows = 0
    with tqdm(total=total, unit="video", desc="poserec batch", disable=not config.progress) as bar:
        for batch in dataset.iter_batches(batch_size=None, batch_format="numpy"):
            for n, video in enumerate(batch["video"]):
                video = str(video)
                if batch["error"][n]:
                    tables.add("errors", {"video": video, "reason": str(batch["error"][n])})
                    failed += 1
                else:
                    windows += _add_scored(tables, video, {k: batch[k][n] for k in batch}, names)
                    scored += 1
                bar.update()
                bar.set_postfix(errors=failed, refresh=False)
            if tables.pending_videos >= FLUSH_VIDEOS:
                tables.flush()
    tables.flush()
    return scored, failed, windows


def _top(items, scores, names) -> dict:
    return {"items": [int(i) for i in items], "names": [names[i] for i in items],
            "scores": [float(s) for s in scores]}


def _add_scored(tables: ResultTables, video: str, row: dict, names: tuple[str, ...]) -> int:
    for n, (end, items, scores) in enumerate(zip(row["window_end"], row["items"], row["scores"])):
        tables.add("windows", {"video": video, "window": n, "window_end": int(end)}
                   | _top(items, scores, names))
    tables.add("videos", {"video": video, "frames": int(row["frames"]),
                          "frames_with_person": int(row["frames_with_person"]),
                          "windows": len(row["items"])}
               | _top(row["video_items"], row["video_scores"], names))
    return len(row["items"])
