"""The top-k panel: rank, the effect's picture and name, score bar, enter/move markers, the
window's age.

It lists the distinct effects (each name once, at its best item's score), or on request the
raw item ranking, where names repeat."""
from __future__ import annotations

import time
import zlib
from dataclasses import dataclass
from enum import Enum

from PyQt5.QtCore import QRectF, QSize, Qt
from PyQt5.QtGui import QColor, QFont, QFontMetricsF, QImage, QPainter, QPainterPath
from PyQt5.QtWidgets import QSizePolicy, QWidget

from poserec_core.recommender import Ranking

from ..drawing.art import ArtBook
from ..drawing.effects import EffectCatalog
from ..messages import Recommendation
from .view import bgra_to_qimage


class Change(Enum):
    """How an item's place changed since the previous ranking."""

    SAME = "same"
    NEW = "new"
    UP = "up"
    DOWN = "down"


@dataclass(frozen=True)
class PanelRow:
    """One line of the panel."""

    rank: int
    item: int
    name: str
    score: float
    change: Change
    places: int = 0


@dataclass(frozen=True)
class Entry:
    """One ranked entry as the panel lists it; `key` tells entries apart between rankings (the
    name for distinct effects, the catalog index for raw items, whose names repeat)."""

    key: object
    name: str
    item: int
    score: float


def item_entries(ranking: Ranking) -> list[Entry]:
    """The raw items of a ranking, told apart by catalog index."""
    return [Entry(i, n, i, s) for i, n, s in zip(ranking.items, ranking.names, ranking.scores)]


def effect_entries(effects) -> list[Entry]:
    """Distinct effects (EffectScore), told apart by name."""
    return [Entry(e.name, e.name, e.item, e.score) for e in effects]


def shown_entries(rec: Recommendation, raw_items: bool = False) -> list[Entry]:
    """What the panel lists for `rec`: its distinct effects, or its raw items."""
    return item_entries(rec.ranking) if raw_items else effect_entries(rec.effects)


def panel_rows(current: list[Entry], previous: list[Entry] | None) -> list[PanelRow]:
    """The rows of `current`, marked against `previous` (no marks on the first ranking)."""
    before = {} if previous is None else {e.key: rank for rank, e in enumerate(previous)}
    rows = []
    for rank, entry in enumerate(current):
        if previous is None:
            change, places = Change.SAME, 0
        elif entry.key not in before:
            change, places = Change.NEW, 0
        else:
            places = before[entry.key] - rank
            change = Change.UP if places > 0 else Change.DOWN if places < 0 else Change.SAME
        rows.append(PanelRow(rank + 1, entry.item, entry.name, entry.score, change, abs(places)))
    return rows


def departed(current: list[Entry], previous: list[Entry] | None) -> list[str]:
    """Names of the entries that left the top-k since `previous`, in their old order."""
    if previous is None:
        return []
    kept = {e.key for e in current}
    return [e.name for e in previous if e.key not in kept]


@dataclass(frozen=True)
class PanelContent:
    """Everything the panel shows, prepared on the GUI thread; raw_items: list the raw item
    ranking instead of the distinct effects."""

    recommendation: Recommendation | None
    previous: Recommendation | None
    selected: int
    no_person: bool
    ended: bool
    paused: bool
    raw_items: bool = False

    def entries(self) -> list[Entry]:
        """The entries listed now (empty before the first ranking)."""
        rec = self.recommendation
        return [] if rec is None else shown_entries(rec, self.raw_items)

    def previous_entries(self) -> list[Entry] | None:
        """The entries of the ranking shown before, to mark changes against."""
        rec = self.previous
        return None if rec is None else shown_entries(rec, self.raw_items)


@dataclass(frozen=True)
class PanelStyle:
    """Colours and sizes of the panel (pixels at 96 dpi)."""

    width: int = 400
    background: str = "#14161c"
    text: str = "#f2f2f2"
    dim: str = "#9aa3b2"
    bar_track: str = "#2a2f3a"
    highlight: str = "#2b3447"
    new: str = "#3ddc84"
    up: str = "#3ddc84"
    down: str = "#ff8a65"
    warning: str = "#ffcc4d"
    row_height: int = 58
    picture: int = 44
    margin: int = 20


def badge_colour(name: str) -> QColor:
    """A stable colour for a name (hue from its crc32): its rank chip and score bar."""
    return QColor.fromHsv(zlib.crc32(name.encode()) % 360, 170, 200, 235)


def _marker(row: PanelRow) -> str:
    if row.change is Change.NEW:
        return "NEW"
    if row.change is Change.UP:
        return f"▲{row.places}"
    if row.change is Change.DOWN:
        return f"▼{row.places}"
    return ""


