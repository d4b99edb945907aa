"""From the pipeline's threads to the GUI thread: Qt signals, the newest result wins."""
from __future__ import annotations

import threading

from PyQt5.QtCore import QObject, pyqtSignal

from ..messages import (NoPerson, PoseFrame, Recommendation, SourceRecovered, SourceReopenFailed,
                        SourceStalled, StreamEnded, WorkerFailed)
from .stats import StreamStats


class PipelineBridge(QObject):
    """The pipeline listener of the window (`deliver`, called on any thread).

    Drop rule: newest wins. A PoseFrame or Recommendation replaces the one of its kind that the
    GUI has not taken yet, and at most one signal per kind waits in Qt's queue, so a slow paint
    never blocks or backs up capture or inference. NoPerson, StreamEnded and WorkerFailed are
    never dropped. Every PoseFrame and Recommendation is counted in `stats` before any drop;
    SourceStalled and SourceRecovered only set the source's state in `stats` (the HUD shows it).
    Other message types are not shown by the window and are ignored.
    """

    pose_ready = pyqtSignal()
    recommendation_ready = pyqtSignal()
    no_person = pyqtSignal(object)
    ended = pyqtSignal(object)
    failed = pyqtSignal(object)

    def __init__(self, stats: StreamStats, parent: QObject | None = None):
        super().__init__(parent)
        self.stats = stats
        self._lock = threading.Lock()
        self._pose: PoseFrame | None = None
        self._recommendation: Recommendation | None = None

    def deliver(self, message) -> None:
        """Hand a pipeline message to the GUI thread (never blocks on the GUI)."""
        if isinstance(message, PoseFrame):
            self.stats.record_pose(message)
            with self._lock:
                waiting, self._pose = self._pose is not None, message
            if not waiting:
                self.pose_ready.emit()
        elif isinstance(message, Recommendation):
            self.stats.record_recommendation(message)
            with self._lock:
                waiting, self._recommendation = self._recommendation is not None, message
            if not waiting:
                self.recommendation_ready.emit()
        elif isinstance(message, (SourceStalled, SourceRecovered, SourceReopenFailed)):
            self.stats.record_source(message)
        elif isinstance(message, NoPerson):
            self.no_person.emit(message)
        elif isinstance(message, StreamEnded):
            self.ended.emit(message)
        elif isinstance(message, WorkerFailed):
            self.failed.emit(message)

    def take_pose(self) -> PoseFrame | None:
        """The newest PoseFrame not yet taken (GUI thread), or None."""
        with self._lock:
            pose, self._pose = self._pose, None
        return pose

    def take_recommendation(self) -> Recommendation | None:
        """The newest Recommendation not yet taken (GUI thread), or None."""
        with self._lock:
            rec, self._recommendation = self._recommendation, None
        return rec
