"""`poserec bench` (without --encoder): the real streaming pipeline, per stage and per window.

Each run is a headless `Pipeline` on a fresh source for at most `frames` frames, with the
published model loaded once and warmed up, and MediaPipe (image sources) warmed up with one
untimed call on the source's first frame, as MediaPipe alone is. A lossless source (video
file, replay, demo) gets two runs, labelled:

- `unpaced` (`--fps 0`): every stage as fast as the slowest one allows; its frames per second
  is the pipeline's throughput. Its window latency includes queueing by design (the source
  runs ahead and the bounded queues fill), so it is not the latency a user sees;
- `paced`: at the source's own frame rate (or `--fps F`), as `poserec live` plays a file; its
  window latency is the one a user sees.

A camera or stream gets one run, `live`, at its own rate (stale frames dropped). With
`--as-camera` a video file also gets a third run, `camera`: the file played as a camera delivers
it (`camera.CameraPlayback`: paced at its rate, latest frame wins, stale frames dropped; its
`frames_dropped` counts the frames MediaPipe never saw, whether replaced in the latest-wins slot
or gone before the capture thread read them); its window latency is what a webcam user sees.

Stages, in ms. Every frame: `capture` (the source's read), `pose` (capture done to MediaPipe's
landmarks, waiting in the frame queue included), `pose_model` (MediaPipe's call alone, inside
the pipeline: `pose` minus it is the wait). Every window, for its last frame: `buffer`
(pose done to the window taken from the ring buffer, waiting in the pose queue included),
`encode`, `rank` (and smoothing), `publish` (the Recommendation built and handed to every
sink, the console sink writing to the null device). The window latency is the capture of a
window's last frame to its recommendation published.

MediaPipe alone (`mediapipe_alone`): the same source's first `frames` frames decoded into memory
first, then only MediaPipe over them; the pipeline's overhead is the ratio of throughputs.
Pose-only sources (demo, replay) have no MediaPipe in the path, so that part is skipped.
"""
from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from poserec_core import Recommender
from poserec_core.errors import PoseRecError
from poserec_core.release import WINDOW_FRAMES
from poserec_core.skeleton import NUM_CHANNELS, NUM_LANDMARKS

from ..engine.pipeline import Pipeline, PipelineConfig
from ..messages import PoseFrame, Recommendation, StreamEnded
from ..pose.estimator import PoseEstimator, make_pose_estimator
from ..sources import Source, SourceInfo, SourceSpec, make_source
from .camera import CameraPlayback
from .hardware import hardware_info, hardware_line
from .mediapipe_alone import decode_frames, time_mediapipe
from .output import BenchResult
from .render import RenderSamples
from .stats import LatencyStats
from .table import format_table

FRAME_STAGES = ("capture", "pose", "pose_model", "render")
WINDOW_STAGES = ("buffer", "encode", "rank", "publish")
STAGES = FRAME_STAGES + WINDOW_STAGES
WINDOW_LATENCY = "window latency"
WARMUP_CALLS = 3
"""Untimed model calls before the runs (first calls allocate and pick kernels)."""
TARGET_THROUGHPUT_RATIO = 0.95
TARGET_LATENCY_MARGIN_MS = 5.0
RUN_PURPOSES = {
    "unpaced": "--fps 0, as fast as the slowest stage: throughput (latency includes queueing)",
    "paced": "at the source's frame rate: the window latency a user sees",
    "live": "a live source at its own rate, stale frames dropped",
    "camera": "the file played as a camera: paced, latest frame wins, stale frames dropped",
}


@dataclass(frozen=True)
class PipelineBenchConfig:
    """What `poserec bench` runs: source, frames per run, the paced run's rate (None: the
    source's own), and the pipeline settings that matter for latency."""

    source: SourceSpec = SourceSpec("demo")
    frames: int = 300
    fps: float | None = None
    device: str = "auto"
    stride: int = 5
    smoothing: float = 0.5
    weights_dir: Path | None = None
    torch_threads: int | None = None
    as_camera: bool = False

    def __post_init__(self):
        if self.source.kind == "auto":
            raise PoseRecError("poserec bench needs a definite --source: demo, replay:FILE, a "
                               "video file, a camera index or a URL")
        if self.frames < 1:
            raise PoseRecError(f"frames must be at least 1, got {self.frames}")
        if self.as_camera and self.source.kind != "video":
            raise PoseRecError("--as-camera plays a video file as a camera; give --source with "
                               f"a video file, not {self.source.kind}")
        if self.fps is not None and not self.fps > 0:
            raise PoseRecError(f"the paced run's fps must be above 0, got {self.fps}")


