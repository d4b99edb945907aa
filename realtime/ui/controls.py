"""The window's keys: one table, read by the key handler and by the help overlay."""
from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from PyQt5.QtCore import Qt


class Action(Enum):
    """What a key does."""

    PAUSE = "pause"
    SKELETON = "skeleton"
    PREVIEW = "preview"
    NEXT = "next"
    PREVIOUS = "previous"
    OVERLAY = "overlay"
    ITEMS = "items"
    FULLSCREEN = "fullscreen"
    HELP = "help"
    BACK = "back"
    QUIT = "quit"


@dataclass(frozen=True)
class KeyBinding:
    """Keys, their label in the help overlay, and the action they trigger."""

    keys: tuple[int, ...]
    label: str
    action: Action
    description: str


KEY_BINDINGS: tuple[KeyBinding, ...] = (
    KeyBinding((Qt.Key_Space,), "Space", Action.PAUSE, "pause / resume the view"),
    KeyBinding((Qt.Key_S,), "S", Action.SKELETON, "skeleton on / off"),
    KeyBinding((Qt.Key_P,), "P", Action.PREVIEW, "effect preview on / off"),
    KeyBinding((Qt.Key_Right, Qt.Key_N), "→  N", Action.NEXT, "preview the next effect"),
    KeyBinding((Qt.Key_Left, Qt.Key_B), "←  B", Action.PREVIOUS, "preview the previous effect"),
    KeyBinding((Qt.Key_O,), "O", Action.OVERLAY, "overlay only: chroma green for OBS"),
    KeyBinding((Qt.Key_I,), "I", Action.ITEMS, "raw items (names repeat) / distinct effects"),
    KeyBinding((Qt.Key_F, Qt.Key_F11), "F", Action.FULLSCREEN, "fullscreen on / off"),
    KeyBinding((Qt.Key_H, Qt.Key_F1), "H", Action.HELP, "this help"),
    KeyBinding((Qt.Key_Escape,), "Esc", Action.BACK, "close help, leave fullscreen"),
    KeyBinding((Qt.Key_Q,), "Q", Action.QUIT, "quit"),
)

ACTIONS_BY_KEY: dict[int, Action] = {key: b.action for b in KEY_BINDINGS for key in b.keys}
"""Qt key code -> action."""
