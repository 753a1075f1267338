"""s29h4: `whir_eq.pow_eq_accumulate`'s IFMA combine with its constants copied a row
group at a time (against the acc_mul `_combine_par` and the flag-off path), and the
stack passes' `_split_dot` / `_seg_fin` with 192-bit sums (against the reduced-product
form and Python integers): edge values 0, 1, p−1, p−2, all-(p−1) / all-(p−2) inputs,
every carry of the 192-bit multiply-add."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import whir_eq as QE
from zklora.kernels.goldilocks import P_INT, e2_mul, gl_add

P = P_INT
EDGE = [0, 1, P - 1, P - 2]

pytestmark = pytest.mark.skipif(not QE._ifma_host(), reason="no AVX-512 IFMA52 here")


def _rnd(rng, *shape) -> np.ndarray:
    return rng.integers(0, P, size=shape, dtype=np.uint64)


@pytest.fixture
def ifma(monkeypatch):
    """Run ``fn`` with the IFMA kernels on / off (the module flag the wrappers read)."""
    def run(flag: bool, fn, *args, **kw):
        monkeypatch.setattr(QE, "IFMA", flag)
        return fn(*args, **kw)
    return run


@pytest.mark.parametrize("m, q", [(9, 3), (12, 85), (13, 1), (16, 40)])
def test_pow_eq_accumulate_ifma_local_b(m, q):
    """The IFMA combine (group constants copied per chunk) against the acc_mul
    `_combine_par` on the same split tables."""
    rng = np.random.default_rng(m + q)
    zs = _rnd(rng, q)
    cf = _rnd(rng, q, 2)
    zs[:2] = EDGE[2:][:q]
    cf[0] = EDGE[2:]
    a = min(m, QE.LO_VARS)
    r = np.empty((q, m), dtype=np.uint64)
    QE._pow_chain(zs, m, r)
    A = np.empty((q, 1 << a), dtype=np.uint64)
    QE._eq_cols(r, 0, a, A)
    B = np.empty((q, 1 << (m - a)), dtype=np.uint64)
    QE._eq_cols(r, a, m, B)
    A0, A1 = np.empty_like(A), np.empty_like(A)
    QE._scale(A, cf, A0, A1)
    out = _rnd(rng, 1 << m, 2)
    new, old = out.copy(), out.copy()
    QE._combine_ifma(A0, A1, B, new, a, min(B.shape[1] // 8, 16))
    QE._combine_par(A0, A1, B, old, a, min(B.shape[1], 16))
    assert np.array_equal(new, old)


@njit(cache=False)
def _split_dot_old(A0, A1, o, tl, L0, L1, lo_, j):
    """`whir_eq._split_dot` before s29h4: a reduced extension product and sum an entry."""
    jm = (1 << j) - 1
    x00 = x01 = x10 = x11 = np.uint64(0)
    for x in range(tl):
        xl = lo_ + ((x & jm) | ((x >> (j + 1)) << j))
        p0, p1 = e2_mul(A0[o + x], A1[o + x], L0[xl], L1[xl])
        if (x >> j) & 1:
            x10 = gl_add(x10, p0)
            x11 = gl_add(x11, p1)
        else:
            x00 = gl_add(x00, p0)
            x01 = gl_add(x01, p1)
    return x00, x01, x10, x11


@njit(cache=False)
def _seg_fin_old(ks, grp, grp_T, loff, L0, L1, aoff, A0, A1, j, X):
    """The reduced-product `_seg_fin` (before s29h4)."""
    for i in range(ks.shape[0]):
        k = ks[i]
        g = grp[k]
        X[k, 0], X[k, 1], X[k, 2], X[k, 3] = _split_dot_old(
            A0, A1, aoff[k], 1 << grp_T[g], L0, L1, loff[g], j)


def _seg_case(rng, G, K, Ts, fill=None):
    grp = rng.integers(0, G, K).astype(np.int64)
    gT = np.array(Ts, np.int64)[:G]
    loff = np.zeros(G + 1, np.int64)
    np.cumsum(np.int64(1) << (gT - 1), out=loff[1:])
    aoff = np.zeros(K + 1, np.int64)
    np.cumsum(np.int64(1) << gT[grp], out=aoff[1:])
    if fill is None:
        L0, L1 = _rnd(rng, int(loff[-1])), _rnd(rng, int(loff[-1]))
        A0, A1 = _rnd(rng, int(aoff[-1])), _rnd(rng, int(aoff[-1]))
        for t in (L0, L1, A0, A1):
            t[:4] = EDGE
            t[-4:] = EDGE[::-1]
    else:
        L0, L1 = (np.full(int(loff[-1]), fill, np.uint64) for _ in range(2))
        A0, A1 = (np.full(int(aoff[-1]), fill, np.uint64) for _ in range(2))
    return grp, gT, loff, L0, L1, aoff, A0, A1


@pytest.mark.parametrize("j", [0, 1, 2, 3, 4, 7])
@pytest.mark.parametrize("fill", [None, P - 1, P - 2])
def test_seg_fin_lazy(j, fill):
    """`_seg_fin`'s 192-bit sums against `_split_dot`'s reduced ones (tiles 2^(j+1) …
    2^8, some claims left out of ks) and, for a few claims, Python integers."""
    rng = np.random.default_rng(j * 7 + (fill or 0) % 97)
    Ts = [max(j + 1, t) for t in (8, j + 1, 5, 8, 3)]
    grp, gT, loff, L0, L1, aoff, A0, A1 = _seg_case(rng, 5, 40, Ts, fill)
    ks = np.arange(0, 40, 1 + (j % 2), dtype=np.int64)
    new = np.zeros((40, 4), np.uint64)
    old = np.zeros((40, 4), np.uint64)
    QE._seg_fin(ks, grp, gT, loff, L0, L1, aoff, A0, A1, j, new)
    _seg_fin_old(ks, grp, gT, loff, L0, L1, aoff, A0, A1, j, old)
    assert np.array_equal(new, old)
    for k in ks[:3]:
        g = grp[k]
        want = [0, 0, 0, 0]
        for x in range(1 << gT[g]):
            xl = int(loff[g]) + ((x & ((1 << j) - 1)) | ((x >> (j + 1)) << j))
            a0, a1 = int(A0[aoff[k] + x]), int(A1[aoff[k] + x])
            l0, l1 = int(L0[xl]), int(L1[xl])
            b = 2 * ((x >> j) & 1)
            want[b] += a0 * l0 + 7 * a1 * l1
            want[b + 1] += a0 * l1 + a1 * l0
        assert [int(v) for v in new[k]] == [w % P for w in want]


@njit(cache=False)
def _mac2_nb(lo, hi, tp, x0, b0, x1, b1):
    return QE._mac2(lo, hi, tp, x0, b0, x1, b1)


def test_mac2_carries():
    """`_mac2` against Python integers: every carry (into hi from the low words, out of hi
    into tp from either product and from the low carries), and random words."""
    M = (1 << 64) - 1
    cases = [(M, M, 0, 1, 1, 1, 1), (M, M - 1, 5, 1, 1, 1, 1), (M, 0, 0, M, M, M, M),
             (0, M, 0, M, M, 0, 0), (M - 1, M, 7, 2, 1, 0, 0), (0, 0, 0, 0, 0, 0, 0)]
    rng = np.random.default_rng(9)
    cases += [tuple(int(v) for v in rng.integers(0, 1 << 64, 7, dtype=np.uint64))
              for _ in range(200)]
    for lo, hi, tp, x0, b0, x1, b1 in cases:
        tp %= 1 << 32
        got = _mac2_nb(*(np.uint64(v) for v in (lo, hi, tp, x0, b0, x1, b1)))
        want = (tp << 128) + (hi << 64) + lo + x0 * b0 + x1 * b1
        assert int(got[0]) + (int(got[1]) << 64) + (int(got[2]) << 128) == want
