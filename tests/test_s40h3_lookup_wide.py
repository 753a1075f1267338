"""s40h3: the in-RAM LogUp-GKR layer kernels on 512-bit lanes and the in-place fold in
unit stride.

* `_fold_blocks_ci` (the fold of `e_gkr_fold_sums_ci(_s)`) folds a block's 2·cnt input
  columns in one unit-stride loop and splits them into the even / odd output rows: the
  folded stack against a Python-int twin of the fold (entry x = lo_x + r·(hi_x − lo_x),
  output column i = input columns 2i, 2i + 1), the round sums against `ref_gkr_sums`
  (small m) or `e_gkr_sums_c_s` over the twin's stack, E_{j+1} against the pair sums;
  odd m, `BLOCK` and `CI_HEAD` edges (the serial head and the parallel doubling steps),
  1/2/3/7 pieces, a stack wider than 2m (columns ≥ m untouched).
* The helpers and prange bodies marked "prefer-vector-width"="512" (`jit_util._wide512`):
  an uncached compile carries the mark in its LLVM IR and gives the cached kernel's
  values."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

MARK = '"prefer-vector-width"="512"'
EDGE = [0, 1, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 64) - (1 << 33) + 1]
H = KL.CI_HEAD
B = KL.BLOCK


def _vals(rng, shape):
    a = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    e = rng.choice(np.array(EDGE, np.uint64), size=shape)
    return np.where(rng.random(shape) < 0.3, e, a)


def _mul(a, b):
    return ((a[0] * b[0] + 7 * a[1] * b[1]) % P_INT, (a[0] * b[1] + a[1] * b[0]) % P_INT)


def ref_fold_ci(W, r, m):
    """Python ints: the first m columns of the component-major W (k, 4, ≥ 2m) folded at r
    from its first 2m columns; the other columns as they were."""
    out = W.copy()
    r = (int(r[0]), int(r[1]))
    for f in range(W.shape[0]):
        for x in range(2 * m):
            lo = (int(W[f, 0, x]), int(W[f, 1, x]))
            hi = (int(W[f, 2, x]), int(W[f, 3, x]))
            d = ((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT)
            p = _mul(r, d)
            y = ((lo[0] + p[0]) % P_INT, (lo[1] + p[1]) % P_INT)
            row = 2 * (x & 1)
            out[f, row, x >> 1] = y[0]
            out[f, row + 1, x >> 1] = y[1]
    return out


SLOTS = np.array([[0, 1, 2, 3], [-1, -1, 4, 2]], np.int64)   # a numerator tree, a unit one
RS = ((P_INT - 1, P_INT - 2), (12345, P_INT - 1), (0, 1))


@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [1, 2, 3, 7, B - 1, B + 1, B + 5, H - 1, H + 3, 2 * H + 6,
                               3 * H + 1])
def test_fold_ci_vs_python(m, want1):
    rng = np.random.default_rng(4003 + 7 * m + want1)
    k = 5
    W = _vals(rng, (k, 4, 2 * m + 3))   # wider than 2m: columns ≥ m must stay
    E = _vals(rng, (m, 2))
    for r in RS[:1] if m > H else RS:
        r0, r1 = np.uint64(r[0]), np.uint64(r[1])
        want_W = ref_fold_ci(W, r, m)
        folded = want_W[:, :, :m]
        if m <= 40:
            want_s, want_en = KL.ref_gkr_sums(KL.pairs_of_c(folded), KL.pairs_of_c(folded),
                                              SLOTS, E, want1)
        else:
            want_en = np.empty((m // 2, 2), np.uint64)
            want_s = KL.e_gkr_sums_c_s(np.ascontiguousarray(folded), SLOTS, E, want_en,
                                       want1)
        for nch in (0, 1, 2, 3, 7):
            Wi = W.copy()
            en = np.empty((m // 2, 2), np.uint64)
            if nch == 0:
                got = KL.e_gkr_fold_sums_ci_s(Wi, r0, r1, SLOTS, E, en, want1)
            else:
                got = KL.e_gkr_fold_sums_ci(Wi, r0, r1, SLOTS, E, en, want1, nch)
            assert np.array_equal(Wi, want_W), (nch, r)
            assert np.array_equal(got, want_s), (nch, r)
            assert np.array_equal(en, want_en), (nch, r)


def test_fold_blocks_ci_piece():
    """One call over [lo, hi) with lo > 0 (a parallel piece): only columns [lo, hi)
    change, to the twin's values."""
    rng = np.random.default_rng(40031)
    m = 3 * B + 17
    W = _vals(rng, (3, 4, 2 * m))
    r = (987654321, P_INT - 3)
    want = ref_fold_ci(W, r, m)
    lo, hi = m // 2 + 1, m   # inputs [2lo, 2hi) lie above the outputs: safe in place
    Wi = W.copy()
    KL._fold_blocks_ci(Wi, np.uint64(r[0]), np.uint64(r[1]), lo, hi)
    assert np.array_equal(Wi[:, :, lo:hi], want[:, :, lo:hi])
    assert np.array_equal(Wi[:, :, :lo], W[:, :, :lo])
    assert np.array_equal(Wi[:, :, hi:], W[:, :, hi:])


