"""The effect catalog: for each item name, where its preview sits on the body and its sticker."""
from __future__ import annotations

import json
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

import numpy as np

from poserec_core.errors import PoseRecError

DEFAULT_EFFECTS_FILE = Path(__file__).with_name("effects.json")
"""The catalog shipped with the project: every name of the published item_data.csv."""

EFFECTS_FORMAT = "poserec-effects/1"


class Anchor(str, Enum):
    """Where on the body (or the scene) an effect's preview is drawn."""

    HEAD = "head"
    EYES = "eyes"
    EARS = "ears"
    LEFT_HAND = "left_hand"
    RIGHT_HAND = "right_hand"
    BOTH_HANDS = "both_hands"
    TORSO = "torso"
    HIPS = "hips"
    FEET = "feet"
    GROUND = "ground"
    BACKGROUND = "background"

    @property
    def label(self) -> str:
        """The anchor in words, for the window ("right hand")."""
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class Effect:
    """One catalog entry: the item name, its anchor, and a sticker PNG path (None: a badge)."""

    name: str
    anchor: Anchor
    sticker: Path | None = None


@dataclass(frozen=True)
class EffectCatalog:
    """Effects by item name, read from a catalog file."""

    source: Path
    effects: dict[str, Effect]

    def __getitem__(self, name: str) -> Effect:
        return self.effects[name]

    def __contains__(self, name: str) -> bool:
        return name in self.effects

    def missing(self, names) -> list[str]:
        """The names (for instance a recommender's catalog) that have no entry here."""
        return sorted({n for n in names if n not in self.effects})

    def require(self, names) -> None:
        """Raise PoseRecError when any of `names` has no entry."""
        missing = self.missing(names)
        if missing:
            shown = ", ".join(repr(n) for n in missing[:5])
            more = f" and {len(missing) - 5} more" if len(missing) > 5 else ""
            raise PoseRecError(f"{self.source}: no effect entry for {shown}{more}; add an anchor "
                               "for each item name of the weights' catalog")


def _parse_effect(name: str, entry, source: Path) -> Effect:
    if not isinstance(entry, dict) or "anchor" not in entry:
        raise PoseRecError(f"{source}: effect {name!r} needs an object with an 'anchor'")
    try:
        anchor = Anchor(entry["anchor"])
    except ValueError:
        allowed = ", ".join(a.value for a in Anchor)
        raise PoseRecError(f"{source}: effect {name!r} has anchor {entry['anchor']!r}; "
                           f"use one of {allowed}") from None
    sticker = entry.get("sticker")
    if sticker is None:
        return Effect(name, anchor)
    path = (source.parent / sticker).resolve()
    if path.suffix.lower() != ".png" or not path.is_file():
        raise PoseRecError(f"{source}: sticker {sticker!r} of {name!r} is not a PNG file "
                           f"(looked for {path})")
    return Effect(name, anchor, path)


def load_effects(path: str | Path = DEFAULT_EFFECTS_FILE) -> EffectCatalog:
    """Read and check an effect catalog file (format `poserec-effects/1`)."""
    source = Path(path)
    try:
        document = json.loads(source.read_text(encoding="utf-8"))
    except OSError as exc:
        raise PoseRecError(f"{source}: cannot read the effect catalog ({exc.strerror})") from None
    except json.JSONDecodeError as exc:
        raise PoseRecError(f"{source}: not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("format") != EFFECTS_FORMAT:
        raise PoseRecError(f"{source}: not an effect catalog (expected \"format\": "
                           f"\"{EFFECTS_FORMAT}\")")
    entries = document.get("effects")
    if not isinstance(entries, dict) or not entries:
        raise PoseRecError(f"{source}: 'effects' must map item names to entries")
    return EffectCatalog(source, {name: _parse_effect(name, entry, source)
                                  for name, entry in entries.items()})


def load_sticker(path: Path) -> np.ndarray:
    """A user sticker as a BGRA uint8 image; PoseRecError when it is not a PNG with alpha."""
    import cv2

    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise PoseRecError(f"{path}: cannot read the sticker image")
    if image.ndim != 3 or image.shape[2] != 4 or image.dtype != np.uint8:
        raise PoseRecError(f"{path}: a sticker must be an 8-bit PNG with an alpha channel")
    return image
