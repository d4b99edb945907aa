"""`poserec bench` without --encoder: the pipeline report's structure, JSON, table and plot,
from short real runs on the demo and on a video of a real person.

Timings are never asserted: only that every figure is there, ordered and consistent.
"""
from __future__ import annotations

import json
import time

import pytest

from realtime.bench.camera import CameraPlayback
from realtime.bench.pipeline import (FRAME_STAGES, RUN_PURPOSES, STAGES, WINDOW_LATENCY,
                                     WINDOW_STAGES)
from realtime.engine.inference_worker import rerank_due
from realtime.sources.opencv_sources import VideoFileSource

from .helpers import run_main, run_poserec
from .media import make_person_video

FRAMES = 30
WINDOW, STRIDE = 10, 5
STAT_KEYS = {"count", "min", "p50", "p95", "p99", "max", "mean"}
SOURCES = ("demo", "video")


@pytest.fixture(scope="module")
def person_video(tmp_path_factory):
    """A FRAMES-frame video of a real person."""
    return make_person_video(tmp_path_factory.mktemp("media") / "person.avi", frames=FRAMES)


@pytest.fixture(scope="module")
def bench_runs(weights_dir, person_video, tmp_path_factory):
    """One short `poserec bench` per source, the video also played as a camera: {kind:
    (process, JSON document, plot path)}."""
    runs = {}
    for kind, source, extra in (("demo", "demo", ()), ("video", person_video, ("--as-camera",))):
        out = tmp_path_factory.mktemp(f"bench-{kind}")
        proc = run_poserec("bench", "--source", source, "--frames", FRAMES, "--device", "cpu",
                           "--json", out / "bench.json", "--plot", out / "bench.png", *extra,
                           timeout=300)
        assert proc.returncode == 0, proc.stderr
        runs[kind] = proc, json.loads((out / "bench.json").read_text()), out / "bench.png"
    return runs


def assert_stats(stats: dict, count: int):
    assert set(stats) == STAT_KEYS and stats["count"] == count
    assert 0 <= stats["min"] <= stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"]


def table_rows(stdout: str, run: str) -> dict[str, list[str]]:
    """The rows of one run's stage table in the printed report: {stage: cells after it}."""
    lines = stdout.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith(f"{run} run ("))
    rows = {}
    for line in lines[start + 3:]:
        if not line.strip():
            break
        label, _, rest = line.partition("  ")
        rows[label.replace(" (not in the path)", "")] = rest.split()
    return rows


@pytest.mark.parametrize("kind", SOURCES)
def test_hardware_settings_and_source_are_recorded(bench_runs, kind):
    proc, doc, _ = bench_runs[kind]
    assert doc["benchmark"] == "pipeline"
    hardware = doc["hardware"]
    assert hardware["device"] == "cpu" and hardware["gpu"] is None
    assert hardware["torch"] and hardware["mediapipe"] and hardware["cpu"]
    assert hardware["cpu"] in proc.stdout and hardware["torch"] in proc.stdout
    assert doc["settings"]["frames"] == FRAMES and doc["settings"]["stride"] == STRIDE
    assert doc["source"]["kind"] == kind and doc["source"]["lossless"]
    assert doc["source"]["summary"] in proc.stdout


@pytest.mark.parametrize("kind", SOURCES)
@pytest.mark.parametrize("run", ["unpaced", "paced"])
def test_each_run_reports_every_stage_and_the_window_latency(bench_runs, kind, run):
    _, doc, _ = bench_runs[kind]
    assert list(doc["runs"]) == ["unpaced", "paced"] + (["camera"] if kind == "video" else [])
    figures = doc["runs"][run]
    assert figures["purpose"] == RUN_PURPOSES[run]
    assert figures["pacing_fps"] == (0.0 if run == "unpaced" else doc["source"]["fps"])
    assert figures["frames"] == FRAMES
    assert figures["frames_dropped"] == figures["windows_skipped"] == 0
    expected_windows = sum(rerank_due(n, WINDOW, STRIDE)
                           for n in range(1, figures["frames_with_person"] + 1))
    assert figures["windows"] == expected_windows >= 1
    elapsed = figures["elapsed_s"]  # rounded to 1e-4 s; throughput to 1e-3 FPS
    low, high = FRAMES / (elapsed + 5e-5) - 1e-3, FRAMES / (elapsed - 5e-5) + 1e-3
    assert low <= figures["throughput_fps"] <= high
    assert set(figures["stages"]) == set(STAGES)
    in_path = doc["mediapipe_in_path"]
    for stage in FRAME_STAGES:
        stats = figures["stages"][stage]
        if stage.startswith("pose") and not in_path:
            assert stats is None
        else:
            assert_stats(stats, FRAMES)
    for stage in WINDOW_STAGES:
        assert_stats(figures["stages"][stage], figures["windows"])
    latency = figures["window_latency"]
    assert_stats(latency, figures["windows"])
    assert latency["p50"] >= figures["stages"]["encode"]["min"]


@pytest.mark.parametrize("kind, run", [(kind, run) for kind in SOURCES
                                       for run in ("unpaced", "paced")] + [("video", "camera")])
