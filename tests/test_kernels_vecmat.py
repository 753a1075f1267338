"""Extension-vector × base-matrix kernels (`goldilocks.e_vecmat_base`, `ntt.evec_mat`,
`ntt.mat_evec`) against their Python references on shapes that cover whole and partial
column blocks, the shrunken blocks of narrow matrices and the parallel paths."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.kernels import ntt
from zklora.kernels import reference as R
from zklora.kernels.goldilocks import P_INT


def _rand(rng, *shape):
    a = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    a.flat[:3] = [P_INT - 1, 0, P_INT - 1][: a.size]   # edge values
    return a


@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 13), (5, 40), (4, 1000), (2, 1025),
                                       (17, 2050), (40, 1300)])
def test_e_vecmat_base_matches_reference(rows, cols):
    rng = np.random.default_rng(rows * 7919 + cols)
    e = _rand(rng, rows, 2)
    M = _rand(rng, rows, cols)
    out = np.empty((cols, 2), dtype=np.uint64)
    K.e_vecmat_base(e, M, out)
    assert np.array_equal(out, R.e_vecmat_base(e, M))


@pytest.mark.parametrize("rows,cols", [(3, 13), (4, 1000), (17, 2050), (40, 1300)])
def test_evec_mat_matches_reference(rows, cols):
    rng = np.random.default_rng(rows * 104729 + cols)
    e = _rand(rng, rows, 2)
    M = _rand(rng, rows, cols)
    got = ntt.evec_mat(e, M)
    assert [tuple(map(int, x)) for x in got] == ntt.evec_mat_ref(e.tolist(), M.tolist())
    assert np.array_equal(got, R.e_vecmat_base(e, M))


@pytest.mark.parametrize("rows,cols", [(1, 1), (13, 3), (1000, 4), (1300, 40)])
def test_mat_evec_matches_reference(rows, cols):
    rng = np.random.default_rng(rows * 31 + cols)
    M = _rand(rng, rows, cols)
    e = _rand(rng, cols, 2)
    got = ntt.mat_evec(M, e)
    assert [tuple(map(int, x)) for x in got] == ntt.mat_evec_ref(M.tolist(), e.tolist())


@pytest.mark.parametrize("T,N", [(2, 5), (3, (1 << 14) + 37), (9, 4096 + 255)])
def test_lincomb_base_matches_reference(T, N):
    """`whir.lincomb_base` (the same product with the rows as tables): partial blocks."""
    from zklora.kernels import whir as W

    rng = np.random.default_rng(T * 1009 + N)
    tabs = _rand(rng, T, N)
    mu = _rand(rng, T, 2)
    assert np.array_equal(W.lincomb_base(tabs, mu), W.lincomb_base_ref(tabs, mu))
