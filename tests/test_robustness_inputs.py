"""Bad input, each with its exact outcome: exit status 2 and one line naming the problem, or a
PoseRecError from the API. Extends the tables of test_recommend_cli, test_live_cli, test_weights
and test_sources with the cases they lack; a malicious file is never executed."""
from __future__ import annotations

import io
import json
import os
import pickle
import shutil
import socket
import subprocess
import threading
import time
import zipfile

import numpy as np
import pytest
import torch

from poserec_core.bundle import read_manifest, write_manifest
from poserec_core.errors import PoseFileError
from poserec_core.pose_files import MAX_POSE_FILE_BYTES, read_pose_windows
from realtime.sources.opencv_sources import STREAM_TIMEOUT_MS

from .helpers import run_main, run_poserec


def good(n=2, t=10, v=33, c=4, dtype=np.float32) -> np.ndarray:
    return np.random.default_rng(0).random((n, t, v, c)).astype(dtype)


def forged_npy(shape=(10 ** 9, 10, 33, 4)) -> bytes:
    """A .npy whose header promises `shape` (terabytes) and holds 64 bytes."""
    stream = io.BytesIO()
    np.lib.format.write_array_header_1_0(stream, {"descr": "<f4", "fortran_order": False,
                                                  "shape": shape})
    return stream.getvalue() + bytes(64)


def npy(array):
    return lambda p: np.save(p, array)


def npz(**arrays):
    return lambda p: np.savez(p, **arrays)


def half_of(make):
    """A file made by `make`, cut to half its length."""
    def cut(path):
        make(path)
        path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])
    return cut


def pickled(obj):
    return lambda p: p.write_bytes(pickle.dumps(obj))


def forged_npz(p):
    with zipfile.ZipFile(p, "w") as archive:
        archive.writestr("poses.npy", forged_npy())


def sparse(size):
    def make(p):
        with open(p, "wb") as f:
            f.truncate(size)
    return make


def write(path, content):
    if callable(content):
        content(path)
    else:
        path.write_bytes(content)
    return path


# test_recommend_cli.BAD_POSES has: missing, .txt, empty .npy, rank 3, 17 landmarks, 3 channels,
# int64, NaN, inf, truncated .npy, object .npy, .npz without poses, a pickled list of ints.
BAD_POSE_FILES = [
    ("rank5.npy", npy(good()[None]), "shape (1, 2, 10, 33, 4), expected (N, T, 33, 4)"),
    ("rank2.npy", npy(good()[0, 0]), "shape (33, 4), expected (N, T, 33, 4)"),
    ("scalar.npy", npy(np.float32(1.0)), "shape (), expected (N, T, 33, 4)"),
    ("no-windows.npy", npy(good(n=0)), "holds no poses"),
    ("bool.npy", npy(good() > 0.5), "dtype bool, expected floating point"),
    ("complex.npy", npy(good().astype(np.complex64)), "dtype complex64"),
    ("minus-inf.npy", npy(np.where(good() > 0.999, -np.inf, good())), "NaN or infinite values"),
    ("float32-overflow.npy", npy(np.full((1, 10, 33, 4), 1e300)),
     "1320 NaN or infinite values (as float32)"),
    ("text.npy", b"just some text, not an array\n", "not a plain .npy array"),
    ("forged.npy", forged_npy(), "truncated or forged .npy: its header declares shape "
     "(1000000000, 10, 33, 4) (5280000000000 bytes), the file holds 64"),
    ("huge.npy", sparse(MAX_POSE_FILE_BYTES + 1), "over the 1073741824-byte limit"),
    ("truncated.npz", half_of(npz(poses=good())), "unreadable .npz"),
    ("not-a-zip.npz", b"PK\x03\x04 and then nothing of a zip", "unreadable .npz"),
    ("forged.npz", forged_npz, "('poses'): truncated or forged .npy"),
    ("objects.npz", lambda p: np.savez(p, poses=np.array([{"a": 1}], dtype=object)),
     "Object arrays cannot be loaded when allow_pickle=False"),
    ("huge.pkl", sparse(MAX_POSE_FILE_BYTES + 1), "over the 1073741824-byte limit"),
    ("truncated.pkl", half_of(pickled(good())), "unreadable pickle"),
    ("dict.pkl", pickled({"poses": good()}), "holds a dict, not a numpy array"),
    ("arrays.pkl", pickled([good(), good()]), "holds a list of arrays, expected one array"),
    ("object-array.pkl", pickled(np.array([1, "a"], dtype=object)), "of dtype object; refusing"),
    ("masked.pkl", pickled(np.ma.array(good())), "refuses to load numpy.ma.core._mareconstruct"),
    ("int-windows.pkl", pickled(good().astype(np.int16)), "dtype int16"),
]


