"""`run_window(pipeline, args)`: the Qt application around a running pipeline."""
from __future__ import annotations

from dataclasses import replace

import os
import signal
import sys
from pathlib import Path

import cv2
from PyQt5.QtCore import Qt
from PyQt5.QtWidgets import QApplication

from poserec_core.errors import PoseRecError

from ..drawing.effects import DEFAULT_EFFECTS_FILE, load_effects
from .bridge import PipelineBridge
from .preview import StickerBook
from .stats import StreamStats
from .window import LiveWindow, WindowConfig

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)
"""Signals that close the window cleanly (exit status 128 + the signal's number)."""

JOIN_TIMEOUT_S = 5.0
"""How long the pipeline's threads get to end after the window closed (a pipeline whose
threads outlive it reports a failure in its exit status)."""

WINDOW_SIZE = (1360, 720)
"""The window's first size in pixels: a 4:3 video beside the panel."""

DISPLAYLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb"})
"""Qt platforms (QT_QPA_PLATFORM) that need no X11 or Wayland display."""


class NoDisplayError(PoseRecError):
    """There is no display to open the window on."""


def require_display(environ=os.environ, platform: str = sys.platform) -> None:
    """Raise NoDisplayError (one line, what to do) when Qt would find no display and abort."""
    if not platform.startswith("linux"):
        return
    qpa = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if qpa in DISPLAYLESS_PLATFORMS or environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return
    raise NoDisplayError("no display to open the window on (DISPLAY is not set): add --headless, "
                         "or run it under a virtual display: xvfb-run -a poserec live ...")


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


class _Session:
    """What happened while the window was open: a stop signal, or an exception in the window's
    own code."""

    def __init__(self):
        self.signal: int | None = None
        self.error: BaseException | None = None


def run_window(pipeline, args) -> int:
    """Open the live window on `pipeline`, start it, run until the window closes, stop it;
    return the exit status.

    The window closes on Q or the window manager, on SIGINT or SIGTERM (status 128 + the
    signal), at the end of the stream when `--max-frames` was given, or when a worker fails
    (status: `pipeline.exit_status`, 1 or 2; the caller reports `pipeline.failure` as for a
    headless run). `--screenshot PNG` saves the window as last rendered, just before it closes.
    An exception in the window's own code closes it and is re-raised once the pipeline stopped.
    """
    screenshot = getattr(args, "screenshot", None)
    check_screenshot_dir(screenshot)
    require_display()
    drop_opencv_qt_plugins()
    app = application()
    effects = load_effects(DEFAULT_EFFECTS_FILE)
    book = StickerBook(effects).load()
    stats = StreamStats()
    window = LiveWindow(effects, book, stats, WindowConfig(top_k=args.top_k))
    bridge = PipelineBridge(stats, window)
    session = _Session()

    bridge.pose_ready.connect(lambda: window.show_pose(bridge.take_pose()))
    bridge.recommendation_ready.connect(
        lambda: window.show_recommendation(bridge.take_recommendation()))
    bridge.no_person.connect(window.show_no_person)
    bridge.ended.connect(window.close if getattr(args, "max_frames", None) is not None
                         else window.show_ended)
    bridge.failed.connect(window.close)

    def on_close() -> None:
        if screenshot is not None and not window.grab().save(str(screenshot), "PNG"):
            session.error = session.error or PoseRecError(
                f"--screenshot {screenshot}: could not write it")
        pipeline.stop()
        app.quit()

    def on_signal(signum, frame) -> None:
        session.signal = signum
        window.close()

    def on_exception(kind, value, traceback) -> None:
        session.error = session.error or value
        window.close()

    window.closing.connect(on_close)
    pipeline.add_listener(bridge.deliver)
    window.resize(*WINDOW_SIZE)
    previous_handlers = {s: signal.signal(s, on_signal) for s in STOP_SIGNALS}
    previous_hook, sys.excepthook = sys.excepthook, on_exception
    try:
        pipeline.start()
        # `auto` resolves to a camera or the demo only now; queued signals wait for exec_().
        window.config = replace(window.config, pose_only=pipeline.gives_poses)
        window.panel.source = pipeline.source_info.description
        window.show()
        if not window.closed:  # a stop signal may have come while the model loaded
            app.exec_()
    finally:
        sys.excepthook = previous_hook
        for s, handler in previous_handlers.items():
            signal.signal(s, handler)
        pipeline.stop()
        pipeline.join(JOIN_TIMEOUT_S)
        window.deleteLater()
    if session.error is not None:
        raise session.error
    return 128 + session.signal if session.signal is not None else pipeline.exit_status
