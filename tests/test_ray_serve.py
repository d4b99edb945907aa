"""`poserec serve` on a local Ray: the reference rankings over HTTP, batching, clear 4xx answers
(the session transports: test_ray_stream.py)."""
from __future__ import annotations

import contextlib
import http.client
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from typing import NamedTuple
from urllib.parse import urlsplit

import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from realtime.engine.remote_scorer import RemoteScorer

from .helpers import NEAR_TIE, assert_reference_records, run_main, same_ranking

pytestmark = [pytest.mark.timeout(300),
              # Ray Serve's own models use pydantic features that pydantic 2 deprecates
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]

MAX_BATCH_WINDOWS = 64
START_TIMEOUT_S = 180
STOP_TIMEOUT_S = 60


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServedUrls(NamedTuple):
    """The URLs `poserec serve` prints: HTTP JSON, WebSocket sessions through the proxy, gRPC
    sessions and WebSocket sessions straight to the replica (None when not served)."""

    http: str
    stream: str
    grpc: str | None
    direct: str | None


def _served_urls(line: str) -> ServedUrls:
    found: dict[str, list[str]] = {}
    for url in re.findall(r"(?:http|ws|grpc)://[^\s;,()]+", line):
        found.setdefault(url.split(":")[0], []).append(url)
    websockets = found["ws"] + [None]  # the proxy's route first, then the replica's own server
    return ServedUrls(found["http"][0], websockets[0], found.get("grpc", [None])[0],
                      websockets[1])


@contextlib.contextmanager
def running_server(folder, *options: str):
    """`poserec serve` in a subprocess on a free loopback port; yields its ServedUrls. On exit it
    gets SIGINT and must exit 0 within STOP_TIMEOUT_S."""
    stderr_path = folder / "stderr.txt"
    with open(stderr_path, "w") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "realtime.cli", "serve", "--port", str(_free_port()),
             "--device", "cpu", *options], stdout=subprocess.PIPE, stderr=stderr, text=True,
            env=os.environ)
    lines: queue.Queue = queue.Queue()
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()
    try:
        first = lines.get(timeout=START_TIMEOUT_S)
    except queue.Empty:
        first = ""
    if "serving PoseRec at" not in first:
        proc.kill()
        pytest.fail(f"poserec serve did not start: {first!r} {stderr_path.read_text()[-3000:]}")
    yield _served_urls(first)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=STOP_TIMEOUT_S) == 0, stderr_path.read_text()[-3000:]


@pytest.fixture(scope="module")
def server(weights_dir, tmp_path_factory):
    """The application with Ray Serve's HTTP proxy, for the whole module."""
    with running_server(tmp_path_factory.mktemp("serve"), "--max-batch-windows",
                        str(MAX_BATCH_WINDOWS), "--batch-wait-ms", "20") as urls:
        yield urls.http


def _post(url: str, body: bytes, method: str = "POST") -> tuple[int, dict, http.client.HTTPMessage]:
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path, body, {"Content-Type": "application/json"})
        response = connection.getresponse()
        return response.status, json.loads(response.read()), response.headers
    finally:
        connection.close()


def _body(windows, **extra) -> bytes:
    return json.dumps({"windows": np.asarray(windows).tolist(), **extra}).encode()


@pytest.mark.parametrize("chunk", [1, 7, MAX_BATCH_WINDOWS])
def test_reference_rankings(server, sample_windows, reference_scores, reference_top5, chunk):
    scorer = RemoteScorer(server)
    rankings = []
    for start in range(0, len(sample_windows), chunk):
        rankings.extend(scorer.recommend(sample_windows[start:start + chunk], top_k=5))
    scorer.close()
    assert len(rankings) == 81
    for n, (ranking, ref) in enumerate(zip(rankings, reference_top5["windows"])):
        assert same_ranking(list(ranking.items), [e["item"] for e in ref["top5"]],
                            reference_scores[n]), n
        assert np.allclose(ranking.scores, reference_scores[n, list(ranking.items)],
                           rtol=0, atol=NEAR_TIE)


@pytest.mark.parametrize("rows", [slice(0, 1), slice(5, 29), slice(17, 81)])
def test_remote_scores_and_catalog_for_the_live_worker(server, recommender, sample_windows,
                                                       reference_scores, rows):
    scorer = RemoteScorer(server).load()
    assert scorer.catalog.names == recommender.catalog.names
    scores = scorer.score(sample_windows[rows])
    scorer.close()
    assert scores.dtype == np.float32 and scores.shape == reference_scores[rows].shape
    assert np.abs(scores - reference_scores[rows]).max() <= NEAR_TIE