def _ir(f):
    return "\n".join(f.inspect_llvm().values())


def _fresh(f, parallel=False):
    return njit(cache=False, nogil=True, fastmath=False, parallel=parallel)(f.py_func)


def test_helpers_marked_and_same():
    rng = np.random.default_rng(40032)
    n = 300
    a0, a1, b0, b1, c0, c1, d0, d1 = (_vals(rng, n) for _ in range(8))
    for name in ("_v_mul", "_v_dot"):
        f = getattr(KL, name)
        g = _fresh(f)
        args = (a0, a1, b0, b1) if name == "_v_mul" else (a0, a1, b0, b1, c0, c1, d0, d1)
        o = [np.empty(n, np.uint64) for _ in range(4)]
        f(*args, o[0], o[1], n)
        g(*args, o[2], o[3], n)
        assert np.array_equal(o[0], o[2]) and np.array_equal(o[1], o[3])
        assert MARK in _ir(g), name
    for name in ("_v_add", "_v_sub"):
        f, g = getattr(KL, name), _fresh(getattr(KL, name))
        o1, o2 = np.empty(n, np.uint64), np.empty(n, np.uint64)
        f(a0, b0, o1, n)
        g(a0, b0, o2, n)
        assert np.array_equal(o1, o2) and MARK in _ir(g), name
    Kc = np.empty(9 * 8, np.uint64)
    for name in ("_l_mul_sum", "_i_mul_sum"):
        f, g = getattr(KL, name), _fresh(getattr(KL, name))
        assert f(a0, a1, b0, b1, n, Kc) == g(a0, a1, b0, b1, n, Kc)
        assert MARK in _ir(g), name
    f, g = KL._i_dot_sum, _fresh(KL._i_dot_sum)
    assert f(a0, a1, b0, b1, c0, c1, d0, d1, 256, Kc) == g(a0, a1, b0, b1, c0, c1, d0, d1,
                                                           256, Kc)
    assert MARK in _ir(g)
    e1, e2 = np.empty(n, np.uint64), np.empty(n, np.uint64)
    f, g = KL._l_addmul_sum, _fresh(KL._l_addmul_sum)
    assert f(a0, a1, b0, b1, c0, c1, n, Kc, e1, e2) == g(a0, a1, b0, b1, c0, c1, n, Kc,
                                                         e1, e2)
    assert MARK in _ir(g)


