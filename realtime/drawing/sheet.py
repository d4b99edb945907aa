"""The contact sheet: every effect's picture in a grid, its name under it (`effects sheet`)."""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .art import ArtBook

PAGE = (255, 255, 255)
CARD = (250, 245, 240)
INK = (51, 47, 41)
FONT = cv2.FONT_HERSHEY_SIMPLEX


@dataclass(frozen=True)
class SheetLayout:
    """Cells of `cell_w` x `cell_h` px, `columns` to a row, `gutter` px of page between them."""

    count: int
    columns: int = 12
    cell_w: int = 124
    cell_h: int = 132
    art_px: int = 80
    gutter: int = 6
    font_scale: float = 0.42

    @property
    def rows(self) -> int:
        return -(-self.count // self.columns)

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) of the sheet in pixels."""
        columns = min(self.columns, self.count)
        return (self.gutter + columns * (self.cell_w + self.gutter),
                self.gutter + self.rows * (self.cell_h + self.gutter))

    def cell(self, index: int) -> tuple[int, int, int, int]:
        """(x0, y0, x1, y1) of cell `index`, row by row."""
        row, column = divmod(index, self.columns)
        x0 = self.gutter + column * (self.cell_w + self.gutter)
        y0 = self.gutter + row * (self.cell_h + self.gutter)
        return x0, y0, x0 + self.cell_w, y0 + self.cell_h


def _lines(name: str, width_px: int, scale: float) -> list[str]:
    """`name` broken at spaces into lines no wider than `width_px` (a long word stays whole)."""
    lines: list[str] = []
    for word in name.split():
        joined = f"{lines[-1]} {word}" if lines else word
        if lines and cv2.getTextSize(joined, FONT, scale, 1)[0][0] <= width_px:
            lines[-1] = joined
        else:
            lines.append(word)
    return lines


def _paste(sheet: np.ndarray, art: np.ndarray, x: int, y: int) -> None:
    h, w = art.shape[:2]
    alpha = art[..., 3:].astype(np.float32) / 255.0
    region = sheet[y:y + h, x:x + w]
    region[:] = (art[..., :3] * alpha + region * (1.0 - alpha) + 0.5).astype(np.uint8)


def contact_sheet(book: ArtBook, names, layout: SheetLayout | None = None) -> np.ndarray:
    """A BGR image of every name's art at `layout.art_px` high, with the name under it."""
    names = list(names)
    layout = layout or SheetLayout(len(names))
    width, height = layout.size
    sheet = np.full((height, width, 3), PAGE, np.uint8)
    line_h = cv2.getTextSize("Hg", FONT, layout.font_scale, 1)[0][1] + 7
    for index, name in enumerate(names):
        x0, y0, x1, y1 = layout.cell(index)
        sheet[y0:y1, x0:x1] = CARD
        art = book.image(name, layout.art_px)
        if art.shape[1] > layout.cell_w - 8:  # a wide picture fits the cell's width instead
            art = book.image(name, max(1, layout.art_px * (layout.cell_w - 8) // art.shape[1]))
        top = y0 + 8 + (layout.art_px - art.shape[0]) // 2
        _paste(sheet, art, x0 + (layout.cell_w - art.shape[1]) // 2, top)
        for n, line in enumerate(_lines(name, layout.cell_w - 8, layout.font_scale)):
            text_w = cv2.getTextSize(line, FONT, layout.font_scale, 1)[0][0]
            baseline = y0 + layout.art_px + 28 + n * line_h
            cv2.putText(sheet, line, (x0 + (layout.cell_w - text_w) // 2, baseline), FONT,
                        layout.font_scale, INK, 1, cv2.LINE_AA)
    return sheet
