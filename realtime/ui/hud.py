"""Text drawn over the video: the HUD of stream figures, the key help, and state banners."""
from __future__ import annotations

from dataclasses import dataclass

from PyQt5.QtCore import QPointF, QRect, QRectF, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetrics, QPainter

from ..messages import SourceReopenFailed
from .controls import KEY_BINDINGS
from .stats import HudStats


@dataclass(frozen=True)
class HudStyle:
    """Font, colours and spacing of the video overlays (pixels)."""

    font_px: int = 15
    padding: int = 8
    margin: int = 10
    text: str = "#f2f2f2"
    label: str = "#9aa3b2"
    box: tuple[int, int, int, int] = (10, 12, 16, 200)
    warning: str = "#ffcc4d"


PAUSED = "PAUSED"
STALLED = "STALLED: no new frames"
FROZEN = "STALLED: frozen image"
WARNINGS = frozenset({PAUSED, STALLED, FROZEN})
"""HUD values drawn in the warning colour."""


def reopen_text(failure: SourceReopenFailed) -> str:
    """The HUD's short form of a failed reopen: the reason up to its advice, and the retry."""
    return f"{failure.reason.split(';')[0]}; retry in {failure.retry_in_s:g} s"


def _figure(value: float | None, unit: str, digits: int = 0) -> str:
    return "–" if value is None else f"{value:.{digits}f} {unit}"


def hud_lines(stats: HudStats, paused: bool) -> list[tuple[str, str]]:
    """(label, value) pairs of the HUD, in display order."""
    lines = [("capture", _figure(stats.capture_fps, "fps", 1)),
             ("pose", _figure(stats.pose_ms, "ms", 1)),
             ("latency p50", _figure(stats.latency_ms, "ms", 1)),
             ("device", stats.device or "–"),
             ("dropped", f"{stats.dropped_frames} frames, {stats.skipped_windows} windows")]
    if stats.source_stall is not None:
        lines.append(("source", FROZEN if stats.source_stall.frozen else STALLED))
    if stats.reopen_failed is not None:
        lines.append(("reopen", reopen_text(stats.reopen_failed)))
    if paused:
        lines.append(("view", PAUSED))
    return lines


def _font(style: HudStyle, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(style.font_px)
    font.setBold(bold)
    return font


def hud_rect(lines: list[tuple[str, str]], origin: QRect, style: HudStyle = HudStyle()) -> QRect:
    """Where the HUD box goes: the top-left corner of `origin` (the video's rectangle)."""
    label_fm, value_fm = QFontMetrics(_font(style)), QFontMetrics(_font(style, True))
    label_w = max(label_fm.horizontalAdvance(label) for label, _ in lines)
    value_w = max(value_fm.horizontalAdvance(value) for _, value in lines)
    line_h = max(label_fm.height(), value_fm.height())
    return QRect(origin.left() + style.margin, origin.top() + style.margin,
                 label_w + value_w + 3 * style.padding, line_h * len(lines) + 2 * style.padding)


def draw_hud(painter: QPainter, rect: QRect, lines: list[tuple[str, str]],
             style: HudStyle = HudStyle()) -> None:
    """The HUD box with one (label, value) per line."""
    painter.save()
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(*style.box))
    painter.drawRoundedRect(QRectF(rect), 6, 6)
    label_font, value_font = _font(style), _font(style, True)
    label_w = max(QFontMetrics(label_font).horizontalAdvance(label) for label, _ in lines)
    line_h = (rect.height() - 2 * style.padding) / len(lines)
    for n, (label, value) in enumerate(lines):
        y = rect.top() + style.padding + n * line_h
        painter.setFont(label_font)
        painter.setPen(QColor(style.label))
        painter.drawText(QRectF(rect.left() + style.padding, y, label_w, line_h),
                         int(Qt.AlignLeft | Qt.AlignVCenter), label)
        painter.setFont(value_font)
        warn = value in WARNINGS or label == "reopen"
        painter.setPen(QColor(style.warning if warn else style.text))
        painter.drawText(QRectF(rect.left() + 2 * style.padding + label_w, y,
                                rect.width() - label_w - 3 * style.padding, line_h),
                         int(Qt.AlignLeft | Qt.AlignVCenter), value)
    painter.restore()


def draw_banner(painter: QPainter, area: QRect, text: str, style: HudStyle = HudStyle()) -> None:
    """A one-line message centred near the bottom of `area` ("No person in view")."""
    painter.save()
    font = _font(style, True)
    font.setPixelSize(round(style.font_px * 1.5))
    metrics = QFontMetrics(font)
    w, h = metrics.horizontalAdvance(text) + 4 * style.padding, metrics.height() + 2 * style.padding
    box = QRectF(area.center().x() - w / 2, area.bottom() - h - 3 * style.margin, w, h)
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(*style.box))
    painter.drawRoundedRect(box, 8, 8)
    painter.setFont(font)
    painter.setPen(QColor(style.warning))
    painter.drawText(box, int(Qt.AlignCenter), text)
    painter.restore()


def draw_help(painter: QPainter, area: QRect, style: HudStyle = HudStyle()) -> None:
    """The key table, centred on `area`, from controls.KEY_BINDINGS."""
    painter.save()
    key_font, text_font = _font(style, True), _font(style)
    title_font = _font(style, True)
    title_font.setPixelSize(round(style.font_px * 1.4))
    key_w = max(QFontMetrics(key_font).horizontalAdvance(b.label) for b in KEY_BINDINGS)
    text_w = max(QFontMetrics(text_font).horizontalAdvance(b.description) for b in KEY_BINDINGS)
    line_h = QFontMetrics(text_font).height() + 6
    title_h = QFontMetrics(title_font).height() + 10
    w = key_w + text_w + 6 * style.padding
    h = title_h + line_h * len(KEY_BINDINGS) + 4 * style.padding
    box = QRectF(area.center().x() - w / 2, area.center().y() - h / 2, w, h)
    painter.setPen(Qt.NoPen)
    painter.setBrush(QColor(10, 12, 16, 230))
    painter.drawRoundedRect(box, 10, 10)
    painter.setFont(title_font)
    painter.setPen(QColor(style.text))
    top_left = QPointF(box.left() + 2 * style.padding, box.top() + 2 * style.padding)
    painter.drawText(QRectF(top_left.x(), top_left.y(), w, title_h), int(Qt.AlignLeft), "Keys")
    for n, binding in enumerate(KEY_BINDINGS):
        y = top_left.y() + title_h + n * line_h
        painter.setFont(key_font)
        painter.setPen(QColor(style.warning))
        painter.drawText(QRectF(top_left.x(), y, key_w, line_h),
                         int(Qt.AlignLeft | Qt.AlignVCenter), binding.label)
        painter.setFont(text_font)
        painter.setPen(QColor(style.text))
        painter.drawText(QRectF(top_left.x() + key_w + 2 * style.padding, y, text_w, line_h),
                         int(Qt.AlignLeft | Qt.AlignVCenter), binding.description)
    painter.restore()
