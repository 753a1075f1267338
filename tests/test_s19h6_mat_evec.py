"""`goldilocks.e_matvec_base` as `ntt.mat_evec` uses it (rows summed in vector lanes)
against the Python
reference `ntt.mat_evec_ref` and the scalar row kernel `_mat_evec_ser`: edge values
(0, 1, p−1, p−2), random, rows shorter than the lanes, ragged tails, row blocks."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as G
from zklora.kernels import ntt
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _mat(rng, rows, cols, kind):
    if kind == "random":
        return rng.integers(0, P_INT, size=(rows, cols), dtype=np.uint64)
    if kind == "edge":
        return EDGE[rng.integers(0, 4, size=(rows, cols))]
    if kind == "pm1":
        return np.full((rows, cols), P_INT - 1, dtype=np.uint64)
    return np.zeros((rows, cols), dtype=np.uint64)


@pytest.mark.parametrize("rows,cols", [(1, 1), (3, 15), (5, 16), (7, 17), (64, 33),
                                       (130, 100), (4097, 19), (65, 4096 + 5)])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1", "zero"])
def test_mat_evec_par_matches_reference(rows, cols, kind):
    rng = np.random.default_rng(rows * 7919 + cols)
    M = _mat(rng, rows, cols, kind)
    for ek in ("random", "edge", "pm1"):
        e = _mat(rng, cols, 2, ek)
        got = np.zeros((rows, 2), np.uint64)
        G.e_matvec_base(e, M, got)
        ser = np.zeros((rows, 2), np.uint64)
        ntt._mat_evec_ser(M, e, ser)
        assert np.array_equal(got, ser)
        if rows * cols <= 1 << 14:
            want = ntt.mat_evec_ref(M.tolist(), e.tolist())
            assert [tuple(map(int, x)) for x in got] == want


def test_mat_evec_public_parallel_path():
    rng = np.random.default_rng(5)
    M = rng.integers(0, P_INT, size=(300, 1000), dtype=np.uint64)
    M[0] = P_INT - 1
    M[1] = P_INT - 2
    e = rng.integers(0, P_INT, size=(1000, 2), dtype=np.uint64)
    e[:7] = P_INT - 1
    got = ntt.mat_evec(M, e)
    want = ntt.mat_evec_ref(M[:40].tolist(), e.tolist())
    assert [tuple(map(int, x)) for x in got[:40]] == want
    ser = np.zeros((300, 2), np.uint64)
    ntt._mat_evec_ser(M, e, ser)
    assert np.array_equal(got, ser)
