"""`run_window(pipeline, AppConfig(...))`: the Qt application around a running pipeline."""
from __future__ import annotations

import os
import signal
import sys
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from poserec_core.errors import PoseRecError

from ..drawing.art import ArtBook
from ..drawing.choice import EffectChoice
from ..drawing.effects import DEFAULT_EFFECTS_FILE, load_effects
from .bridge import PipelineBridge
from .display import display_problem
from .stats import StreamStats
from .window import LiveWindow, WindowConfig

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that close the window cleanly (exit status 128 + the signal's number)."""

JOIN_TIMEOUT_S = 5.0
"""How long the pipeline's threads get to end after the window closed (a pipeline whose
threads outlive it reports a failure in its exit status)."""

WINDOW_SIZE = (1360, 720)
"""The window's first size in pixels: a 4:3 video beside the panel."""

class NoDisplayError(PoseRecError):
    """There is no display to open the window on."""


def require_display(environ=os.environ, platform: str = sys.platform) -> None:
    """Raise NoDisplayError (one line, what to do) when Qt would find no display and abort."""
    problem = display_problem(environ, platform)
    if problem is not None:
        raise NoDisplayError(f"{problem} to open the window on: run it on a desktop, or under a "
                             "virtual display (`xvfb-run -a poserec live`), or add --headless")


def drop_opencv_qt_plugins(environ=os.environ) -> None:
    """Undo OpenCV's QT_QPA_PLATFORM_PLUGIN_PATH (its own Qt plugins), which makes PyQt5 abort;
    a path the user set elsewhere is kept."""
    path = environ.get("QT_QPA_PLATFORM_PLUGIN_PATH")
    if path and Path(path).resolve().is_relative_to(Path(cv2.__file__).resolve().parent):
        del environ["QT_QPA_PLATFORM_PLUGIN_PATH"]


def check_screenshot_dir(path: Path | None) -> None:
    """PoseRecError when `--screenshot` names a file in a directory that does not exist."""
    if path is not None and not Path(path).parent.is_dir():
        raise PoseRecError(f"--screenshot {path}: no such directory {Path(path).parent}")


def application() -> QApplication:
    """The process's QApplication, created on first use."""
    app = QApplication.instance()
    if app is None:
        QApplication.setAttribute(Qt.AA_EnableHighDpiScaling)
        app = QApplication([sys.argv[0] if sys.argv else "poserec"])
        app.setApplicationName("PoseRec Live")
    return app


@dataclass(frozen=True)
class AppConfig:
    """What `poserec live` asks of the window run.

    window: the window's settings; run_window fills in what only the started pipeline knows
    (`pose_only`, `source`). close_at_end: close the window when the stream ends (`--max-frames`)
    instead of showing "Stream ended". screenshot: save the window as last rendered to this PNG
    just before it closes. choice: the effect the window's ←/→ pick; pass the outputs' own
    (OutputsConfig.choice) so that the /ar page, OBS, the recording and the virtual camera show
    the effect the window shows.
    """

    window: WindowConfig = WindowConfig()
    close_at_end: bool = False
    screenshot: Path | None = None
    choice: EffectChoice = field(default_factory=EffectChoice, compare=False)


class _Session:
    """What happened while the window was open: a stop signal, or an exception in the window's
    own code."""

    def __init__(self):
        self.signal: int | None = None
        self.error: BaseException | None = None


def run_window(pipeline, config: AppConfig = AppConfig()) -> int:
    """Start `pipeline`, open the live window on it, run until the window closes, stop it;
    return the exit status.

    The window closes on Q or the window manager, on SIGINT or SIGTERM (status 128 + the
    signal), at the end of the stream with `close_at_end`, or when a worker fails (status:
    `pipeline.exit_status`, 1 or 2; the caller reports `pipeline.failure` as for a headless run).
    The window is built once the pipeline started (`auto` resolves to a camera or the demo only
    then), with everything it shows in its config; the pipeline's messages wait in Qt's queue
    until the event loop runs. An exception in the window's own code closes it and is re-raised
    once the pipeline stopped.
    """
    screenshot = config.screenshot
    check_screenshot_dir(screenshot)
    require_display()
    drop_opencv_qt_plugins()
    app = application()
    effects = load_effects(DEFAULT_EFFECTS_FILE)
    art = ArtBook(effects)
    stats = StreamStats()
    bridge = PipelineBridge(stats)
    session = _Session()
    window: LiveWindow | None = None

    def on_close() -> None:
        if screenshot is not None and not window.grab().save(str(screenshot), "PNG"):
            session.error = session.error or PoseRecError(
                f"--screenshot {screenshot}: could not write it")
        elif screenshot is not None:
            print(f"poserec live: screenshot saved to {screenshot.resolve()}", file=sys.stderr)
        pipeline.stop()
        app.quit()

    def close() -> None:
        if window is not None:
            window.close()
        else:  # the window is not built yet: end the run before it is
            pipeline.stop()

    def on_signal(signum, frame) -> None:
        session.signal = signum
        close()

    def on_exception(kind, value, traceback) -> None:
        session.error = session.error or value
        close()

    # Queued to the GUI thread: these run in app.exec_(), once the window exists.
    bridge.pose_ready.connect(lambda: window.show_pose(bridge.take_pose()))
    bridge.recommendation_ready.connect(
        lambda: window.show_recommendation(bridge.take_recommendation()))
    bridge.no_person.connect(lambda message: window.show_no_person(message))
    bridge.ended.connect(lambda message: window.close() if config.close_at_end
                         else window.show_ended(message))
    bridge.failed.connect(lambda message: window.close())
    pipeline.add_listener(bridge.deliver)
    previous_handlers = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    previous_hook, sys.excepthook = sys.excepthook, on_exception
    try:
        pipeline.start()
        window_config = replace(config.window, pose_only=pipeline.gives_poses,
                                source=pipeline.source_info.description)
        window = LiveWindow(effects, art, stats, window_config, choice=config.choice)
        window.closing.connect(on_close)
        window.resize(*WINDOW_SIZE)
        if session.signal is None:  # a stop signal may have come while the model loaded
            window.show()
            app.exec_()
    finally:
        sys.excepthook = previous_hook
        for s, handler in previous_handlers.items():
            signal.signal(s, handler)
        pipeline.stop()
        pipeline.join(JOIN_TIMEOUT_S)
        if window is not None:
            window.deleteLater()
        bridge.deleteLater()
    if session.error is not None:
        raise session.error
    return 128 + session.signal if session.signal is not None else pipeline.exit_status
