"""Synthetic catalogs larger than the published one, for ranking benchmarks."""
from __future__ import annotations

import numpy as np

from poserec_core.catalog import Catalog

VARIANT_NOISE = 0.5
"""Spread of a synthetic item around its real original, in units of the real items' standard
deviation per prototype and dimension."""


def synthetic_catalog(real: Catalog, n_items: int, seed: int = 0) -> Catalog:
    """The real items followed by n_items - len(real) synthetic variants of them.

    A variant copies a random real item's prototype distribution and embeddings, plus Gaussian
    noise (VARIANT_NOISE of the real spread). Items drawn independently of the real ones never
    reach a real window's top-5 (the real items score far higher), which would make any
    approximate ranking look perfect; variants compete with their originals, near-ties included.
    Same seed, same catalog.
    """
    extra = n_items - len(real)
    if extra < 0:
        raise ValueError(f"n_items={n_items} is below the real catalog's {len(real)} items")
    rng = np.random.default_rng(seed)
    emb = real.item_embeddings
    source = rng.integers(0, len(real), size=extra)
    noise = rng.standard_normal((emb.shape[0], extra, emb.shape[2]), dtype=np.float32)
    variants = emb[:, source] + VARIANT_NOISE * emb.std(axis=1, keepdims=True) * noise
    names = real.names + tuple(f"{real.names[i]} (variant {n})" for n, i in enumerate(source))
    return Catalog(names, np.concatenate([emb, variants.astype(np.float32)], axis=1),
                   np.concatenate([real.prototype_dis, real.prototype_dis[source]]))
