"""The canvas of pose-only sources (demo, replay): they carry no image, the renderer draws them
on a plain canvas of this one size, in the window, the outputs and the screenshot alike."""
from __future__ import annotations

CANVAS_SIZE = (640, 480)
"""(width, height) of the canvas pose-only sources are drawn on."""
