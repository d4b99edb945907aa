"""`--serve`: the WebSocket feed and the OBS overlay card, against `poserec live` running the
demo headless, and the server's routes, drop rule and listening errors (the /ar layer:
test_outputs_ar.py)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from html.parser import HTMLParser

import pytest

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking
from realtime.messages import EffectScore, Recommendation
from realtime.outputs.server import OverlayServer, ServerConfig

from .test_live_cli import read_jsonl
from .test_outputs_recording import read_line_matching

TOP_K = 4
START_TIMEOUT_S = 120
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync")


def recommend(*names: str, window_end: int = 9) -> Recommendation:
    """A recommendation of distinct `names`, best first, each its own item."""
    scores = tuple(0.9 - 0.01 * n for n in range(len(names)))
    effects = tuple(EffectScore(name, n, s) for n, (name, s) in enumerate(zip(names, scores)))
    return Recommendation(window_end, Ranking(tuple(range(len(names))), names, scores),
                          1, 2, 3, 4, 5, "cpu", effects=effects)


def records_from(client, count: int) -> list[dict]:
    """The next `count` recommendation records a WebSocket client gets (pose messages between
    them are for /ar)."""
    records = []
    while len(records) < count:
        message = json.loads(client.recv(timeout=30))
        if message.get("type") != "pose":
            records.append(message)
    return records


@pytest.fixture(scope="module")
def live_demo(weights_dir, tmp_path_factory):
    """`poserec live --source demo --headless --serve 0` running; yields (page URL, WebSocket
    URL, its --jsonl file)."""
    jsonl = tmp_path_factory.mktemp("serve") / "live.jsonl"
    process = subprocess.Popen(
        [sys.executable, "-m", "realtime.cli", "live", "--source", "demo", "--loop", "--headless",
         "--device", "cpu", "--serve", "0", "--top-k", str(TOP_K), "--jsonl", str(jsonl)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=os.environ.copy())
    try:
        found = read_line_matching(process.stderr, r"OBS overlay at (http://\S+/) .*WebSocket "
                                   r"(ws://\S+/ws)", START_TIMEOUT_S)
        yield found.group(1), found.group(2), jsonl
    finally:
        process.terminate()
        process.wait(10)
        process.stderr.close()


def test_websocket_clients_receive_the_recommendation_records(live_demo):
    from websockets.sync.client import connect

    _, ws_url, jsonl = live_demo
    with connect(ws_url) as first, connect(ws_url) as second:
        received = [records_from(client, 3) for client in (first, second)]
    records = {r["window_end"]: r for r in read_jsonl(jsonl)}
    for messages in received:
        ends = [m["window_end"] for m in messages]
        assert ends == sorted(set(ends))  # newer each time
        for message in messages:
            assert message == records[message["window_end"]]  # the --jsonl record, as is
            assert len(message["top"]) == TOP_K and message["latency_ms"] >= 0
            assert all(set(entry) == {"item", "name", "score"} for entry in message["top"])
            assert [set(e) for e in message["effects"]] == [{"name", "item", "score"}] * TOP_K
            assert len({e["name"] for e in message["effects"]}) == TOP_K


def test_the_websocket_also_sends_a_pose_message_per_pose_frame(live_demo):
    from websockets.sync.client import connect

    _, ws_url, _ = live_demo
    poses = []
    with connect(ws_url) as client:
        while len(poses) < 5:
            message = json.loads(client.recv(timeout=30))
            if message.get("type") == "pose":
                poses.append(message)
    seqs = [m["seq"] for m in poses]
    assert seqs == sorted(set(seqs))
    for message in poses:
        assert set(message) == {"type", "seq", "frame", "effect", "art"}
        assert message["frame"] == [640, 480]  # the demo's frame size
        assert (message["effect"] is None) == (message["art"] is None)


class OverlayDom(HTMLParser):
    """What the rendered overlay shows: the window it is for, the badge, the listed names, and
    the art beside them (the badge's first)."""

    def __init__(self):
        super().__init__()
        self.window_end: int | None = None
        self.badge = ""
        self.names: list[str] = []
        self.art: list[str] = []
        self._into: str | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id") == "overlay" and "data-window-end" in attrs:
            self.window_end = int(attrs["data-window-end"])
        elif tag == "img" and attrs.get("src"):
            self.art.append(attrs["src"])
        elif attrs.get("id") == "preview-name":
            self._into = "badge"
        elif attrs.get("class") == "name":
            self._into = "name"

    def handle_data(self, data):
        if self._into == "badge":
            self.badge += data
        elif self._into == "name":
            self.names.append(data)

    def handle_endtag(self, tag):
        self._into = None


def test_the_overlay_card_shows_the_distinct_effects_with_their_art(live_demo, tmp_path):
    chromium = shutil.which("chromium")
    assert chromium, "Debian's chromium is not installed: `make system-deps` installs it"
    page, _, jsonl = live_demo
    result = subprocess.run(
        [chromium, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}",
         "--virtual-time-budget=5000", "--dump-dom", page],
        capture_output=True, text=True, timeout=120)
    dom = OverlayDom()
    dom.feed(result.stdout)
    assert dom.window_end is not None, f"no recommendation reached the page:\n{result.stdout}"
    record = {r["window_end"]: r for r in read_jsonl(jsonl)}[dom.window_end]
    assert dom.names == [entry["name"] for entry in record["effects"]]
    assert dom.badge == dom.names[0]
    art = ["art/" + urllib.parse.quote(name, safe="()!'*") for name in dom.names]  # as JS does
    assert dom.art == art[:1] + art  # the badge's, then one beside each name


