"""s42h2: the in-place fold and the round sums of `e_gkr_fold_sums_ci(_s)` fused by
blocks (`_fold_sums_range_ci`: each `FSBLOCK` columns folded, then their pairs summed,
one pass over the stack a round).  Also a guard on `e_gkr_sums(_s)` (the interleaved
tables; unchanged): a de-interleave through an inline `overload` tried this session gave
wrong want1 sums, caught only by the want1 cases below.

Twins: the folded stack against a Python-int fold (`ref_fold_ci`), the round sums and
E_{j+1} against `KL.ref_gkr_sums` (Python ints) over the folded tables; sizes at the
`FSBLOCK`, `GBLOCK` and `CI_HEAD` edges (odd ones included), 1/2/3/7 parallel pieces and
the serial kernel, want1 on / off, edge field values; one `_fold_sums_range_ci` piece
[lo, hi) with lo > 0 against `_fold_blocks_ci` + `_gkr_sums_range_c`; `gkr_sums` over a
C-contiguous and a strided (non-contiguous) stack against `ref_gkr_sums`."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_s40h3_lookup_wide import _vals, ref_fold_ci
from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

FS = KL.FSBLOCK
G = KL.GBLOCK
H = KL.CI_HEAD


SLOTS = np.array([[0, 1, 2, 3], [-1, -1, 4, 2]], np.int64)   # a numerator tree, a unit one


@pytest.mark.parametrize("want1", [False, True])
@pytest.mark.parametrize("m", [1, 2, 3, FS - 1, FS, FS + 1, 2 * FS + 3, H - FS + 1,
                               H + FS + 1, 2 * H + 6])
def test_fold_sums_ci_vs_python(m, want1):
    rng = np.random.default_rng(42021 + 11 * m + want1)
    k = 5
    W = _vals(rng, (k, 4, 2 * m + 3))   # wider than 2m: columns ≥ m must stay
    E = _vals(rng, (m, 2))
    r = (P_INT - 1, 12345) if m % 2 else (0, 1)
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    want_W = ref_fold_ci(W, r, m)
    folded = want_W[:, :, :m]
    want_s, want_en = KL.ref_gkr_sums(KL.pairs_of_c(folded), KL.pairs_of_c(folded), SLOTS,
                                      E, want1)
    for nch in (0, 1, 2, 3, 7):
        Wi = W.copy()
        en = np.empty((m // 2, 2), np.uint64)
        if nch == 0:
            got = KL.e_gkr_fold_sums_ci_s(Wi, r0, r1, SLOTS, E, en, want1)
        else:
            got = KL.e_gkr_fold_sums_ci(Wi, r0, r1, SLOTS, E, en, want1, nch)
        assert np.array_equal(Wi, want_W), nch
        assert np.array_equal(got, want_s), nch
        assert np.array_equal(en, want_en), nch
    Wi = W.copy()   # the dispatcher
    got, en = KL.gkr_fold_sums_ci(Wi, r, SLOTS, E, want1)
    assert np.array_equal(Wi, want_W)
    assert np.array_equal(got, want_s)
    assert np.array_equal(en, want_en)


@pytest.mark.parametrize("lo,hi", [(0, 3 * FS + 17), (FS + 1, 3 * FS + 17),
                                   (2 * FS + 6, 4 * FS + 12), (5 * FS // 2, 5 * FS)])
def test_fold_sums_range_piece(lo, hi):
    """One `_fold_sums_range_ci` call over [lo, hi) (lo > 0: a parallel piece, inputs
    [2lo, 2hi) above the outputs): the stack of `_fold_blocks_ci` over the same piece,
    the sums of `_gkr_sums_range_c` over it, E_{j+1} of the piece's pairs only."""
    rng = np.random.default_rng(4202 + lo + hi)
    m = hi
    W = _vals(rng, (6, 4, 2 * m))
    E = _vals(rng, (m, 2))
    r0, r1 = np.uint64(987654321), np.uint64(P_INT - 3)
    slots = np.array([[0, 1, 2, 3], [-1, -1, 4, 5], [2, 3, 0, 1]], np.int64)
    for want1 in (False, True):
        Wa, Wb = W.copy(), W.copy()
        ena = np.zeros((m // 2, 2), np.uint64)
        enb = np.zeros((m // 2, 2), np.uint64)
        acca = _vals(rng, (3, 3, 2, 2))   # accumulated onto
        accb = acca.copy()
        KL._fold_sums_range_ci(Wa, r0, r1, slots, E, ena, want1, lo, hi, acca)
        KL._fold_blocks_ci(Wb, r0, r1, lo, hi)
        KL._gkr_sums_range_c(Wb, Wb, slots, E, enb, want1, lo, hi, accb)
        assert np.array_equal(Wa, Wb)
        assert np.array_equal(Wa[:, :, :lo], W[:, :, :lo])
        assert np.array_equal(acca, accb)
        assert np.array_equal(ena, enb)
        w = ref_fold_ci(W, (int(r0), int(r1)), m)
        assert np.array_equal(Wa[:, :, lo:hi], w[:, :, lo:hi])


@pytest.mark.parametrize("strided", [False, True])
@pytest.mark.parametrize("m", [1, 2, 3, G - 1, G, G + 1, 2 * G + 5])
def test_gkr_sums_lanes(m, strided):
    """`e_gkr_sums(_s)` over interleaved (k, 2m, 2) tables, C-contiguous or every other
    pair of a wider array (non-contiguous), against
    `ref_gkr_sums`; 1/2/3/7 pieces."""
    rng = np.random.default_rng(4207 + 3 * m + strided)
    k = 5
    big = _vals(rng, (k, 4 * m, 2))
    W = big[:, ::2] if strided else big[:, :2 * m].copy()
    assert W.shape == (k, 2 * m, 2) and W.flags.c_contiguous != strided
    E = _vals(rng, (m, 2))
    for want1 in (False, True):
        want_s, want_en = KL.ref_gkr_sums(W, W, SLOTS, E, want1)
        for nch in (0, 1, 2, 3, 7):
            en = np.empty((m // 2, 2), np.uint64)
            if nch == 0:
                got = KL.e_gkr_sums_s(W, W, SLOTS, E, en, want1)
            else:
                got = KL.e_gkr_sums(W, W, SLOTS, E, en, want1, nch)
            assert np.array_equal(got, want_s), (nch, want1)
            assert np.array_equal(en, want_en), (nch, want1)


def test_gkr_sums_lanes_separate_tables():
    """WP and WQ separate arrays (round 0 of a layer: the tree's p and q read in place,
    `_TREE_SLOT`), one of them strided."""
    rng = np.random.default_rng(42071)
    m = 2 * G + 3
    WP = _vals(rng, (2, 2 * m, 2))
    WQ = _vals(rng, (2, 4 * m, 2))[:, ::2]
    E = _vals(rng, (m, 2))
    one = np.array([[0, 1, 0, 1]], np.int64)
    want_s, want_en = KL.ref_gkr_sums(WP, WQ, one, E, True)
    got, en = KL.gkr_sums(WP, WQ, one, E, True)
    assert np.array_equal(got, want_s)
    assert np.array_equal(en, want_en)
    en = np.empty((m // 2, 2), np.uint64)
    assert np.array_equal(KL.e_gkr_sums(WQ, WP, one, E, en, False, 3),
                          KL.ref_gkr_sums(WQ, WP, one, E, False)[0])
