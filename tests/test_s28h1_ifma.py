"""s28h1: `whir_open.split_rows` and `whir_eq.pow_eq_accumulate` by AVX-512 IFMA52 limb
products (`whir_eq`'s IFMA section) against the 192-bit `acc_mul` kernels they replace
and the Python twins: edge values 0, 1, p−1, p−2, every term-group size, limb flushes
(more than `IFMA_FLUSH` products a lane), all-(p−1) worst cases."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO
from zklora.kernels.goldilocks import P_INT

P = P_INT
EDGE = [0, 1, P - 1, P - 2]

pytestmark = pytest.mark.skipif(not QE._ifma_host(), reason="no AVX-512 IFMA52 here")


def _rnd(rng, *shape) -> np.ndarray:
    return rng.integers(0, P, size=shape, dtype=np.uint64)


@pytest.fixture
def ifma(monkeypatch):
    """Run ``fn`` with the IFMA kernels on / off (the module flag both wrappers read)."""
    def run(flag: bool, fn, *args):
        monkeypatch.setattr(QE, "IFMA", flag)
        return fn(*args)
    return run


@pytest.mark.parametrize("q, T, H, a", [(1, 1, 3, 3), (4, 1, 5, 4), (5, 2, 7, 3),
                                        (9, 3, 40, 3), (2, 1, 2, 5), (7, 4, 9, 3)])
def test_split_rows_ifma(ifma, q, T, H, a):
    rng = np.random.default_rng(q * 100 + T * 10 + H + a)
    tabs = [_rnd(rng, H << a) for _ in range(T)]
    C = _rnd(rng, q, T, H, 2)
    tabs[0][:4] = EDGE
    C.reshape(-1)[:4] = EDGE
    C.reshape(-1)[-4:] = EDGE[::-1]
    new = ifma(True, WO.split_rows, tabs, C, a)
    old = ifma(False, WO.split_rows, tabs, C, a)
    assert np.array_equal(new, old)
    assert np.array_equal(new, WO.split_rows_ref(tabs, C, a))


@pytest.mark.parametrize("T, H", [(1, 2100), (3, 700), (40, 60)])
def test_split_rows_ifma_flush(ifma, T, H):
    """All p−1 (the limbs' largest growth) over more than IFMA_FLUSH products a lane:
    the flushes, the chunks' row splits and the rows-per-group rule for large T."""
    a, q = 3, 5
    tabs = [np.full(H << a, P - 1, dtype=np.uint64) for _ in range(T)]
    C = np.full((q, T, H, 2), P - 1, dtype=np.uint64)
    C[1] = P - 2
    G = _rnd(np.random.default_rng(7), q, 1 << a, 2)
    new = ifma(True, WO.split_rows, tabs, C, a, G.copy())
    old = ifma(False, WO.split_rows, tabs, C, a, G.copy())
    assert np.array_equal(new, old)
    for l in range(q):   # every x and component alike: G + c_l·(p − 1)·T·H
        c = P - 2 if l == 1 else P - 1
        want = [(int(g) + c * (P - 1) * T * H) % P for g in G[l].reshape(-1)]
        assert [int(v) for v in new[l].reshape(-1)] == want


def test_split_rows_small_a_falls_back(ifma):
    """2^a < 8 entries a row: the acc_mul kernel (the IFMA one needs whole x-blocks)."""
    rng = np.random.default_rng(3)
    tabs = [_rnd(rng, 5 << 2)]
    C = _rnd(rng, 3, 1, 5, 2)
    assert np.array_equal(ifma(True, WO.split_rows, tabs, C, 2),
                          WO.split_rows_ref(tabs, C, 2))


@pytest.mark.parametrize("m, q", [(9, 3), (10, 20), (12, 85), (6, 4), (13, 1), (11, 9)])
def test_pow_eq_accumulate_ifma(ifma, m, q):
    rng = np.random.default_rng(m * 1000 + q)
    zs = _rnd(rng, q)
    cf = _rnd(rng, q, 2)
    zs[:2] = EDGE[2:][:q]
    cf[0] = EDGE[2:]
    out = _rnd(rng, 1 << m, 2)
    out[:4, 0] = EDGE
    new, old = out.copy(), out.copy()
    ifma(True, QE.pow_eq_accumulate, new, zs, cf)
    ifma(False, QE.pow_eq_accumulate, old, zs, cf)
    assert np.array_equal(new, old)
    if m <= 10:
        assert np.array_equal(new, QE.pow_eq_accumulate_ref(out, zs, cf))


def test_pow_eq_accumulate_ifma_worst(ifma):
    """coefs p−1 and z = 1 (every eq weight of B and A at its largest): q = IFMA_FLUSH."""
    q, m = QE.IFMA_FLUSH, 9
    zs = np.ones(q, dtype=np.uint64)
    zs[::3] = P - 1
    cf = np.full((q, 2), P - 1, dtype=np.uint64)
    out = np.full((1 << m, 2), P - 1, dtype=np.uint64)
    new, old = out.copy(), out.copy()
    ifma(True, QE.pow_eq_accumulate, new, zs, cf)
    ifma(False, QE.pow_eq_accumulate, old, zs, cf)
    assert np.array_equal(new, old)


@njit(cache=False)
def _limbs(Kc):
    return QE._ifma_limbs(Kc, 0)


def test_ifma_limbs():
    """`_ifma_limbs` (the flush's 192-bit carry) at its limits, against Python ints."""
    M = (1 << 64) - 1
    cases = [(0, 0, 0), (M, M, (1 << 55) - 1), (M, 0, 1), (1, M, 0), (P - 1, P - 2, 12345)]
    for k0, k1, k2 in cases:
        Kc = np.zeros(3 * QE.IFMA_LANES, dtype=np.uint64)
        Kc[0], Kc[QE.IFMA_LANES], Kc[2 * QE.IFMA_LANES] = k0, k1, k2
        want = (k0 + (k1 << 52) + (k2 << 104)) % P
        assert int(_limbs(Kc)) == want


@pytest.mark.parametrize("j, M", [(3, 40), (4, 37), (8, 9), (10, 8), (10, 3), (2, 64)])
def test_fold_eq_ifma(ifma, j, M):
    """Tiles of whole x-blocks and a ragged tail; j = 2 below LAZY_J (the old kernel)."""
    rng = np.random.default_rng(j * 100 + M)
    s = _rnd(rng, M << j)
    s[:4] = EDGE
    s[-4:] = EDGE
    rs = _rnd(rng, j, 2)
    rs[0] = EDGE[2:]
    new = ifma(True, QE.fold_eq, s, rs)
    old = ifma(False, QE.fold_eq, s, rs)
    assert np.array_equal(new, old)
    if j <= 4:
        assert np.array_equal(new, QE.fold_eq_ref(s, rs))


def test_fold_eq_ifma_worst(ifma):
    """Every input and weight p − 1 at j = 10 (IFMA_FLUSH rows a lane), rs = 0/1 mixes."""
    j = 10
    s = np.full(24 << j, P - 1, dtype=np.uint64)
    for rs in (np.full((j, 2), P - 1, dtype=np.uint64), np.eye(j, 2, dtype=np.uint64)):
        assert np.array_equal(ifma(True, QE.fold_eq, s, rs), ifma(False, QE.fold_eq, s, rs))


@pytest.mark.parametrize("rows, T", [(4, 3), (5, 5), (17, 4), (130, 3), (1100, 3), (3, 3),
                                     (6, 2)])
def test_seg_rows_ifma(rows, T):
    """`_seg_rows_ifma` against `seg_rows_ref` (and `_seg_rows`): pieces of ≥ SEG_LAZY_ROWS
    rows of ≥ 8 entries by IFMA (1100 rows: two IFMA_FLUSH batches), the rest (few rows,
    2^T < 8, one-row blocks) as before; edge values."""
    rng = np.random.default_rng(rows * 7 + T)
    tl = 1 << T
    grp_T = np.array([T, T, max(0, T - 1)], np.int64)
    grp_n = np.array([T + 11, T, T + 8], np.int64)
    nb = 2 * rows + 10
    boff = np.array([0, nb, nb + 1, 2 * nb], np.int64)
    B0 = _rnd(rng, 2 * nb)
    B1 = _rnd(rng, 2 * nb)
    B0[:4] = EDGE
    B1[:4] = EDGE[::-1]
    grp = np.array([0, 1, 2, 0], np.int64)
    sk = np.array([0, 1, 2, 3, 0], np.int64)
    snt = np.array([rows, 1, rows, max(1, rows // 2), 1], np.int64)
    sh = np.array([0, 0, 5, 2, rows], np.int64)
    size = [rows * tl, tl, rows * (tl >> 1), int(snt[3]) * tl, tl]
    sa = np.concatenate([[0], np.cumsum(size)[:-1]]).astype(np.int64)
    s = _rnd(rng, int(sum(size)))
    s[::5] = rng.choice(np.array(EDGE, dtype=np.uint64), s[::5].shape)
    if rows == 1100:
        s[:] = P - 1
        B0[:] = P - 1
    tabs = QE.SegTables(np.zeros((1, 4, 2), np.uint64), [4], np.zeros((0, 2), np.uint64), 3)
    tabs.B0, tabs.B1 = B0, B1
    args = (s, sk, sa, sh, snt, grp, grp_T, grp_n, boff, B0, B1)
    L = 1 << int(grp_T.max())
    P0 = np.full((len(sk), L), 7, np.uint64)
    P1 = np.full((len(sk), L), 7, np.uint64)
    QE._seg_rows_ifma(*args, tabs.ifma_b(), P0, P1)
    O0, O1 = P0.copy(), P1.copy()
    QE._seg_rows(*args, O0, O1)
    W0, W1 = QE.seg_rows_ref(*args)
    for e in range(len(sk)):
        tl_e = 1 << int(grp_T[grp[sk[e]]])
        assert np.array_equal(P0[e, :tl_e], O0[e, :tl_e])
        assert np.array_equal(P1[e, :tl_e], O1[e, :tl_e])
        if rows < 1000:
            assert np.array_equal(P0[e, :tl_e], W0[e, :tl_e])
            assert np.array_equal(P1[e, :tl_e], W1[e, :tl_e])