@pytest.fixture
def server():
    """An overlay server on a free port of 127.0.0.1, with no pipeline behind it."""
    served = OverlayServer(ServerConfig(0))
    served.open()
    yield served
    served.close()


def fetch(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.headers["Content-Type"], response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers["Content-Type"], error.read()


@pytest.mark.parametrize("path, status, kind, holds", [
    ("/", 200, "text/html", b'<script src="overlay.js">'),
    ("/overlay.html", 200, "text/html", b'<ol id="top"'),
    ("/overlay.js", 200, "text/javascript", b"new WebSocket"),
    ("/overlay.css", 200, "text/css", b"background: transparent"),
    ("/effects.json", 200, "application/json", b'"poserec-effects/1"'),
    ("/ar", 200, "text/html", b'<script src="ar.js">'),
    ("/ar.js", 200, "text/javascript", b'message.type === "pose"'),
    ("/ar.css", 200, "text/css", b"background: transparent"),
    ("/art/basketball", 200, "image/svg+xml", b"<svg"),
    ("/missing", 404, "text/plain", b"the overlay is at /"),
    ("/ws", 426, "text/plain", b""),
])
def test_http_serves_the_page_its_files_and_the_catalog(server, path, status, kind, holds):
    got_status, got_kind, body = fetch(f"http://127.0.0.1:{server.port}{path}")
    assert (got_status, got_kind.split(";")[0]) == (status, kind)
    assert holds in body


def test_a_slow_client_gets_the_newest_record_and_never_holds_up_the_pipeline(server):
    from websockets.sync.client import connect

    with connect(server.ws_url) as slow:
        started = time.monotonic()
        for n in range(500):  # the client reads nothing meanwhile
            server(recommend("basketball", "hat", window_end=n))
        assert time.monotonic() - started < 5.0
        ends = []
        while not ends or ends[-1] != 499:
            ends.append(json.loads(slow.recv(timeout=10))["window_end"])
    assert ends == sorted(set(ends))  # never an older record after a newer one
    with connect(server.ws_url) as late:
        assert json.loads(late.recv(timeout=10))["window_end"] == 499  # the newest, at once


@pytest.mark.parametrize("host, error", [
    ("127.0.0.1", "is already in use; pick another port, or --serve 0 for a free one"),
    ("192.0.2.1", "cannot listen on 192.0.2.1"),
])
def test_a_port_that_cannot_be_had_is_a_one_line_error(host, error):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        with pytest.raises(PoseRecError, match=error):
            OverlayServer(ServerConfig(port, host)).open()
