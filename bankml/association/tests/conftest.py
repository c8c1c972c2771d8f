"""Test helper shared by the association tests: small random one-hot product tables.

Items are correlated through a latent "affluence", so itemsets and rules of several sizes occur.
"""

import numpy as np
import pandas as pd
import pytest


def _make_onehot(seed, n=150, m=7, strength=0.5):
    rng = np.random.default_rng(seed)
    # a latent "affluence" drives several products at once
    z = rng.random(n)[:, None]
    p = rng.uniform(0.1, 0.7, size=m)[None, :]
    X = rng.random((n, m)) < np.clip(p + strength * (z - 0.5), 0.02, 0.98)
    return pd.DataFrame(X, columns=[f"has_p{j}" for j in range(m)])


@pytest.fixture
def random_onehot():
    """``random_onehot(seed, n=150, m=7, strength=0.5)``: a boolean frame ``has_p0`` ..."""
    return _make_onehot
