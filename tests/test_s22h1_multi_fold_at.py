"""s22h1: `KL.multi_fold(..., out, at)` / `e_multi_fold_at` (a streamed layer's chunk
folded straight into the whole folded stack) against the Python twin `ref_multi_fold`,
on edge values (0, 1, p − 1, p − 2), both the small-stack path and the parallel kernel,
the entries outside the slice untouched."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P

EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)


@pytest.mark.parametrize("k,m,j", [(2, 8, 1), (3, 5, 2), (4, 1 << 11, 3), (2, 3000, 1)])
def test_multi_fold_at(k, m, j):
    rng = np.random.default_rng(k * m + j)
    W = rng.choice(EDGE, size=(k, m << j, 2))
    W[:, ::3] = rng.integers(0, P, size=W[:, ::3].shape, dtype=np.uint64)
    rhos = np.array([[P - 1, P - 2], [1, 0], [0, 1]][:j], np.uint64)
    want = KL.ref_multi_fold(W, rhos)
    at = 7
    out = np.full((k, at + m + 5, 2), 12345, np.uint64)
    got = KL.multi_fold(W, rhos, out, at)
    assert np.array_equal(got, want)
    assert np.array_equal(out[:, at:at + m], want)
    assert (out[:, :at] == 12345).all() and (out[:, at + m:] == 12345).all()
    out2 = np.full_like(out, 9)
    KL.e_multi_fold_at(W, np.ascontiguousarray(rhos), out2, at)
    assert np.array_equal(out2[:, at:at + m], want)
    assert (out2[:, :at] == 9).all() and (out2[:, at + m:] == 9).all()
