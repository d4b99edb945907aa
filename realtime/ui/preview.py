"""Left only until realtime/ui/panel.py stops using it (then deleted): a name's swatch colour."""
from __future__ import annotations

import zlib

from PyQt5.QtGui import QColor


def badge_colour(name: str) -> QColor:
    """A stable colour for a name (hue from its crc32)."""
    return QColor.fromHsv(zlib.crc32(name.encode()) % 360, 170, 200, 235)
