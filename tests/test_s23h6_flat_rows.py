"""s23h6: `ntt._evec_mat_par` / `_evec_mat_ser` and `whir._lincomb_base_par` read the rows
of their base matrix as slices of the flat array (so the prange body vectorises); the
values must equal the pure-Python twins (`ntt.evec_mat_ref`, `whir.lincomb_base_ref`) on
edge values (0, 1, p-1, p-2) and random ones, at block-ragged shapes."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt, whir
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _arr(rng, shape, kind):
    if kind == "edge":
        return rng.choice(EDGE, size=shape).astype(np.uint64)
    if kind == "pm1":
        return np.full(shape, P_INT - 1, dtype=np.uint64)
    if kind == "zero":
        return np.zeros(shape, dtype=np.uint64)
    return rng.integers(0, P_INT, shape, dtype=np.uint64)


@pytest.mark.parametrize(("rows", "cols"), [(1, 1), (3, 70), (5, 129), (7, 300)])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1", "zero"])
def test_evec_mat_flat_rows(rows, cols, kind):
    rng = np.random.default_rng(rows * 31 + cols)
    M = _arr(rng, (rows, cols), kind)
    for ek in ("random", "edge", "pm1"):
        e = _arr(rng, (rows, 2), ek)
        want = np.array(ntt.evec_mat_ref(e.tolist(), M.tolist()), dtype=np.uint64)
        ser = np.zeros((cols, 2), np.uint64)
        ntt._evec_mat_ser(e, M, ser)
        assert np.array_equal(ser, want.reshape(cols, 2))
        for block in (1024, 128, 64, 7):
            par = np.zeros((cols, 2), np.uint64)
            ntt._evec_mat_par(e, M, par, block)
            assert np.array_equal(par, ser)


def test_evec_mat_public_paths():
    """evec_mat's serial (<= EVEC_MAT_BLOCK columns) and parallel routes agree with an
    independent kernel (`ntt.mat_evec` of the transpose)."""
    rng = np.random.default_rng(5)
    ntt._evec_mat_ser(np.ones((1, 2), np.uint64), np.ones((1, 1), np.uint64),
                      np.zeros((1, 2), np.uint64))   # numba started: no cold numpy path
    for rows, cols in [(128, 256), (40, ntt.EVEC_MAT_BLOCK + 100), (16, 3000)]:
        M = _arr(rng, (rows, cols), "random")
        M[0, :4] = EDGE
        e = _arr(rng, (rows, 2), "edge")
        got = ntt.evec_mat(e, M)
        assert np.array_equal(got, ntt.mat_evec(np.ascontiguousarray(M.T), e))


@pytest.mark.parametrize(("T", "N"), [(1, 1), (2, 255), (3, 257), (6, 700)])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1", "zero"])
def test_lincomb_base_flat_rows(T, N, kind):
    rng = np.random.default_rng(T * 97 + N)
    tabs = _arr(rng, (T, N), kind)
    for mk in ("random", "edge", "pm1"):
        mu = _arr(rng, (T, 2), mk)
        want = whir.lincomb_base_ref(tabs, mu)
        par = np.empty((N, 2), np.uint64)
        whir._lincomb_base_par(tabs, mu, par)
        assert np.array_equal(par, want)
        ser = np.empty((N, 2), np.uint64)
        whir._lincomb_base_ser(tabs, mu, ser)
        assert np.array_equal(ser, want)
