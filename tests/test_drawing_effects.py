"""The effect catalog of the live window: every published item name has an anchor; bad files
are one-line errors."""
from __future__ import annotations

import json

import cv2
import numpy as np
import pytest

from poserec_core.bundle import load_names, read_manifest
from poserec_core.errors import PoseRecError
from realtime.drawing.effects import DEFAULT_EFFECTS_FILE, Anchor, load_effects, load_sticker


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


def test_the_shipped_catalog_names_no_missing_sticker():
    effects = load_effects(DEFAULT_EFFECTS_FILE)
    assert all(e.sticker is None or e.sticker.is_file() for e in effects.effects.values())


def _write(tmp_path, document) -> str:
    path = tmp_path / "effects.json"
    path.write_text(document if isinstance(document, str) else json.dumps(document))
    return path


FORMAT = "poserec-effects/1"


@pytest.mark.parametrize("document, message", [
    ("{not json", "not valid JSON"),
    ({"format": "other/1", "effects": {"hat": {"anchor": "head"}}}, "not an effect catalog"),
    ({"format": FORMAT, "effects": {}}, "'effects' must map"),
    ({"format": FORMAT, "effects": {"hat": {"anchor": "nose"}}}, "has anchor 'nose'; use one of"),
    ({"format": FORMAT, "effects": {"hat": "head"}}, "needs an object with an 'anchor'"),
    ({"format": FORMAT, "effects": {"hat": {"anchor": "head", "sticker": "missing.png"}}},
     "is not a PNG file"),
    ({"format": FORMAT, "effects": {"hat": {"anchor": "head", "sticker": "hat.jpg"}}},
     "is not a PNG file"),
])
def test_bad_catalogs_are_one_line_errors(tmp_path, document, message):
    with pytest.raises(PoseRecError, match=message) as caught:
        load_effects(_write(tmp_path, document))
    assert "\n" not in str(caught.value)


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
        assert load_sticker(effects["hat"].sticker).shape == (20, 30, 4)
    else:
        with pytest.raises(PoseRecError, match="alpha channel"):
            load_sticker(effects["hat"].sticker)
