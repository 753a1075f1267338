"""s25h4: whir_eq._seg_rows (a claim's rows summed with B into 1-D runs; 192-bit sums
from SEG_LAZY_ROWS rows) against its twin seg_rows_ref, edge values 0, 1, p − 1, p − 2."""

import numpy as np
import pytest

from zklora.kernels import whir_eq as QE

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


@pytest.mark.parametrize("rows,T,edge", [(1, 3, False), (2, 4, True), (3, 2, True),
                                         (4, 3, False), (5, 5, True), (17, 2, True),
                                         (130, 1, False)])
def test_twin(rows, T, edge):
    rng = np.random.default_rng(rows * 13 + T)
    tl = 1 << T
    # groups: 0 of tile T with rows, 1 a one-row block (n = T), 2 a smaller tile
    grp_T = np.array([T, T, max(0, T - 1)], np.int64)
    grp_n = np.array([T + 9, T, T + 8], np.int64)
    boff = np.array([0, 300, 301, 700], np.int64)
    B0 = rng.integers(0, P, 700, dtype=np.uint64)
    B1 = rng.integers(0, P, 700, dtype=np.uint64)
    grp = np.array([0, 1, 2, 0], np.int64)          # claims' groups
    sk = np.array([0, 1, 2, 3, 0], np.int64)        # pieces' claims
    snt = np.array([rows, 1, rows, max(1, rows // 2), 1], np.int64)
    sh = np.array([0, 0, 5, 2, rows], np.int64)
    size = [rows * tl, tl, rows * (tl >> 1 if T else 1), snt[3] * tl, tl]
    sa = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    s = rng.integers(0, P, int(sum(size)), dtype=np.uint64)
    if edge:
        s[::2] = rng.choice(EDGE, s[::2].shape)
        B0[::3] = rng.choice(EDGE, B0[::3].shape)
        B1[1::3] = rng.choice(EDGE, B1[1::3].shape)
    L = 1 << int(grp_T.max())
    P0 = np.full((len(sk), L), 7, np.uint64)
    P1 = np.full((len(sk), L), 7, np.uint64)
    QE._seg_rows(s, sk, sa, sh, snt, grp, grp_T, grp_n, boff, B0, B1, P0, P1)
    W0, W1 = QE.seg_rows_ref(s, sk, sa, sh, snt, grp, grp_T, grp_n, boff, B0, B1)
    for e in range(len(sk)):
        tl_e = 1 << int(grp_T[grp[sk[e]]])
        assert np.array_equal(P0[e, :tl_e], W0[e, :tl_e])
        assert np.array_equal(P1[e, :tl_e], W1[e, :tl_e])


def test_all_edge():
    for v in EDGE:
        for rows in (2, 8):
            s = np.full(rows << 3, v, np.uint64)
            B = np.full(rows, P - 1, np.uint64)
            args = (s, np.zeros(1, np.int64), np.zeros(1, np.int64), np.zeros(1, np.int64),
                    np.array([rows], np.int64), np.zeros(1, np.int64),
                    np.array([3], np.int64), np.array([9], np.int64),
                    np.array([0, rows], np.int64), B, B.copy())
            P0 = np.zeros((1, 8), np.uint64)
            P1 = np.zeros((1, 8), np.uint64)
            QE._seg_rows(*args, P0, P1)
            W0, W1 = QE.seg_rows_ref(*args)
            assert np.array_equal(P0, W0) and np.array_equal(P1, W1)
