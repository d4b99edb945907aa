"""The window's top-k panel lists distinct effects; the I key shows the raw items (names repeat)
and is in the help's key table."""
from __future__ import annotations

import os
import time

import cv2
import numpy as np
import pytest
from PyQt5.QtCore import Qt
from PyQt5.QtGui import QImage

from poserec_core.recommender import Ranking
from realtime.drawing.effects import load_effects
from realtime.messages import EffectScore, Recommendation
from realtime.ui.app import drop_opencv_qt_plugins
from realtime.ui.controls import ACTIONS_BY_KEY, KEY_BINDINGS, Action
from realtime.ui.panel import Change, Entry, PanelContent, PanelWidget, panel_rows

from .test_ui_window import window  # noqa: F401 (the live window fixture, offscreen)

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
drop_opencv_qt_plugins()

RAW = Ranking((31, 14, 54, 171, 130),
              ("basketball", "basketball", "saddle", "basketball", "tennis"),
              (0.956, 0.933, 0.931, 0.925, 0.924))
EFFECTS = (EffectScore("basketball", 31, 0.956), EffectScore("saddle", 54, 0.931),
           EffectScore("tennis", 130, 0.924), EffectScore("court", 135, 0.913),
           EffectScore("horse rope", 86, 0.907))


def recommendation(window_end=9, ranking=RAW, effects=EFFECTS) -> Recommendation:
    t = time.monotonic_ns()
    return Recommendation(window_end, ranking, t, t, t, t, t, "cpu", effects=effects)


@pytest.fixture
def panel(qtbot):
    widget = PanelWidget(load_effects(), top_k=5)
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    return widget


@pytest.mark.parametrize("raw_items, names", [
    (False, ["basketball", "saddle", "tennis", "court", "horse rope"]),
    (True, ["basketball", "basketball", "saddle", "basketball", "tennis"]),
])
def test_the_panel_lists_distinct_effects_or_on_request_the_raw_items(panel, raw_items, names):
    panel.show_content(PanelContent(recommendation(), None, 0, False, False, False, raw_items))
    rows = panel.rows()
    assert [r.name for r in rows] == names
    assert [r.item for r in rows] == ([31, 14, 54, 171, 130] if raw_items else
                                      [31, 54, 130, 135, 86])


def test_effect_rows_are_marked_by_name_whichever_item_is_best():
    before = [Entry("basketball", "basketball", 31, 0.95), Entry("saddle", "saddle", 54, 0.94)]
    after = [Entry("saddle", "saddle", 54, 0.96), Entry("basketball", "basketball", 14, 0.95),
             Entry("hat", "hat", 7, 0.90)]
    assert [(r.change, r.places) for r in panel_rows(after, before)] == [
        (Change.UP, 1), (Change.DOWN, 1), (Change.NEW, 0)]


def test_the_i_key_is_in_the_help_table():
    assert ACTIONS_BY_KEY[Qt.Key_I] is Action.ITEMS
    assert any(b.action is Action.ITEMS and "raw items" in b.description for b in KEY_BINDINGS)


def test_the_i_key_toggles_the_windows_panel_and_the_previewed_effect(qtbot, window):
    window.show_recommendation(recommendation())
    qtbot.keyClick(window, Qt.Key_N)  # the second row: "saddle", not a repeated basketball
    assert window.panel.content.selected == 1
    assert window.effect == "saddle"
    qtbot.keyClick(window, Qt.Key_I)
    assert [r.name for r in window.panel.rows()] == list(RAW.names)
    assert window.panel.content.raw_items and window.panel.content.selected == 0
    qtbot.keyClick(window, Qt.Key_N)  # raw items: the second row is basketball again
    assert window.effect == "basketball"
    qtbot.keyClick(window, Qt.Key_I)
    assert [r.name for r in window.panel.rows()] == [e.name for e in EFFECTS]


ROW_COLOURS = {"basketball": (0, 200, 0), "saddle": (200, 0, 0), "tennis": (0, 0, 200),
               "court": (200, 200, 0), "horse rope": (200, 0, 200)}
"""BGR of a plain square picture given to each listed name (POSEREC_ART_DIR)."""


def test_each_row_shows_its_effects_picture_beside_the_name(qtbot, tmp_path, monkeypatch):
    for name, colour in ROW_COLOURS.items():
        square = np.zeros((40, 40, 4), np.uint8)
        square[:] = (*colour, 255)
        cv2.imwrite(str(tmp_path / f"{name}.png"), square)
    monkeypatch.setenv("POSEREC_ART_DIR", str(tmp_path))
    widget = PanelWidget(load_effects(), top_k=5)
    qtbot.addWidget(widget)
    widget.resize(widget.sizeHint())
    widget.show_content(PanelContent(recommendation(), None, 0, False, False, False))
    image = widget.grab().toImage().convertToFormat(QImage.Format_RGB888)
    pixels = np.frombuffer(image.constBits().asstring(image.byteCount()), np.uint8).reshape(
        image.height(), image.bytesPerLine())[:, :image.width() * 3].reshape(
        image.height(), image.width(), 3)[..., ::-1]  # RGB -> BGR
    centres = []
    for name in [e.name for e in EFFECTS]:
        ys, xs = np.nonzero((np.abs(pixels.astype(int) - ROW_COLOURS[name]).max(axis=2) < 8))
        picture = widget.style.picture
        assert len(xs) > 0.8 * picture * picture, f"{name}: its picture is drawn"
        assert xs.max() - xs.min() < picture + 2 and ys.max() - ys.min() < picture + 2
        centres.append((xs.mean(), ys.mean()))
    x, y = np.array(centres).T
    assert np.ptp(x) < 1, "one column of pictures"
    assert np.allclose(np.diff(y), widget.style.row_height, atol=1), "a picture per row, in order"
