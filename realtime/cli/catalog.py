"""`poserec catalog add`: embed a new effect's text with a trained item side, add it to a catalog."""
from __future__ import annotations

import argparse
from pathlib import Path


def column_text(text: str) -> tuple[str, str]:
    """COLUMN=TEXT -> (column, text)."""
    column, sep, value = text.partition("=")
    if not sep or not column.strip() or not value.strip():
        raise argparse.ArgumentTypeError(f"{text!r} is not COLUMN=TEXT")
    return column.strip(), value.strip()


def add_parser(sub) -> None:
    """Register `catalog add`."""
    parser = sub.add_parser("catalog", help="add effects to a trained model's catalog")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION",
                                    parser_class=type(parser))
    add = actions.add_parser("add", help="embed a new effect's text and append it to the catalog")
    add.add_argument("--weights", type=Path, required=True, metavar="DIR",
                     help="a weights directory exported by `poserec train`")
    add.add_argument("--name", required=True, help="the effect's name, as recommendations show it")
    add.add_argument("--text", type=column_text, action="append", default=[],
                     metavar="COLUMN=TEXT",
                     help="the effect's text for one item column the model was trained on "
                          "(repeat for each; `name` defaults to --name)")
    add.add_argument("--out", type=Path, metavar="DIR",
                     help="write the extended weights here instead of changing DIR in place")
    add.add_argument("--cache-dir", type=Path, metavar="DIR",
                     help="text-embedding cache (default: ~/.cache/poserec/text-embeddings)")
    add.set_defaults(run=run)


def run(args) -> int:
    """Add the effect and print its item index."""
    from poserec_core.errors import PoseRecError
    from poserec_core.training.catalog_add import add_effect
    from poserec_core.training.text_embeddings import sentence_embedder

    texts = dict(args.text)
    if len(texts) != len(args.text):
        raise PoseRecError("a column is given twice with --text")
    target, index = add_effect(args.weights, args.name, texts, sentence_embedder(args.cache_dir),
                               args.out)
    print(f"added {args.name!r} as item {index} to {target}")
    return 0