@pytest.mark.parametrize("name, content, message", BAD_POSE_FILES,
                         ids=[b[0] for b in BAD_POSE_FILES])
def test_bad_pose_files_exit_2_with_one_line(capsys, weights_dir, tmp_path, name, content, message):
    path = write(tmp_path / name, content)
    code, out, err = run_main(capsys, "recommend", "--poses", path)
    assert (code, out) == (2, "")
    assert err.startswith(f"poserec recommend: error: {path}") and err.count("\n") == 1, err
    assert message in err


@pytest.mark.parametrize("suffix, make", [
    (".npy", npy(good())), (".npz", npz(poses=good())), (".pkl", pickled(good())),
])
def test_files_over_the_limit_are_refused_unread(monkeypatch, tmp_path, suffix, make):
    path = write(tmp_path / f"poses{suffix}", make)
    limit = path.stat().st_size - 1

    def never(*args, **kwargs):
        raise AssertionError("the file was read")

    monkeypatch.setattr(np, "load", never)
    monkeypatch.setattr(pickle, "Unpickler", never)
    with pytest.raises(PoseFileError, match=f"over the {limit}-byte limit"):
        read_pose_windows(path, max_bytes=limit)


# ---- pickles that would run code: refused, never executed -----------------------------------

class Payload:
    """Pickles as a call of `function(*args)`: what a malicious pickle does on loading."""

    def __init__(self, function, *args):
        self.function, self.args = function, args

    def __reduce__(self):
        return self.function, self.args


class PersistentPickler(pickle.Pickler):
    def persistent_id(self, obj):
        return "outside" if isinstance(obj, str) and obj == "ref" else None


def persistent(p):
    with open(p, "wb") as f:
        PersistentPickler(f).dump(["ref"])


PAYLOADS = [
    (lambda canary: pickled(Payload(os.system, f"touch {canary}")), "posix.system"),
    (lambda canary: pickled(Payload(exec, f"open({str(canary)!r}, 'w')")), "builtins.exec"),
    (lambda canary: pickled(Payload(eval, f"open({str(canary)!r}, 'w')")), "builtins.eval"),
    (lambda canary: pickled(Payload(subprocess.Popen, ["touch", str(canary)])),
     "subprocess.Popen"),
    (lambda canary: pickled(Payload(np.save, str(canary), np.zeros(1))), "numpy.save"),
    (lambda canary: pickled([good(), Payload(os.system, f"touch {canary}")]), "posix.system"),
    (lambda canary: persistent, "persistent references"),
]


@pytest.mark.parametrize("make, refused", PAYLOADS, ids=[
    "os.system", "exec", "eval", "Popen", "numpy.save", "hidden-in-a-list", "persistent-id"])
def test_malicious_pickles_are_refused_and_never_run(capsys, weights_dir, tmp_path, make, refused):
    canary = tmp_path / "pwned"
    path = write(tmp_path / "evil.pkl", make(canary))
    code, _, err = run_main(capsys, "recommend", "--poses", path)
    assert code == 2 and err.count("\n") == 1 and refused in err, err
    assert "it was not executed" in err
    assert not canary.exists() and not canary.with_suffix(".npy").exists()


# ---- weights that hash right but hold the wrong thing -------------------------------------------

def rehashed(weights_dir, tmp_path, name, damage):
    """A copy of the weights with `name` damaged and the manifest rewritten to match, so the
    damage gets past the hash check to the deeper ones."""
    copy = shutil.copytree(weights_dir, tmp_path / "weights")
    damage(copy / name)
    manifest = read_manifest(copy)
    write_manifest(copy, {role: entry["file"] for role, entry in manifest.files.items()},
                   manifest.origin, manifest.window_frames)
    return copy