def test_layer_kernels_marked_and_same():
    rng = np.random.default_rng(40033)
    m = 700
    k = 5
    W = _vals(rng, (k, 4, 2 * m))
    E = _vals(rng, (m, 2))
    r0, r1 = np.uint64(5), np.uint64(P_INT - 9)
    for name in ("_fold_blocks_ci",):
        g = _fresh(getattr(KL, name))
        Wa, Wb = W.copy(), W.copy()
        KL._fold_blocks_ci(Wa, r0, r1, 0, m)
        g(Wb, r0, r1, 0, m)
        assert np.array_equal(Wa, Wb) and MARK in _ir(g)
    g = _fresh(KL._fold_blocks_c)
    oa, ob = np.empty((k, 4, m), np.uint64), np.empty((k, 4, m), np.uint64)
    KL._fold_blocks_c(W, True, r0, r1, oa, 0, m)
    g(W, True, r0, r1, ob, 0, m)
    assert np.array_equal(oa, ob) and MARK in _ir(g)
    for name, WP in (("_gkr_sums_range_c", W), ("_gkr_sums_range", KL.pairs_of_c(W))):
        g = _fresh(getattr(KL, name))
        acc_a = np.zeros((2, 3, 2, 2), np.uint64)
        acc_b = np.zeros((2, 3, 2, 2), np.uint64)
        ea, eb = np.empty((m // 2, 2), np.uint64), np.empty((m // 2, 2), np.uint64)
        getattr(KL, name)(WP, WP, SLOTS, E, ea, True, 0, m, acc_a)
        g(WP, WP, SLOTS, E, eb, True, 0, m, acc_b)
        assert np.array_equal(acc_a, acc_b) and np.array_equal(ea, eb), name
        assert MARK in _ir(g), name


def test_tree_kernels_marked_and_same():
    rng = np.random.default_rng(40034)
    n = 2 * 777
    p, q = _vals(rng, (n, 2)), _vals(rng, (n, 2))
    h = n // 2
    outs = [np.empty((h, 2), np.uint64) for _ in range(4)]
    KL.e_frac_up(p, q, outs[0], outs[1])
    g = _fresh(KL.e_frac_up, True)
    g(p, q, outs[2], outs[3])
    assert all(np.array_equal(outs[i], outs[i + 2]) for i in (0, 1)) and MARK in _ir(g)
    KL.e_frac_up_unit(q, outs[0], outs[1])
    g = _fresh(KL.e_frac_up_unit, True)
    g(q, outs[2], outs[3])
    assert all(np.array_equal(outs[i], outs[i + 2]) for i in (0, 1)) and MARK in _ir(g)
    w = 4 * 97
    p4, q4 = _vals(rng, (4 * w, 2)), _vals(rng, (4 * w, 2))
    o = [np.empty((w, 2), np.uint64) for _ in range(4)]
    for unit in (False, True):
        KL.e_frac_reduce(p4, q4, unit, 4, o[0], o[1], 64, 3)
        g = _fresh(KL.e_frac_reduce, True)
        g(p4, q4, unit, 4, o[2], o[3], 64, 3)
        assert all(np.array_equal(o[i], o[i + 2]) for i in (0, 1)) and MARK in _ir(g)
        KL.e_frac_reduce_s(p4, q4, unit, 4, o[2], o[3], 64)
        assert all(np.array_equal(o[i], o[i + 2]) for i in (0, 1))
    g = _fresh(KL.e_frac_reduce_s)
    g(p4, q4, False, 4, o[2], o[3], 64)
    assert MARK in _ir(g)
    cols = rng.integers(0, 1 << 40, (2, 1001), dtype=np.uint64)
    ap, bt = _vals(rng, (3, 2, 2)), _vals(rng, (3, 2))
    want = KL.ref_leaf_denoms_sets(cols, ap, bt)
    for f, par in ((KL.e_leaf_denoms_sets, True), (KL.e_leaf_denoms_sets_s, False)):
        g = _fresh(f, par)
        out = np.empty((1001, 3, 2), np.uint64)
        g(cols, ap, bt, out)
        assert np.array_equal(out, want) and MARK in _ir(g), f
    for f, par in ((KL.e_leaf_pair_sets, True), (KL.e_leaf_pair_sets_s, False)):
        g = _fresh(f, par)
        out = np.empty((1001, 3, 2), np.uint64)
        g(cols[0], cols[1], 2, ap, bt, out)
        assert np.array_equal(out, want) and MARK in _ir(g), f
