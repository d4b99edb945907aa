"""The window's top-k panel lists distinct effects; the I key shows the raw items (names repeat)
and is in the help's key table."""
from __future__ import annotations

import os
import time

import pytest
from PyQt5.QtCore import Qt

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