class TimedSource:
    """A source that records how long each read took (read start to the frame's capture time)
    and when the first read started. Used only from the capture thread, then read after it."""

    def __init__(self, inner: Source):
        self._inner = inner
        self.lossless = inner.lossless
        self.gives_poses = inner.gives_poses
        self.read_ms: list[float] = []
        self.t_first_read_ns: int | None = None

    def open(self) -> SourceInfo:
        """Open the wrapped source."""
        return self._inner.open()

    def read(self):
        """The wrapped source's next item, its read time recorded."""
        start = time.monotonic_ns()
        if self.t_first_read_ns is None:
            self.t_first_read_ns = start
        item = self._inner.read()
        if item is not None:
            self.read_ms.append((item.t_capture_ns - start) / 1e6)
        return item

    def close(self) -> None:
        """Close the wrapped source."""
        self._inner.close()


class TimedEstimator:
    """A pose estimator that records how long each estimate() took (pose thread only), warmed
    up in open() with one untimed call on `warmup_image` (as MediaPipe alone is)."""

    def __init__(self, inner: PoseEstimator, warmup_image: np.ndarray):
        self._inner = inner
        self._warmup_image = warmup_image
        self.name = inner.name
        self.estimate_ms: list[float] = []

    def open(self) -> None:
        """Load the wrapped model and call it once, untimed."""
        self._inner.open()
        self._inner.estimate(self._warmup_image)

    def estimate(self, bgr: np.ndarray) -> np.ndarray | None:
        """The wrapped estimate, timed."""
        start = time.perf_counter_ns()
        landmarks = self._inner.estimate(bgr)
        self.estimate_ms.append((time.perf_counter_ns() - start) / 1e6)
        return landmarks

    def close(self) -> None:
        """Release the wrapped model."""
        self._inner.close()


class StageRecorder:
    """A pipeline sink, added last so it runs after every other listener: records the pose
    stage of each frame, the stages and latency of each window up to its publication, and when
    the stream ended."""

    def __init__(self):
        self.pose_ms: list[float] = []
        self.window_ms: dict[str, list[float]] = {s: [] for s in (*WINDOW_STAGES, WINDOW_LATENCY)}
        self.t_end_ns: int | None = None

    def open(self) -> None:
        """Nothing to open."""

    def __call__(self, message: object) -> None:
        """Record a PoseFrame, a Recommendation or the end of the stream."""
        now = time.monotonic_ns()
        if isinstance(message, PoseFrame):
            self.pose_ms.append((message.t_pose_ns - message.t_capture_ns) / 1e6)
        elif isinstance(message, Recommendation):
            stages = message.stage_ms()
            for stage in ("buffer", "encode", "rank"):
                self.window_ms[stage].append(stages[stage])
            self.window_ms["publish"].append((now - message.t_rank_ns) / 1e6)
            self.window_ms[WINDOW_LATENCY].append((now - message.t_capture_ns) / 1e6)
        elif isinstance(message, StreamEnded):
            self.t_end_ns = now

    def close(self) -> None:
        """Nothing to close."""