def test_live_remote_replays_the_reference(capsys, server, reference_dir, reference_top5,
                                           reference_scores, tmp_path):
    out = tmp_path / "remote.jsonl"
    code, _, err = run_main(capsys, "live", "--headless", "--remote", server, "--source",
                            f"replay:{reference_dir / 'sample_sequence.npy'}", "--window", "10",
                            "--stride", "5", "--smoothing", "0", "--fps", "0", "--jsonl", out)
    assert code == 0, err
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert_reference_records(records, reference_top5, reference_scores)
    assert {r["device"] for r in records} == {f"remote {server}"}


@pytest.mark.parametrize("args, message", [
    (["--remote", "ftp://x/recommend"], "expected an http(s)://HOST:PORT/recommend URL"),
    (["--remote", "http://127.0.0.1:9/recommend"], "cannot reach the PoseRec server"),
    (["--remote", "http://127.0.0.1:9/recommend", "--device", "cpu"],
     "--device cpu does not apply with --remote"),
])
def test_live_remote_errors(capsys, weights_dir, args, message):
    code, _, err = run_main(capsys, "live", "--headless", "--source", "demo", "--max-frames", "20",
                            *args)
    assert code == 2 and message in err and err.count("\n") == 1, err


def test_reply_is_the_recommend_json(server, sample_windows, reference_scores):
    status, doc, headers = _post(server, _body(sample_windows[:3], top_k=2))
    assert status == 200
    assert doc["top_k"] == 2 and [w["window"] for w in doc["windows"]] == [0, 1, 2]
    for n, window in enumerate(doc["windows"]):
        assert [set(e) for e in window["top"]] == [{"item", "name", "score"}] * 2
        assert all(abs(e["score"] - reference_scores[n, e["item"]]) <= NEAR_TIE for e in window["top"])
    assert int(headers["X-PoseRec-Batch-Windows"]) >= 3


