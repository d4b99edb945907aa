"""`poserec effects list|sheet`: the JSON contract, the contact sheet's 108 cells, and bad
catalogs as one-line errors with exit status 2."""
from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from realtime.drawing.effects import DEFAULT_EFFECTS_FILE
from realtime.drawing.sheet import PAGE, SheetLayout

from .helpers import run_main, run_poserec

SHIPPED = json.loads(DEFAULT_EFFECTS_FILE.read_text())["effects"]


def test_list_json_has_every_name_with_an_absolute_existing_picture(capsys):
    code, out, err = run_main(capsys, "effects", "list", "--json")
    assert code == 0, err
    records = json.loads(out)["effects"]
    assert [r["name"] for r in records] == list(SHIPPED) and len(records) == 108
    for record in records:
        assert set(record) == {"name", "anchor", "art", "licence", "credit"}
        assert record["anchor"] == SHIPPED[record["name"]]["anchor"]
        art = Path(record["art"])
        assert art.is_absolute() and art.is_file() and art.suffix in (".png", ".svg")
        if SHIPPED[record["name"]]["art_source"] == "twemoji":
            assert record["licence"] == "CC-BY-4.0" and "Twemoji" in record["credit"]
        else:
            assert record["licence"] == "MIT" and record["credit"]


def test_list_prints_one_line_per_name(capsys):
    code, out, _ = run_main(capsys, "effects", "list")
    lines = out.splitlines()
    assert code == 0 and len(lines) == 108
    assert lines[list(SHIPPED).index("saddle")].split()[:3] == ["saddle", "hips", "drawn"]


def test_the_sheet_has_one_card_per_effect(tmp_path):
    sheet_path = tmp_path / "sheet.png"
    result = run_poserec("effects", "sheet", "-o", sheet_path)
    assert result.returncode == 0, result.stderr
    sheet = cv2.imread(str(sheet_path))
    layout = SheetLayout(108)
    assert sheet.shape[1::-1] == layout.size
    # counted from the picture: each card is one blob of non-page pixels between page gutters
    # (white in a picture only makes holes inside its card: count the outer outlines)
    not_page = np.any(sheet != np.array(PAGE, np.uint8), axis=2).astype(np.uint8)
    outlines, _ = cv2.findContours(not_page, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    assert len(outlines) == 108
    for index in range(108):  # and every card shows a picture above its name, not a blank card
        x0, y0, x1, _ = layout.cell(index)
        art = sheet[y0 + 8:y0 + 8 + layout.art_px, x0:x1].astype(np.int16)
        name = sheet[y0 + 8 + layout.art_px:y0 + layout.cell_h, x0:x1].astype(np.int16)
        assert (np.abs(art - art[0, 0]).max(axis=2) > 8).mean() > 0.1, index
        assert (name.max(axis=2) < 128).any(), index


@pytest.mark.parametrize("entry, message", [
    ({"anchor": "head", "art": "twemoji:1f3a9", "art_source": "twemoji", "match": "great"},
     "effect 'hat' has match 'great'; use one of exact, close, stand-in, drawn"),
    ({"anchor": "head", "art": "art/nothing.svg", "art_source": "twemoji", "match": "exact"},
     "art 'art/nothing.svg' of 'hat' is not a PNG or SVG file"),
    ({"anchor": "head", "art": "twemoji:1f3a9", "art_source": "elsewhere", "match": "exact"},
     "effect 'hat' has art_source 'elsewhere'"),
])
@pytest.mark.parametrize("action", [("list", "--json"), ("sheet", "-o", "sheet.png")])
def test_a_bad_catalog_is_one_line_and_exit_2(tmp_path, entry, message, action):
    document = json.loads(DEFAULT_EFFECTS_FILE.read_text())
    for good in document["effects"].values():  # the shipped drawings, wherever the copy lies
        if not good["art"].startswith("twemoji:"):
            good["art"] = str(DEFAULT_EFFECTS_FILE.parent / good["art"])
    document["effects"]["hat"] = entry
    bad = tmp_path / "effects.json"
    bad.write_text(json.dumps(document))
    result = run_poserec("effects", action[0], "--file", bad, *action[1:], cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.count("\n") == 1 and "Traceback" not in result.stderr
    assert str(bad) in result.stderr and message in result.stderr
    assert not (tmp_path / "sheet.png").exists()


@pytest.mark.parametrize("args, message", [
    (("-o", "sheet.jpg"), "the sheet is written as PNG"),
    (("-o", "absent/sheet.png"), "no folder absent"),
    (("-o", "sheet.png", "--columns", "0"), "--columns must be at least 1"),
])
def test_bad_sheet_options_are_one_line_and_exit_2(capsys, tmp_path, monkeypatch, args, message):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_main(capsys, "effects", "sheet", *args)
    assert code == 2 and message in err and err.count("\n") == 1


def test_a_users_own_picture_shows_in_the_list(tmp_path):
    own = tmp_path / "saddle.png"
    cv2.imwrite(str(own), np.full((30, 30, 4), 200, np.uint8))
    result = run_poserec("effects", "list", "--json", env={"POSEREC_ART_DIR": str(tmp_path)})
    assert result.returncode == 0, result.stderr
    records = {r["name"]: r for r in json.loads(result.stdout)["effects"]}
    assert records["saddle"]["art"] == str(own.resolve())
    assert records["fence"]["art"].endswith("realtime/drawing/art/fence.svg")