def pipeline_table(doc: dict) -> str:
    """The readable report: hardware, source, one table per run, MediaPipe alone, targets."""
    settings = doc["settings"]
    lines = [f"hardware: {hardware_line(doc['hardware'])}",
             f"source: {doc['source']['summary']}; up to {settings['frames']} frames per run, "
             f"window {settings['window']}, stride {settings['stride']}, smoothing "
             f"{settings['smoothing']}"]
    for name, run in doc["runs"].items():
        lines += ["", f"{name} run ({run['purpose']}): {run['frames']} frames in "
                      f"{run['elapsed_s']:.2f} s = {run['throughput_fps']:.1f} FPS; "
                      f"{run['windows']} windows; dropped {run['frames_dropped']} frames, "
                      f"{run['windows_skipped']} windows",
                  _stage_table(run, doc["mediapipe_in_path"])]
    alone = doc["mediapipe_alone"]
    lines.append("")
    if alone is None:
        lines.append("MediaPipe alone: not measured, MediaPipe is not in the path of a "
                     "pose-only source")
    else:
        lines.append(f"MediaPipe alone on the same {alone['frames']} frames (decoded first): "
                     f"{alone['throughput_fps']:.1f} FPS; per frame p50 "
                     f"{alone['per_frame']['p50']:.2f} ms, p99 {alone['per_frame']['p99']:.2f} "
                     f"ms")
    if doc["targets"]:
        lines += ["", "targets (issues 5 and 16):", *(
            f"  {'met   ' if t['met'] else 'MISSED'} {t['name']}: {t['value']:.3f} "
            f"(limit {t['limit']})" for t in doc["targets"])]
    return "\n".join(lines)


def _stage_table(run: dict, mediapipe_in_path: bool) -> str:
    rows = []
    for stage in (*STAGES, WINDOW_LATENCY):
        stats = run["window_latency"] if stage == WINDOW_LATENCY else run["stages"][stage]
        label = stage if not stage.startswith("pose") or mediapipe_in_path else (
            f"{stage} (not in the path)")
        per = "frame" if stage in FRAME_STAGES else "window"
        if stats is None:
            rows.append([label, per, 0, None, None, None, None])
        else:
            rows.append([label, per, stats["count"], stats["p50"], stats["p95"], stats["p99"],
                         stats["max"]])
    return format_table(["stage (ms)", "per", "samples", "p50", "p95", "p99", "max"], rows)


def _stats(samples: list[float]) -> dict | None:
    return LatencyStats.from_ms(samples).to_json() if samples else None


def _run_pipeline(config: PipelineBenchConfig, name: str, fps: float | None,
                  recommender: Recommender, warmup_image: np.ndarray | None,
                  result: BenchResult) -> dict:
    """One labelled run; its figures as JSON, its samples added to `result.samples`.
    warmup_image: what MediaPipe is warmed up on (None for pose-only sources)."""
    timed = TimedSource(make_source(config.source, fps, config.weights_dir))
    playback = CameraPlayback(timed, fps) if name == "camera" else None
    source = playback or timed
    estimator = None if source.gives_poses else TimedEstimator(make_pose_estimator(None),
                                                                warmup_image)
    recorder, renders = StageRecorder(), RenderSamples()
    pipeline_config = PipelineConfig(source=config.source, device=config.device,
                                     stride=config.stride, smoothing=config.smoothing, fps=fps,
                                     max_frames=config.frames, headless=True,
                                     weights_dir=config.weights_dir,
                                     torch_threads=config.torch_threads)
    with open(os.devnull, "w", encoding="utf-8") as console:
        pipeline = Pipeline(pipeline_config, recommender=recommender, source=source,
                            estimator=estimator, console=console)
        pipeline.add_sink(lambda _pipeline: renders)
        pipeline.add_sink(lambda _pipeline: recorder)
        pipeline.start()
        try:
            pipeline.wait()
        finally:
            pipeline.stop()
            pipeline.join()
    if pipeline.failure is not None:
        raise pipeline.failure.error
    stats = pipeline.stats()
    elapsed_s = (recorder.t_end_ns - timed.t_first_read_ns) / 1e9
    series = {"capture": timed.read_ms,
              "pose": recorder.pose_ms if estimator else [],
              "pose_model": estimator.estimate_ms if estimator else [],
              "render": renders.time_render(pipeline.source_info),
              **recorder.window_ms}
    for stage, values in series.items():
        if values:
            result.samples[f"{name}: {stage}"] = np.asarray(values)
    info = pipeline.source_info
    return {
        "purpose": RUN_PURPOSES[name],
        "pacing_fps": 0.0 if fps == 0 else (fps or info.fps),
        "frames": stats.frames_read,
        "frames_with_person": stats.frames_with_person,
        "windows": stats.windows_ranked,
        "frames_dropped": stats.frames_dropped + (playback.skipped if playback else 0),
        "windows_skipped": stats.windows_skipped,
        "elapsed_s": round(elapsed_s, 4),
        "throughput_fps": round(stats.frames_read / elapsed_s, 3),
        "stages": {stage: _stats(series[stage]) for stage in STAGES},
        "window_latency": _stats(series[WINDOW_LATENCY]),
    }


