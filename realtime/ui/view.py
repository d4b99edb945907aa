"""The video widget: frame (or canvas, or chroma key), skeleton, effect preview, HUD, help."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PyQt5.QtCore import QRect, QSize
from PyQt5.QtGui import QColor, QImage, QPainter
from PyQt5.QtWidgets import QSizePolicy, QWidget

from ..drawing.annotators import CanvasStyle, SkeletonStyle, composite_sticker, draw_skeleton, fill
from ..drawing.placement import Box, at_least, keep_clear
from .hud import HudStyle, draw_banner, draw_help, draw_hud, hud_lines, hud_rect
from .stats import StreamStats


CANVAS_SIZE = (960, 720)
"""Size of the canvas drawn for frames that come without an image."""


@dataclass(frozen=True)
class Layers:
    """What the video shows; keys toggle these."""

    skeleton: bool = True
    preview: bool = True
    overlay_only: bool = False
    help: bool = False
    paused: bool = False

    def toggled(self, name: str) -> "Layers":
        """A copy with one layer flipped."""
        return replace(self, **{name: not getattr(self, name)})


@dataclass(frozen=True)
class VideoContent:
    """One frame to show: the BGR image (None: a plain canvas of `size`), landmarks or None,
    the preview sticker (BGRA) with its box in image pixels, and a banner line."""

    size: tuple[int, int]
    image: np.ndarray | None = field(default=None, repr=False)
    landmarks: np.ndarray | None = field(default=None, repr=False)
    sticker: np.ndarray | None = field(default=None, repr=False)
    box: Box | None = None
    banner: str = ""


@dataclass(frozen=True)
class ViewStyle:
    """Styles of every layer drawn on the video; a preview is never drawn smaller than
    `min_preview_px` high, so that its name stays legible."""

    skeleton: SkeletonStyle = SkeletonStyle()
    canvas: CanvasStyle = CanvasStyle()
    hud: HudStyle = HudStyle()
    letterbox: str = "#000000"
    min_preview_px: int = 44


def fit_rect(image_size: tuple[int, int], area: QSize) -> QRect:
    """The largest rectangle of the image's aspect ratio centred in `area`."""
    iw, ih = image_size
    scale = min(area.width() / iw, area.height() / ih)
    w, h = max(1, round(iw * scale)), max(1, round(ih * scale))
    return QRect((area.width() - w) // 2, (area.height() - h) // 2, w, h)


def scale_box(box: Box, factor_x: float, factor_y: float) -> Box:
    """A box from source-image pixels to display pixels."""
    return Box(box.cx * factor_x, box.cy * factor_y, box.w * factor_x, box.h * factor_y)


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """The one BGR -> RGB conversion at the Qt boundary (the QImage owns a copy)."""
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format_RGB888).copy()


class VideoView(QWidget):
    """Paints the latest VideoContent with the enabled layers; the HUD is drawn last and the
    preview is kept off it."""

    def __init__(self, stats: StreamStats, style: ViewStyle = ViewStyle(), parent=None):
        super().__init__(parent)
        self.stats = stats
        self.style = style
        self.content = VideoContent(size=CANVAS_SIZE)
        self.layers = Layers()
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Expanding)
        self.setMinimumSize(320, 240)

    def sizeHint(self) -> QSize:
        """The source's size, capped to a comfortable 960 pixels wide."""
        w, h = self.content.size
        scale = min(1.0, 960 / w)
        return QSize(round(w * scale), round(h * scale))

    def show_content(self, content: VideoContent, layers: Layers) -> None:
        """Repaint with a new frame and layer set (GUI thread)."""
        self.content, self.layers = content, layers
        self.update()

    def image_rect(self) -> QRect:
        """Where the frame is drawn in this widget."""
        return fit_rect(self.content.size, self.size())

    def render_frame(self, target: QRect, blocked: QRect | None) -> np.ndarray:
        """The annotated BGR frame at the display size of `target`; the preview avoids
        `blocked` (widget coordinates)."""
        c, layers, style = self.content, self.layers, self.style
        size = (target.width(), target.height())
        if layers.overlay_only:
            frame = fill(np.empty((size[1], size[0], 3), np.uint8), style.canvas.chroma_key)
        elif c.image is None:
            frame = fill(np.empty((size[1], size[0], 3), np.uint8), style.canvas.canvas)
        else:
            frame = cv2.resize(c.image, size, interpolation=cv2.INTER_AREA
                               if c.image.shape[1] > size[0] else cv2.INTER_LINEAR)
        if layers.skeleton and c.landmarks is not None:
            draw_skeleton(frame, c.landmarks, style.skeleton)
        if layers.preview and c.sticker is not None and c.box is not None:
            box = at_least(scale_box(c.box, size[0] / c.size[0], size[1] / c.size[1]),
                           style.min_preview_px)
            avoid = None if blocked is None else blocked.translated(-target.left(), -target.top())
            avoid_corners = None if avoid is None else (avoid.left(), avoid.top(),
                                                        avoid.right() + 1, avoid.bottom() + 1)
            composite_sticker(frame, c.sticker, keep_clear(box, size, avoid_corners))
        return frame

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Letterbox (chroma green in overlay mode), frame with its annotations, HUD, banner,
        help."""
        painter = QPainter(self)
        try:
            chroma = QColor(*reversed(self.style.canvas.chroma_key))
            painter.fillRect(self.rect(), chroma if self.layers.overlay_only
                             else QColor(self.style.letterbox))
            target = self.image_rect()
            show_text = not self.layers.overlay_only
            lines = hud_lines(self.stats.snapshot(), self.layers.paused)
            hud = hud_rect(lines, target, self.style.hud) if show_text else None
            painter.drawImage(target.topLeft(), bgr_to_qimage(self.render_frame(target, hud)))
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setRenderHint(QPainter.TextAntialiasing)
            if hud is not None:
                draw_hud(painter, hud, lines, self.style.hud)
            if show_text and self.content.banner:
                draw_banner(painter, target, self.content.banner, self.style.hud)
            if self.layers.help:
                draw_help(painter, target, self.style.hud)
        finally:
            painter.end()
