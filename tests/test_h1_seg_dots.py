"""`whir_eq.seg_dots` and `SegRuns` (a streamed pass's per-claim inner products of the
unfolded base stack with the claim's eq weights, numba) against the Python twin and against folding
the block (`fold_eq`) and taking the even / odd inner products with eq(p[j+1:], ·)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import reference as R
from zklora.kernels import whir_eq as QE

P = (1 << 64) - (1 << 32) + 1


def _case(rng, ns, j, tile, G=None):
    G = len(ns) if G is None else G
    nv = np.array(ns[:G], np.int64)
    pts = rng.integers(0, P, (G, max(1, int(nv.max())), 2), dtype=np.uint64)
    rs = rng.integers(0, P, (j, 2), dtype=np.uint64)
    return nv, pts, rs


@pytest.mark.parametrize("ns,j,tile", [([1], 0, 8), ([3, 5, 2], 1, 8), ([9, 10, 4], 2, 3),
                                       ([6, 7], 3, 4), ([12, 8], 0, 8), ([5], 4, 8)])
def test_seg_dots_matches_reference(monkeypatch, ns, j, tile):
    monkeypatch.setattr(QE, "SEG_PIECE", 16)   # long segments in pieces
    rng = np.random.default_rng(sum(ns) + 7 * j)
    nv, pts, rs = _case(rng, ns, j, tile)
    # claims: each group twice (two blocks), one claim split over two segments
    grp = np.repeat(np.arange(len(ns)), 2)
    Q = grp.shape[0]
    sizes = [1 << int(nv[g]) for g in grp]
    offs = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
    s = rng.integers(0, P, int(sum(sizes)), dtype=np.uint64)
    s[:2] = [P - 1, 0]
    sk, sa, sh, snt = [], [], [], []
    for k in range(Q):
        n = int(nv[grp[k]])
        T = min(n, tile)
        rows = 1 << (n - T)
        if rows > 1 and k == 0:
            h = rows // 2
            sk += [k, k]
            sa += [int(offs[k]), int(offs[k]) + (h << T)]
            sh += [0, h]
            snt += [h, rows - h]
        else:
            sk.append(k)
            sa.append(int(offs[k]))
            sh.append(0)
            snt.append(rows)
    X0 = rng.integers(0, P, (Q, 4), dtype=np.uint64)
    want = QE.seg_dots_ref(s, pts, nv, rs, grp, sk, sa, sh, snt, X0, tile)
    tabs = QE.SegTables(pts, nv, rs, tile)
    X = X0.copy()
    # one segment a claim a call
    first = [e for e in range(len(sk)) if e == 0 or sk[e] != sk[e - 1]]
    rest = [e for e in range(len(sk)) if e not in first]
    for sel in (first, rest):
        QE.seg_dots(s, tabs, grp, [sk[e] for e in sel], [sa[e] for e in sel],
                    [sh[e] for e in sel], [snt[e] for e in sel], X)
    assert np.array_equal(X, want)
    # the pass-independent runs (`SegRuns`: rows summed with B once, then 2^T products
    # a claim) give the same sums
    want0 = QE.seg_dots_ref(s, pts, nv, rs, grp, sk, sa, sh, snt,
                            np.zeros((Q, 4), np.uint64), tile)
    runs = QE.SegRuns(grp, tabs.T)
    for sel in (rest, first):
        runs.add(s, tabs, grp, [sk[e] for e in sel], [sa[e] for e in sel],
                 [sh[e] for e in sel], [snt[e] for e in sel])
    X2 = np.zeros((Q, 4), np.uint64)
    runs.dots(tabs, grp, np.arange(Q), X2)
    assert np.array_equal(X2, want0)


@pytest.mark.parametrize("n,j", [(15, 0), (16, 3), (11, 5), (8, 2)])
def test_seg_dots_matches_fold(n, j):
    """Against the block folded j times (`fold_eq`) and its even / odd entries' inner
    products with eq(p[j+1:n], ·)."""
    rng = np.random.default_rng(n + j)
    nv, pts, rs = _case(rng, [n], j, 8)
    s = rng.integers(0, P, 1 << n, dtype=np.uint64)
    X = np.zeros((1, 4), np.uint64)
    QE.seg_dots(s, QE.SegTables(pts, nv, rs), [0], [0], [0], [0],
                [1 << (n - min(n, 8))], X)
    f = QE.fold_eq(s, rs)
    e = R.eq_expand(pts[0, j + 1:n])
    want = []
    for par in (0, 1):
        a0 = a1 = 0
        for y in range(f.shape[0] // 2):
            p = R.e2_mul(int(f[2 * y + par, 0]), int(f[2 * y + par, 1]),
                         int(e[y][0]), int(e[y][1]))
            a0, a1 = (a0 + p[0]) % P, (a1 + p[1]) % P
        want += [a0, a1]
    assert X[0].tolist() == want
