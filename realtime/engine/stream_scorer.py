"""Score windows over one long-lived session with `poserec serve` (no Ray here).

`StreamScorer(url)` offers what RemoteScorer offers (`load`, `score`, `recommend`, `close`,
`catalog.names`, `device`), over ws://HOST:PORT/stream (WebSocket) or grpc://HOST:PORT (the
gRPC method poserec.PoseRec/Stream), one binary message per window (stream_protocol.py). One
session per scorer: use one per thread.
"""
from __future__ import annotations

import queue
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

import numpy as np

from poserec_core.errors import PoseRecError
from poserec_core.recommender import Ranking

from . import stream_protocol as protocol

STREAM_SCHEMES = ("ws", "wss", "grpc")
GRPC_METHOD = "/poserec.PoseRec/Stream"
"""As poserec_ray.grpc_service (not imported here: the server's side)."""


@dataclass(frozen=True)
class StreamCatalog:
    """The server's item names (index = item)."""

    names: tuple[str, ...]


class WebSocketChannel:
    """One WebSocket session: send a message, receive the next one (within `timeout_s`)."""

    def __init__(self, url: str, timeout_s: float):
        from websockets.sync.client import connect

        self._socket = connect(url, open_timeout=timeout_s, close_timeout=1, max_size=1 << 20,
                               compression=None, legacy=True)
        self._timeout_s = timeout_s

    def send(self, message: bytes) -> None:
        """Send one binary message."""
        self._socket.send(message)

    def receive(self) -> bytes:
        """The server's next message."""
        message = self._socket.recv(timeout=self._timeout_s)
        return message if isinstance(message, bytes) else message.encode()

    def close(self) -> None:
        """End the session (close code 1000)."""
        self._socket.close()


class GrpcChannel:
    """One bidirectional gRPC call fed from a queue (None ends the requests); a reply that takes
    more than `timeout_s` cancels the call."""

    def __init__(self, target: str, timeout_s: float):
        import grpc
        from google.protobuf.wrappers_pb2 import BytesValue

        self._channel = grpc.insecure_channel(target)
        try:
            grpc.channel_ready_future(self._channel).result(timeout=timeout_s)
        except grpc.FutureTimeoutError:
            self._channel.close()
            raise
        call = self._channel.stream_stream(GRPC_METHOD,
                                           request_serializer=BytesValue.SerializeToString,
                                           response_deserializer=BytesValue.FromString)
        self._requests: queue.Queue = queue.Queue()
        self._wrap = BytesValue
        self._timeout_s = timeout_s
        self._replies = call(iter(self._requests.get, None))

    def send(self, message: bytes) -> None:
        """Send one message (as a BytesValue)."""
        self._requests.put(self._wrap(value=message))

    def receive(self) -> bytes:
        """The server's next message (StopIteration when the server ended the call)."""
        deadline = threading.Timer(self._timeout_s, self._replies.cancel)
        deadline.start()
        try:
            return next(self._replies).value
        finally:
            deadline.cancel()

    def close(self) -> None:
        """End the requests and the channel (which cancels the call)."""
        self._requests.put(None)
        self._channel.close()


def open_channel(url: str, timeout_s: float) -> WebSocketChannel | GrpcChannel:
    """A session's raw channel (binary messages of stream_protocol.py) for ws(s):// or grpc://."""
    parts = urlsplit(url)
    if parts.scheme == "grpc":
        return GrpcChannel(parts.netloc, timeout_s)
    return WebSocketChannel(url, timeout_s)


def _transport_errors(scheme: str) -> tuple[type[BaseException], ...]:
    """What the transport of `scheme` raises when the connection fails or ends."""
    if scheme == "grpc":
        import grpc

        return (grpc.RpcError, grpc.FutureTimeoutError, StopIteration, OSError)
    from websockets.exceptions import WebSocketException

    return (WebSocketException, TimeoutError, OSError)


