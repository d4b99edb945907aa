"""`poserec extract`: real MediaPipe on a video of a real person, windows with the published semantics."""
from __future__ import annotations

import json

import numpy as np
import pytest

from .helpers import run_main
from .media import make_empty_video, make_person_video


@pytest.fixture(scope="module")
def person_video(tmp_path_factory):
    return make_person_video(tmp_path_factory.mktemp("video") / "person.avi", frames=36)


def test_extract_then_recommend(capsys, weights_dir, recommender, person_video, tmp_path):
    out = tmp_path / "poses.npz"
    code, stdout, err = run_main(capsys, "extract", person_video, "-o", out,
                                 "--window", "10", "--stride", "5")
    assert code == 0, err
    with np.load(out, allow_pickle=False) as npz:
        poses, frame_index = npz["poses"], npz["frame_index"]
        frames_read = int(npz["frames_read"])
    assert frames_read == 36
    detected = len(np.unique(frame_index))
    assert detected >= 30, "MediaPipe should find the astronaut in nearly every frame"
    assert poses.shape == ((detected - 10) // 5 + 1, 10, 33, 4) and poses.dtype == np.float32
    # window n is detected frames [5n, 5n + 10): consecutive windows share 5 frames
    np.testing.assert_array_equal(poses[1:, :5], poses[:-1, 5:])
    assert np.all(np.diff(frame_index, axis=1) > 0)
    xy = poses[..., :2]
    assert 0.0 < xy.mean() < 1.0 and poses[..., 3].max() > 0.5
    code, stdout, err = run_main(capsys, "recommend", "--poses", out, "--json", "--device", "cpu")
    assert code == 0, err
    got = [[e["item"] for e in w["top"]] for w in json.loads(stdout)["windows"]]
    want = [list(r.items) for r in recommender.recommend(poses, top_k=5)]
    assert got == want


@pytest.mark.parametrize("make_input, output, message", [
    (lambda d: d / "missing.avi", "o.npz", "no such video file"),
    (lambda d: (d / "notes.avi").write_text("not a video") and d / "notes.avi", "o.npz",
     "OpenCV cannot open it as a video"),
    (lambda d: make_empty_video(d / "empty.avi", frames=12), "o.npz",
     "a person was found in 0 of 12 frames; a window needs 10"),
    (lambda d: d / "any.avi", "o.npy", "the output must be an .npz file"),
])
def test_extract_bad_input(capsys, tmp_path, make_input, output, message):
    video = make_input(tmp_path)
    code, _, err = run_main(capsys, "extract", video, "-o", tmp_path / output)
    assert code == 2 and message in err and err.count("\n") == 1, err
    assert not (tmp_path / output).exists()


def test_a_truncated_video_is_reported_by_extract_as_by_live(capsys, weights_dir, tmp_path):
    """extract reads videos through live's VideoFileSource: the same one-line warning, and the
    decoded frames are used."""
    video = make_person_video(tmp_path / "cut.avi", frames=40, size=(160, 160))
    data = video.read_bytes()
    video.write_bytes(data[:len(data) // 2])
    out = tmp_path / "poses.npz"
    code, _, err = run_main(capsys, "extract", video, "-o", out)
    extract_warnings = [line.removeprefix("poserec extract: warning: ")
                        for line in err.splitlines() if "warning" in line]
    assert code == 0, err
    code, _, err = run_main(capsys, "live", "--headless", "--source", video, "--fps", "0")
    live_warnings = [line.removeprefix("poserec live: warning: ")
                     for line in err.splitlines() if "warning" in line]
    assert code == 0, err
    assert len(extract_warnings) == 1 and extract_warnings == live_warnings
    decoded = int(extract_warnings[0].split("only ")[1].split()[0])
    with np.load(out, allow_pickle=False) as npz:
        assert int(npz["frames_read"]) == decoded < 40
