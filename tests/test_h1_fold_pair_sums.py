"""`whir_eq.fold_pair_sums` / `fold_eq` (a base table folded j times as one eq-weighted
sum per tile, numba) against their Python twins and against `sumcheck.fold_into` j
times then `sumcheck.pair_sums` (what the stack's streaming passes did before)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import sumcheck as KS
from zklora.kernels import whir_eq as QE

P = (1 << 64) - (1 << 32) + 1


def _folds(s, rs):
    t = s
    for r in rs:
        out = np.empty((t.shape[0] // 2, 2), dtype=np.uint64)
        KS.fold_into(t, r, out)
        t = out
    return t


@pytest.mark.parametrize("m,j", [(1, 0), (2, 1), (3, 0), (4, 2), (5, 4), (7, 3), (6, 5)])
def test_fold_pair_sums_matches_reference(m, j):
    rng = np.random.default_rng(10 * m + j)
    s = rng.integers(0, P, 1 << m, dtype=np.uint64)
    s[:2] = [P - 1, 0]
    rs = rng.integers(0, P, (j, 2), dtype=np.uint64)
    w = rng.integers(0, P, (1 << (m - j), 2), dtype=np.uint64)
    assert np.array_equal(QE.fold_eq(s, rs), QE.fold_eq_ref(s, rs))
    if m > j:
        assert np.array_equal(QE.fold_pair_sums(s, rs, w), QE.fold_pair_sums_ref(s, rs, w))


@pytest.mark.parametrize("m", [12, 15, 18])
@pytest.mark.parametrize("j", [0, 1, 2, 3, 4, 6])
def test_fold_pair_sums_matches_folds(m, j):
    """Several tiles and threads (the streamed chunk sizes) against j `fold_into` and
    `pair_sums`."""
    rng = np.random.default_rng(m * 7 + j)
    s = rng.integers(0, P, 1 << m, dtype=np.uint64)
    rs = rng.integers(0, P, (j, 2), dtype=np.uint64)
    w = rng.integers(0, P, (1 << (m - j), 2), dtype=np.uint64)
    f = _folds(s, list(rs))
    if j:
        assert np.array_equal(QE.fold_eq(s, rs), f)
    assert np.array_equal(QE.fold_pair_sums(s, rs, w), KS.pair_sums(f, w))


def test_fold_pair_sums_refuses_bad_shapes():
    s = np.zeros(16, np.uint64)
    with pytest.raises(ValueError):
        QE.fold_pair_sums(s, np.zeros((1, 2), np.uint64), np.zeros((4, 2), np.uint64))
    with pytest.raises(ValueError):
        QE.fold_pair_sums(np.zeros((16, 2), np.uint64), np.zeros((0, 2), np.uint64),
                          np.zeros((16, 2), np.uint64))
    with pytest.raises(ValueError):
        QE.fold_eq(np.zeros(12, np.uint64), np.zeros((3, 2), np.uint64))
