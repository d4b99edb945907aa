"""The live window: the rendered video (skeleton, effect on the body) beside the top-k panel."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import Qt, QTimer, pyqtSignal
from PyQt5.QtWidgets import QHBoxLayout, QMainWindow, QWidget

from ..drawing.art import ArtBook
from ..drawing.choice import EffectChoice, listed_names
from ..drawing.demo_canvas import CANVAS_SIZE
from ..drawing.effects import EffectCatalog
from ..drawing.renderer import Renderer
from ..messages import PoseFrame, Recommendation
from .controls import ACTIONS_BY_KEY, Action
from .panel import PanelContent, PanelWidget
from .stats import StreamStats
from .view import Layers, VideoContent, VideoView, ViewStyle


@dataclass(frozen=True)
class WindowConfig:
    """Settings of the window (filled from the command line and the pipeline).

    pose_only: the source replays poses (demo, replay:FILE); its images hold nothing but a
    drawing of the pose, so the window draws on its own canvas and frames the body.
    canvas_size: the canvas of frames that come without an image. source: the line naming the
    opened source, shown in the panel. mirror: the video is shown mirrored (`--mirror`).
    """

    top_k: int = 5
    pose_only: bool = False
    mirror: bool = False
    source: str = ""
    canvas_size: tuple[int, int] = CANVAS_SIZE
    refresh_hz: float = 4.0
    title: str = "PoseRec Live: AR effect recommendations from body pose"


class LiveWindow(QMainWindow):
    """Shows what the pipeline delivers; only the GUI thread calls its methods.

    `closing` is emitted once, when the window closes (by key, by the window manager or by the
    application), so the owner can stop the pipeline. `choice` holds the entry ←/→ picked (and
    whether the raw items are listed); give the outputs the same EffectChoice and they show the
    effect the window shows.
    """

    closing = pyqtSignal()

    def __init__(self, catalog: EffectCatalog, art: ArtBook, stats: StreamStats,
                 config: WindowConfig = WindowConfig(), style: ViewStyle = ViewStyle(),
                 choice: EffectChoice | None = None):
        super().__init__()
        self.choice = EffectChoice() if choice is None else choice
        self.catalog = catalog
        self.config = config
        self.renderer = Renderer(catalog, art)
        self.layers = Layers()
        self.pose: PoseFrame | None = None
        self.effect: str | None = None
        self.frame = None
        self.recommendation: Recommendation | None = None
        self.previous = None
        self.no_person = False
        self.ended = False
        self.video = VideoView(stats, style)
        self.panel = PanelWidget(catalog, config.top_k, art=art)
        self.panel.source = config.source
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
        self._render()
        self._redraw()

    def showEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Start the HUD / window-age refresh."""
        self._refresh.start()
        super().showEvent(event)

    # ---- results (GUI thread) -------------------------------------------------------------

    def show_pose(self, frame: PoseFrame | None) -> None:
        """A new pose frame: render it with the selected effect, redraw (ignored while paused)."""
        if frame is None or self.layers.paused:
            return
        self.pose = frame
        self._render()
        self._redraw()

    def show_recommendation(self, rec: Recommendation | None) -> None:
        """A new ranking: markers against the one shown before it (ignored while paused)."""
        if rec is None or self.layers.paused:
            return
        self.previous = self.recommendation
        self.recommendation = rec
        self.no_person = False
        self._choose(min(self.selected, max(0, self._listed() - 1)), self.raw_items)
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
        elif action is Action.ITEMS:
            self._choose(0, not self.raw_items)
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
        self._render()
        self._redraw()

    def select_step(self, step: int) -> None:
        """Preview the effect `step` places further down (or up) the top-k, wrapping around;
        every output sharing the window's EffectChoice shows it too."""
        self._choose((self.selected + step) % max(1, self._listed()), self.raw_items)

    @property
    def selected(self) -> int:
        """The rank of the previewed entry (0: the top)."""
        return self.choice.rank

    @property
    def raw_items(self) -> bool:
        """Whether the panel lists the raw items (I key) instead of the distinct effects."""
        return self.choice.raw_items

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

    def _choose(self, rank: int, raw_items: bool) -> None:
        """Pick the entry at `rank`: its effect becomes the one drawn (None: not in the
        catalog), here and in every output reading the same choice."""
        self.choice.choose(rank, raw_items)
        name = self.choice.effect(self.recommendation)
        self.effect = name if name in self.catalog else None
        self._render()

    def _listed(self) -> int:
        """How many entries the panel lists now: distinct effects, or raw items on request."""
        rec = self.recommendation
        return 0 if rec is None else len(listed_names(rec, self.raw_items))

    def _render(self) -> None:
        """The composited frame of the current pose, effect and layers (the one renderer)."""
        self.frame = self.renderer.render(self.pose, self.effect,
                                          self.layers.render_options(self.config.mirror),
                                          self._source_size())

    def _redraw(self) -> None:
        pose = self.pose
        banner = ""
        if pose is not None and pose.landmarks is None:
            banner = "No person in view"
        elif self.ended:
            banner = "Stream ended"
        self.video.show_content(VideoContent(self._source_size(), self.frame, banner),
                                self.layers)
        self.panel.show_content(PanelContent(self.recommendation, self.previous, self.selected,
                                             self.no_person, self.ended, self.layers.paused,
                                             self.raw_items))
