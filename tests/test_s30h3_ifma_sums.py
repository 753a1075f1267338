"""s30h3: IFMA52 lane × lane products in the LogUp-GKR sum kernels (`lookup_gkr._i_mul_sum`,
`_i_dot_sum` and the `_l_*` selectors that the layer sums and the window kernel call)
against the 32-bit limb kernels (`_v_mul_sum`, `_v_addmul_sum`, `_v_dot_acc`) and Python
integers, on edge values (0, 1, p − 1, p − 2, all p − 1: the largest limb sums) and lane
counts below, at and above `IFMA_MIN_LANES`, with tails that are not whole vectors; then
the kernels that call them (`e_gkr_sums(_s)`, `e_gkr_sums_c(_s)`, `e_gkr_fold_sums_c`,
`e_gkr_window_sums`) against their Python twins.  On a host without IFMA52 the selectors
are the limb kernels and the same checks hold."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P
from zklora.zkcore.plugins import registry

E = registry().field("goldilocks").ext
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)
SLOTS = np.array([[-1, -1, 4, 5], [0, 1, 2, 3], [-1, -1, 6, 7]], np.int64)


@njit(cache=False)
def _mul_sum(a0, a1, b0, b1, cnt):
    return KL._v_mul_sum(a0, a1, b0, b1, cnt)


@njit(cache=False)
def _addmul_sum(e0, e1, a0, a1, b0, b1, cnt):
    return KL._v_addmul_sum(e0, e1, a0, a1, b0, b1, cnt)


def _ext(a0, a1, b0, b1):
    return ((a0 * b0 + 7 * a1 * b1) % P, (a0 * b1 + a1 * b0) % P)


def _lanes(rng, fill, k, cnt):
    if fill == "max":
        return [np.full(cnt, P - 1, np.uint64) for _ in range(k)]
    if fill == "edge":
        return [rng.choice(EDGE, cnt) for _ in range(k)]
    out = [rng.integers(0, P, cnt, dtype=np.uint64) for _ in range(k)]
    for x in out:
        x[rng.random(cnt) < 0.3] = rng.choice(EDGE)
    return out


def _twin_dot(v, cnt, add=False):
    """Σ_i a·b (+ c·d), or Σ_i e·(a + b) when ``add``, Python integers."""
    s = [0, 0]
    for i in range(cnt):
        if add:
            m = _ext(v[0][i], v[1][i], v[2][i] + v[4][i], v[3][i] + v[5][i])
        else:
            m = _ext(v[0][i], v[1][i], v[2][i], v[3][i])
            if len(v) == 8:
                n = _ext(v[4][i], v[5][i], v[6][i], v[7][i])
                m = (m[0] + n[0], m[1] + n[1])
        s = [(s[0] + m[0]) % P, (s[1] + m[1]) % P]
    return tuple(s)


@pytest.mark.parametrize("fill", ["max", "edge", "rand"])
@pytest.mark.parametrize("cnt", [1, 8, 13, 63, 64, 100, 256])
def test_lane_products_equal_limbs_and_twin(fill, cnt):
    """`_i_mul_sum`, `_l_mul_sum`, `_l_addmul_sum`, `_i_dot_sum`, `_l_dot_acc` give the
    elements of the 32-bit limb kernels and of Python integers."""
    rng = np.random.default_rng(cnt + 7 * len(fill))
    x = _lanes(rng, fill, 8, cnt)
    v = [[int(y) for y in row] for row in x]
    Kc = np.empty(9 * KL.IFMA_LANES, np.uint64)
    want = _twin_dot(v[:4], cnt)
    assert tuple(int(y) for y in _mul_sum(*x[:4], cnt)) == want
    if KL.IFMA:
        assert tuple(int(y) for y in KL._i_mul_sum(*x[:4], cnt, Kc)) == want
    assert tuple(int(y) for y in KL._l_mul_sum(*x[:4], cnt, Kc)) == want
    want = _twin_dot(v[:6], cnt, add=True)
    assert tuple(int(y) for y in _addmul_sum(*x[:6], cnt)) == want
    c0 = np.empty(cnt, np.uint64)
    c1 = np.empty(cnt, np.uint64)
    assert tuple(int(y) for y in KL._l_addmul_sum(*x[:6], cnt, Kc, c0, c1)) == want
    want = _twin_dot(v, cnt)
    if KL.IFMA:
        assert tuple(int(y) for y in KL._i_dot_sum(*x, cnt, Kc)) == want
    base = E.random(rng, (1, 3, 2, 4))
    a = base.copy()
    b = base.copy()
    KL._v_dot_acc(*x, a, 0, 2, 0, 3, cnt)
    KL._l_dot_acc(*x, b, 0, 2, 0, 3, cnt, Kc)
    KL._v_mul_acc(*x[:4], a, 0, 1, 1, 2, cnt)
    KL._l_mul_acc(*x[:4], b, 0, 1, 1, 2, cnt, Kc)
    KL._v_addmul_acc(*x[:6], a, 0, 0, 1, cnt)
    KL._l_addmul_acc(*x[:6], b, 0, 0, 1, cnt, Kc, c0, c1)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, base)


def _tables(rng, k, n):
    W = E.random(rng, (k, n))
    flat = W.reshape(-1)
    mask = rng.random(flat.shape[0]) < 0.3
    flat[mask] = rng.choice(EDGE, int(mask.sum()))
    return W


@pytest.mark.parametrize("want1", [False, True])
def test_layer_sums_vs_twin(want1):
    """`e_gkr_sums(_s)` over interleaved tables and `e_gkr_sums_c(_s)` /
    `e_gkr_fold_sums_c` over component-major ones equal `ref_gkr_sums` (blocks of
    `GBLOCK` pairs and a tail of 78 pairs; unit and numerator trees)."""
    rng = np.random.default_rng(11 + want1)
    m = 2 * KL.GBLOCK + 78
    W = _tables(rng, 8, 2 * m)
    Ej = E.random(rng, m)
    Ej[:4, 0] = EDGE
    want, _ = KL.ref_gkr_sums(W, W, SLOTS, Ej, want1)
    en = np.empty((m // 2, 2), np.uint64)
    assert np.array_equal(KL.e_gkr_sums_s(W, W, SLOTS, Ej, en, want1), want)
    assert np.array_equal(KL.e_gkr_sums(W, W, SLOTS, Ej, en, want1, 3), want)
    Wc = np.ascontiguousarray(W.reshape(8, m, 2, 2).transpose(0, 2, 3, 1)).reshape(8, 4, m)
    assert np.array_equal(KL.pairs_of_c(Wc), W)
    assert np.array_equal(KL.e_gkr_sums_c_s(Wc, SLOTS, Ej, en, want1), want)
    assert np.array_equal(KL.e_gkr_sums_c(Wc, SLOTS, Ej, en, want1, 3), want)
    # fold (k, 4m, 2) at r, then the sums over the folded tables (component-major)
    W2 = _tables(rng, 8, 4 * m)
    r = (P - 2, 12345)
    folded = KL.ref_multi_fold(W2, [r])
    want, _ = KL.ref_gkr_sums(folded, folded, SLOTS, Ej, want1)
    out, got, _ = KL.gkr_fold_sums_c(W2, False, r, SLOTS, Ej, want1)
    assert np.array_equal(got, want)
    assert np.array_equal(KL.pairs_of_c(out), folded)


@pytest.mark.parametrize("m", [1, 2])
@pytest.mark.parametrize("want1", [False, True])
def test_window_sums_vs_twin(m, want1):
    """`e_gkr_window_sums` equals `ref_gkr_window_sums` (blocks of ≥ `IFMA_MIN_LANES`
    lanes and a tail; one and three chunks)."""
    rng = np.random.default_rng(10 * m + want1)
    M = 2 * KL.WBLOCK * 4 + 8 * 6 + 16 if m == 1 else 4 * KL.WBLOCK + 8 * 12 + 24
    W = _tables(rng, 8, M)
    Es = [E.random(rng, M >> (i + 1)) for i in range(m)]
    wants = [want1 and i % 2 == 0 for i in range(m)]
    Eall = np.concatenate(Es)
    eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
    want = KL.ref_gkr_window_sums(W, SLOTS, Es, wants)
    for nch in (1, 3):
        acc = np.zeros((len(SLOTS), 3, 2, KL.window_offsets(m)[m], 2), np.uint64)
        KL.e_gkr_window_sums(W, SLOTS, Eall, eoff, np.array(wants), acc, nch)
        assert np.array_equal(acc, want), nch
