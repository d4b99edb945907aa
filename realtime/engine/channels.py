"""The two hand-offs between pipeline threads, each with its drop rule in its name.

`LatestWinsSlot` (capture to pose, live sources): the newest item only; a consumer that is
slow never sees a stale frame once a newer one exists. `LosslessQueue` (files, replays, and pose
to inference always): nothing is dropped; when it is full the producer waits.
"""
from __future__ import annotations

import queue
import threading
from typing import Any

from .worker import POLL_S


class LatestWinsSlot:
    """Holds one item: put() never blocks and replaces an unread item, counted in `dropped`."""

    def __init__(self):
        self._ready = threading.Condition()
        self._item: Any = None
        self.dropped = 0

    def put(self, item: Any, stop: threading.Event) -> bool:
        """Store `item` in place of any unread one; always True (`stop` only matches the
        signature of LosslessQueue.put)."""
        with self._ready:
            if self._item is not None:
                self.dropped += 1
            self._item = item
            self._ready.notify()
        return True

    def get(self, timeout: float) -> Any:
        """The newest item, waiting up to `timeout` seconds for one; None when none came."""
        with self._ready:
            self._ready.wait_for(lambda: self._item is not None, timeout)
            item, self._item = self._item, None
            return item


class LosslessQueue:
    """A FIFO of at most `capacity` items: put() waits while it is full, so nothing is dropped."""

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"capacity must be at least 1, got {capacity}")
        self._queue: queue.Queue = queue.Queue(capacity)

    def put(self, item: Any, stop: threading.Event) -> bool:
        """Append `item`, waiting for room; False when `stop` was set before there was room."""
        while not stop.is_set():
            try:
                self._queue.put(item, timeout=POLL_S)
                return True
            except queue.Full:
                continue
        return False

    def get(self, timeout: float) -> Any:
        """The oldest item, waiting up to `timeout` seconds; None when none came."""
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> list:
        """Every item queued now, oldest first, without waiting."""
        items = []
        while True:
            try:
                items.append(self._queue.get_nowait())
            except queue.Empty:
                return items
