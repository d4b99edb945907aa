"""`poserec batch` on a local Ray: equal to extract + recommend, errors recorded, resumable."""
from __future__ import annotations

import json
import socket
import subprocess
import sys

import numpy as np
import pyarrow.parquet as pq
import pytest

from poserec_core.errors import PoseRecError
from poserec_ray.corpus import list_videos
from poserec_ray.ray_session import require_resources
from poserec_ray.tables import JobSettings, ResultTables

from .helpers import NEAR_TIE, run_main, run_poserec
from .media import make_empty_video, make_person_video

pytestmark = pytest.mark.timeout(420)

PERSON_VIDEOS = {"walk.avi": dict(frames=40), "sway.avi": dict(frames=30, size=(256, 320))}
ERROR_VIDEOS = {"broken.mp4": "OpenCV cannot open it as a video",
                "empty.avi": "a person was found in 0 of 20 frames"}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Two short videos of a real person, a corrupt file and a video with nobody in it."""
    folder = tmp_path_factory.mktemp("corpus")
    for name, options in PERSON_VIDEOS.items():
        make_person_video(folder / name, **options)
    make_empty_video(folder / "empty.avi", frames=20)
    (folder / "broken.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42 this is not a video" * 40)
    return folder


@pytest.fixture(scope="module")
def first_run(weights_dir, corpus, tmp_path_factory):
    """`poserec batch CORPUS -o OUT` once, with a local Ray; returns (process, OUT)."""
    out = tmp_path_factory.mktemp("batch") / "out"
    proc = run_poserec("batch", corpus, "-o", out, timeout=360)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, out


def _table(out, name) -> list[dict]:
    return pq.read_table(out / name).to_pylist()


def _same_top(items, scores, want_items, want_scores) -> bool:
    """Equal scores within 1e-5, position by position; equal items except among near-ties."""
    if len(items) != len(want_items) or not np.allclose(scores, want_scores, rtol=0, atol=NEAR_TIE):
        return False
    tied = [any(abs(want_scores[p] - want_scores[q]) <= NEAR_TIE
                for q in range(len(want_scores)) if q != p) for p in range(len(want_scores))]
    return all(i == w or t for i, w, t in zip(items, want_items, tied))


@pytest.mark.parametrize("name", sorted(PERSON_VIDEOS))
def test_windows_equal_extract_then_recommend(first_run, corpus, recommender, tmp_path, capsys,
                                              name):
    _, out = first_run
    video = str((corpus / name).resolve())
    npz = tmp_path / "poses.npz"
    code, _, err = run_main(capsys, "extract", corpus / name, "-o", npz)
    assert code == 0, err
    code, stdout, err = run_main(capsys, "recommend", "--poses", npz, "--json", "--device", "cpu")
    assert code == 0, err
    expected = json.loads(stdout)["windows"]
    rows = sorted((r for r in _table(out, "windows") if r["video"] == video),
                  key=lambda r: r["window"])
    with np.load(npz) as archive:
        window_ends = archive["frame_index"][:, -1].tolist()
        windows = archive["poses"]
    assert len(rows) == len(expected) > 0
    assert [r["window_end"] for r in rows] == window_ends
    for row, want in zip(rows, expected):
        assert row["names"] == [recommender.catalog.names[i] for i in row["items"]]
        assert _same_top(row["items"], row["scores"], [e["item"] for e in want["top"]],
                         [e["score"] for e in want["top"]]), (row, want)
    [video_row] = [r for r in _table(out, "videos") if r["video"] == video]
    mean = recommender.score(windows).mean(axis=0)
    best = np.argsort(-mean, kind="stable")[:5]
    assert video_row["windows"] == len(rows)
    assert _same_top(video_row["items"], video_row["scores"], best.tolist(), mean[best].tolist())


@pytest.mark.parametrize("name, reason", sorted(ERROR_VIDEOS.items()))
def test_unusable_videos_go_to_errors_with_reason(first_run, corpus, name, reason):
    _, out = first_run
    video = str((corpus / name).resolve())
    [error] = [r for r in _table(out, "errors") if r["video"] == video]
    assert reason in error["reason"]
    assert all(r["video"] != video for r in _table(out, "videos") + _table(out, "windows"))


def test_second_run_does_no_work(first_run, corpus):
    _, out = first_run
    before = sorted(p.relative_to(out) for p in out.rglob("*"))
    again = run_poserec("batch", corpus, "-o", out, timeout=120)
    assert again.returncode == 0, again.stderr
    assert "4 videos, all already in" in again.stdout and "nothing to do" in again.stdout
    assert sorted(p.relative_to(out) for p in out.rglob("*")) == before


def test_the_command_line_imports_ray_only_when_a_ray_command_runs():
    code = ("import sys, realtime.cli; realtime.cli.build_parser(); "
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('ray', 'poserec_ray')))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and proc.stdout.strip() == "[]", proc.stdout + proc.stderr


SETTINGS = JobSettings(window=10, stride=5, top_k=5, aggregation="mean-score")


def _part(tables: ResultTables, video: str, failed: bool = False) -> None:
    if failed:
        tables.add("errors", {"video": video, "reason": "unreadable"})
    else:
        top = {"items": [1, 2], "names": ["a", "b"], "scores": [0.5, 0.4]}
        tables.add("windows", {"video": video, "window": 0, "window_end": 9} | top)
        tables.add("videos", {"video": video, "frames": 10, "frames_with_person": 10,
                              "windows": 1} | top)
    tables.flush()


@pytest.mark.parametrize("scored, failed, uncommitted, done", [
    ([], [], [], set()),
    (["a"], ["b"], [], {"a", "b"}),
    (["a"], [], ["windows"], {"a"}),
    (["a"], [], ["windows", "errors"], {"a"}),
])
def test_result_tables_resume(tmp_path, scored, failed, uncommitted, done):
    tables = ResultTables(tmp_path, SETTINGS)
    assert tables.open() == set()
    for video in scored:
        _part(tables, video)
    for video in failed:
        _part(tables, video, failed=True)
    for table in uncommitted:  # a crash after these files, before the part's `videos` file
        (tmp_path / table / "part-crashed-00000.parquet").write_bytes(b"partial")
    assert ResultTables(tmp_path, SETTINGS).open() == done
    assert not any(tmp_path.rglob("part-crashed-*"))


@pytest.mark.parametrize("change", [dict(window=16), dict(stride=2), dict(top_k=3)])
def test_result_tables_refuse_other_settings(tmp_path, change):
    ResultTables(tmp_path, SETTINGS).open()
    other = JobSettings(**{**SETTINGS.__dict__, **change})
    with pytest.raises(PoseRecError, match="holds results made with"):
        ResultTables(tmp_path, other).open()


@pytest.fixture
def folder(tmp_path):
    """clips/{a.mp4, b.avi, notes.txt, deeper/c.mkv} and a manifest beside it."""
    clips = tmp_path / "clips"
    (clips / "deeper").mkdir(parents=True)
    for name in ("a.mp4", "b.avi", "notes.txt", "deeper/c.mkv"):
        (clips / name).write_bytes(b"x")
    (tmp_path / "list.txt").write_text("# corpus\nclips/b.avi\n\nclips/a.mp4\nclips/b.avi\n"
                                       "missing.mp4\n")
    (tmp_path / "empty.lst").write_text("# nothing yet\n")
    return tmp_path


@pytest.mark.parametrize("spec, expected", [
    ("clips", ["clips/a.mp4", "clips/b.avi", "clips/deeper/c.mkv"]),
    ("clips/*.mp4", ["clips/a.mp4"]),
    ("clips/**/*.mkv", ["clips/deeper/c.mkv"]),
    ("list.txt", ["clips/b.avi", "clips/a.mp4", "missing.mp4"]),
    ("clips/a.mp4", ["clips/a.mp4"]),
])
def test_list_videos(folder, spec, expected):
    assert list_videos(str(folder / spec)) == [(folder / e).resolve() for e in expected]


@pytest.mark.parametrize("spec, message", [
    ("nowhere", "no such folder, file or matching glob"),
    ("clips/*.webm", "no videos found"),
    ("empty.lst", "no videos found"),
])
def test_list_videos_errors(folder, spec, message):
    with pytest.raises(PoseRecError, match=message):
        list_videos(str(folder / spec))


@pytest.mark.parametrize("args, message", [
    (["batch", "{tmp}/nowhere", "-o", "{tmp}/out"], "no such folder, file or matching glob"),
    (["batch", "{tmp}/none", "-o", "{tmp}/out"], "no videos found"),
    (["batch", "{tmp}", "-o", "{tmp}/out", "--top-k", "0"], "below the minimum 1"),
    (["batch", "{tmp}", "-o", "{tmp}/out", "--stride", "x"], "is not an integer"),
    (["batch", "{tmp}", "-o", "{tmp}/out", "--pose-actors", "0"], "below the minimum 1"),
    (["batch", "{tmp}", "-o", "{tmp}/out", "--num-gpus", "-1"], "below the minimum 0"),
    (["batch", "{video}", "-o", "{tmp}/out", "--address", "127.0.0.1:{closed}"],
     "nothing answers there"),
])
def test_batch_command_errors(capsys, weights_dir, tmp_path, args, message):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed = probe.getsockname()[1]
    (tmp_path / "none").mkdir()
    video = tmp_path / "clip" / "nobody.avi"
    video.parent.mkdir()
    make_empty_video(video, frames=2)
    code, out, err = run_main(capsys, *[a.format(tmp=tmp_path, video=video, closed=closed)
                                        for a in args])
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("cpus, gpus, message", [
    (2, 0, None), (3, 0, "needs 3 CPUs and the Ray cluster has 2"),
    (1, 1, "needs 1 GPUs and the Ray cluster has 0"),
])
def test_jobs_larger_than_the_cluster_are_refused(cpus, gpus, message):
    if message is None:
        require_resources({"CPU": 2.0}, cpus, gpus, "--pose-actors")
    else:
        with pytest.raises(PoseRecError, match=message):
            require_resources({"CPU": 2.0}, cpus, gpus, "--pose-actors")


def test_batch_refuses_an_output_of_other_settings(capsys, weights_dir, tmp_path):
    make_empty_video(tmp_path / "clip.avi", frames=2)
    ResultTables(tmp_path / "out", SETTINGS).open()
    code, _, err = run_main(capsys, "batch", tmp_path, "-o", tmp_path / "out", "--window", "16")
    assert code == 2 and "holds results made with window 10" in err, err