class StreamScorer:
    """A PoseRec server's session as a scorer. `load()` opens the session and reads the catalog."""

    def __init__(self, url: str, timeout_s: float = 10.0):
        parts = urlsplit(url)
        if parts.scheme not in STREAM_SCHEMES or not parts.hostname or not parts.port:
            raise PoseRecError(f"--remote {url!r}: expected ws://HOST:PORT/stream or "
                               "grpc://HOST:PORT of `poserec serve`")
        self.url = url
        self.device = f"remote {url}"
        self.timeout_s = timeout_s
        self.catalog: StreamCatalog | None = None
        self._channel = None
        self._errors = _transport_errors(parts.scheme)
        self._seq = 0

    def load(self) -> "StreamScorer":
        """Open the session and fetch the catalog's item names."""
        reply = self._exchange([protocol.CATALOG_REQUEST])[0]
        self.catalog = StreamCatalog(reply.names)
        return self

    def score(self, windows: np.ndarray) -> np.ndarray:
        """Scores (N, n_items) float32 of every item for each window (N, T, 33, 4)."""
        replies = self._exchange(self._windows(windows, top_k=1, with_scores=True))
        return np.stack([r.all_scores for r in replies])

    def recommend(self, windows: np.ndarray, top_k: int = 5) -> list[Ranking]:
        """The `top_k` best items of each window (N, T, 33, 4), best first."""
        if self.catalog is None:
            self.load()
        names = self.catalog.names
        return [Ranking(r.items, tuple(names[i] for i in r.items), r.scores)
                for r in self._exchange(self._windows(windows, top_k, with_scores=False))]

    def close(self) -> None:
        """End the session (the next call opens a new one)."""
        if self._channel is not None:
            self._channel.close()
            self._channel = None

    def _windows(self, windows: np.ndarray, top_k: int, with_scores: bool) -> list[bytes]:
        messages = []
        for window in np.asarray(windows, dtype=np.float32):
            self._seq += 1
            messages.append(protocol.encode_window(window, self._seq, top_k, with_scores))
        return messages

    def _open(self):
        if self._channel is None:
            try:
                self._channel = open_channel(self.url, self.timeout_s)
            except self._errors as exc:
                raise PoseRecError(f"{self.url}: cannot open a session with the PoseRec server "
                                   f"({type(exc).__name__}: {exc}); start it with "
                                   "`poserec serve`") from None
        return self._channel

    def _in_order(self, replies: list[protocol.Reply], seqs: list[int]) -> list[protocol.Reply]:
        """The replies in the order of the requests, matched by `seq` (an ERROR without a window
        and the CATALOG carry 0)."""
        by_seq = {r.seq: r for r in replies}
        if len(by_seq) != len(replies) or set(by_seq) != set(seqs):
            errors = [r for r in replies if r.kind == protocol.ERROR]
            if errors:
                return errors
            raise PoseRecError(f"{self.url}: the server's answers do not match the windows sent")
        return [by_seq[s] for s in seqs]

    def _last_error(self, channel) -> str | None:
        """The text of an ERROR the server sent before it ended the session, if one is there."""
        try:
            reply = protocol.decode_reply(channel.receive())
        except (PoseRecError, *self._errors):
            return None
        return reply.error if reply.kind == protocol.ERROR else None

    def _exchange(self, messages: list[bytes]) -> list[protocol.Reply]:
        """Send the messages, then read one answer each, in order; an ERROR raises PoseRecError
        with the server's reason (a fatal one, such as the session limit, also ends the
        session)."""
        channel = self._open()
        try:
            for message in messages:
                channel.send(message)
            replies = self._in_order([protocol.decode_reply(channel.receive()) for _ in messages],
                                     [protocol.HEADER.unpack_from(m)[4] for m in messages])
        except PoseRecError:
            self.close()
            raise
        except self._errors as exc:
            last_word = self._last_error(channel)
            self.close()
            if last_word is not None:  # e.g. the session limit's refusal, sent before closing
                raise PoseRecError(f"{self.url}: the server answered: {last_word}") from None
            raise PoseRecError(f"{self.url}: the session ended ({type(exc).__name__}: "
                               f"{exc})") from None
        for reply in replies:
            if reply.kind == protocol.ERROR:
                if reply.fatal:
                    self.close()
                raise PoseRecError(f"{self.url}: the server answered: {reply.error}")
        return replies
