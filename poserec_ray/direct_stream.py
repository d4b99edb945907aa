"""A replica's own WebSocket server for sessions: ws://HOST:STREAM_PORT/stream, no proxy between.

Through Ray Serve's proxy every message of a session costs the proxy and the replica Ray calls
(5-8 ms of CPU a window here, against about 1 ms of scoring); a replica that listens itself
reads the bytes straight off its socket. The replicas of a node share the port (SO_REUSEPORT: the
kernel spreads the connections among them).

Each connection is one asyncio Protocol around websockets' Sans-I/O `ServerProtocol` (framing,
the handshake, ping and close): a message is parsed in the callback that read it, its window
goes straight into the replica's queue, and its ranking is written from the callback that ends
its batch. No task, lock or queue per message, as websockets' asyncio server has: about 0.21
against 0.26 ms of the event loop's CPU a window at 64 streams (benchmarks/README.md). What a
message means and the session limit are the replica's, as for the proxied WebSocket and gRPC
sessions (stream_session.py). No Ray here.
"""
from __future__ import annotations

import asyncio
import socket
from collections import deque
from http import HTTPStatus
from typing import Callable

from websockets.frames import Frame, Opcode
from websockets.http11 import Request
from websockets.protocol import SEND_EOF
from websockets.server import ServerProtocol

from .payload import ScoreRequest
from .stream_session import MAX_IN_FLIGHT, Scored, SessionAnswerer, SessionLimit

MAX_MESSAGE_BYTES = 1 << 20
"""Largest message read (a window of the longest accepted length is about 160 KB)."""
CLOSE_TIMEOUT_S = 10.0
"""How long the server waits for a client to answer its close frame before it cuts the TCP
connection."""
KEEPALIVE = ((socket.TCP_KEEPIDLE, 20), (socket.TCP_KEEPINTVL, 5), (socket.TCP_KEEPCNT, 3))
"""TCP keepalive of a session's socket: a client gone without a word (power cut, network lost)
frees its place after about 20 + 3 * 5 = 35 s (the settings' sum; not timed)."""

Submit = Callable[[ScoreRequest], "asyncio.Future[Scored]"]


