"""s29h1: the layer rounds on component-major tables — `e_gkr_fold_sums_c` /
`e_gkr_fold_sums_c_s` (fold at r into a (k, 4, m) stack, then the next round's pair
sums read in place) against the interleaved kernels `e_gkr_fold_sums(_s)` (the same
folded values, the same sums and E_{j+1}) and the Python twins (`ref_multi_fold`,
`ref_gkr_sums`), from interleaved and from component-major input; edge values 0, 1,
p − 1, p − 2 and limb edges, unit and numerator trees, an unnamed table, partial blocks,
1/2/3/5 chunks; `pairs_of_c` and the wrapper `gkr_fold_sums_c` (serial and parallel)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

EDGE = [0, 1, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, (1 << 64) - (1 << 33) + 1]
SLOT_SETS = {
    "mixed": np.array([[0, 1, 2, 3], [-1, -1, 4, 5]], np.int64),
    "spare": np.array([[-1, -1, 0, 1], [3, 4, 5, 6]], np.int64),   # table 2 unnamed
    "unit": np.array([[-1, -1, 0, 1]], np.int64),
}
K = {"mixed": 6, "spare": 7, "unit": 2}
RS = ((P_INT - 1, P_INT - 2), (0, 0), (1, 0), (12345, P_INT - 1))


def _vals(kind, rng, shape):
    if kind == "pm1":
        return np.full(shape, P_INT - 1, np.uint64)
    if kind == "edge":
        return rng.choice(np.array(EDGE, np.uint64), size=shape)
    if kind == "zero":
        return np.zeros(shape, np.uint64)
    a = rng.integers(0, P_INT, size=shape, dtype=np.uint64)   # about half edge values
    e = rng.choice(np.array(EDGE, np.uint64), size=shape)
    return np.where(rng.random(shape) < 0.5, e, a)


def _soa(W):
    """(k, 2n, 2) interleaved → (k, 4, n) component-major (rows lo0, lo1, hi0, hi1)."""
    k, L, _ = W.shape
    return np.ascontiguousarray(W.reshape(k, L // 2, 2, 2).transpose(0, 2, 3, 1)
                                .reshape(k, 4, L // 2))


def test_pairs_of_c_inverts_soa():
    W = np.arange(3 * 8 * 2, dtype=np.uint64).reshape(3, 8, 2)
    S = _soa(W)
    assert S[1, 0, 2] == W[1, 4, 0] and S[1, 3, 2] == W[1, 5, 1]
    assert np.array_equal(KL.pairs_of_c(S), W)


@pytest.mark.parametrize("slots", list(SLOT_SETS))
@pytest.mark.parametrize("kind", ["pm1", "edge", "half", "zero"])
@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [1, 2, 6, KL.GBLOCK + 5, 2 * KL.GBLOCK + 2])
def test_fold_sums_c_vs_interleaved(slots, kind, want1, m):
    rng = np.random.default_rng(hash((slots, kind, want1, m)) % 2**32)
    S = SLOT_SETS[slots]
    k = K[slots]
    W = _vals(kind, rng, (k, 4 * m, 2))
    E = _vals(kind, rng, (m, 2))
    for r in RS:
        r0, r1 = np.uint64(r[0]), np.uint64(r[1])
        wout = np.empty((k, 2 * m, 2), np.uint64)
        wen = np.empty((m // 2, 2), np.uint64)
        want = KL.e_gkr_fold_sums_s(W, r0, r1, wout, S, E, wen, want1)
        if m == 6 and kind != "zero":   # the twins, once per table set
            assert np.array_equal(wout, KL.ref_multi_fold(W, [r]))
            ref, ref_en = KL.ref_gkr_sums(wout, wout, S, E, want1)
            assert np.array_equal(want, ref) and np.array_equal(wen, ref_en)
        for soa_in, src in ((False, W), (True, _soa(W))):
            for nch in (0, 1, 2, 3, 5):
                out = np.full((k, 4, m), 3, np.uint64)
                en = np.empty((m // 2, 2), np.uint64)
                if nch == 0:
                    got = KL.e_gkr_fold_sums_c_s(src, soa_in, r0, r1, out, S, E, en, want1)
                else:
                    got = KL.e_gkr_fold_sums_c(src, soa_in, r0, r1, out, S, E, en, want1,
                                               nch)
                assert np.array_equal(got, want), (soa_in, nch, r)
                assert np.array_equal(en, wen), (soa_in, nch, r)
                assert np.array_equal(KL.pairs_of_c(out), wout), (soa_in, nch, r)


@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("logm", [3, 14])   # below and above SMALL work
def test_gkr_fold_sums_c_wrapper_chain(want1, logm):
    """Two rounds in a row as `_prove_layer` runs them: interleaved → component-major →
    component-major, against `gkr_fold_sums` twice."""
    rng = np.random.default_rng(7 + logm)
    S = SLOT_SETS["mixed"]
    k = K["mixed"]
    m = 1 << logm
    W = _vals("half", rng, (k, 4 * m, 2))
    E = _vals("half", rng, (m, 2))
    ra, rb = (P_INT - 2, 5), (3, P_INT - 1)
    o1, s1, e1 = KL.gkr_fold_sums(W, ra, S, E, want1)
    o2, s2, e2 = KL.gkr_fold_sums(o1, rb, S, e1, want1)
    c1, t1, f1 = KL.gkr_fold_sums_c(W, False, ra, S, E, want1)
    c2, t2, f2 = KL.gkr_fold_sums_c(c1, True, rb, S, f1, want1)
    assert np.array_equal(t1, s1) and np.array_equal(f1, e1)
    assert np.array_equal(t2, s2) and np.array_equal(f2, e2)
    assert np.array_equal(KL.pairs_of_c(c1), o1) and np.array_equal(KL.pairs_of_c(c2), o2)


@pytest.mark.parametrize("slots", list(SLOT_SETS))
@pytest.mark.parametrize("kind", ["pm1", "edge", "half"])
@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [1, 6, KL.GBLOCK + 5, 1 << 12])
def test_sums_c_vs_interleaved(slots, kind, want1, m):
    """`gkr_sums_c` / `e_gkr_sums_c(_s)` on a component-major stack = `gkr_sums` on the
    interleaved one (sums and E_{j+1})."""
    rng = np.random.default_rng(hash((slots, kind, want1, m, 1)) % 2**32)
    S = SLOT_SETS[slots]
    k = K[slots]
    W = _vals(kind, rng, (k, 2 * m, 2))
    E = _vals(kind, rng, (m, 2))
    want, wen = KL.gkr_sums(W, W, S, E, want1)
    if m == 6:
        ref, ref_en = KL.ref_gkr_sums(W, W, S, E, want1)
        assert np.array_equal(want, ref) and np.array_equal(wen, ref_en)
    Ws = _soa(W)
    got, en = KL.gkr_sums_c(Ws, S, E, want1)
    assert np.array_equal(got, want) and np.array_equal(en, wen)
    for nch in (1, 3):
        en = np.empty((m // 2, 2), np.uint64)
        assert np.array_equal(KL.e_gkr_sums_c(Ws, S, E, en, want1, nch), want)
        assert np.array_equal(en, wen)


@pytest.mark.parametrize("k,m,j", [(2, 8, 1), (3, 64, 2), (4, 1 << 12, 1), (3, 1 << 12, 3),
                                   (2, 4, 13)])
def test_multi_fold_into_c(k, m, j):
    """`multi_fold(..., out, at, soa=True)` (small stacks: numpy; big: `e_multi_fold_at`
    with its component-major store) = the interleaved fold at entries at … at + m − 1,
    the rest of ``out`` untouched; edge values."""
    rng = np.random.default_rng(k * 1000 + j)
    W = _vals("edge", rng, (k, m << j, 2))
    rhos = [tuple(int(x) for x in r) for r in _vals("half", rng, (j, 2))]
    want = KL.ref_multi_fold(W, rhos) if k * (m << j) <= 4096 else KL.multi_fold(W, rhos)
    at = 6
    out = np.full((k, 4, (at + m) // 2 + 3), 5, np.uint64)
    KL.multi_fold(W, np.array(rhos, np.uint64), out, at, soa=True)
    full = KL.pairs_of_c(out)
    assert np.array_equal(full[:, at:at + m], want)
    assert (full[:, :at] == 5).all() and (full[:, at + m:] == 5).all()
