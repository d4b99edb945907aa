"""`poserec live` from the command line: the reference replay, options, signals, failures."""
from __future__ import annotations

import json
import signal
import subprocess
import sys

import numpy as np
import pytest

from poserec_core.errors import PoseRecError

from .helpers import assert_reference_records, run_main, run_poserec
from .media import make_empty_video

REPLAY_ARGS = ("--headless", "--window", "10", "--stride", "5", "--smoothing", "0", "--fps", "0")


def read_jsonl(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_replaying_the_sample_sequence_gives_the_reference_rankings(
        weights_dir, reference_dir, reference_top5, reference_scores, tmp_path):
    out = tmp_path / "live.jsonl"
    result = run_poserec("live", "--source", f"replay:{reference_dir / 'sample_sequence.npy'}",
                         *REPLAY_ARGS, "--jsonl", out, "--device", "cpu")
    assert result.returncode == 0, result.stderr
    assert_reference_records(read_jsonl(out), reference_top5, reference_scores)
    assert len(result.stdout.splitlines()) == 81
    assert "replay" in result.stderr and "81 windows ranked, 0 skipped" in result.stderr


@pytest.mark.parametrize("args, error", [
    (["--window", "0"], "argument --window: 0 is below the minimum 1"),
    (["--stride", "x"], "argument --stride: 'x' is not an integer"),
    (["--top-k", "0"], "argument --top-k"),
    (["--smoothing", "1"], "argument --smoothing: 1.0 is outside [0.0, 1.0)"),
    (["--smoothing", "-0.1"], "argument --smoothing"),
    (["--reset-after", "0"], "argument --reset-after"),
    (["--fps", "-1"], "argument --fps"),
    (["--fps", "nan"], "argument --fps"),
    (["--max-frames", "0"], "argument --max-frames"),
    (["--device", "tpu"], "argument --device"),
    (["--source", "replay:"], "argument --source: --source replay: needs a file"),
    (["--screenshot", "shot.jpg"], "argument --screenshot: 'shot.jpg' is not a .png file"),
    (["--pose-model", "pose.tflite"], "argument --pose-model: 'pose.tflite' is not a .task file"),
])
def test_bad_options_are_one_line_usage_errors(capsys, args, error):
    code, _, err = run_main(capsys, "live", "--headless", *args)
    assert code == 2 and error in err and len(err.strip().splitlines()) == 1


def not_a_video(tmp):
    path = tmp / "notes.avi"
    path.write_text("not a video")
    return path


def windows_file(tmp):
    path = tmp / "windows.npy"
    np.save(path, np.zeros((2, 10, 33, 4)))
    return path


@pytest.mark.parametrize("make_args, error", [
    (lambda tmp: ["--source", f"replay:{tmp / 'missing.npy'}"], "missing.npy: no such file"),
    (lambda tmp: ["--source", f"replay:{windows_file(tmp)}"], "expected (F, 33, 4)"),
    (lambda tmp: ["--source", tmp / "missing.avi"], "no such video file"),
    (lambda tmp: ["--source", not_a_video(tmp)], "cannot open it as a video"),
    (lambda tmp: ["--source", "97"], "camera 97: cannot be opened"),
    (lambda tmp: ["--source", "demo", "--jsonl", tmp / "no" / "x.jsonl"], "no such directory"),
    (lambda tmp: ["--source", "demo", "--screenshot", tmp / "no" / "x.png"], "no such directory"),
    (lambda tmp: ["--source", "demo", "--pose-model", "m.task"], "--pose-model does not apply"),
    (lambda tmp: ["--source", make_empty_video(tmp / "empty.avi", 2), "--pose-model",
                  tmp / "m.task"], "m.task: no such file"),
    (lambda tmp: ["--source", make_empty_video(tmp / "empty.avi", 2), "--pose-model",
                  not_a_video(tmp).rename(tmp / "bad.task")], "cannot load it as a PoseLandmarker"),
    (lambda tmp: ["--source", "demo", "--weights", tmp], "no PoseRec weights in"),
    (lambda tmp: ["--source", "rtsp://127.0.0.1:9/x", "--fps", "10"], "--fps does not apply"),
])
def test_user_errors_exit_2_with_one_line(capsys, weights_dir, tmp_path, make_args, error):
    code, _, err = run_main(capsys, "live", "--headless", "--max-frames", "5", *make_args(tmp_path))
    assert code == 2 and error in err, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("poserec live: error: ")


def test_cuda_without_a_gpu_is_a_clear_error(capsys, weights_dir):
    import torch

    code, _, err = run_main(capsys, "live", "--headless", "--source", "demo", "--max-frames", "12",
                            "--device", "cuda")
    if torch.cuda.is_available():
        assert code == 0, err
    else:
        assert code == 2 and "torch sees no CUDA GPU" in err


class NoCamera:
    """A CameraSource stand-in for a machine without a camera, whatever this one has."""

    def __init__(self, index, requested_fps=None, mode=None):
        self.index = index

    def open(self):
        raise PoseRecError(f"camera {self.index}: cannot be opened")


def test_auto_falls_back_to_the_demo_and_says_so(capsys, monkeypatch, weights_dir):
    import realtime.sources as sources

    monkeypatch.setattr(sources, "CameraSource", NoCamera)
    code, out, err = run_main(capsys, "live", "--headless", "--max-frames", "12", "--fps", "0")
    assert code == 0, err
    assert err.splitlines()[0].startswith("poserec live: source auto: no camera opened, so demo")
    assert len(out.splitlines()) == 1  # frames 0..11: one window, ending at 9


def test_a_worker_failure_ends_the_run_with_a_message(capsys, monkeypatch, weights_dir):
    import realtime.sources.pose_sources as pose_sources

    def broken(self):
        raise RuntimeError("the source broke")

    monkeypatch.setattr(pose_sources.PoseSequenceSource, "read", broken)
    code, _, err = run_main(capsys, "live", "--headless", "--source", "demo", "--fps", "0")
    assert code == 1
    assert err.strip().splitlines()[-1] == ("poserec live: error: the capture thread failed: "
                                            "RuntimeError: the source broke")


def test_headless_screenshot_saves_the_last_frame_and_says_where(capsys, monkeypatch,
                                                                 weights_dir, tmp_path):
    import cv2

    monkeypatch.chdir(tmp_path)
    code, _, err = run_main(capsys, "live", "--headless", "--source", "demo", "--fps", "0",
                            "--max-frames", "15", "--screenshot", "shot.png")
    image = cv2.imread(str(tmp_path / "shot.png"))
    assert code == 0, err
    assert err.splitlines()[-1] == f"poserec live: screenshot saved to {tmp_path / 'shot.png'}"
    assert image.shape == (480, 640, 3) and len(np.unique(image.reshape(-1, 3), axis=0)) > 2


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM])
def test_signals_stop_a_run_and_flush_the_sinks(weights_dir, tmp_path, signum):
    out = tmp_path / "live.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "realtime.cli", "live", "--headless", "--source", "demo", "--loop",
         "--jsonl", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        shown = [process.stdout.readline() for _ in range(2)]  # two re-ranks are on screen
        assert all(line.startswith("frame") for line in shown), process.communicate()[1]
        process.send_signal(signum)
        _, err = process.communicate(timeout=5)
    finally:
        process.kill()
    assert process.returncode == 128 + signum, err
    records = read_jsonl(out)
    assert len(records) >= 2 and all(r["window_end"] % 5 == 4 for r in records)
    assert "windows ranked" in err and "Traceback" not in err


