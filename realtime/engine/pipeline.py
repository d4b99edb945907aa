"""The streaming pipeline of `poserec live`: wires capture, pose and inference threads, owns
shutdown and the exit status.

    source --capture--> [frames] --pose (MediaPipe)--> [poses] --inference--> listeners, sinks

Drop rules. Cameras and network streams are live: capture to pose is a `LatestWinsSlot` (a slow
pose stage only ever gets the newest frame) and the inference thread ranks only the newest of
the windows that fell due while it was busy (`Recommendation.skipped_windows` counts the rest).
Video files, `replay:` and `demo` are lossless: every hand-off is a bounded `LosslessQueue`
whose producer waits when it is full, so with `--fps 0` the source runs exactly as fast as the
slowest stage allows and every window is ranked, in order. Replay and demo sources give poses,
so they skip the pose thread.

Use from another thread or the Qt window:

    pipeline = Pipeline(PipelineConfig(source=parse_source("demo"), headless=False))
    pipeline.add_listener(callback)     # before start(); called from worker threads
    pipeline.start()                    # loads the model, opens the source: PoseRecError on failure
    ...                                 # pipeline.wait(timeout) -> StreamEnded | WorkerFailed | None
    pipeline.stop(); pipeline.join(STOP_TIMEOUT_S)
    status = pipeline.exit_status       # 0, 1 (a bug in a worker) or 2 (a user error)

Listeners and sinks get every `realtime.messages.Message`, on the thread that produced it:
PoseFrames from the pose thread (from the capture thread for pose-only sources), with the image
as soon as it exists; SourceIncomplete (a video file that ended early; also kept in
`source_incomplete`) and SourceReopenFailed (why a lost camera or stream did not reopen) from the
capture thread; SourceStalled and SourceRecovered from the watchdog thread (cameras and streams);
Recommendation, NoPerson and StreamEnded from the inference thread; WorkerFailed from whichever
worker failed. So they must be cheap, thread-safe and must not block (store the newest message,
emit a Qt signal); an exception in a listener fails that worker. `latest_pose` and
`latest_recommendation` hold the newest of each for a display that polls instead. Every message
carries `time.monotonic_ns()` stage times.

start() opens the source on the calling thread; after that the capture thread owns it (it
closes and reopens a lost camera or stream). join() closes every sink, then MediaPipe, then the
source, whatever any of them raises (`close_failures`).
"""
from __future__ import annotations

import queue
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, TextIO

import torch

from poserec_core import Recommender
from poserec_core.errors import PoseRecError
from poserec_core.recommender import check_top_k
from poserec_core.release import WINDOW_FRAMES

from ..messages import (Listener, Message, PoseFrame, Recommendation, SourceIncomplete,
                        StreamEnded, WorkerFailed)
from ..pose.estimator import PoseEstimator, make_pose_estimator
from ..sources import Source, SourceInfo, SourceSpec, open_source
from .capture_worker import CaptureWorker
from .channels import LatestWinsSlot, LosslessQueue
from .inference_worker import InferenceConfig, InferenceWorker, WindowScorer, check_counts
from .pose_worker import PoseWorker
from .sinks import ConsoleSink, JsonlSink
from .smoothing import DEFAULT_HYSTERESIS, SmoothingConfig
from .source_watchdog import FrameHeartbeat, SourceWatchdog, WatchdogConfig
from .worker import POLL_S, Worker

STOP_TIMEOUT_S = 1.0
"""Every thread must end this soon after stop()."""

FRAME_QUEUE_CAPACITY = 4
"""Captured images waiting for the pose thread (lossless sources)."""

POSE_QUEUE_CAPACITY = 64
"""Pose frames waiting for the inference thread."""