def _font(pixels: int, bold: bool = False) -> QFont:
    font = QFont()
    font.setPixelSize(pixels)
    font.setBold(bold)
    return font


class PanelWidget(QWidget):
    """Paints the title, the top-k rows with bars and markers, and the stream's state.

    `source` is a line naming the source, set once it is open. Each row shows the effect's art
    (from `art`, default the catalog's) beside its name.
    """

    def __init__(self, catalog: EffectCatalog, top_k: int, style: PanelStyle = PanelStyle(),
                 parent=None, art: ArtBook | None = None):
        super().__init__(parent)
        self.catalog = catalog
        self.art = ArtBook(catalog) if art is None else art
        self._pictures: dict[tuple[str, int], QImage] = {}
        self.top_k = top_k
        self.style = style
        self.content = PanelContent(None, None, 0, False, False, False)
        self.source = ""
        self.setSizePolicy(QSizePolicy.Fixed, QSizePolicy.Expanding)
        self.setAutoFillBackground(False)

    def sizeHint(self) -> QSize:
        """Fixed width; tall enough for the title, k rows and the footer."""
        s = self.style
        return QSize(s.width, 250 + self.top_k * s.row_height + 150)

    def minimumSizeHint(self) -> QSize:
        """As wide as sizeHint."""
        return QSize(self.style.width, 300)

    def show_content(self, content: PanelContent) -> None:
        """Repaint with new content (GUI thread)."""
        self.content = content
        self.update()

    def rows(self) -> list[PanelRow]:
        """The rows painted now (empty before the first ranking)."""
        c = self.content
        return [] if c.recommendation is None else panel_rows(c.entries(), c.previous_entries())

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Draw the whole panel."""
        s = self.style
        painter = QPainter(self)
        try:
            painter.setRenderHint(QPainter.Antialiasing)
            painter.setRenderHint(QPainter.TextAntialiasing)
            painter.fillRect(self.rect(), QColor(s.background))
            y = self._paint_title(painter, s.margin)
            y = self._paint_rows(painter, y)
            self._paint_footer(painter, y)
        finally:
            painter.end()

    def _text(self, painter: QPainter, rect: QRectF, text: str, font: QFont, colour: str,
              align=Qt.AlignLeft | Qt.AlignVCenter) -> None:
        painter.setFont(font)
        painter.setPen(QColor(colour))
        painter.drawText(rect, int(align), text)

    def _paint_title(self, painter: QPainter, y: float) -> float:
        s, w = self.style, self.width() - 2 * self.style.margin
        self._text(painter, QRectF(s.margin, y, w, 34), "PoseRec Live", _font(28, True), s.text)
        self._text(painter, QRectF(s.margin, y + 38, w, 44),
                   "Recommends AR effects (props and stickers) from your body pose, in real time",
                   _font(15), s.dim, Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap)
        heading = (f"Top {self.top_k} items (raw ranking)" if self.content.raw_items
                   else f"Top {self.top_k} effects right now")
        self._text(painter, QRectF(s.margin, y + 84, w, 26), heading, _font(18, True), s.text)
        return y + 118

    def _paint_rows(self, painter: QPainter, y: float) -> float:
        s, c = self.style, self.content
        left, width = s.margin, self.width() - 2 * s.margin
        rows = self.rows()
        if not rows:
            message = "No ranking yet: waiting for the first window of poses…"
            self._text(painter, QRectF(left, y, width, 60), message, _font(16), s.dim,
                       Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap)
            return y + 70
        if c.no_person:
            self._text(painter, QRectF(left, y, width, 28), "No person in view", _font(20, True),
                       s.warning)
            self._text(painter, QRectF(left, y + 28, width, 24),
                       "showing the last ranking until someone steps in", _font(14), s.dim)
            y += 60
        painter.setOpacity(0.45 if c.no_person else 1.0)
        names = [row.name for row in rows]
        for row in rows:
            self._paint_row(painter, row, QRectF(left, y, width, s.row_height - 6),
                            names.count(row.name) > 1)
            y += s.row_height
        painter.setOpacity(1.0)
        gone = departed(c.entries(), c.previous_entries())
        if gone:
            self._text(painter, QRectF(left, y, width, 24), "left the top: " + ", ".join(gone),
                       _font(14), s.down, Qt.AlignLeft | Qt.AlignVCenter)
        return y + 30

    def _paint_row(self, painter: QPainter, row: PanelRow, rect: QRectF, repeated: bool) -> None:
        s = self.style
        if row.rank - 1 == self.content.selected:
            path = QPainterPath()
            path.addRoundedRect(rect.adjusted(-8, -2, 8, 2), 8, 8)
            painter.fillPath(path, QColor(s.highlight))
        chip = QRectF(rect.left(), rect.top() + 9, 26, 26)
        painter.setPen(Qt.NoPen)
        painter.setBrush(badge_colour(row.name))
        painter.drawEllipse(chip)
        self._text(painter, chip, str(row.rank), _font(14, True), "#ffffff", Qt.AlignCenter)
        self._paint_picture(painter, row.name, QRectF(rect.left() + 32, rect.top(), s.picture,
                                                      s.picture))
        indent = 32 + s.picture + 8
        name_left = rect.left() + indent
        marker = _marker(row)
        marker_width = 52
        name_rect = QRectF(name_left, rect.top() + 2,
                           rect.width() - indent - marker_width - 60, 26)
        name_font = _font(19, True)
        metrics = QFontMetricsF(name_font)
        name = metrics.elidedText(row.name, Qt.ElideRight,
                                  name_rect.width() - (50 if repeated else 0))
        self._text(painter, name_rect, name, name_font, s.text)
        if repeated:  # names repeat in the catalog: tell the items apart
            self._text(painter, name_rect.adjusted(metrics.horizontalAdvance(name) + 8, 0, 0, 0),
                       f"item {row.item}", _font(13), s.dim)
        self._text(painter, QRectF(rect.right() - marker_width - 60, rect.top() + 2, 60, 26),
                   f"{row.score:.3f}", _font(16), s.dim, Qt.AlignRight | Qt.AlignVCenter)
        if marker:
            colour = {Change.NEW: s.new, Change.UP: s.up, Change.DOWN: s.down}[row.change]
            self._text(painter, QRectF(rect.right() - marker_width + 6, rect.top() + 2,
                                       marker_width - 6, 26), marker, _font(15, True), colour,
                       Qt.AlignRight | Qt.AlignVCenter)
        bar = QRectF(name_left, rect.top() + 34, rect.width() - indent, 10)
        painter.setPen(Qt.NoPen)
        painter.setBrush(QColor(s.bar_track))
        painter.drawRoundedRect(bar, 5, 5)
        filled = QRectF(bar.left(), bar.top(), bar.width() * min(max(row.score, 0.0), 1.0),
                        bar.height())
        painter.setBrush(badge_colour(row.name))
        painter.drawRoundedRect(filled, 5, 5)

    def _paint_picture(self, painter: QPainter, name: str, box: QRectF) -> None:
        """The effect's art fitted and centred in `box` (nothing for a name the catalog lacks)."""
        if name not in self.catalog:
            return
        height = max(1, round(box.height() * self.devicePixelRatioF()))
        key = (name, height)
        if key not in self._pictures:
            self._pictures[key] = bgra_to_qimage(self.art.image(name, height))
        picture = self._pictures[key]
        scale = min(box.width() / picture.width(), box.height() / picture.height())
        w, h = picture.width() * scale, picture.height() * scale
        target = QRectF(box.center().x() - w / 2, box.center().y() - h / 2, w, h)
        painter.drawImage(target, picture)

    def _paint_footer(self, painter: QPainter, y: float) -> None:
        s, c = self.style, self.content
        left, width = s.margin, self.width() - 2 * s.margin
        rec = c.recommendation
        lines = []
        rows = self.rows()
        if rows:
            age_s = max(0.0, (time.monotonic_ns() - rec.t_capture_ns) / 1e9)
            lines.append((f"ranked the window ending at frame {rec.window_end}, "
                          f"{age_s:.1f} s ago", s.dim))
            selected = rows[min(c.selected, len(rows) - 1)].name
            if selected in self.catalog:
                anchor = self.catalog[selected].anchor.label
                lines.append((f"Preview: {selected} ({anchor})  ·  ←/→ to change", s.text))
            else:
                lines.append((f"No preview: {selected!r} has no entry in "
                               f"{self.catalog.source.name}", s.warning))
        if c.ended:
            lines.append(("The stream has ended. Press Q to quit.", s.warning))
        elif c.paused:
            lines.append(("Paused: press Space to resume.", s.warning))
        if self.source:
            lines.append((f"Source: {self.source}", s.dim))
        lines.append(("Score: how well the effect matches your pose (1 = best).  H: keys",
                      s.dim))
        font = _font(14)
        for text, colour in lines:
            rect = QRectF(left, y, width, 44)
            self._text(painter, rect, text, font, colour,
                       Qt.AlignLeft | Qt.AlignTop | Qt.TextWordWrap)
            y += QFontMetricsF(font).boundingRect(rect, int(Qt.TextWordWrap), text).height() + 8
