"""The replica's one queue of windows to score, from every transport. No Ray here.

Ray Serve's `serve.batch` costs about 0.3 ms of the event loop's time per request here (it reads
the call's signature and records metrics for each one), as much as a third of the scoring of a
window; this queue does only what the replica needs: requests wait until the oldest has waited
`wait_s` or `max_windows` windows are in, then one pass scores them off the event loop.
"""
from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from typing import Callable

from .payload import ScoreRequest
from .stream_session import Scored


class WindowBatcher:
    """`await batcher(request)` (or `batcher.submit(request)`, a future) -> its Scored; `score`
    (called in a worker thread) scores a list of requests at once. A request whose caller was
    cancelled before its batch left the queue is dropped unscored. Use from one event loop."""

    def __init__(self, score: Callable[[list[ScoreRequest]], list[Scored]], max_windows: int,
                 wait_s: float):
        self._score = score
        self.max_windows = max_windows
        self.wait_s = wait_s
        self._pending: deque[tuple[ScoreRequest, asyncio.Future, float]] = deque()
        self._windows = 0
        self._arrived = asyncio.Event()
        self._full = asyncio.Event()
        self._runner: asyncio.Task | None = None

    async def __call__(self, request: ScoreRequest) -> Scored:
        """Queue one request; its share of the batch it was scored in."""
        return await self.submit(request)

    def submit(self, request: ScoreRequest) -> "asyncio.Future[Scored]":
        """Queue one request (from the event loop's thread); the future of its share of the
        batch. Cancel the future to take the request back while its batch has not left."""
        loop = asyncio.get_running_loop()
        if self._runner is None or self._runner.done():
            self._runner = loop.create_task(self._run())
        future = loop.create_future()
        self._pending.append((request, future, loop.time()))
        self._windows += len(request.windows)
        self._arrived.set()
        if self._windows >= self.max_windows:
            self._full.set()
        return future

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._arrived.wait()
            wait = self._pending[0][2] + self.wait_s - loop.time()
            if wait > 0 and self._windows < self.max_windows:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._full.wait(), wait)
            batch = self._take()
            if not self._pending:
                self._arrived.clear()
            if self._windows < self.max_windows:
                self._full.clear()
            if batch:
                await self._score_batch(batch)

    def _take(self) -> list[tuple[ScoreRequest, asyncio.Future]]:
        """The oldest requests still awaited, up to max_windows windows (at least one request)."""
        batch, windows = [], 0
        while self._pending:
            request, future, _ = self._pending[0]
            size = len(request.windows)
            if not future.done() and batch and windows + size > self.max_windows:
                break
            self._pending.popleft()
            self._windows -= size
            if not future.done():
                batch.append((request, future))
                windows += size
        return batch

    async def _score_batch(self, batch: list[tuple[ScoreRequest, asyncio.Future]]) -> None:
        try:
            results = await asyncio.to_thread(self._score, [request for request, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every caller of the batch gets the failure
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), result in zip(batch, results):
            if not future.done():
                future.set_result(result)
