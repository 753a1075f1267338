"""`ntt._evec_mat_par` / `_evec_mat_ser` (unreduced 192-bit accumulators `mul_acc128`,
one reduction `fin_acc128` at the end, s19h6) against the Python reference
`ntt.evec_mat_ref`-style definition: edge values (0, 1, p−1, p−2), random, all p−1 (the
top word grows every row), partial column blocks, accumulation into a non-zero out."""

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


def _ref(e, M, init):
    R, C = M.shape
    Mi = M.astype(object)
    out = []
    for j in range(C):
        s0 = int(init[j, 0])
        s1 = int(init[j, 1])
        for i in range(R):
            s0 += int(e[i, 0]) * int(Mi[i, j])
            s1 += int(e[i, 1]) * int(Mi[i, j])
        out.append((s0 % P_INT, s1 % P_INT))
    return np.array(out, dtype=np.uint64).reshape(C, 2)


def test_mul_acc128_edges():
    from numba import njit

    @njit
    def run(a, b):
        lo = np.uint64(0)
        hi = np.uint64(0)
        top = np.uint64(0)
        for i in range(a.shape[0]):
            lo, hi, top = G.mul_acc128(a[i], b[i], lo, hi, top)
        return lo, hi, top, G.fin_acc128(lo, hi, top)

    rng = np.random.default_rng(3)
    vals = [0, 1, P_INT - 1, P_INT - 2, 2**64 - 1, 2**32, 2**32 - 1]
    for n in (1, 2, 3, 300, 5000):
        for a_kind in range(3):
            if a_kind == 0:
                a = np.full(n, P_INT - 1, np.uint64)
                b = np.full(n, 2**64 - 1, np.uint64)
            elif a_kind == 1:
                a = np.array([vals[i % 7] for i in range(n)], np.uint64)
                b = np.array([vals[(3 * i + 1) % 7] for i in range(n)], np.uint64)
            else:
                a = rng.integers(0, 2**64, size=n, dtype=np.uint64)
                b = rng.integers(0, 2**64, size=n, dtype=np.uint64)
            lo, hi, top, r = run(a, b)
            want = sum(int(x) * int(y) for x, y in zip(a.tolist(), b.tolist()))
            assert int(lo) + (int(hi) << 64) + (int(top) << 128) == want
            assert int(r) == want % P_INT


@pytest.mark.parametrize("rows,cols", [(1, 1), (2, 7), (5, 1024), (17, 1025), (256, 300),
                                       (300, 2100), (1, 5000)])
@pytest.mark.parametrize("kind", ["random", "edge", "pm1", "zero"])
def test_evec_mat_matches_reference(rows, cols, kind):
    rng = np.random.default_rng(rows * 131 + cols)
    M = _mat(rng, rows, cols, kind)
    for ek in ("random", "edge", "pm1"):
        e = _mat(rng, rows, 2, ek)
        init = _mat(rng, cols, 2, "edge")
        want = _ref(e, M, init) if rows * cols <= 80000 else None
        for block in (1024, 64):
            got = init.copy()
            ntt._evec_mat_par(e, M, got, block)
            ser = init.copy()
            ntt._evec_mat_ser(e, M, ser)
            assert np.array_equal(got, ser)
            if want is not None:
                assert np.array_equal(got, want)
        pub = ntt.evec_mat(e, M)
        # an independent kernel: M^T e through `ntt.mat_evec` (rows summed in lanes)
        assert np.array_equal(pub, ntt.mat_evec(np.ascontiguousarray(M.T), e))
        zero = np.zeros((cols, 2), np.uint64)
        if rows * cols <= 80000:
            assert np.array_equal(pub, _ref(e, M, zero))
