"""The fill kernels' columns by address (`KL.col_table`, `KL._col_at`: no
`numba.typed.List`) against the reference twins and against the same kernels given a
typed list: edge values 0, 1, p − 1, p − 2 and non-canonical words (≥ p) in the
columns, read-only and memory-mapped columns, `_Trees._plan` keeping its columns."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL

P = KL.P_INT
EDGE = np.array([0, 1, P - 1, P - 2, P, P + 1, (1 << 64) - 1, 1 << 32, (1 << 32) - 1],
                dtype=np.uint64)


def _col(rng, n, mmap_dir=None):
    c = np.concatenate([EDGE, rng.integers(0, 1 << 63, n, dtype=np.uint64) * 2])[:n]
    c = np.ascontiguousarray(rng.permutation(c))
    if mmap_dir is not None:
        f = mmap_dir / f"c{rng.integers(1 << 30)}.bin"
        c.tofile(f)
        c = np.memmap(f, dtype=np.uint64, mode="r", shape=(n,))
    return c


def _args(rng, R, mmap_dir=None):
    starts = np.array([3, 40, 41, 90, 200], np.int64)
    lens = np.array([30, 1, 20, 100, 7], np.int64)
    ends = starts + lens
    kind = np.array([KL.SEG_COLS, KL.SEG_PAD, KL.SEG_COLS, KL.SEG_COLS, KL.SEG_PAD],
                    np.int64)
    widths = np.array([1, 0, 3, 4, 0], np.int64)
    tix = np.array([0, 0, 1, 0, 0], np.int64)
    cols = [[_col(rng, int(n_), mmap_dir) for _ in range(int(w))]
            for n_, w in zip(lens, widths)]
    flat, colptr = [], np.zeros(5, np.int64)
    for i, cc in enumerate(cols):
        colptr[i] = len(flat)
        flat.extend(cc)
    AP = rng.integers(0, 1 << 63, (2, R, KL.FILL_WIDTH, 2), dtype=np.uint64)
    AP[0, :, 0] = (1, 0)          # the (1, 0) combiner's subtraction path
    AP[1, 0, 1] = (P - 1, 0)      # a base-field combiner
    BT = rng.integers(0, 1 << 63, (2, R, 2), dtype=np.uint64)
    BT[0, 0] = (P - 1, P - 2)
    PADV = rng.integers(0, 1 << 63, (5, R, 2), dtype=np.uint64)
    head = (starts, ends, kind, tix, widths, colptr)
    return head, flat, (AP, BT, PADV), cols


def test_col_table_rows():
    a = np.arange(5, dtype=np.uint64)
    b = np.zeros(0, dtype=np.uint64)
    T = KL.col_table([a, b])
    assert T.dtype == np.int64 and T.shape == (2, 2)
    assert T[0, 0] == a.ctypes.data and T[0, 1] == 5 and T[1, 1] == 0
    assert KL.col_table([]).shape == (1, 2)
    with pytest.raises(AssertionError):
        KL.col_table([np.arange(4, dtype=np.int64)])


@pytest.mark.parametrize("R", [1, 2])
@pytest.mark.parametrize("mapped", [False, True])
def test_fill_kernels_by_address_match_reference(R, mapped, tmp_path):
    rng = np.random.default_rng(40 + R + 2 * mapped)
    head, flat, tail, cols = _args(rng, R, tmp_path if mapped else None)
    starts, ends, kind, tix, widths, _ = head
    AP, BT, PADV = tail
    T = KL.col_table(flat)
    for xlo, xhi in [(0, 260), (5, 95), (40, 41), (150, 230), (0, 3)]:
        want = KL.ref_fill_segments(xlo, xhi, R, starts, ends, kind, tix, widths, cols,
                                    AP, BT, PADV)
        for nblk in (1, 3):
            q = np.zeros((xhi - xlo, R, 2), np.uint64)
            KL.e_fill_segments(xlo, xhi, q, *head, T, *tail, nblk)
            assert np.array_equal(q, want), (xlo, xhi, nblk)
    for xlo, wx, stepx, m in [(0, 64, 64, 4), (2, 30, 64, 8), (5, 13, 32, 2), (1, 3, 16, 16)]:
        wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, R, starts, ends, kind, tix, widths,
                                    cols, AP, BT, PADV)
        for nch, rbx in ((1, 1), (3, 4), (1, 64)):
            pout = np.zeros((wx * R, 2), np.uint64)
            qout = np.zeros((wx * R, 2), np.uint64)
            KL.e_fill_reduce(xlo, wx, stepx, m, *head, T, *tail, pout, qout, rbx, nch)
            assert np.array_equal(pout, wp) and np.array_equal(qout, wq), (xlo, wx, m)


def test_by_address_equals_typed_list():
    from numba import typed
    rng = np.random.default_rng(7)
    R = 2
    head, flat, tail, _ = _args(rng, R)
    Lst = typed.List()
    for c in flat:
        Lst.append(c)
    T = KL.col_table(flat)
    q1 = np.zeros((300, R, 2), np.uint64)
    q2 = np.zeros((300, R, 2), np.uint64)
    KL.e_fill_segments(0, 300, q1, *head, Lst, *tail, 2)
    KL.e_fill_segments(0, 300, q2, *head, T, *tail, 2)
    assert np.array_equal(q1, q2)
    outs = []
    for L_ in (Lst, T):
        po = np.zeros((64 * R, 2), np.uint64)
        qo = np.zeros((64 * R, 2), np.uint64)
        KL.fill_reduce(0, 64, 64, 4, (*head, L_, *tail), po, qo)
        outs.append((po, qo))
    assert all(np.array_equal(a, b) for a, b in zip(outs[0], outs[1]))


def test_plan_keeps_its_columns():
    """`_Trees._plan` returns the columns it addresses (kept alive with the plan) and no
    typed list."""
    from tests.test_h3_fill_plan import _trees
    t, segs, _ = _trees(1, np.random.default_rng(5))
    plan = t._plan(segs)
    args, skip, maps, cols = plan
    T = args[6]
    assert isinstance(T, np.ndarray) and T.dtype == np.int64
    assert len(cols) == T.shape[0]
    for j, c in enumerate(cols):
        assert T[j, 0] == c.ctypes.data and T[j, 1] == len(c)