@dataclass(frozen=True)
class PipelineConfig:
    """Everything `poserec live` sets, validated. fps: None paces files and replays at their
    own rate (cameras and streams run at theirs), 0 runs as fast as possible, F > 0 paces at F
    (asked of a camera). smoothing: the EMA weight of the past, 0 turns smoothing off.
    watchdog: when a camera or stream counts as stalled, and how a lost one is reopened.
    segmentation: MediaPipe also segments the person (PoseFrame.mask, for scene effects; about
    1.8 ms a frame on top of its 20 ms on a 2-core CPU)."""

    source: SourceSpec = SourceSpec("auto")
    device: str = "auto"
    window: int = WINDOW_FRAMES
    stride: int = 5
    top_k: int = 5
    smoothing: float = 0.5
    hysteresis: float = DEFAULT_HYSTERESIS
    reset_after: int = 15
    fps: float | None = None
    max_frames: int | None = None
    jsonl: Path | None = None
    headless: bool = True
    pose_model: Path | None = None
    weights_dir: Path | None = None
    remote: str | None = None
    torch_threads: int | None = None
    watchdog: WatchdogConfig = WatchdogConfig()
    segmentation: bool = True

    def __post_init__(self):
        check_counts(self.window, self.stride, self.top_k, self.reset_after)
        if not 0.0 <= self.smoothing < 1.0:
            raise PoseRecError(f"smoothing must be in [0, 1), got {self.smoothing}")
        if self.fps is not None and not self.fps >= 0:
            raise PoseRecError(f"fps must be >= 0, got {self.fps}")
        if self.max_frames is not None and self.max_frames < 1:
            raise PoseRecError(f"max_frames must be at least 1, got {self.max_frames}")
        if self.remote is not None and self.device != "auto":
            raise PoseRecError(f"--device {self.device} does not apply with --remote: the "
                               "server scores on its own device")
        if self.pose_model is not None and self.source.gives_poses:
            raise PoseRecError(f"--pose-model does not apply to --source {self.source.kind}, "
                               "which replays poses without MediaPipe")

    def smoothing_config(self) -> SmoothingConfig:
        """The smoother's settings."""
        return SmoothingConfig(self.smoothing, self.hysteresis)


@dataclass(frozen=True)
class PipelineStats:
    """Counters of a run: frames read, dropped (live sources), with a person; windows ranked and
    skipped; no-person resets."""

    frames_read: int
    frames_dropped: int
    frames_with_person: int
    windows_ranked: int
    windows_skipped: int
    resets: int


