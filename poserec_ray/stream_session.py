"""A replica's side of the session transports: one binary message in, one answer out. No Ray here.

The WebSocket route and the gRPC method of serve_app.py and the replica's own server
(direct_stream.py) only move bytes; what a message means and how it is answered
(stream_protocol.py) live here, so that every transport answers alike, and for the first two how
many of a session's messages are answered at once and what happens when its client leaves.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import AsyncIterator, Awaitable, Callable

import numpy as np

from realtime.engine.stream_protocol import (ProtocolError, WindowMessage, decode_request,
                                             encode_catalog, encode_error, encode_ranking)

from .payload import ScoreRequest

MAX_STREAM_FRAMES = 300
"""Longest window a session accepts (10 s at 30 FPS)."""
MAX_IN_FLIGHT = 32
"""Most messages of one session being answered at once; past that the session stops reading
(the client's sends wait), so one session cannot queue unbounded work."""


class ClientGone(Exception):
    """Raised by a session's message iterator when the client left: nobody reads the answers."""


@dataclass(frozen=True)
class Scored:
    """What the replica's batch gives back for one request: top items and their scores (N, k),
    every score (N, n_items) when asked, and the requests and windows of the batch."""

    items: np.ndarray
    values: np.ndarray
    scores: np.ndarray | None
    batch_requests: int
    batch_windows: int


class SessionLimit:
    """The open sessions of one replica, at most `max_sessions` (the event loop's thread only)."""

    def __init__(self, max_sessions: int):
        self.max_sessions = max_sessions
        self.open = 0

    def try_open(self) -> bool:
        """Count one more session, or False when the replica already holds the most."""
        if self.open >= self.max_sessions:
            return False
        self.open += 1
        return True

    def close(self) -> None:
        """A session ended."""
        self.open -= 1

    def refusal(self) -> bytes:
        """The fatal ERROR a session over the limit gets before the server closes it."""
        return encode_error(0, f"the server is full: it holds {self.max_sessions} sessions per "
                               "replica (poserec serve --max-sessions); retry later or add "
                               "replicas", fatal=True)


class SessionAnswerer:
    """Answers one session's messages; `score` is the replica's batched scoring."""

    def __init__(self, score: Callable[[ScoreRequest], Awaitable[Scored]], names: tuple[str, ...]):
        self.score = score
        self.num_items = len(names)
        self.catalog = encode_catalog(names, MAX_STREAM_FRAMES)

    def parse(self, message: bytes | None) -> bytes | WindowMessage:
        """A message (None: a text message) as the window to score, or its reply at once: the
        CATALOG, or an ERROR that says what is wrong (the session goes on)."""
        if message is None:
            return encode_error(0, "a text message; the session takes binary messages")
        try:
            window = decode_request(message, self.num_items, MAX_STREAM_FRAMES)
        except ProtocolError as exc:
            return encode_error(exc.seq, str(exc))
        return self.catalog if window is None else window

    @staticmethod
    def request(window: WindowMessage) -> ScoreRequest:
        """What the replica's batch scores for a window."""
        return ScoreRequest(window.poses[None], window.top_k, window.with_scores)

    @staticmethod
    def ranking(window: WindowMessage, scored: Scored) -> bytes:
        """The RANKING that answers a scored window."""
        return encode_ranking(window.seq, scored.items[0], scored.values[0], scored.batch_requests,
                              scored.scores[0] if window.with_scores else None)

    @staticmethod
    def failure(window: WindowMessage, exc: BaseException) -> bytes:
        """The ERROR for a window the replica failed to score (the session goes on)."""
        return encode_error(window.seq, f"the server could not score this window: "
                                        f"{type(exc).__name__}: {exc}".splitlines()[0])

    async def answer(self, message: bytes | None) -> bytes:
        """The reply to one message (None: a text message): a RANKING, the CATALOG, or an
        ERROR that says what is wrong (the session goes on)."""
        parsed = self.parse(message)
        if isinstance(parsed, bytes):
            return parsed
        try:
            scored = await self.score(self.request(parsed))
        except Exception as exc:  # noqa: BLE001 - the client is told; the session goes on
            return self.failure(parsed, exc)
        return self.ranking(parsed, scored)

    async def answers(self, messages: AsyncIterator[bytes | None]) -> AsyncIterator[bytes]:
        """The answers to a session's messages, in their order. Up to MAX_IN_FLIGHT messages are
        answered at once (so they batch together); when `messages` raises ClientGone the
        answers not yet sent are cancelled (windows not yet in a batch leave the queue
        unscored). Any other failure of `messages` is raised here, after the answers before it."""
        pending: asyncio.Queue = asyncio.Queue()  # answers in order; None: no more messages
        slots = asyncio.Semaphore(MAX_IN_FLIGHT)
        gone = False
        awaited: list[asyncio.Future] = []            # the answer the writer waits for
        failures: list[Exception] = []

        async def read() -> None:
            nonlocal gone
            try:
                async for message in messages:
                    await slots.acquire()
                    pending.put_nowait(asyncio.ensure_future(self.answer(message)))
            except ClientGone:
                gone = True
                for answer in awaited:
                    answer.cancel()
            except Exception as exc:  # noqa: BLE001 - raised by the writer below, in order
                failures.append(exc)
            finally:
                pending.put_nowait(None)

        reader = asyncio.ensure_future(read())
        answer = None
        try:
            while (answer := await pending.get()) is not None and not gone:
                if not answer.done():
                    awaited.append(answer)
                    try:
                        await answer
                    except asyncio.CancelledError:
                        if not gone:
                            raise
                    finally:
                        awaited.clear()
                if gone:
                    break
                slots.release()
                yield answer.result()
                answer = None
            if failures:
                raise failures[0]
        finally:
            reader.cancel()
            if answer is not None:
                answer.cancel()
            while not pending.empty():
                answer = pending.get_nowait()
                if answer is not None:
                    answer.cancel()
