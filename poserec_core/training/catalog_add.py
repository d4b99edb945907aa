"""Add a new effect to a trained model's catalog: embed its text, run the trained item side."""
from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import torch

from ..bundle import read_manifest, write_manifest
from ..catalog import Catalog
from ..errors import PoseRecError
from ..pretrained import load_catalog
from .dataset import NAME_COLUMN
from .export import load_item_side, write_catalog_files
from .text_embeddings import TextEmbedder, embed_columns


def _copy_weights(manifest, out_dir: Path) -> None:
    if out_dir.exists() and any(out_dir.iterdir()):
        raise PoseRecError(f"{out_dir}: the output directory is not empty")
    out_dir.mkdir(parents=True, exist_ok=True)
    for _, path in manifest.verify():
        shutil.copy2(path, out_dir / path.name)


def add_effect(weights_dir: str | Path, name: str, texts: dict[str, str],
               embedder: TextEmbedder, out_dir: str | Path | None = None) -> tuple[Path, int]:
    """Append one item to the catalog of a trained export; return the directory and its index.

    `texts` gives the item's text for every column the item side was trained on (`name` is
    filled from `name` when not given). The catalog is changed in place unless `out_dir`
    names a new directory to write the extended copy to.
    """
    manifest = read_manifest(weights_dir)
    item_side, record = load_item_side(manifest)
    name = name.strip()
    if not name or "\n" in name or "\r" in name:
        raise PoseRecError("the effect's name must be one non-empty line")
    texts = {NAME_COLUMN: name, **texts} if NAME_COLUMN in record.columns else dict(texts)
    missing = [c for c in record.columns if c not in texts]
    extra = [c for c in texts if c not in record.columns]
    if missing or extra:
        raise PoseRecError(f"the item side was trained on the columns {', '.join(record.columns)}; "
                           + (f"give --text for {', '.join(missing)}" if missing else
                              f"it has no column {', '.join(extra)}"))
    if embedder.model_id != record.text_model:
        raise PoseRecError(f"the item side was trained on {record.text_model} embeddings, but "
                           f"{embedder.model_id} is installed; install that version")
    catalog = load_catalog(manifest)
    text = embed_columns({c: [texts[c]] for c in record.columns}, embedder)
    new = item_side.catalog((name,), torch.from_numpy(text))
    extended = Catalog(catalog.names + new.names,
                       np.concatenate([catalog.item_embeddings, new.item_embeddings], axis=1),
                       np.concatenate([catalog.prototype_dis, new.prototype_dis], axis=0))
    target = Path(out_dir) if out_dir is not None else Path(weights_dir)
    if out_dir is not None:
        _copy_weights(manifest, target)
    write_catalog_files(target, extended)
    write_manifest(target, {role: entry["file"] for role, entry in manifest.files.items()},
                   origin=f"{manifest.origin}; catalog add {name!r}",
                   window_frames=manifest.window_frames)
    return target, len(extended) - 1