def edit_state(edit):
    def damage(path):
        state = torch.load(path, weights_only=True)
        edit(state)
        torch.save(state, path)
    return damage


def edit_array(edit):
    def damage(path):
        np.save(path, edit(np.load(path)))
    return damage


def manifest_entry(role, **entry):
    def damage(path):
        doc = json.loads(path.read_text())
        doc["files"][role] = entry
        path.write_text(json.dumps(doc))
    return damage


BAD_WEIGHTS = [
    ("best_model_pose.pt", lambda p: p.write_bytes(p.read_bytes()[:1000]),
     "best_model_pose.pt: not a loadable state dict"),
    ("best_model_pose.pt", edit_state(lambda s: s.pop("data_bn.weight")), "Missing key"),
    ("best_model_pose.pt", edit_state(lambda s: s.update(fc=torch.zeros(3))), "Unexpected key"),
    ("best_model_pose.pt", edit_state(lambda s: s.update({"fc.bias": torch.zeros(64)})),
     "size mismatch"),
    ("best_model_pose.pt", lambda p: torch.save([torch.zeros(1)], p), "holds a list"),
    ("best_model_pose.pt", lambda p: p.write_bytes(pickle.dumps(Payload(
        os.system, f"touch {p.parent / 'pwned'}"))), "not a loadable state dict"),
    ("item_feature.npy", edit_array(lambda a: a[:, :, :32]), "item embeddings have shape"),
    ("item_feature.npy", lambda p: np.save(p, np.array([{}], dtype=object), allow_pickle=True),
     "unreadable array"),
    ("prototype_dis.npy", edit_array(lambda a: np.where(a > a.max() - 1e-6, np.nan, a)),
     "NaN or infinite"),
    ("item_data.csv", lambda p: p.write_text("\n".join(p.read_text().splitlines()[:-1])),
     "220 item names for 221 item embeddings"),
]


@pytest.mark.filterwarnings("ignore:Detected pickle protocol")
@pytest.mark.parametrize("name, damage, message", BAD_WEIGHTS, ids=[
    "truncated-encoder", "missing-key", "extra-key", "wrong-shape", "not-a-dict",
    "code-in-encoder", "embeddings-shape", "embeddings-pickled", "nan-prototypes", "names-short"])
def test_weights_that_pass_the_hash_but_hold_the_wrong_thing(capsys, weights_dir, release_dir,
                                                             tmp_path, name, damage, message):
    copy = rehashed(weights_dir, tmp_path, name, damage)
    code, _, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl",
                            "--weights", copy, "--device", "cpu")
    assert code == 2 and err.count("\n") == 1 and message in err, err
    assert not (copy / "pwned").exists()


@pytest.mark.parametrize("entry, message", [
    (dict(sha256="0" * 64), "the 'item_names' entry needs a file name and a sha256"),
    (dict(file=7, sha256="0" * 64), "needs a file name and a sha256"),
    (dict(file="item_data.csv"), "needs a file name and a sha256"),
    (dict(file="/etc/passwd", sha256="0" * 64), "points outside the weights directory"),
])
def test_a_tampered_manifest_is_one_clear_line(capsys, weights_dir, release_dir, tmp_path, entry,
                                               message):
    copy = shutil.copytree(weights_dir, tmp_path / "weights")
    manifest_entry("item_names", **entry)(copy / "manifest.json")
    code, _, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl",
                            "--weights", copy)
    assert code == 2 and err.count("\n") == 1 and message in err, err


def test_recommend_on_cuda_without_a_gpu_is_a_clear_error(capsys, weights_dir, release_dir):
    code, _, err = run_main(capsys, "recommend", "--poses", release_dir / "sample.pkl",
                            "--device", "cuda")
    if torch.cuda.is_available():
        assert code == 0, err
    else:
        assert code == 2 and err.count("\n") == 1 and "torch sees no CUDA GPU" in err


# ---- `live` options and sources ------------------------------------------------------------------

