"""Effect previews: the sticker image of an effect (the user's PNG or a generated badge) and
the tracker that keeps it on the body, smoothly."""
from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np
from PyQt5.QtCore import QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath, QPen

from ..drawing.effects import Anchor, Effect, EffectCatalog, load_sticker
from ..drawing.placement import Box, BoxSmoother, SmoothingSpec, anchor_box, pixel_points

HELD = frozenset({Anchor.LEFT_HAND, Anchor.RIGHT_HAND, Anchor.BOTH_HANDS})
SCENE = frozenset({Anchor.GROUND, Anchor.BACKGROUND})


@dataclass(frozen=True)
class BadgeStyle:
    """A generated badge: a filled shape with the effect's name, drawn once at `height_px`.

    Held effects get a round-ended pill, scene effects a framed sign, the rest a rounded
    rectangle. The fill's hue comes from the name, so an effect keeps its colour.
    """

    height_px: int = 120
    font_fraction: float = 0.36
    padding_fraction: float = 0.42
    border_fraction: float = 0.06
    saturation: int = 170
    value: int = 200
    fill_alpha: int = 235


def badge_colour(name: str, style: BadgeStyle = BadgeStyle()) -> QColor:
    """The fill colour of a name's badge (stable hue from the name)."""
    return QColor.fromHsv(zlib.crc32(name.encode()) % 360, style.saturation, style.value,
                          style.fill_alpha)


def _badge_shape(anchor: Anchor, rect: QRectF) -> QPainterPath:
    path = QPainterPath()
    radius = rect.height() / 2 if anchor in HELD else rect.height() * (0.08 if anchor in SCENE
                                                                       else 0.25)
    path.addRoundedRect(rect, radius, radius)
    return path


def qimage_to_bgra(image: QImage) -> np.ndarray:
    """A copy of an ARGB32 QImage as an (H, W, 4) BGRA uint8 array."""
    image = image.convertToFormat(QImage.Format_ARGB32)
    bits = image.constBits()
    bits.setsize(image.byteCount())
    rows = np.frombuffer(bits, np.uint8).reshape(image.height(), image.bytesPerLine())
    return rows[:, :image.width() * 4].reshape(image.height(), image.width(), 4).copy()


def make_badge(effect: Effect, style: BadgeStyle = BadgeStyle()) -> np.ndarray:
    """A BGRA badge for an effect: its shape, colour and name (needs a QGuiApplication)."""
    height = style.height_px
    font = QFont()
    font.setBold(True)
    font.setPixelSize(round(height * style.font_fraction))
    text_width = QFontMetricsF(font).horizontalAdvance(effect.name)
    border = max(2.0, height * style.border_fraction)
    width = int(text_width + 2 * height * style.padding_fraction + 2 * border)
    image = QImage(width, height, QImage.Format_ARGB32)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    try:
        painter.setRenderHint(QPainter.Antialiasing)
        painter.setRenderHint(QPainter.TextAntialiasing)
        rect = QRectF(border / 2, border / 2, width - border, height - border)
        shape = _badge_shape(effect.anchor, rect)
        painter.fillPath(shape, badge_colour(effect.name, style))
        painter.setPen(QPen(QColor(255, 255, 255, 240), border))
        painter.drawPath(shape)
        painter.setFont(font)
        painter.setPen(QColor(0, 0, 0, 110))
        painter.drawText(rect.translated(0, height * 0.025), Qt.AlignCenter, effect.name)
        painter.setPen(QColor(255, 255, 255))
        painter.drawText(rect, Qt.AlignCenter, effect.name)
    finally:
        painter.end()
    return qimage_to_bgra(image)


class StickerBook:
    """The preview image of each effect: the catalog's sticker PNG, else a badge made once."""

    def __init__(self, catalog: EffectCatalog, style: BadgeStyle = BadgeStyle()):
        self.catalog = catalog
        self.style = style
        self._images: dict[str, np.ndarray] = {}

    def load(self) -> "StickerBook":
        """Read every user sticker now, so that a bad file fails at start, not mid-stream."""
        for effect in self.catalog.effects.values():
            if effect.sticker is not None:
                self.image(effect)
        return self

    def image(self, effect: Effect) -> np.ndarray:
        """The BGRA preview of an effect."""
        if effect.name not in self._images:
            self._images[effect.name] = (load_sticker(effect.sticker) if effect.sticker
                                         else make_badge(effect, self.style))
        return self._images[effect.name]


class PreviewTracker:
    """The preview box of the selected effect on the current body, in source-image pixels,
    smoothed over frames; it snaps when the effect changes or the person comes back."""

    def __init__(self, book: StickerBook, smoothing: SmoothingSpec = SmoothingSpec()):
        self.book = book
        self._smoother = BoxSmoother(smoothing)
        self._effect: Effect | None = None
        self.box: Box | None = None

    @property
    def effect(self) -> Effect | None:
        """The effect being previewed (None before the first ranking)."""
        return self._effect

    def select(self, effect: Effect | None) -> None:
        """Preview another effect from the next frame on (snapping to its place)."""
        if effect != self._effect:
            self._effect = effect
            self._smoother.reset()
            self.box = None

    def update(self, landmarks: np.ndarray | None, size: tuple[int, int], t_ns: int) -> Box | None:
        """Move towards the anchor of the current body; None without an effect or a person."""
        if self._effect is None or landmarks is None:
            self._smoother.reset()
            self.box = None
            return None
        sticker = self.book.image(self._effect)
        aspect = sticker.shape[1] / sticker.shape[0]
        target = anchor_box(self._effect.anchor, pixel_points(landmarks, size), landmarks[:, 3],
                            aspect, size)
        self.box = self._smoother.update(target, t_ns)
        return self.box
