"""The video widget: the renderer's composited frame, scaled to fit, with the HUD and help over it."""
from __future__ import annotations

from dataclasses import dataclass, field, replace

import cv2
import numpy as np
from PyQt5.QtCore import QRect, QSize
from PyQt5.QtGui import QColor, QImage, QPainter
from PyQt5.QtWidgets import QSizePolicy, QWidget

from ..drawing.annotators import CanvasStyle
from ..drawing.demo_canvas import CANVAS_SIZE
from ..drawing.renderer import RenderOptions
from .hud import HudStyle, draw_banner, draw_help, draw_hud, hud_lines, hud_rect
from .stats import StreamStats


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

    def render_options(self, mirror: bool) -> RenderOptions:
        """What the renderer draws for these layers."""
        return RenderOptions(skeleton=self.skeleton, effect=self.preview,
                             overlay_only=self.overlay_only, mirror=mirror)


@dataclass(frozen=True)
class VideoContent:
    """One frame to show: the renderer's composited BGR frame (None: a plain canvas of
    `size`) and a banner line."""

    size: tuple[int, int]
    frame: np.ndarray | None = field(default=None, repr=False)
    banner: str = ""


@dataclass(frozen=True)
class ViewStyle:
    """Styles of what the view draws itself: the canvas colours, the HUD and the letterbox."""

    canvas: CanvasStyle = CanvasStyle()
    hud: HudStyle = HudStyle()
    letterbox: str = "#000000"


def fit_rect(image_size: tuple[int, int], area: QSize) -> QRect:
    """The largest rectangle of the image's aspect ratio centred in `area`."""
    iw, ih = image_size
    scale = min(area.width() / iw, area.height() / ih)
    w, h = max(1, round(iw * scale)), max(1, round(ih * scale))
    return QRect((area.width() - w) // 2, (area.height() - h) // 2, w, h)


def bgr_to_qimage(frame: np.ndarray) -> QImage:
    """The one BGR -> RGB conversion at the Qt boundary (the QImage owns a copy)."""
    rgb = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
    h, w = rgb.shape[:2]
    return QImage(rgb.data, w, h, rgb.strides[0], QImage.Format_RGB888).copy()


def bgra_to_qimage(image: np.ndarray) -> QImage:
    """A BGRA uint8 image with straight alpha (effect art) as a QImage that owns a copy."""
    image = np.ascontiguousarray(image)
    h, w = image.shape[:2]
    return QImage(image.data, w, h, image.strides[0], QImage.Format_RGBA8888).rgbSwapped()


class VideoView(QWidget):
    """Paints the latest VideoContent scaled into the widget, then the HUD, banner and help."""

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

    def frame_image(self, target: QRect) -> QImage:
        """The content's frame as a QImage scaled to `target` (a canvas when there is none)."""
        c, size = self.content, (target.width(), target.height())
        if c.frame is None:
            colour = self.style.canvas.chroma_key if self.layers.overlay_only \
                else self.style.canvas.canvas
            return bgr_to_qimage(np.full((size[1], size[0], 3), colour, np.uint8))
        shrinking = c.frame.shape[1] > size[0]
        return bgr_to_qimage(cv2.resize(c.frame, size, interpolation=cv2.INTER_AREA if shrinking
                                        else cv2.INTER_LINEAR))

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
            painter.drawImage(target.topLeft(), self.frame_image(target))
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
