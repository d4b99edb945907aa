"""What the `/ar` page needs: the effect art by name, and per pose frame the selected effect's
pose (the effect an EffectChoice picks of the newest recommendation: the window's ←/→ pick,
else the first distinct effect; posed on the body by EffectPoser).

The pose message (one per pose frame, on the WebSocket beside the recommendation records):

    {"type": "pose", "seq": 120, "frame": [640, 480],
     "effect": {"name", "cx", "cy", "w", "h", "angle", "opacity"} | null,
     "art": "/art/<percent-encoded name>" | null}

`frame` is the source frame's (width, height); in `effect` cx and w are fractions of its width,
cy and h of its height, angle is in degrees clockwise on screen, opacity 0..1. `effect` is null
while no person is found, before the first recommendation, and for background effects: the page
lies over the camera and has no person mask to draw them behind the streamer (the renderer too
draws them only through a mask).
"""
from __future__ import annotations

from urllib.parse import quote, unquote

from ..drawing.art import ArtBook
from ..drawing.choice import EffectChoice
from ..drawing.effects import Anchor
from ..drawing.posing import EffectPoser
from ..messages import PoseFrame, Recommendation

ART_PREFIX = "/art/"

ART_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
"""Content type of each kind of art file the catalog allows."""


def art_url(name: str) -> str:
    """The server path of an effect's art: /art/ and the name, percent-encoded."""
    return ART_PREFIX + quote(name, safe="")


def art_name(path: str) -> str | None:
    """The effect name an /art/ path asks for (percent-decoded), None for other paths."""
    if not path.startswith(ART_PREFIX):
        return None
    return unquote(path[len(ART_PREFIX):], errors="replace")


def load_art(book: ArtBook) -> dict[str, tuple[bytes, str]]:
    """Every effect's art file, read once: name -> (bytes, content type). The server answers
    /art/ from this table only, so no path from a request ever reaches the file system."""
    table = {}
    for name in book.catalog.effects:
        path = book.path(name)
        table[name] = (path.read_bytes(), ART_TYPES[path.suffix.lower()])
    return table


class PoseFeed:
    """Turns each pose frame into a `pose` message for the /ar page (see the module docstring).

    `frame_size` is the source's (width, height), used for frames that come without an image
    (demo, replay); `choice` picks the effect (default: the top one), read anew each frame, so a
    pick in the window shows at once. recommended() runs on the inference thread, message() on
    the pose thread."""

    def __init__(self, book: ArtBook, frame_size: tuple[int, int] | None,
                 choice: EffectChoice | None = None):
        self._catalog = book.catalog
        self._poser = EffectPoser(book.catalog, book)
        self._frame_size = frame_size
        self._choice = EffectChoice() if choice is None else choice
        self._recommendation: Recommendation | None = None

    def recommended(self, recommendation: Recommendation) -> None:
        """Keep the newest recommendation, to pick the effect from."""
        self._recommendation = recommendation

    @property
    def selected(self) -> str | None:
        """The effect the page draws now (None for background effects: no mask over OBS)."""
        name = self._choice.effect(self._recommendation)
        if name in self._catalog and self._catalog[name].anchor is Anchor.BACKGROUND:
            return None
        return name

    def message(self, frame: PoseFrame) -> dict:
        """The pose message of `frame`."""
        if frame.image is not None:
            size = (frame.image.shape[1], frame.image.shape[0])
        else:
            size = self._frame_size
        pose = None
        if size is not None:
            pose = self._poser.update(self.selected, frame.landmarks, size, frame.t_capture_ns)
        return {"type": "pose", "seq": frame.seq, "frame": list(size) if size else None,
                "effect": None if pose is None else pose.normalised(),
                "art": None if pose is None else art_url(pose.name)}