class Pipeline:
    """One run of the streaming engine; see the module docstring for the contract.

    recommender, source and estimator may be given (tests, the benchmark); by default start()
    loads `Recommender.from_pretrained`, opens `config.source` and MediaPipe.
    """

    def __init__(self, config: PipelineConfig, *, recommender: WindowScorer | None = None,
                 source: Source | None = None, estimator: PoseEstimator | None = None,
                 console: TextIO | None = None):
        self.config = config
        self.source_info: SourceInfo | None = None
        self.latest_pose: PoseFrame | None = None
        self.latest_recommendation: Recommendation | None = None
        self.source_incomplete: SourceIncomplete | None = None
        self._recommender = recommender
        self._source = source
        self._estimator = estimator
        self._console = console
        self._listeners: tuple[Listener, ...] = ()
        self._sinks: list = []
        self._sink_factories: tuple[Callable[[Pipeline], object], ...] = ()
        self._outcome: queue.Queue = queue.Queue()
        self._stop_requested = threading.Event()
        self._failure: WorkerFailed | None = None
        self._workers: list[Worker] = []
        self._slot: LatestWinsSlot | None = None
        self._closed = False
        self.close_failures: tuple[WorkerFailed, ...] = ()

    @property
    def gives_poses(self) -> bool:
        """Whether the opened source replays poses (demo, replay: no MediaPipe); after start()."""
        return self._source is not None and self._source.gives_poses

    def add_listener(self, listener: Listener) -> None:
        """Call `listener(message)` for every message from now on (see the module docstring)."""
        self._listeners = (*self._listeners, listener)

    def add_sink(self, make_sink: Callable[[Pipeline], object]) -> None:
        """Before start(): start() calls `make_sink(self)` once the source is open (so a sink can
        read `source_info`, `gives_poses` and `lossless`), opens the sink with the built-in ones,
        makes it a listener, and join() closes it (realtime.outputs uses this)."""
        self._sink_factories = (*self._sink_factories, make_sink)

    @property
    def lossless(self) -> bool:
        """Whether the opened source is lossless (files, replays, demo); after start()."""
        return self._source is not None and self._source.lossless

    def start(self) -> None:
        """Load the model, open the source, MediaPipe and the sinks, then start the threads.

        A user error (missing weights, no camera, bad file) raises PoseRecError here, with
        everything already opened closed again.
        """
        if self._workers or self._closed:
            raise RuntimeError("a Pipeline runs once; make a new one")
        config = self.config
        try:
            if self._recommender is None:
                self._recommender = self._load_scorer()
            check_top_k(config.top_k, len(self._recommender.catalog.names))
            if self._source is None:
                self._source, self.source_info = open_source(config.source, config.fps,
                                                             config.weights_dir)
            else:
                self.source_info = self._source.open()
            if not self._source.gives_poses:
                self._estimator = self._estimator or make_pose_estimator(config.pose_model,
                                                                       config.segmentation)
                self._estimator.open()
            self._set_torch_threads()
            for sink in self._make_sinks():
                sink.open()
                self._sinks.append(sink)
                self.add_listener(sink)
        except BaseException:
            self._close()
            raise
        self._workers = self._make_workers()
        for worker in self._workers:
            worker.start()

    def _set_torch_threads(self) -> None:
        """`torch_threads` when given; else 1 when MediaPipe shares the CPU with the encoder (on
        2 cores, two torch threads starve MediaPipe: `poserec bench` measured a p99 window
        latency of 124 ms with 2 and 67 ms with 1), else torch's default."""
        threads = self.config.torch_threads
        if threads is None and not self._source.gives_poses and str(self._recommender.device) == "cpu":
            threads = 1
        if threads is not None:
            torch.set_num_threads(threads)

    def _load_scorer(self) -> WindowScorer:
        """The local Recommender, or a `poserec serve` application with `remote`."""
        config = self.config
        if config.remote is not None:
            from .remote_scorer import connect

            return connect(config.remote)
        return Recommender.from_pretrained(device=config.device, weights_dir=config.weights_dir)

    def stop(self) -> None:
        """Ask every thread to stop (safe from any thread and from a signal handler)."""
        self._stop_requested.set()
        for worker in reversed(self._workers):
            worker.stop()

    def join(self, timeout: float = STOP_TIMEOUT_S) -> bool:
        """Wait for the threads (capture first, inference last); then close the sinks, MediaPipe
        and the source.

        False when a thread is still running after `timeout` (recorded as a failure, so the exit
        status is non-zero; nothing it uses is closed under it).
        """
        deadline = time.monotonic() + timeout
        running = [w.name for w in reversed(self._workers)
                   if not w.join(max(0.0, deadline - time.monotonic()))]
        if running:
            self._fail(WorkerFailed("pipeline", TimeoutError(
                f"the {', '.join(running)} thread did not stop within {timeout:g} s")))
            return False
        self._close()
        return True

    def wait(self, timeout: float | None = None) -> StreamEnded | WorkerFailed | None:
        """Block until the run ends: StreamEnded, WorkerFailed, or None once stop() was called
        or `timeout` seconds passed."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            step = POLL_S if deadline is None else max(0.0, min(POLL_S, deadline - time.monotonic()))
            try:
                return self._outcome.get(timeout=step)
            except queue.Empty:
                if self._stop_requested.is_set() or (deadline and time.monotonic() >= deadline):
                    return None

    @property
    def failure(self) -> WorkerFailed | None:
        """The first worker failure of the run, if any."""
        return self._failure

    @property
    def exit_status(self) -> int:
        """0 after the end of the source or stop(); 2 when a worker failed on a user error
        (PoseRecError), 1 when it failed on anything else or a part did not close cleanly."""
        if self._failure is None:
            return 1 if self.close_failures else 0
        return 2 if isinstance(self._failure.error, PoseRecError) else 1

    def stats(self) -> PipelineStats:
        """Counters so far (safe to read while running)."""
        capture = next((w for w in self._workers if isinstance(w, CaptureWorker)), None)
        inference = next((w for w in self._workers if isinstance(w, InferenceWorker)), None)
        counts = inference.stats if inference else None
        return PipelineStats(capture.frames if capture else 0,
                             self._slot.dropped if self._slot else 0,
                             counts.frames_with_person if counts else 0,
                             counts.windows_ranked if counts else 0,
                             counts.windows_skipped if counts else 0,
                             counts.resets if counts else 0)

    def _make_sinks(self) -> list:
        sinks = []
        if self.config.jsonl is not None:
            sinks.append(JsonlSink(self.config.jsonl))
        if self.config.headless:
            sinks.append(ConsoleSink(self._console or sys.stdout))
        return sinks + [make_sink(self) for make_sink in self._sink_factories]

    def _make_workers(self) -> list[Worker]:
        """Consumers first, so that each producer starts with its consumer already waiting."""
        config, source = self.config, self._source
        poses = LosslessQueue(POSE_QUEUE_CAPACITY)
        inference = InferenceWorker(
            InferenceConfig(config.window, config.stride, config.top_k, config.reset_after,
                            drain=not source.lossless, smoothing=config.smoothing_config()),
            self._recommender, poses, self._publish)
        if source.lossless:
            rate = config.fps if config.fps is not None else self.source_info.fps
        else:
            rate = None
        if source.gives_poses:
            return [inference, CaptureWorker(source, poses, self._publish, rate, config.max_frames)]
        frames = LosslessQueue(FRAME_QUEUE_CAPACITY) if source.lossless else LatestWinsSlot()
        self._slot = frames if isinstance(frames, LatestWinsSlot) else None
        workers = [inference, PoseWorker(self._estimator, frames, poses, self._publish)]
        if source.lossless:
            return [*workers, CaptureWorker(source, frames, self._publish, rate, config.max_frames)]
        heartbeat = FrameHeartbeat()
        return [*workers, SourceWatchdog(self.source_info.description, heartbeat, config.watchdog,
                                         self._publish),
                CaptureWorker(source, frames, self._publish, rate, config.max_frames, heartbeat,
                              config.watchdog)]

    def _publish(self, message: Message) -> None:
        """Record the newest pose and recommendation, hand the outcome to wait(), call listeners."""
        if isinstance(message, PoseFrame):
            self.latest_pose = message
        elif isinstance(message, Recommendation):
            self.latest_recommendation = message
        elif isinstance(message, SourceIncomplete):
            self.source_incomplete = message
        elif isinstance(message, WorkerFailed):
            self._fail(message)
        elif isinstance(message, StreamEnded):
            self._outcome.put(message)
        for listener in self._listeners:
            listener(message)

    def _fail(self, failure: WorkerFailed) -> None:
        if self._failure is None:
            self._failure = failure
        self._outcome.put(failure)

    def _close(self) -> None:
        """Close every sink, then MediaPipe, then the source (and a --remote session), once (after their threads ended),
        whatever any of them raises: each failure is kept in `close_failures` (one WorkerFailed
        per part, named "closing PART") and makes the exit status non-zero."""
        if self._closed:
            return
        self._closed = True
        parts = [(type(sink).__name__, sink) for sink in self._sinks]
        parts += [("pose estimator", self._estimator), ("source", self._source)]
        if self.config.remote is not None:  # a session the pipeline opened on `poserec serve`
            parts.append(("remote scorer", self._recommender))
        failures = []
        for name, part in parts:
            if part is None:
                continue
            try:
                part.close()
            except Exception as exc:  # noqa: BLE001 - every part is closed; each failure reported
                failures.append(WorkerFailed(f"closing {name}", exc))
        self.close_failures = tuple(failures)