def test_top_k_above_the_catalog_is_refused(capsys, weights_dir):
    code, out, err = run_main(capsys, "live", "--headless", "--source", "demo", "--max-frames",
                              "20", "--top-k", "222")
    assert code == 2 and out == ""
    assert err.strip().splitlines()[-1].endswith(
        "--top-k 222: choose between 1 and the catalog's 221 items")


def test_the_console_view_plays_the_demo_once(capsys, weights_dir):
    code, out, err = run_main(capsys, "live", "--headless", "--source", "demo", "--fps", "0",
                              "--device", "cpu")
    assert code == 0, err
    assert err.splitlines()[0] == ("poserec live: source demo (the published sample sequence), "
                                   "640x480, 30 fps, 410 frames")
    assert err.splitlines()[-1].startswith("poserec live: 410 frames read, 0 dropped, 410 with "
                                           "a person; 81 windows ranked")
    assert len(out.splitlines()) == 81


@pytest.mark.parametrize("source", ["demo", "replay"])
def test_loop_starts_the_demo_or_a_replay_over(capsys, weights_dir, reference_dir, source):
    source = source if source == "demo" else f"replay:{reference_dir / 'sample_sequence.npy'}"
    code, out, err = run_main(capsys, "live", "--headless", "--source", source, "--loop",
                              "--fps", "0", "--max-frames", "500", "--device", "cpu")
    assert code == 0, err
    assert ", looped" in err.splitlines()[0] and "500 frames read" in err.splitlines()[-1]
    assert out.splitlines()[-1].startswith("frame    499  ")


def test_loop_does_not_apply_to_a_video(capsys, tmp_path):
    code, _, err = run_main(capsys, "live", "--headless", "--loop", "--source",
                            make_empty_video(tmp_path / "clip.avi", 2))
    assert code == 2 and err.strip() == ("poserec live: error: --loop applies to --source demo "
                                         "and replay:FILE, not to a video source")


@pytest.mark.parametrize("window, warned", [("12", True), ("10", False)])
def test_a_window_other_than_the_trained_10_warns_once(capsys, weights_dir, window, warned):
    code, _, err = run_main(capsys, "live", "--headless", "--source", "demo", "--fps", "0",
                            "--max-frames", "8", "--window", window, "--device", "cpu")
    warnings = [line for line in err.splitlines() if line.startswith("poserec live: warning: ")]
    assert code == 0, err
    assert warnings == ([f"poserec live: warning: --window 12: the model was trained on windows "
                         f"of 10 frames; other lengths give rankings nobody has checked"]
                        if warned else [])


@pytest.mark.parametrize("argv, loop", [
    (["--headless"], False),              # the console view: the demo once
    ([], None),                           # the window: the source's own habit (the demo loops)
    (["--headless", "--loop"], True),
    (["--loop"], True),
])
def test_the_console_view_plays_once_and_the_window_keeps_looping(argv, loop):
    from realtime.cli import build_parser
    from realtime.cli.live import pipeline_config

    args = build_parser().parse_args(["live", "--source", "demo", *argv])
    assert pipeline_config(args).source.loop is loop


def test_the_window_screenshot_says_where_it_was_saved(weights_dir, tmp_path):
    result = run_poserec("live", "--source", "demo", "--max-frames", "20", "--fps", "0",
                         "--device", "cpu", "--screenshot", "window.png", cwd=tmp_path,
                         env={"QT_QPA_PLATFORM": "offscreen"})
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines()[-1] == (f"poserec live: screenshot saved to "
                                              f"{tmp_path / 'window.png'}")
    assert (tmp_path / "window.png").stat().st_size > 0