class _Session(asyncio.Protocol):
    """One connection: its handshake, then its messages answered in order. At most MAX_IN_FLIGHT
    messages are being answered at once; past that, or while the client does not read its
    answers, the connection stops reading (the client's sends wait)."""

    def __init__(self, route: str, sessions: SessionLimit, answerer: SessionAnswerer,
                 submit: Submit):
        self.route, self.sessions, self.answerer, self.submit = route, sessions, answerer, submit
        self.websocket = ServerProtocol(max_size=MAX_MESSAGE_BYTES)
        self.transport: asyncio.Transport | None = None
        self.counted = False          # holds one of the replica's session places
        self.parts: list[bytes] = []  # the frames so far of a fragmented message
        self.text = False             # the message being read is a text message
        self.backlog: deque[bytes | None] = deque()  # read, not yet taken up (None: text)
        self.answers: deque = deque()  # bytes, or (window, future of its Scored), in order
        self.writing_paused = False
        self.reading_paused = False
        self.close_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:
        self.transport = transport
        sock = transport.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            for option, value in KEEPALIVE:
                sock.setsockopt(socket.IPPROTO_TCP, option, value)

    def data_received(self, data: bytes) -> None:
        self.websocket.receive_data(data)
        self._take_events()

    def eof_received(self) -> bool:
        self.websocket.receive_eof()
        self._take_events()
        return False

    def connection_lost(self, exc: Exception | None) -> None:
        for answer in self.answers:  # windows not yet in a batch leave the queue unscored
            if not isinstance(answer, bytes):
                answer[1].cancel()
        self.answers.clear()
        self.backlog.clear()
        if self.close_timer is not None:
            self.close_timer.cancel()
        if self.counted:
            self.counted = False
            self.sessions.close()

    def pause_writing(self) -> None:
        self.writing_paused = True
        self._take_backlog()

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._take_backlog()
        self._flush()

    def _take_events(self) -> None:
        for event in self.websocket.events_received():
            if isinstance(event, Request):
                self._handshake(event)
            elif self.counted:
                self._frame(event)
        self._take_backlog()
        self._flush()

    def _handshake(self, request: Request) -> None:
        websocket = self.websocket
        if request.path != self.route:
            websocket.send_response(websocket.reject(HTTPStatus.NOT_FOUND,
                                                     f"sessions are at {self.route}\n"))
            return
        response = websocket.accept(request)
        websocket.send_response(response)
        if response.status_code != HTTPStatus.SWITCHING_PROTOCOLS:
            return
        if not self.sessions.try_open():
            websocket.send_binary(self.sessions.refusal())
            websocket.send_close(1013, "session limit")
            return
        self.counted = True

    def _frame(self, frame: Frame) -> None:
        """Gather a message from its frames (ping, pong and close are the ServerProtocol's)."""
        if frame.opcode in (Opcode.TEXT, Opcode.BINARY):
            self.parts, self.text = [frame.data], frame.opcode is Opcode.TEXT
        elif frame.opcode is Opcode.CONT and self.parts:
            self.parts.append(frame.data)
        else:
            return
        if sum(map(len, self.parts)) > MAX_MESSAGE_BYTES:
            self.parts = []
            self.websocket.fail(1009, f"a message over {MAX_MESSAGE_BYTES} bytes")
        elif frame.fin:
            parts, self.parts = self.parts, []
            self.backlog.append(None if self.text else parts[0] if len(parts) == 1
                                else b"".join(parts))

    def _take_backlog(self) -> None:
        """Answer the messages read so far, as many as there is room for; read on when there is."""
        while self.backlog and len(self.answers) < MAX_IN_FLIGHT and not self.writing_paused:
            parsed = self.answerer.parse(self.backlog.popleft())
            if isinstance(parsed, bytes):
                self.answers.append(parsed)
            else:
                scored = self.submit(self.answerer.request(parsed))
                scored.add_done_callback(self._answered)
                self.answers.append((parsed, scored))
        full = bool(self.backlog) or len(self.answers) >= MAX_IN_FLIGHT or self.writing_paused
        if full != self.reading_paused and not self.transport.is_closing():
            self.reading_paused = full
            if full:
                self.transport.pause_reading()
            else:
                self.transport.resume_reading()

    def _answered(self, scored: asyncio.Future) -> None:
        if scored.cancelled():
            return
        self._send_ready()
        self._take_backlog()
        self._flush()

    def _send_ready(self) -> None:
        """Send the answers at the head of the line that are ready, in order."""
        answers = self.answers
        while answers:
            head = answers[0]
            if isinstance(head, bytes):
                reply = head
            elif head[1].done():
                window, scored = head
                reply = self.answerer.ranking(window, scored.result()) \
                    if scored.exception() is None else self.answerer.failure(window,
                                                                             scored.exception())
            else:
                return
            answers.popleft()
            self.websocket.send_binary(reply)

    def _flush(self) -> None:
        """Send what is ready; close the connection where the WebSocket says so."""
        self._send_ready()
        transport = self.transport
        for data in self.websocket.data_to_send():
            if transport.is_closing():
                return
            if data == SEND_EOF:
                transport.close()  # after what is buffered
            else:
                transport.write(data)
        if self.websocket.close_expected() and self.close_timer is None \
                and not transport.is_closing():
            self.close_timer = asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S,
                                                                     transport.close)


async def start_stream_server(host: str, port: int, route: str, sessions: SessionLimit,
                              answerer: SessionAnswerer, submit: Submit) -> asyncio.Server:
    """Listen on HOST:PORT (shared with the node's other replicas) for sessions at `route`, whose
    windows go to `submit` (the replica's queue); other paths get 404; over the session limit, a
    fatal ERROR and close code 1013 (try again later), as the proxied route."""
    return await asyncio.get_running_loop().create_server(
        lambda: _Session(route, sessions, answerer, submit), host, port, reuse_port=True)
