"""`poserec effects list|sheet`: the catalog's names, anchors and art, and a contact sheet."""
from __future__ import annotations

import json
from pathlib import Path

from realtime.drawing.effects import DEFAULT_EFFECTS_FILE


def add_parser(sub) -> None:
    """Register `effects list` and `effects sheet`."""
    parser = sub.add_parser("effects", help="list the effects and their art, or draw them all")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    parser_class=type(parser))
    listing = actions.add_parser("list", help="every effect name with its anchor, art and licence")
    listing.add_argument("--json", action="store_true",
                         help='print {"effects": [{"name", "anchor", "art", "licence", '
                              '"credit"}, ...]}')
    sheet = actions.add_parser("sheet", help="a PNG contact sheet of every effect's picture")
    sheet.add_argument("-o", "--output", type=Path, required=True, metavar="SHEET.png")
    sheet.add_argument("--columns", type=int, default=12, help="pictures per row (default 12)")
    for action in (listing, sheet):
        action.add_argument("--file", type=Path, default=DEFAULT_EFFECTS_FILE,
                            metavar="EFFECTS.json",
                            help="an effect catalog file (default: the one shipped)")
        action.set_defaults(run=run)


def _records(catalog) -> list[dict]:
    return [{"name": e.name, "anchor": e.anchor.value, "art": str(e.art),
             "licence": e.source.licence, "credit": e.source.credit, "match": e.match.value}
            for e in catalog.effects.values()]


def run(args) -> int:
    """List the catalog, or write its contact sheet."""
    from poserec_core.errors import PoseRecError
    from realtime.drawing.effects import load_effects

    catalog = load_effects(args.file)
    if args.action == "list":
        records = _records(catalog)
        if args.json:
            keys = ("name", "anchor", "art", "licence", "credit")
            print(json.dumps({"effects": [{k: r[k] for k in keys} for r in records]}, indent=1))
        else:
            for r in records:
                print(f"{r['name']:<22} {r['anchor']:<11} {r['match']:<9} {r['licence']:<10} "
                      f"{r['art']}")
        return 0
    import cv2

    from realtime.drawing.art import ArtBook
    from realtime.drawing.sheet import SheetLayout, contact_sheet

    if args.output.suffix.lower() != ".png":
        raise PoseRecError(f"{args.output}: the sheet is written as PNG; name it *.png")
    if not args.output.parent.is_dir():
        raise PoseRecError(f"{args.output}: no folder {args.output.parent}")
    if args.columns < 1:
        raise PoseRecError(f"--columns must be at least 1, not {args.columns}")
    names = list(catalog.effects)
    image = contact_sheet(ArtBook(catalog), names, SheetLayout(len(names), args.columns))
    if not cv2.imwrite(str(args.output), image, [cv2.IMWRITE_PNG_COMPRESSION, 9]):
        raise PoseRecError(f"{args.output}: cannot write the sheet")
    print(f"{args.output}: {len(names)} effects, {image.shape[1]}x{image.shape[0]} px")
    return 0