# test_live_cli covers --window 0, --stride x, --top-k 0, --smoothing 1 and -0.1, --reset-after 0,
# --fps -1 and nan, --max-frames 0, --device tpu, replay:, --screenshot and --pose-model suffixes.
@pytest.mark.parametrize("args, error", [
    (["--window", "-1"], "argument --window: -1 is below the minimum 1"),
    (["--window", "2.5"], "argument --window: '2.5' is not an integer"),
    (["--stride", "0"], "argument --stride: 0 is below the minimum 1"),
    (["--top-k", "-3"], "argument --top-k: -3 is below the minimum 1"),
    (["--top-k", "many"], "argument --top-k: 'many' is not an integer"),
    (["--smoothing", "nan"], "argument --smoothing: nan is outside [0.0, 1.0)"),
    (["--smoothing", "1.5"], "argument --smoothing: 1.5 is outside [0.0, 1.0)"),
    (["--smoothing", "half"], "argument --smoothing: 'half' is not a number"),
    (["--fps", "inf"], "argument --fps: inf is outside [0.0, inf)"),
    (["--device", "cuda:0"], "argument --device: invalid choice: 'cuda:0'"),
    (["--source", " "], "argument --source: --source is empty"),
])
def test_out_of_range_live_options_are_one_line_usage_errors(capsys, args, error):
    code, _, err = run_main(capsys, "live", "--headless", *args)
    assert code == 2 and error in err and len(err.strip().splitlines()) == 1, err


def replay_of(name, content):
    return lambda tmp: f"replay:{write(tmp / name, content)}"


@pytest.mark.parametrize("make_source, error", [
    (lambda tmp: "ftp://host/clip.mp4", "no such video file"),
    (lambda tmp: "camera:0", "--source camera:0: not a source; use auto, a camera index"),
    (lambda tmp: "-1", "--source -1: not a source; use auto, a camera index"),
    (lambda tmp: "webcam", "--source webcam: not a source; use auto, a camera index"),
    (lambda tmp: f"replay:{(tmp / 'dir.npy').mkdir() or tmp / 'dir.npy'}", "dir.npy: no such file"),
    (replay_of("poses.txt", b"1 2 3"), "unknown pose file type '.txt'"),
    (replay_of("forged.npy", forged_npy((10 ** 9, 33, 4))), "truncated or forged .npy"),
    (replay_of("empty.npy", b""), "the file is empty"),
    (lambda tmp: "rtsp://127.0.0.1:9/none", "cannot open the stream"),
], ids=["ftp-url", "camera-colon", "negative-index", "unknown-word", "replay-dir", "replay-txt", "replay-forged",
        "replay-empty", "refused-url"])
def test_unknown_or_unusable_sources_exit_2_with_one_line(capsys, weights_dir, tmp_path,
                                                          make_source, error):
    code, _, err = run_main(capsys, "live", "--headless", "--max-frames", "5",
                            f"--source={make_source(tmp_path)}")
    assert code == 2 and error in err, err
    assert len(err.strip().splitlines()) == 1 and err.startswith("poserec live: error: ")


@pytest.fixture
def silent_server():
    """A TCP port that accepts connections and never answers (a stream that hangs)."""
    server = socket.create_server(("127.0.0.1", 0))
    accepted = []

    def accept():
        try:
            while True:
                accepted.append(server.accept()[0])
        except OSError:
            pass  # closed at the end of the test

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    server.shutdown(socket.SHUT_RDWR)  # wakes the blocked accept()
    server.close()
    for connection in accepted:
        connection.close()
    thread.join(5)


def test_a_url_that_never_answers_fails_within_the_stream_timeout(capfd, weights_dir,
                                                                   silent_server):
    started = time.monotonic()
    code, _, err = run_main(capfd, "live", "--headless", "--source",
                            f"http://127.0.0.1:{silent_server}/live.mjpg")
    elapsed = time.monotonic() - started
    assert code == 2 and "cannot open the stream" in err
    assert len(err.strip().splitlines()) == 1, err  # OpenCV's own timeout warning is silenced
    assert elapsed < STREAM_TIMEOUT_MS / 1000 + 10


def test_a_refused_url_is_exactly_one_line_even_from_ffmpeg(weights_dir):
    # a fresh process: FFmpeg reads its log level once, when it first opens something
    result = run_poserec("live", "--headless", "--source", "rtsp://127.0.0.1:9/none")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "poserec live: error: --source rtsp://127.0.0.1:9/none: cannot open the stream "
        "(unreachable, or not a video OpenCV can decode)"]