def test_concurrent_clients_are_batched_and_answered_apart(server, sample_windows,
                                                           reference_scores, reference_top5):
    clients = 16
    largest = 0
    for _ in range(3):  # a loaded machine may start the clients too far apart to batch them
        barrier = threading.Barrier(clients)
        replies = [None] * clients

        def client(n):
            barrier.wait(timeout=30)
            replies[n] = _post(server, _body(sample_windows[n:n + 1]))

        threads = [threading.Thread(target=client, args=(n,)) for n in range(clients)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        for n, (status, doc, headers) in enumerate(replies):
            assert status == 200
            items = [e["item"] for e in doc["windows"][0]["top"]]
            assert same_ranking(items, [e["item"] for e in reference_top5["windows"][n]["top5"]],
                                reference_scores[n]), n
            largest = max(largest, int(headers["X-PoseRec-Batch-Requests"]))
        if largest > 1:
            break
    assert largest > 1


def _nan_body(windows) -> bytes:
    windows = windows.copy()
    windows[0, 0, 0, 0] = np.nan
    return _body(windows)  # json writes the NaN token, which Python's json reads back


BAD_PAYLOADS = [
    ("not json", lambda w: b"{windows: 1", 400, "not JSON"),
    ("not an object", lambda w: b"[1, 2]", 400, "expected a JSON object"),
    ("no windows", lambda w: b'{"top_k": 5}', 400, "expected a JSON object"),
    ("unknown field", lambda w: _body(w[:1], colour="red"), 400, "unknown fields ['colour']"),
    ("flat windows", lambda w: _body(w[0, 0]), 400, "expected (N, T, 33, 4)"),
    ("3 channels", lambda w: _body(w[:1, :, :, :3]), 400, "expected (N, T, 33, 4)"),
    ("no windows at all", lambda w: b'{"windows": []}', 400, "expected (N, T, 33, 4)"),
    ("ragged", lambda w: json.dumps({"windows": [w[0].tolist(), w[1, :5].tolist()]}).encode(),
     400, "not a rectangular array"),
    ("strings", lambda w: b'{"windows": [[[["a", "b", "c", "d"]]]]}', 400,
     "not a rectangular array of numbers"),
    ("NaN", lambda w: _nan_body(w[:1]), 400, "NaN or infinite"),
    ("top_k 0", lambda w: _body(w[:1], top_k=0), 400, "top_k is 0"),
    ("top_k too big", lambda w: _body(w[:1], top_k=222), 400, "from 1 to 221"),
    ("top_k text", lambda w: _body(w[:1], top_k="5"), 400, "top_k is '5'"),
    ("scores not a bool", lambda w: _body(w[:1], scores="yes"), 400, "scores is 'yes'"),
    ("too many windows", lambda w: _body(np.concatenate([w, w])[:MAX_BATCH_WINDOWS + 1]), 413,
     f"send at most {MAX_BATCH_WINDOWS}"),
]


@pytest.mark.parametrize("make_body, status, message",
                         [p[1:] for p in BAD_PAYLOADS], ids=[p[0] for p in BAD_PAYLOADS])
def test_bad_payload_gets_a_clear_4xx_and_the_server_goes_on(server, sample_windows, make_body,
                                                             status, message):
    got, doc, _ = _post(server, make_body(sample_windows))
    assert got == status and message in doc["error"], doc
    assert "\n" not in doc["error"]
    assert _post(server, _body(sample_windows[:1]))[0] == 200


@pytest.mark.parametrize("method", ["PUT", "DELETE", "PATCH"])
def test_other_methods_are_refused(server, method):
    status, doc, headers = _post(server, b"{}", method=method)
    assert status == 405 and "POST the windows" in doc["error"]
    assert headers["Allow"] == "GET, POST"


@pytest.mark.parametrize("url, windows, message", [
    ("ftp://127.0.0.1/recommend", None, "expected an http(s)://HOST:PORT/recommend URL"),
    ("http://127.0.0.1:{closed}/recommend", "good", "cannot reach the PoseRec server"),
    ("{server}", "bad", "answered 400"),
])
def test_remote_scorer_errors(server, sample_windows, url, windows, message):
    url = url.format(server=server, closed=_free_port())
    with pytest.raises(PoseRecError, match=re.escape(message)):
        scorer = RemoteScorer(url)
        scorer.recommend(sample_windows[:1] if windows == "good" else sample_windows[:1, :, :, :3])


@pytest.mark.parametrize("args, message", [
    (["--port", "70000"], "70000 is outside [1, 65535]"),
    (["--port", "0"], "0 is outside [1, 65535]"),
    (["--replicas", "0"], "below the minimum 1"),
    (["--batch-wait-ms", "-1"], "outside [0.0, 1000.0]"),
    (["--max-batch-windows", "0"], "below the minimum 1"),
    (["--device", "tpu"], "invalid choice"),
])
def test_serve_option_errors(capsys, args, message):
    code, _, err = run_main(capsys, "serve", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize("device, resources, replicas, gpus", [
    ("auto", {"CPU": 2}, 1, 0), ("auto", {"CPU": 2, "GPU": 4}, 2, 1), ("cpu", {"GPU": 4}, 1, 0),
    ("auto", {"GPU": 1}, 4, 0.25), ("cuda", {"GPU": 2}, 8, 0.25), ("cuda", {"GPU": 1}, 1, 1),
    ("cuda", {"CPU": 16}, 1, PoseRecError),
])
def test_replica_gpus(device, resources, replicas, gpus):
    from poserec_ray.serve_app import replica_gpus

    if gpus is PoseRecError:
        with pytest.raises(PoseRecError, match="the Ray cluster has no GPU"):
            replica_gpus(device, resources, replicas)
    else:
        assert replica_gpus(device, resources, replicas) == gpus


def test_haproxy_ingress_serves_the_reference(weights_dir, tmp_path, sample_windows,
                                              reference_scores):
    with running_server(tmp_path, "--ingress", "haproxy") as urls:
        url = urls.http
        scores = RemoteScorer(url).load().score(sample_windows[:9])
        bad = _post(url, b"[1, 2]")
    assert np.abs(scores - reference_scores[:9]).max() <= NEAR_TIE
    assert bad[0] == 400 and "expected a JSON object" in bad[1]["error"]


def test_haproxy_ingress_is_refused_for_a_cluster(capsys, weights_dir):
    code, _, err = run_main(capsys, "serve", "--ingress", "haproxy", "--address", "auto")
    assert code == 2 and "start every node with RAY_SERVE_ENABLE_HA_PROXY=1" in err, err


@pytest.mark.parametrize("option", ["--port", "--stream-port"])
def test_serve_refuses_a_port_in_use(capsys, weights_dir, option):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        others = [] if option == "--port" else ["--port", str(_free_port())]
        code, _, err = run_main(capsys, "serve", *others, option, str(port))
    assert code == 2 and f"{option} {port} on 127.0.0.1 is in use; choose another port" in err, err