def _targets(doc: dict) -> list[dict]:
    """The issue's pipeline targets, where this run measured them (lossless image sources)."""
    alone, runs = doc["mediapipe_alone"], doc["runs"]
    if alone is None or "unpaced" not in runs:
        return []
    targets = []
    ratio = runs["unpaced"]["throughput_fps"] / alone["throughput_fps"]
    targets.append({"name": "throughput, unpaced pipeline / MediaPipe alone", "value": ratio,
                    "limit": TARGET_THROUGHPUT_RATIO, "met": ratio >= TARGET_THROUGHPUT_RATIO})
    latency = runs["paced"]["window_latency"]
    if latency is not None:
        over = latency["p99"] - alone["per_frame"]["p99"]
        targets.append({"name": "window latency p99 (paced) minus MediaPipe's per-frame p99 (ms)",
                        "value": over, "limit": TARGET_LATENCY_MARGIN_MS,
                        "met": over <= TARGET_LATENCY_MARGIN_MS})
    camera = runs.get("camera")
    if camera is not None and camera["window_latency"] is not None:
        over = camera["window_latency"]["p99"] - camera["stages"]["pose"]["p99"]
        targets.append({"name": "camera run: window latency p99 minus the pose stage's p99 (ms)",
                        "value": over, "limit": TARGET_LATENCY_MARGIN_MS,
                        "met": over <= TARGET_LATENCY_MARGIN_MS})
    return targets


def run_pipeline_bench(config: PipelineBenchConfig,
                       log: Callable[[str], None] = lambda _: None) -> BenchResult:
    """MediaPipe alone (image sources), then the labelled pipeline runs; see the module doc."""
    source = make_source(config.source, weights_dir=config.weights_dir)
    info = source.open()
    source.close()
    log("loading the recommender")
    recommender = Recommender.from_pretrained(config.device, config.weights_dir)
    window = WINDOW_FRAMES
    for _ in range(WARMUP_CALLS):
        recommender.score(np.zeros((1, window, NUM_LANDMARKS, NUM_CHANNELS), dtype=np.float32))
    result = BenchResult({}, pipeline_table)
    doc = result.document
    doc.update({
        "benchmark": "pipeline",
        "hardware": hardware_info(recommender.device),
        "settings": {"source": config.source.target or config.source.kind,
                     "as_camera": config.as_camera,
                     "frames": config.frames, "window": window, "stride": config.stride,
                     "smoothing": config.smoothing, "paced_fps": config.fps,
                     "warmup_model_calls": WARMUP_CALLS},
        "source": {"summary": info.summary(), "kind": config.source.kind, "fps": info.fps,
                   "lossless": source.lossless, "gives_poses": source.gives_poses},
        "mediapipe_in_path": not source.gives_poses,
        "mediapipe_alone": None,
    })
    warmup_image = None
    if not source.gives_poses:
        log(f"MediaPipe alone: decoding up to {config.frames} frames into memory")
        images = decode_frames(config.source, config.frames, config.weights_dir)
        alone = time_mediapipe(images)
        warmup_image = images[0]
        del images
        result.samples["MediaPipe alone: per frame"] = alone.per_frame_ms
        doc["mediapipe_alone"] = alone.to_json()
    plan = ({"unpaced": 0.0, "paced": config.fps} if source.lossless
            else {"live": config.fps})
    if config.as_camera:
        plan["camera"] = config.fps
    doc["runs"] = {}
    for name, fps in plan.items():
        log(f"pipeline, {name} run: up to {config.frames} frames")
        doc["runs"][name] = _run_pipeline(config, name, fps, recommender, warmup_image, result)
    doc["hardware"] = hardware_info(recommender.device)  # the torch threads the runs used
    doc["targets"] = _targets(doc)
    return result
