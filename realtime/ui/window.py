"""The live window: video with skeleton and effect preview beside the top-k panel."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QMainWindow, QWidget

from ..drawing.effects import EffectCatalog
from ..drawing.framing import BodyFraming
from ..messages import PoseFrame, Recommendation
from .controls import ACTIONS_BY_KEY, Action
from .panel import PanelContent, PanelWidget
from .preview import PreviewTracker, StickerBook
from .stats import StreamStats
from .view import CANVAS_SIZE, Layers, VideoContent, VideoView, ViewStyle


@dataclass(frozen=True)
class WindowConfig:
    """Settings of the window (filled from the command line and the pipeline).

    pose_only: the source replays poses (demo, replay:FILE); its images hold nothing but a
    drawing of the pose, so the window draws on its own canvas and frames the body.
    canvas_size: the canvas of frames that come without an image.
    """

    top_k: int = 5
    pose_only: bool = False
    canvas_size: tuple[int, int] = CANVAS_SIZE
    refresh_hz: float = 4.0
    title: str = "PoseRec Live: AR effect recommendations from body pose"


class LiveWindow(QMainWindow):
    """Shows what the pipeline delivers; only the GUI thread calls its methods.

    `closing` is emitted once, when the window closes (by key, by the window manager or by the
    application), so the owner can stop the pipeline.
    """

    closing = pyqtSignal()

    def __init__(self, catalog: EffectCatalog, book: StickerBook, stats: StreamStats,
                 config: WindowConfig = WindowConfig(), style: ViewStyle = ViewStyle()):
        super().__init__()
        self.catalog = catalog
        self.config = config
        self.tracker = PreviewTracker(book)
        self.layers = Layers()
        self.framing = BodyFraming()
        self.pose: PoseFrame | None = None
        self.landmarks = None
        self.recommendation: Recommendation | None = None
        self.previous = None
        self.selected = 0
        self.no_person = False
        self.ended = False
        self.video = VideoView(stats, style)
        self.panel = PanelWidget(catalog, config.top_k)
        central = QWidget()
        layout = QHBoxLayout(central)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.video, 1)
        layout.addWidget(self.panel)
        self.setCentralWidget(central)
        self.setWindowTitle(config.title)
        self.setStyleSheet("QMainWindow { background: #000; }")
        self._refresh = QTimer(self)
        self._refresh.setInterval(round(1000 / config.refresh_hz))
        self._refresh.timeout.connect(self._redraw)
        self._closed = False
        self._redraw()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Start the HUD / window-age refresh."""
        self._refresh.start()
        super().showEvent(event)

    # ---- results (GUI thread) -------------------------------------------------------------

    def show_pose(self, frame: PoseFrame | None) -> None:
        """A new pose frame: move the preview, redraw (ignored while paused)."""
        if frame is None or self.layers.paused:
            return
        self.pose = frame
        self.landmarks = frame.landmarks
        if self.config.pose_only and frame.landmarks is not None:
            self.framing.update(frame.landmarks, frame.t_capture_ns)
            self.landmarks = self.framing.apply(frame.landmarks)
        self.tracker.update(self.landmarks, self._source_size(), frame.t_capture_ns)
        self._redraw()

    def show_recommendation(self, rec: Recommendation | None) -> None:
        """A new ranking: markers against the one shown before it (ignored while paused)."""
        if rec is None or self.layers.paused:
            return
        if self.recommendation is not None:
            self.previous = self.recommendation.ranking
        self.recommendation = rec
        self.no_person = False
        self.selected = min(self.selected, len(rec.ranking.items) - 1)
        self._select_effect()
        self._redraw()

    def show_no_person(self, message=None) -> None:
        """The pipeline lost the person: the panel says so until the next ranking."""
        self.no_person = True
        self._redraw()

    def show_ended(self, message=None) -> None:
        """The source has no more frames."""
        self.ended = True
        self._redraw()

    # ---- keys -------------------------------------------------------------------------------

    def keyPressEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Keys from controls.KEY_BINDINGS; others go to Qt."""
        action = ACTIONS_BY_KEY.get(event.key())
        if action is None:
            super().keyPressEvent(event)
            return
        self.perform(action)

    def perform(self, action: Action) -> None:
        """Do what a key asks."""
        toggles = {Action.PAUSE: "paused", Action.SKELETON: "skeleton", Action.PREVIEW: "preview",
                   Action.OVERLAY: "overlay_only", Action.HELP: "help"}
        if action in toggles:
            self.layers = self.layers.toggled(toggles[action])
            self.panel.setVisible(not self.layers.overlay_only)
        elif action in (Action.NEXT, Action.PREVIOUS):
            self.select_step(1 if action is Action.NEXT else -1)
        elif action is Action.FULLSCREEN:
            self.setWindowState(self.windowState() ^ Qt.WindowFullScreen)
        elif action is Action.BACK:
            if self.layers.help:
                self.layers = self.layers.toggled("help")
            elif self.isFullScreen():
                self.showNormal()
        elif action is Action.QUIT:
            self.close()
        self._redraw()

    def select_step(self, step: int) -> None:
        """Preview the effect `step` places further down (or up) the top-k, wrapping around."""
        count = len(self.recommendation.ranking.items) if self.recommendation else 1
        self.selected = (self.selected + step) % count
        self._select_effect()

    # ---- closing ------------------------------------------------------------------------------

    @property
    def closed(self) -> bool:
        """Whether the window has been closed."""
        return self._closed

    def closeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Stop refreshing and tell the owner (once)."""
        self._refresh.stop()
        if not self._closed:
            self._closed = True
            self.closing.emit()
        super().closeEvent(event)

    # ---- drawing --------------------------------------------------------------------------

    def _source_size(self) -> tuple[int, int]:
        if self.pose is not None and self.pose.image is not None:
            h, w = self.pose.image.shape[:2]
            return w, h
        return self.config.canvas_size

    def _select_effect(self) -> None:
        effect = None
        if self.recommendation is not None:
            name = self.recommendation.ranking.names[self.selected]
            effect = self.catalog.effects.get(name)
        self.tracker.select(effect)
        if self.pose is not None:
            self.tracker.update(self.landmarks, self._source_size(), self.pose.t_capture_ns)

    def _redraw(self) -> None:
        pose, tracker = self.pose, self.tracker
        sticker = None if tracker.effect is None else tracker.book.image(tracker.effect)
        image = None if pose is None or self.config.pose_only else pose.image
        banner = ""
        if pose is not None and pose.landmarks is None:
            banner = "No person in view"
        elif self.ended:
            banner = "Stream ended"
        self.video.show_content(VideoContent(self._source_size(), image, self.landmarks, sticker,
                                             tracker.box, banner), self.layers)
        self.panel.show_content(PanelContent(self.recommendation, self.previous, self.selected,
                                             self.no_person, self.ended, self.layers.paused))
