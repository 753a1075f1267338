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