def test_table_shows_the_json_figures(bench_runs, kind, run):
    proc, doc, _ = bench_runs[kind]
    figures = doc["runs"][run]
    rows = table_rows(proc.stdout, run)
    assert list(rows) == [*STAGES, WINDOW_LATENCY]
    for stage, cells in rows.items():
        stats = figures["window_latency"] if stage == WINDOW_LATENCY else figures["stages"][stage]
        per = "frame" if stage in FRAME_STAGES else "window"
        assert cells[0] == per
        assert int(cells[1]) == (stats["count"] if stats else 0)
        if stats:
            assert float(cells[2]) == pytest.approx(stats["p50"], abs=1.0)
    assert f"{figures['frames']} frames in " in proc.stdout


@pytest.mark.parametrize("kind, in_path", [("demo", False), ("video", True)])
def test_mediapipe_alone_compares_with_the_pipeline(bench_runs, kind, in_path):
    proc, doc, _ = bench_runs[kind]
    assert doc["mediapipe_in_path"] is in_path
    alone = doc["mediapipe_alone"]
    if not in_path:
        assert alone is None and doc["targets"] == []
        assert "MediaPipe is not in the path" in proc.stdout
        return
    assert alone["frames"] == FRAMES
    assert_stats(alone["per_frame"], FRAMES)
    assert alone["throughput_fps"] == pytest.approx(FRAMES / alone["elapsed_s"], rel=1e-3)
    ratio, margin, _camera = doc["targets"]
    assert ratio["value"] == pytest.approx(
        doc["runs"]["unpaced"]["throughput_fps"] / alone["throughput_fps"])
    assert margin["value"] == pytest.approx(
        doc["runs"]["paced"]["window_latency"]["p99"] - alone["per_frame"]["p99"])
    for target in (ratio, margin):
        assert target["met"] == (target["value"] >= target["limit"] if target is ratio
                                 else target["value"] <= target["limit"])
        assert target["name"] in proc.stdout


def test_camera_run_has_the_fields_of_the_others_and_its_target(bench_runs):
    proc, doc, _ = bench_runs["video"]
    camera, paced = doc["runs"]["camera"], doc["runs"]["paced"]
    assert set(camera) == set(paced) and set(camera["stages"]) == set(STAGES)
    assert camera["purpose"] == RUN_PURPOSES["camera"] and f"camera run ({camera['purpose']})" in (
        proc.stdout)
    assert camera["pacing_fps"] == doc["source"]["fps"] and doc["settings"]["as_camera"]
    # every frame of the file either reached MediaPipe or was dropped as stale
    assert camera["stages"]["pose"]["count"] + camera["frames_dropped"] == FRAMES
    assert_stats(camera["window_latency"], camera["windows"])
    target = doc["targets"][-1]
    assert target["value"] == pytest.approx(
        camera["window_latency"]["p99"] - camera["stages"]["pose"]["p99"])
    assert target["met"] == (target["value"] <= target["limit"] == 5.0)
    assert target["name"] in proc.stdout


class SlowReader:
    """Reads a CameraPlayback `reads` times, `gap_s` apart; the frames' seq and the times each
    read returned."""

    def __init__(self, playback: CameraPlayback, reads: int, gap_s: float):
        self.seqs, self.times = [], []
        playback.open()
        self.start = time.monotonic()   # the playback clock starts at the first read, after this
        for _ in range(reads):
            frame = playback.read()
            if frame is None:
                break
            self.seqs.append(frame.seq)
            self.times.append(time.monotonic())
            time.sleep(gap_s)
        playback.close()


CAMERA_FPS = 50.0


def test_camera_playback_drops_stale_frames_for_a_slow_reader(person_video):
    playback = CameraPlayback(VideoFileSource(person_video), fps=CAMERA_FPS)
    reader = SlowReader(playback, reads=FRAMES, gap_s=3 / CAMERA_FPS)
    assert playback.skipped > 0
    assert len(reader.seqs) + playback.skipped == FRAMES
    assert reader.seqs == sorted(set(reader.seqs))


def test_camera_playback_paces_at_the_rate(person_video):
    playback = CameraPlayback(VideoFileSource(person_video), fps=CAMERA_FPS)
    reader = SlowReader(playback, reads=FRAMES, gap_s=0.0)
    assert reader.times[-1] - reader.start >= reader.seqs[-1] / CAMERA_FPS


@pytest.mark.parametrize("kind", SOURCES)
def test_plot_is_a_png(bench_runs, kind):
    _, _, plot = bench_runs[kind]
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize("args, message", [
    (["--source", "auto"], "auto is not a definite source"),
    (["--fps", "0"], "--fps"),
    (["--frames", "0"], "--frames"),
    (["--smoothing", "1"], "--smoothing"),
    (["--source", "missing-video.avi"], "no such video file"),
    (["--json", "out.txt"], "must end in .json"),
    (["--as-camera"], "--as-camera plays a video file"),
    (["--as-camera", "--encoder"], "leave out --encoder"),
])
def test_user_errors_exit_2_with_one_line(capsys, weights_dir, args, message):
    code, out, err = run_main(capsys, "bench", *args)
    assert code == 2 and out == ""
    assert message in err and len(err.strip().splitlines()) == 1
