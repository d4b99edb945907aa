"""Score windows on a remote `poserec serve` application instead of locally (no Ray here).

`RemoteScorer` offers what the inference worker uses of a Recommender (`score`, `catalog.names`,
`device`) and `recommend`. One persistent HTTP connection per scorer: use one per thread.
`connect(url)` picks it for http(s) URLs and the session transport (stream_scorer.py) for
ws:// and grpc:// ones.
"""
from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking

_RETRYABLE = (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError)


def connect(url: str):
    """A loaded scorer for `url`: a StreamScorer session for ws(s):// and grpc://, else a
    RemoteScorer (HTTP JSON)."""
    from .stream_scorer import STREAM_SCHEMES, StreamScorer

    if urlsplit(url).scheme in STREAM_SCHEMES:
        return StreamScorer(url).load()
    return RemoteScorer(url).load()


@dataclass(frozen=True)
class RemoteCatalog:
    """The server's item names (index = item)."""

    names: tuple[str, ...]


class RemoteScorer:
    """A PoseRec server as a scorer. url: its endpoint, e.g. http://127.0.0.1:8000/recommend.

    `load()` asks the server for its catalog (and so checks that it answers).
    """

    def __init__(self, url: str, timeout_s: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise PoseRecError(f"--remote {url!r}: expected an http(s)://HOST:PORT/recommend URL "
                               "of `poserec serve` (or a session: ws://HOST:PORT/stream, "
                               "grpc://HOST:PORT)")
        self.url = url
        self.device = f"remote {url}"
        self.timeout_s = timeout_s
        self.catalog: RemoteCatalog | None = None
        self._parts = parts
        self._connection: http.client.HTTPConnection | None = None

    def load(self) -> "RemoteScorer":
        """Fetch the catalog's item names from the server."""
        self.catalog = RemoteCatalog(tuple(self._request("GET", None)["names"]))
        return self

    def score(self, windows: np.ndarray) -> np.ndarray:
        """Scores (N, n_items) float32 of every item for each window (N, T, 33, 4)."""
        doc = self._request("POST", self._body(windows, top_k=1, scores=True))
        return np.asarray(doc["scores"], dtype=np.float32)

    def recommend(self, windows: np.ndarray, top_k: int = 5) -> list[Ranking]:
        """The `top_k` best items of each window (N, T, 33, 4), best first."""
        doc = self._request("POST", self._body(windows, top_k=top_k))
        return [Ranking(tuple(e["item"] for e in w["top"]), tuple(e["name"] for e in w["top"]),
                        tuple(e["score"] for e in w["top"])) for w in doc["windows"]]

    def close(self) -> None:
        """Close the connection (the next call opens a new one)."""
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    @staticmethod
    def _body(windows: np.ndarray, **fields) -> bytes:
        return json.dumps({"windows": np.asarray(windows, dtype=np.float32).tolist(),
                           **fields}).encode()

    def _connect(self) -> http.client.HTTPConnection:
        if self._connection is None:
            kind = (http.client.HTTPSConnection if self._parts.scheme == "https"
                    else http.client.HTTPConnection)
            self._connection = kind(self._parts.hostname, self._parts.port, timeout=self.timeout_s)
        return self._connection

    def _request(self, method: str, body: bytes | None) -> dict:
        """Send once, again on a fresh connection when the kept-alive one was closed; return the
        answer's JSON, or raise PoseRecError with the server's reason."""
        headers = {"Content-Type": "application/json"} if body is not None else {}
        for attempt in (1, 2):
            try:
                connection = self._connect()
                connection.request(method, self._parts.path or "/", body, headers)
                response = connection.getresponse()
                payload = response.read()
                break
            except _RETRYABLE:
                self.close()
                if attempt == 2:
                    raise PoseRecError(f"{self.url}: the server closed the connection twice") from None
            except OSError as exc:
                self.close()
                raise PoseRecError(f"{self.url}: cannot reach the PoseRec server ({exc}); start "
                                   "it with `poserec serve`") from None
        try:
            doc = json.loads(payload)
        except json.JSONDecodeError:
            raise PoseRecError(f"{self.url}: answered {response.status} with a body that is not "
                               "JSON; is it a `poserec serve` URL?") from None
        if response.status != 200:
            raise PoseRecError(f"{self.url}: the server answered {response.status}: "
                               f"{doc.get('error', 'no reason given')}")
        return doc
