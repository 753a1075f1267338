"""The restructured commitment kernels against their Python twins at edge values: the
lane-parallel Horner (`whir._horner`: every chunk count, lengths around the lane width,
p − 1 coefficients and points) and the split-component eq combination
(`whir_eq._combine_ext`)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as K
from zklora.kernels import whir_eq as QE
from zklora.kernels.goldilocks import P_INT

B = K.HORNER_LANES


def _sum_parts(part) -> list[int]:
    s = [0, 0]
    for p0, p1 in part:
        s = [(s[0] + int(p0)) % P_INT, (s[1] + int(p1)) % P_INT]
    return s


@pytest.mark.parametrize("n", [1, 2, B - 1, B, B + 1, 2 * B - 1, 3 * B + 5, 1000])
def test_horner_lanes_match_reference(n):
    rng = np.random.default_rng(n)
    for ext in (False, True):
        c = rng.integers(0, P_INT, size=(n, 2) if ext else n, dtype=np.uint64)
        c[: min(n, 2)] = P_INT - 1
        c0 = np.ascontiguousarray(c[:, 0] if ext else c)
        c1 = np.ascontiguousarray(c[:, 1]) if ext else np.zeros(n, dtype=np.uint64)
        for z in ((3, 5), (P_INT - 1, P_INT - 1), (0, 0), (1, 0), (0, 1)):
            want = [int(x) for x in K.horner_ref(c, np.array(z, dtype=np.uint64))]
            for nch in (1, 2, 3, 64):
                part = np.zeros((nch, 2), dtype=np.uint64)
                K._horner(c0, c1, np.uint64(z[0]), np.uint64(z[1]), nch, part, B)
                assert _sum_parts(part) == want, (ext, z, nch)


@pytest.mark.parametrize("m", [0, 1, 3, 5, 11])
def test_combine_ext_matches_reference(m):
    rng = np.random.default_rng(m)
    for q in (1, 3):
        pts = rng.integers(0, P_INT, size=(q, m, 2), dtype=np.uint64)
        cf = rng.integers(0, P_INT, size=(q, 2), dtype=np.uint64)
        if m:
            pts[0, 0] = P_INT - 1
        cf[0] = (P_INT - 1, P_INT - 1)
        init = np.full((1 << m, 2), P_INT - 1, dtype=np.uint64)
        want = QE.eq_combination_ref(init, pts, cf)
        A, Bt, a = QE.eq_split(pts, cf)
        for nch in (1, 2):
            out = init.copy()
            QE._combine_ext(A, Bt, out, a, False, nch)
            assert np.array_equal(out, want)
            out = init.copy()
            QE._combine_ext(A, Bt, out, a, True, nch)
            assert np.array_equal(out, QE.eq_combination_ref(np.zeros_like(init), pts, cf))


def test_scalar_products_match_python():
    """`gl_mul_s` / `e2_mul_s` (one 128-bit multiply) equal the reference on edge values:
    0, 1, p − 1, 2^32 ± 1, 2^63, ε = 2^32 − 1 and values with every carry."""
    from numba import njit

    from zklora.kernels import reference as R
    from zklora.kernels.goldilocks import e2_mul_s, gl_mul_s

    @njit(cache=False)
    def both(xs, out, eout):
        n = xs.shape[0]
        for i in range(n):
            for j in range(n):
                out[i, j] = gl_mul_s(xs[i], xs[j])
                eout[i, j, 0], eout[i, j, 1] = e2_mul_s(xs[i], xs[j], xs[j], xs[(i + 1) % n])

    vals = [0, 1, 2, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, 1 << 63,
            (1 << 64) - (1 << 32), 0xFFFFFFFF00000000, 0x123456789ABCDEF0 % P_INT]
    xs = np.array(vals, dtype=np.uint64)
    n = len(vals)
    out = np.empty((n, n), dtype=np.uint64)
    eout = np.empty((n, n, 2), dtype=np.uint64)
    both(xs, out, eout)
    for i in range(n):
        for j in range(n):
            assert int(out[i, j]) == vals[i] * vals[j] % P_INT
            want = R.e2_mul(vals[i], vals[j], vals[j], vals[(i + 1) % n])
            assert (int(eout[i, j, 0]), int(eout[i, j, 1])) == tuple(int(v) for v in want)


@pytest.mark.parametrize("n,lo", [(3, 3), (5, 0), (5, 2), (6, 3), (9, 4), (13, 12), (14, 12)])
def test_mobius_runs_match_reference(n, lo):
    """The blocked Möbius passes (radix-8 low pass, unit-stride runs, parallel high
    passes in runs of `whir.MOBIUS_RUN`) on p − 1 / 0 / random entries."""
    rng = np.random.default_rng(n)
    t = rng.integers(0, P_INT, size=1 << n, dtype=np.uint64)
    t[:3] = (P_INT - 1, 0, P_INT - 1)
    t[-2:] = P_INT - 1
    a = t.copy()
    K._mobius_blocks(a, lo)
    if lo < n:
        K._mobius_hi(a, lo, n)
    assert [int(x) for x in a] == K.mobius_ref(t)
