"""`whir._mobius_rows_tiles_x` (each row's variables 0-5 by the <8 x i64> IR `_x_mob6`,
the rest three at a time, s39h2) against the old `_mobius_rows_tiles` and the numpy twin
`_mobius_rows_tiles_ref`: outputs and the returned maximum, edge values (0, 1, p − 1,
p − 2), every row length 2^6 … 2^13, tile widths, row counts below / above the chunk
count; `_x_mob6` against the Python `mobius_ref`; the dispatch."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _src(rng, N, kind):
    if kind == "random":
        return rng.integers(0, P_INT, size=N, dtype=np.uint64)
    if kind == "edge":
        return EDGE[rng.integers(0, 4, size=N)]
    return np.full(N, P_INT - 1, dtype=np.uint64)


@pytest.mark.parametrize("kind", ["random", "edge", "pm1"])
def test_x_mob6_vs_python(kind):
    rng = np.random.default_rng(len(kind))
    a = _src(rng, 256, kind)
    out = np.zeros(256 + 64, dtype=np.uint64)
    for c in range(0, 256, 64):
        whir._x_mob6_call(a, c, out, c + 64)
        assert out[c + 64:c + 128].tolist() == whir.mobius_ref(a[c:c + 64])


@pytest.mark.parametrize("lt,cb,rows", [(6, 8, 5), (7, 16, 64), (8, 256, 3), (9, 64, 70),
                                        (10, 128, 17), (11, 512, 40), (12, 256, 9),
                                        (13, 128, 6), (13, 256, 65)])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1"])
def test_rows_tiles_x_matches_old_and_ref(lt, cb, rows, kind):
    rng = np.random.default_rng(lt * 100 + rows + len(kind))
    T = 1 << lt
    src = _src(rng, rows * T, kind)
    o_ref = np.empty((T // cb, rows, cb), dtype=np.uint64)
    m_ref = whir._mobius_rows_tiles_ref(src, o_ref, lt, cb)
    for nch in (1, 4, max(1, min(64, rows))):
        o_old = np.empty_like(o_ref)
        o_new = np.empty_like(o_ref)
        m_old = whir._mobius_rows_tiles(src, o_old, lt, cb, nch)
        m_new = whir._mobius_rows_tiles_x(src, o_new, lt, cb, nch)
        assert np.array_equal(o_new, o_ref) and np.array_equal(o_old, o_ref)
        assert int(m_new) == int(m_old) == m_ref


def test_dispatch():
    rng = np.random.default_rng(5)
    lt, cb, rows = 11, 512, 16
    src = _src(rng, rows << lt, "random")
    outs = []
    old = whir.XMOB
    try:
        for flag in (False, True):
            whir.XMOB = flag
            o = np.empty(((1 << lt) // cb, rows, cb), dtype=np.uint64)
            outs.append((whir.mobius_rows_tiles(src, o, lt, cb), o))
    finally:
        whir.XMOB = old
    assert outs[0][0] == outs[1][0] and np.array_equal(outs[0][1], outs[1][1])
