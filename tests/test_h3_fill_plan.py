"""A streamed lookup tree's leaves by its segment plan (`_Trees._plan`,
`KL.e_fill_segments`: one kernel call per range) against the per-segment path and a
direct computation: column segments of width 1, 2 and 5 (wider than the kernel's
`FILL_WIDTH`: left to the Python loop), padding rows, gaps of stack padding (leaves 1),
every sub-range, 1/2/4 challenge sets; and the kernel against its reference twin."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.plugins.lookups import logup_gkr as L
from zklora.zkcore.plugins import registry

F = registry().field("goldilocks")
E = F.ext


def _trees(top: int, rng, n_per: int = 64):
    k = 1 << top
    coefs = [E.random(rng, 5) for _ in range(k)]
    betas = [[E.random(rng, ()) for _ in range(3)] for _ in range(k)]
    cs = [SimpleNamespace(table=SimpleNamespace(width=1)),
          SimpleNamespace(table=SimpleNamespace(width=2)),
          SimpleNamespace(table=SimpleNamespace(width=5))]
    t = L._Trees.__new__(L._Trees)
    t.ctx, t.cs, t.coefs, t.betas, t.top = SimpleNamespace(E=E, F=F), cs, coefs, betas, top
    a = F.random(rng, 40)
    b0, b1 = F.random(rng, 16), F.random(rng, 16)
    w5 = [F.random(rng, 8) for _ in range(5)]
    d = F.random(rng, 8)
    # 0-39 table 0, 40-47 its padding row, 48-63 table 1 (two columns), 64-71 gap,
    # 72-79 table 2 (five columns), 80-83 table 1's padding row, 84-91 table 0 again,
    # 92-127 the stack's padding
    segs = [(0, 40, [a], 0), (40, 8, [3], 0), (48, 16, [b0, b1], 1), (72, 8, w5, 2),
            (80, 4, [5, 9], 1), (84, 8, [d], 0)]
    want = np.zeros((128, k, 2), np.uint64)
    want[:, :, 0] = 1
    for start, length, cols, ti in segs:
        w = cs[ti].table.width
        for r in range(k):
            if isinstance(cols[0], int):
                row = [F.from_ints(np.array([v])) for v in cols]
                want[start:start + length, r] = KL.leaf_denoms(E, row, coefs[r][:w],
                                                               betas[r][ti])[0]
            else:
                want[start:start + length, r] = KL.leaf_denoms(E, cols, coefs[r][:w],
                                                               betas[r][ti])
    return t, segs, want.reshape(128 * k, 2)


@pytest.mark.parametrize("top", [0, 1, 2])
def test_planned_leaves_match_per_segment_path(top):
    rng = np.random.default_rng(10 + top)
    t, segs, want = _trees(top, rng)
    k = 1 << top
    n = 128 * k
    ranges = [(0, n), (0, 7 * k), (7 * k, 50 * k), (45 * k, 90 * k), (64 * k, 72 * k),
              (70 * k, 81 * k), (91 * k, n), (100 * k, n), (k, 2 * k), (39 * k, 41 * k)]
    ranges += [(int(x) * k, int(y) * k) for x, y in
               (sorted(rng.choice(129, 2, replace=False)) for _ in range(20))]
    for plan in (False, True):
        t._plans = {id(segs): t._plan(segs)} if plan else {}
        if plan:
            assert t._plans[id(segs)][1] == [3]   # the width-5 segment: Python's
        for lo, hi in ranges:
            _, q = t._look_range(segs, lo, hi)
            assert np.array_equal(q, want[lo:hi]), (plan, lo, hi)
            out = np.full((hi - lo, 2), 77, np.uint64)
            t._look_into(segs, lo, hi, out)
            assert np.array_equal(out, want[lo:hi]), (plan, lo, hi)


def test_fill_kernel_matches_reference_parallel_blocks():
    rng = np.random.default_rng(3)
    R = 2
    starts = np.array([3, 40, 41, 90, 200], np.int64)
    lens = np.array([30, 1, 20, 100, 7], np.int64)
    ends = starts + lens
    kind = np.array([KL.SEG_COLS, KL.SEG_PAD, KL.SEG_COLS, KL.SEG_COLS, KL.SEG_SKIP],
                    np.int64)
    widths = np.array([1, 0, 3, 4, 0], np.int64)
    tix = np.array([0, 0, 1, 0, 0], np.int64)
    cols = [[F.random(rng, int(n_)) for _ in range(int(w))] for n_, w in zip(lens, widths)]
    from numba import typed
    Lst = typed.List()
    colptr = np.zeros(5, np.int64)
    for i, cc in enumerate(cols):
        colptr[i] = len(Lst)
        for c in cc:
            Lst.append(np.ascontiguousarray(c, np.uint64))
    AP = rng.integers(0, 1 << 63, (2, R, KL.FILL_WIDTH, 2), dtype=np.uint64)
    BT = rng.integers(0, 1 << 63, (2, R, 2), dtype=np.uint64)
    PADV = rng.integers(0, 1 << 63, (5, R, 2), dtype=np.uint64)
    args = (starts, ends, kind, tix, widths, colptr, Lst, AP, BT, PADV)
    for xlo, xhi in [(0, 260), (5, 95), (40, 41), (150, 230), (0, 3)]:
        want = KL.ref_fill_segments(xlo, xhi, R, starts, ends, kind, tix, widths, cols,
                                    AP, BT, PADV)
        for nblk in (1, 3, 7):
            q = np.zeros((xhi - xlo, R, 2), np.uint64)
            KL.e_fill_segments(xlo, xhi, q, *args, nblk)
            assert np.array_equal(q, want), (xlo, xhi, nblk)


def _kernel_args(rng, R, skip=False):
    from numba import typed
    starts = np.array([3, 40, 41, 90, 200], np.int64)
    lens = np.array([30, 1, 20, 100, 7], np.int64)
    ends = starts + lens
    kind = np.array([KL.SEG_COLS, KL.SEG_PAD, KL.SEG_COLS, KL.SEG_COLS,
                     KL.SEG_SKIP if skip else KL.SEG_PAD], np.int64)
    widths = np.array([1, 0, 3, 4, 0], np.int64)
    tix = np.array([0, 0, 1, 0, 0], np.int64)
    cols = [[F.random(rng, int(n_)) for _ in range(int(w))] for n_, w in zip(lens, widths)]
    Lst = typed.List()
    colptr = np.zeros(5, np.int64)
    for i, cc in enumerate(cols):
        colptr[i] = len(Lst)
        for c in cc:
            Lst.append(np.ascontiguousarray(c, np.uint64))
    AP = rng.integers(0, 1 << 63, (2, R, KL.FILL_WIDTH, 2), dtype=np.uint64)
    BT = rng.integers(0, 1 << 63, (2, R, 2), dtype=np.uint64)
    PADV = rng.integers(0, 1 << 63, (5, R, 2), dtype=np.uint64)
    return (starts, ends, kind, tix, widths, colptr, Lst, AP, BT, PADV), cols


@pytest.mark.parametrize("R", [1, 2])
def test_fill_reduce_kernel_matches_reference(R):
    rng = np.random.default_rng(20 + R)
    args, cols = _kernel_args(rng, R)
    starts, ends, kind, tix, widths, _, _, AP, BT, PADV = args
    for xlo, wx, stepx, m in [(0, 64, 64, 4), (2, 30, 64, 8), (5, 13, 32, 2),
                              (0, 256, 0, 1 << 1), (1, 3, 16, 16)]:
        if stepx == 0:
            stepx = 0 if m == 1 else 1
        wp, wq = KL.ref_fill_reduce(xlo, wx, stepx, m, R, starts, ends, kind, tix, widths,
                                    cols, AP, BT, PADV)
        for nch in (1, 3):
            for rbx in (1, 4, 64):
                pout = np.zeros((wx * R, 2), np.uint64)
                qout = np.zeros((wx * R, 2), np.uint64)
                KL.e_fill_reduce(xlo, wx, stepx, m, *args, pout, qout, rbx, nch)
                assert np.array_equal(pout, wp) and np.array_equal(qout, wq), \
                    (xlo, wx, stepx, m, nch, rbx)
        pout = np.zeros((wx * R, 2), np.uint64)
        qout = np.zeros((wx * R, 2), np.uint64)
        KL.fill_reduce(xlo, wx, stepx, m, args, pout, qout)
        assert np.array_equal(pout, wp) and np.array_equal(qout, wq)


@pytest.mark.parametrize("top", [0, 1, 2])
def test_layer_range_fused_matches_unfused(top, monkeypatch):
    """`L.layer_range` of a planned tree (fused `_look_reduce`) against the per-segment
    leaves then `KL.frac_reduce`, every layer and several ranges, into ``out`` or not."""
    rng = np.random.default_rng(30 + top)
    t, segs, want_leaves = _trees(top, rng)
    k = 1 << top
    depth = (128 * k).bit_length() - 1
    t._plans = {id(segs): t._plan(segs)}

    def rng_fn(lo, hi):
        return t._look_range(segs, lo, hi)

    rng_fn.into = lambda lo, hi, q: t._look_into(segs, lo, hi, q)
    rng_fn.reduce = lambda lo, hi, layer, m, out: t._look_reduce(segs, lo, hi, layer, m, out)
    plain = lambda lo, hi: (None, want_leaves[lo:hi])   # noqa: E731
    called = []
    orig = KL.fill_reduce
    monkeypatch.setattr(KL, "fill_reduce", lambda *a: (called.append(1), orig(*a)))
    for layer in range(top, depth):
        n = 1 << layer
        for lo, hi in [(0, n), (0, n // 2), (n // 4, 3 * n // 4)]:
            if hi <= lo:
                continue
            wp, wq = L.layer_range(E, depth, True, plain, layer, lo, hi)
            p, q = L.layer_range(E, depth, True, rng_fn, layer, lo, hi)
            assert np.array_equal(p, wp) and np.array_equal(q, wq), (layer, lo, hi)
            out = (np.empty((hi - lo, 2), np.uint64), np.empty((hi - lo, 2), np.uint64))
            L.layer_range(E, depth, True, rng_fn, layer, lo, hi, out)
            assert np.array_equal(out[0], wp) and np.array_equal(out[1], wq)
    assert not called   # the width-5 segment: the plan skips it, so never fused
    t2, segs2, want2 = _trees(top, rng)
    segs2 = [sg for sg in segs2 if sg[3] != 2]   # without it: fused
    t2._plans = {id(segs2): t2._plan(segs2)}
    want2 = want2.copy()
    want2.reshape(128, k, 2)[72:80] = (1, 0)

    def rng2(lo, hi):
        return t2._look_range(segs2, lo, hi)

    rng2.into = lambda lo, hi, q: t2._look_into(segs2, lo, hi, q)
    rng2.reduce = lambda lo, hi, layer, m, out: t2._look_reduce(segs2, lo, hi, layer, m,
                                                                 out)
    for layer in range(top, depth):
        n = 1 << layer
        wp, wq = L.layer_range(E, depth, True, lambda lo, hi: (None, want2[lo:hi]), layer,
                               0, n)
        p, q = L.layer_range(E, depth, True, rng2, layer, 0, n)
        assert np.array_equal(p, wp) and np.array_equal(q, wq), layer
    assert called
