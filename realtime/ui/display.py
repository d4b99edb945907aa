"""Whether Qt has a display to open the window on (Qt-free, so the console view can decide
without loading Qt)."""
from __future__ import annotations

import os
import sys

DISPLAYLESS_PLATFORMS = frozenset({"offscreen", "minimal", "vnc", "eglfs", "linuxfb"})
"""Qt platforms (QT_QPA_PLATFORM) that need no X11 or Wayland display."""


def display_problem(environ=os.environ, platform: str = sys.platform) -> str | None:
    """Why Qt would find no display and abort (one phrase), or None when it has one."""
    if not platform.startswith("linux"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if qpa in DISPLAYLESS_PLATFORMS or environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return "no display (neither DISPLAY nor WAYLAND_DISPLAY is set)"
