"""`KL.e_fill_reduce` after s25h2's slice-indexed lane loops (`_leaf_lanes` runs and the
output copy written through slices indexed by the loop index) against its reference
twin `KL.ref_fill_reduce`, with edge values (0, 1, p − 1, p − 2, and columns ≥ p) in the
columns, combiners, β and padding leaves, columns passed as a `KL.col_table` (as the
prover does), 1 to 3 challenge sets; `KL.e_fill_segments` likewise; and
`KL.e_multi_fold_at` against `KL.ref_multi_fold` with edge values."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)
EDGE_COL = np.array([0, 1, P - 1, P - 2, P, P + 1, (1 << 64) - 1], np.uint64)


def _edgy(rng, shape, vals=EDGE):
    """Random field elements, about half replaced by edge values."""
    a = rng.integers(0, P, shape, dtype=np.uint64)
    mask = rng.random(shape) < 0.5
    a[mask] = rng.choice(vals, int(mask.sum()))
    return a


def _args(rng, R):
    starts = np.array([0, 37, 40, 41, 90, 200, 230], np.int64)
    lens = np.array([37, 3, 1, 40, 100, 20, 26], np.int64)
    ends = starts + lens
    kind = np.array([KL.SEG_COLS, KL.SEG_COLS, KL.SEG_PAD, KL.SEG_COLS, KL.SEG_COLS,
                     KL.SEG_COLS, KL.SEG_PAD], np.int64)
    widths = np.array([1, 2, 0, 3, 4, 1, 0], np.int64)
    tix = np.array([0, 1, 0, 2, 3, 4, 0], np.int64)
    cols = [[_edgy(rng, int(n_), EDGE_COL) for _ in range(int(w))]
            for n_, w in zip(lens, widths)]
    flat, colptr = [], np.zeros(len(starts), np.int64)
    for i, cc in enumerate(cols):
        colptr[i] = len(flat)
        flat.extend(cc)
    AP = _edgy(rng, (5, R, KL.FILL_WIDTH, 2))
    AP[:3, :, 0] = (1, 0)          # draw_combiners' first combiner
    AP[1, :, 1, 1] = 0             # a base-field combiner
    AP[2, :, 2] = (1, 0)
    AP[4, :, 0, 1] = 0             # a first combiner (a, 0), a ≠ 1 in general
    BT = _edgy(rng, (5, R, 2))
    PADV = _edgy(rng, (len(starts), R, 2))
    table = KL.col_table(flat)
    return (starts, ends, kind, tix, widths, colptr, table, AP, BT, PADV), cols, flat


@pytest.mark.parametrize("R", [1, 2, 3])
def test_fill_reduce_edge_values_col_table(R):
    rng = np.random.default_rng(250 + R)
    args, cols, _keep = _args(rng, R)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, wx, stepx, m in [(0, 128, 128, 2), (3, 60, 64, 4), (0, 32, 32, 8),
                              (1, 15, 16, 16), (7, 2, 3, 32), (200, 40, 40, 2)]:
        wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, R, starts, ends, kind, tix, widths,
                                    cols, AP, BT, PADV)
        for nch in (1, 3):
            for rbx in (1, 5, 512):
                pout = np.zeros((wx * R, 2), np.uint64)
                qout = np.zeros((wx * R, 2), np.uint64)
                KL.e_fill_reduce(xlo, wx, stepx, m, *args, pout, qout, rbx, nch)
                assert np.array_equal(pout, wp) and np.array_equal(qout, wq), \
                    (xlo, wx, stepx, m, nch, rbx)


def test_fill_reduce_all_edge_constants():
    """Every column entry, combiner, β and padding leaf one edge value."""
    for v in EDGE:
        rng = np.random.default_rng(int(v) % 1000)
        args, cols, _keep = _args(rng, 1)
        starts, ends, kind, tix, widths, colptr, table, AP, BT, PADV = args
        for c in cols:
            for a in c:
                a[:] = v
        AP[:, :, 1:] = v
        BT[:] = v
        PADV[:] = v
        wp, wq = KL.ref_fill_reduce(0, 64, 64, 4, 1, starts, ends, kind, tix, widths, cols,
                                    AP, BT, PADV)
        pout = np.zeros((64, 2), np.uint64)
        qout = np.zeros((64, 2), np.uint64)
        KL.e_fill_reduce(0, 64, 64, 4, *args, pout, qout, 16, 2)
        assert np.array_equal(pout, wp) and np.array_equal(qout, wq), int(v)


@pytest.mark.parametrize("j", [1, 2, 3])
def test_multi_fold_at_edge_values(j):
    rng = np.random.default_rng(260 + j)
    k, n = 3, 37 << j
    W = _edgy(rng, (k, n, 2))
    rr = _edgy(rng, (j, 2))
    want = KL.ref_multi_fold(W, [rr[i] for i in range(j)])
    m = n >> j
    out = np.zeros((k, m + 11, 2), np.uint64)
    KL.e_multi_fold_at(W, rr, out, 5)
    assert np.array_equal(out[:, 5:5 + m], want)
    assert not out[:, :5].any() and not out[:, 5 + m:].any()


@pytest.mark.parametrize("R", [1, 2])
def test_fill_segments_edge_values_col_table(R):
    """`KL.e_fill_segments` (its segment runs and padding / gap rows written through
    slices) against `KL.ref_fill_segments` with edge values."""
    rng = np.random.default_rng(270 + R)
    args, cols, _keep = _args(rng, R)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, xhi in [(0, 256), (5, 95), (40, 41), (36, 44), (150, 256), (225, 240)]:
        want = KL.ref_fill_segments(xlo, xhi, R, starts, ends, kind, tix, widths, cols,
                                    AP, BT, PADV)
        for nblk in (1, 3):
            q = np.zeros((xhi - xlo, R, 2), np.uint64)
            KL.e_fill_segments(xlo, xhi, q, *args, nblk)
            assert np.array_equal(q, want), (xlo, xhi, nblk)
