"""`KL.multi_fold` (the streamed rounds' chunk folds in one pass) against its Python
twin and against `fold_into` applied j times."""

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL

P = KL.P_INT


def _rand(rng, *shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


@pytest.mark.parametrize("k,m,j", [(2, 3, 1), (4, 5, 3), (6, 1, 6), (2, 700, 2),
                                   (4, 2048, 4), (2, 3, 13), (8, 33, 7)])
def test_multi_fold_matches(k, m, j):
    rng = np.random.default_rng(k * 1000 + m * 10 + j)
    W = _rand(rng, k, m << j, 2)
    W[0, :4] = 0
    W[-1, -3:] = np.uint64(P - 1)
    rhos = _rand(rng, j, 2)
    rhos[0, 1] = 0
    seq = W
    for r in rhos:
        nxt = np.empty((k, seq.shape[1] // 2, 2), dtype=np.uint64)
        KL.fold_into(seq, r, nxt)
        seq = nxt
    got = KL.multi_fold(W, rhos)
    assert got.shape == (k, m, 2)
    assert np.array_equal(got, seq)
    if k * (m << j) <= 1 << 12:
        assert np.array_equal(got, KL.ref_multi_fold(W, rhos))
    # the parallel kernel itself (small stacks take the fold_into loop in `multi_fold`)
    out = np.empty((k, m, 2), dtype=np.uint64)
    KL.e_multi_fold(W, np.ascontiguousarray(rhos), out)
    assert np.array_equal(out, seq)


def test_multi_fold_zero_rounds():
    W = np.ones((2, 4, 2), dtype=np.uint64)
    assert KL.multi_fold(W, np.zeros((0, 2), dtype=np.uint64)) is W
