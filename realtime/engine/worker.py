"""The worker thread every pipeline stage is built on: start(), stop(), join(timeout), one stop Event.

A worker never calls sys.exit and never lets an exception die with its thread: `run()` raising
becomes a `WorkerFailed` message handed to `report`, and the main thread decides what follows.
"""
from __future__ import annotations

import threading
from typing import Callable

from ..messages import WorkerFailed

POLL_S = 0.1
"""Longest a worker blocks in a get or put before it looks at its stop Event again."""


class Worker:
    """A daemon thread running `run()` once; subclasses loop until `stopping` or their input ends."""

    name = "worker"

    def __init__(self, report: Callable[[WorkerFailed], None]):
        self._stop_event = threading.Event()
        self._report = report
        self._thread = threading.Thread(target=self._main, name=f"poserec-{self.name}", daemon=True)

    def start(self) -> None:
        """Start the thread."""
        self._thread.start()

    def stop(self) -> None:
        """Ask the worker to stop; it returns from any blocking get or put within POLL_S."""
        self._stop_event.set()

    @property
    def stopping(self) -> bool:
        """Whether stop() was called."""
        return self._stop_event.is_set()

    def join(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the thread to end; True when it has (or never started)."""
        if self._thread.ident is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def run(self) -> None:
        """The worker's loop; override."""
        raise NotImplementedError

    def _main(self) -> None:
        try:
            self.run()
        except Exception as exc:  # every failure travels as a message, never as a dead thread
            self._report(WorkerFailed(self.name, exc))
