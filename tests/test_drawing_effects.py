"""The effect catalog: every published item name has an anchor and art; bad files are one-line
errors that name the file and the effect."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from poserec_core.bundle import load_names, read_manifest
from poserec_core.errors import PoseRecError
from realtime.drawing.art import ArtBook
from realtime.drawing.effects import DEFAULT_EFFECTS_FILE, Anchor, Match, load_effects


@pytest.fixture(scope="module")
def published_names(weights_dir) -> tuple[str, ...]:
    """The item names of the installed release (item_data.csv), one per item."""
    return load_names(read_manifest(weights_dir).path("item_names"))


def test_every_published_item_name_has_an_anchor(published_names):
    effects = load_effects()
    assert len(set(published_names)) == 108
    assert effects.missing(published_names) == []
    assert set(effects.effects) == set(published_names), "entries for names the catalog lacks"
    effects.require(published_names)


@pytest.mark.parametrize("name, anchor", [
    ("glasses", Anchor.EYES), ("Glasses", Anchor.EYES), ("hat", Anchor.HEAD),
    ("Knitted hat", Anchor.HEAD), ("earphone", Anchor.EARS), ("basketball", Anchor.RIGHT_HAND),
    ("microphone", Anchor.RIGHT_HAND), ("guitar", Anchor.TORSO), ("saxophone", Anchor.BOTH_HANDS),
    ("sneakers", Anchor.FEET), ("floor", Anchor.GROUND), ("chair", Anchor.HIPS),
    ("curtain", Anchor.BACKGROUND),
])
def test_anchors_fit_the_names(name, anchor):
    assert load_effects()[name].anchor is anchor


def test_the_shipped_catalog_has_art_for_every_name_and_no_sticker():
    effects = load_effects(DEFAULT_EFFECTS_FILE)
    for effect in effects.effects.values():
        assert effect.sticker is None and effect.art.is_file(), effect.name
        assert effect.match is not Match.OWN and effect.source.licence in ("CC-BY-4.0", "MIT")


def test_the_shipped_catalog_records_art_source_and_match():
    """The file itself, as the issue asks: per name anchor, art, art_source and match."""
    document = json.loads(DEFAULT_EFFECTS_FILE.read_text())
    for name, entry in document["effects"].items():
        assert set(entry) == {"anchor", "art", "art_source", "match"}, name
        assert entry["match"] in ("exact", "close", "stand-in", "drawn"), name
        assert (entry["match"] == "drawn") is (entry["art_source"] == "poserec"), name


def _write(tmp_path, document) -> str:
    path = tmp_path / "effects.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


FORMAT = "poserec-effects/1"
SOURCES = {"ours": {"licence": "MIT", "credit": "us"}}


def _entry(**changes) -> dict:
    return {"anchor": "head", "art": "twemoji:1f3a9", "art_source": "ours", "match": "exact",
            **changes}


def _catalog(**changes) -> dict:
    return {"format": FORMAT, "art_sources": SOURCES, "effects": {"hat": _entry(**changes)}}


@pytest.mark.parametrize("document, message", [
    ("{not json", "not valid JSON"),
    ({"format": "other/1", "effects": {"hat": {"anchor": "head"}}}, "not an effect catalog"),
    ({"format": FORMAT, "effects": {}}, "'effects' must map"),
    ({"format": FORMAT, "effects": {"hat": {"anchor": "nose"}}}, "has anchor 'nose'; use one of"),
    ({"format": FORMAT, "effects": {"hat": "head"}}, "needs an object with an 'anchor'"),
    ({"format": FORMAT, "effects": {"hat": {"anchor": "head", "sticker": "missing.png"}}},
     "sticker 'missing.png' of 'hat' is not a PNG or SVG file"),
    ({"format": FORMAT, "effects": {"hat": {"anchor": "head", "sticker": "hat.jpg"}}},
     "sticker 'hat.jpg' of 'hat' is not a PNG or SVG file"),
    (_catalog(match="perfect"), "effect 'hat' has match 'perfect'; use one of exact, close, "
                                "stand-in, drawn$"),
    (_catalog(match="own"), "effect 'hat' has match 'own'; use one of"),
    (_catalog(match=None), "effect 'hat' has match None"),
    (_catalog(art="art/missing.svg"), "art 'art/missing.svg' of 'hat' is not a PNG or SVG file"),
    (_catalog(art="twemoji:ffffff"), "art 'twemoji:ffffff' of 'hat' is not a PNG or SVG file"),
    (_catalog(art=None), "effect 'hat' needs 'art'"),
    (_catalog(art_source="mine"), "effect 'hat' has art_source 'mine'; use one of ours"),
    ({"format": FORMAT, "art_sources": {"ours": {"licence": "MIT"}}, "effects": {"hat": _entry()}},
     "'art_sources' must map each source"),
])
def test_bad_catalogs_are_one_line_errors(tmp_path, document, message):
    path = _write(tmp_path, document)
    with pytest.raises(PoseRecError, match=message) as caught:
        load_effects(path)
    assert "\n" not in str(caught.value) and str(caught.value).startswith(str(path))


def test_a_good_entry_resolves_its_art(tmp_path):
    (tmp_path / "mine.svg").write_text('<svg xmlns="http://www.w3.org/2000/svg"/>')
    effects = load_effects(_write(tmp_path, _catalog(art="mine.svg", match="drawn")))
    assert effects["hat"].art == (tmp_path / "mine.svg").resolve()
    assert effects["hat"].match is Match.DRAWN and effects["hat"].source.credit == "us"


def test_a_missing_catalog_file_says_so(tmp_path):
    with pytest.raises(PoseRecError, match="cannot read the effect catalog"):
        load_effects(tmp_path / "absent.json")


def test_require_names_the_missing_items():
    effects = load_effects()
    with pytest.raises(PoseRecError, match="no effect entry for 'unicorn'"):
        effects.require(["hat", "unicorn"])


@pytest.mark.parametrize("channels, ok", [(4, True), (3, False)])
def test_stickers_must_have_alpha(tmp_path, channels, ok):
    image = np.full((20, 30, channels), 200, np.uint8)
    path = tmp_path / "hat.png"
    assert cv2.imwrite(str(path), image)
    effects = load_effects(_write(tmp_path, {"format": FORMAT, "effects": {
        "hat": {"anchor": "head", "sticker": "hat.png"}}}))
    assert effects["hat"].sticker == path.resolve()
    if ok:
        assert ArtBook(effects).image("hat", 20).shape == (20, 30, 4)
    else:
        with pytest.raises(PoseRecError, match="alpha channel"):
            ArtBook(effects).image("hat", 20)
