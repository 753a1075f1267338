"""`KL.e_fill_reduce` (leaves straight into lanes, nodes combined depth first) against
its reference twin `KL.ref_fill_reduce` with the combiners the prover draws — the first
(1, 0), others with a zero second component or general — for m up to 64, several
block sizes and chunk counts, 1 and 2 challenge sets, and against the old top-bit
pairing (`KL.ref_frac_reduce` of the pieces' leaves)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import typed

from zklora.kernels import lookup_gkr as KL

P = (1 << 64) - (1 << 32) + 1


def _args(rng, R):
    starts = np.array([0, 37, 40, 41, 90, 200, 230], np.int64)
    lens = np.array([37, 3, 1, 40, 100, 20, 26], np.int64)
    ends = starts + lens
    kind = np.array([KL.SEG_COLS, KL.SEG_COLS, KL.SEG_PAD, KL.SEG_COLS, KL.SEG_COLS,
                     KL.SEG_COLS, KL.SEG_PAD], np.int64)
    widths = np.array([1, 2, 0, 3, 4, 1, 0], np.int64)
    tix = np.array([0, 1, 0, 2, 3, 0, 0], np.int64)
    cols = [[rng.integers(0, P, int(n_), dtype=np.uint64) for _ in range(int(w))]
            for n_, w in zip(lens, widths)]
    Lst = typed.List()
    colptr = np.zeros(len(starts), np.int64)
    for i, cc in enumerate(cols):
        colptr[i] = len(Lst)
        for c in cc:
            Lst.append(np.ascontiguousarray(c, np.uint64))
    AP = rng.integers(0, P, (4, R, KL.FILL_WIDTH, 2), dtype=np.uint64)
    AP[:3, :, 0] = (1, 0)          # draw_combiners' first combiner
    AP[1, :, 1, 1] = 0             # a base-field combiner
    AP[2, :, 2] = (1, 0)
    BT = rng.integers(0, P, (4, R, 2), dtype=np.uint64)
    PADV = rng.integers(0, P, (len(starts), R, 2), dtype=np.uint64)
    return (starts, ends, kind, tix, widths, colptr, Lst, AP, BT, PADV), cols


@pytest.mark.parametrize("R", [1, 2])
def test_fill_reduce_lanes_match_reference(R):
    rng = np.random.default_rng(40 + R)
    args, cols = _args(rng, R)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, wx, stepx, m in [(0, 128, 128, 2), (3, 60, 64, 4), (0, 32, 32, 8),
                              (1, 15, 16, 16), (0, 4, 4, 64), (7, 2, 3, 32)]:
        wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, R, starts, ends, kind, tix, widths,
                                    cols, AP, BT, PADV)
        leaves = np.concatenate([KL.ref_fill_segments(
            xlo + j * stepx, xlo + j * stepx + wx, R, starts, ends, kind, tix, widths, cols,
            AP, BT, PADV).reshape(wx * R, 2) for j in range(m)])
        tp, tq = KL.ref_frac_reduce(None, leaves, m)
        assert np.array_equal(tp, wp) and np.array_equal(tq, wq)
        for nch in (1, 2, 5):
            for rbx in (1, 3, 16, 512):
                pout = np.zeros((wx * R, 2), np.uint64)
                qout = np.zeros((wx * R, 2), np.uint64)
                KL.e_fill_reduce(xlo, wx, stepx, m, *args, pout, qout, rbx, nch)
                assert np.array_equal(pout, wp) and np.array_equal(qout, wq), \
                    (xlo, wx, stepx, m, nch, rbx)


@pytest.mark.parametrize("R", [1, 2])
def test_fill_segments_prover_combiners_match_reference(R):
    """`KL.e_fill_segments` with the combiners (1, 0) and (a, 0) (their shortcuts)."""
    rng = np.random.default_rng(50 + R)
    args, cols = _args(rng, R)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, xhi in [(0, 256), (5, 95), (40, 41), (36, 44), (150, 256)]:
        want = KL.ref_fill_segments(xlo, xhi, R, starts, ends, kind, tix, widths, cols,
                                    AP, BT, PADV)
        for nblk in (1, 3):
            q = np.zeros((xhi - xlo, R, 2), np.uint64)
            KL.e_fill_segments(xlo, xhi, q, *args, nblk)
            assert np.array_equal(q, want), (xlo, xhi, nblk)
