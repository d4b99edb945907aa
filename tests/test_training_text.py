"""Item text embeddings: the real packaged sentence encoder, and the on-disk cache."""
from __future__ import annotations

import numpy as np
import pytest

from poserec_core.training.text_embeddings import (SENTENCE_DIM, TextEmbedder, embed_columns,
                                                   encode_with_sentence_model, sentence_embedder,
                                                   sentence_model_id)


class CountingEncoder:
    """Wraps an encode function and records the texts it was asked to encode."""

    def __init__(self, encode):
        self.encode, self.calls = encode, []

    def __call__(self, texts):
        self.calls.append(list(texts))
        return self.encode(texts)


def letter_counts(texts):
    """A cheap deterministic stand-in encoder: counts of a-z per text."""
    return np.array([[t.count(chr(c)) for c in range(97, 123)] for t in texts], dtype=np.float32)


def test_the_packaged_sentence_encoder_runs_offline_and_means_something(tmp_path):
    embedder = sentence_embedder(tmp_path)
    vectors = embedder.embed(["a basketball", "a ball for playing basketball",
                              "a red party hat", "a basketball"])
    assert vectors.shape == (4, SENTENCE_DIM) and vectors.dtype == np.float32
    assert np.isfinite(vectors).all()
    np.testing.assert_array_equal(vectors[0], vectors[3])
    unit = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert unit[0] @ unit[1] > unit[0] @ unit[2] + 0.2
    assert embedder.model_id == sentence_model_id() and "==" in embedder.model_id


def test_cached_texts_are_not_encoded_again(tmp_path):
    counting = CountingEncoder(encode_with_sentence_model)
    first = TextEmbedder(tmp_path, sentence_model_id(), counting).embed(["stars", "confetti"])
    again = TextEmbedder(tmp_path, sentence_model_id(), counting).embed(
        ["confetti", "balloons", "stars"])
    assert counting.calls == [["stars", "confetti"], ["balloons"]]
    np.testing.assert_array_equal(again[[2, 0]], first)


@pytest.mark.parametrize("model_a,text_a,model_b,text_b,same", [
    ("m==1", "stars", "m==1", "stars", True),
    ("m==1", "stars", "m==2", "stars", False),
    ("m==1", "stars", "m==1", "stars ", False),
    ("m==1", "a\0b", "m==1\0a", "b", False),
])
def test_cache_keys_depend_on_model_and_text(tmp_path, model_a, text_a, model_b, text_b, same):
    a = TextEmbedder(tmp_path, model_a, letter_counts).key(text_a)
    b = TextEmbedder(tmp_path, model_b, letter_counts).key(text_b)
    assert (a == b) == same


def test_a_corrupt_cache_entry_is_encoded_again(tmp_path):
    counting = CountingEncoder(letter_counts)
    embedder = TextEmbedder(tmp_path, "m==1", counting)
    embedder.embed(["stars"])
    (tmp_path / f"{embedder.key('stars')}.npy").write_bytes(b"not an array")
    np.testing.assert_array_equal(embedder.embed(["stars"]), letter_counts(["stars"]))
    assert counting.calls == [["stars"], ["stars"]]


@pytest.mark.parametrize("columns", [
    {"name": ["hat", "ball"]},
    {"name": ["hat", "ball", "cap"], "description": ["a red hat", "a ball", "hat"]},
])
def test_columns_are_embedded_per_item_in_column_order(tmp_path, columns):
    embedded = embed_columns(columns, TextEmbedder(tmp_path, "m==1", letter_counts))
    n = len(next(iter(columns.values())))
    assert embedded.shape == (n, len(columns), 26)
    for k, texts in enumerate(columns.values()):
        np.testing.assert_array_equal(embedded[:, k], letter_counts(texts))
