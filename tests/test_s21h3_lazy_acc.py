"""s21h3: the 192-bit (unreduced) accumulations of the WHIR opening kernels against
their pure-Python twins — `whir_eq.acc_mul`, `whir_open._acc_dot2` / `_acc_fin`,
`whir_open.split_round` (base and extension blocks), `whir_eq.fold_eq` and
`fold_pair_sums` (J below and above `LAZY_J`) — with edge values 0, 1, p − 1, p − 2."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir_eq as QE
from zklora.kernels import whir_open as WO

P = 0xFFFFFFFF00000001
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)
M64 = (1 << 64) - 1


def _vals(rng, *shape):
    """Random field elements with the edge values mixed in (a quarter of the entries)."""
    v = rng.integers(0, P, size=shape, dtype=np.uint64)
    mask = rng.random(shape) < 0.25
    v[mask] = EDGE[rng.integers(0, 4, size=int(mask.sum()))]
    return v


def _acc_int(lo, hi, tp):
    return (int(tp) << 128) | (int(hi) << 64) | int(lo)


@pytest.mark.parametrize("big", [False, True])
def test_acc_mul_and_dot2_twin(big):
    """The accumulators hold the exact integer sum; `_acc_fin` reduces it mod p."""
    rng = np.random.default_rng(5)
    n, steps = 16, 300
    lo, hi, tp = (np.zeros(n, dtype=np.uint64) for _ in range(3))
    lo2, hi2, tp2 = (np.zeros(n, dtype=np.uint64) for _ in range(3))
    want = [0] * n
    want2 = [0] * n
    for _ in range(steps):
        # any uint64 (the worst carries: all ones) or field values with the edges
        x = np.full(n, M64, dtype=np.uint64) if big else _vals(rng, n)
        y = np.full(n, M64, dtype=np.uint64) if big else _vals(rng, n)
        b, c = (np.uint64(M64), np.uint64(M64)) if big else (_vals(rng, 1)[0], _vals(rng, 1)[0])
        QE.acc_mul(lo, hi, tp, x, b, n)
        WO._acc_dot2(lo2, hi2, tp2, x, y, b, c, n)
        for p in range(n):
            want[p] += int(x[p]) * int(b)
            want2[p] += int(x[p]) * int(b) + int(y[p]) * int(c)
    for p in range(n):
        assert _acc_int(lo[p], hi[p], tp[p]) == want[p]
        assert _acc_int(lo2[p], hi2[p], tp2[p]) == want2[p]
    K = np.stack([lo, hi, tp] * 2 + [lo2, hi2, tp2] * 2)[None]
    G = np.empty((1, 4, n), dtype=np.uint64)
    WO._acc_fin(K, 1, n, G)
    assert [int(v) for v in G[0, 0]] == [w % P for w in want]
    assert [int(v) for v in G[0, 3]] == [w % P for w in want2]


@pytest.mark.parametrize("ext", [False, True])
@pytest.mark.parametrize("q,a,rows", [(1, 1, 4), (3, 3, 8), (2, 7, 6), (3, 10, 2)])
def test_split_round_twin(ext, q, a, rows):
    rng = np.random.default_rng(q * 100 + a)
    A = _vals(rng, q, 1 << a, 2)
    B = _vals(rng, q, rows + 3, 2)
    M = rows << a
    f = _vals(rng, M, 2) if ext else _vals(rng, M)
    lo = 2 << a
    got = WO.split_round(f, A, B, a, lo)
    assert np.array_equal(got, WO.split_round_ref(f, A, B, a, lo))


@pytest.mark.parametrize("ext", [False, True])
def test_split_round_all_edges(ext):
    """Every entry p − 1 (the largest products, carries in every accumulation)."""
    a, q, rows = 4, 3, 5
    A = np.full((q, 1 << a, 2), P - 1, dtype=np.uint64)
    B = np.full((q, rows, 2), P - 1, dtype=np.uint64)
    f = np.full((rows << a, 2) if ext else (rows << a,), P - 1, dtype=np.uint64)
    f[1::2] = P - 2
    assert np.array_equal(WO.split_round(f, A, B, a, 0), WO.split_round_ref(f, A, B, a, 0))


@pytest.mark.parametrize("j", [1, 2, 3, 4, 5])
def test_fold_eq_twin(j):
    rng = np.random.default_rng(j)
    s = _vals(rng, (1 << j) * 37)
    rs = _vals(rng, j, 2)
    assert np.array_equal(QE.fold_eq(s, rs), QE.fold_eq_ref(s, rs))
    s[:] = P - 1
    rs[:] = P - 1
    assert np.array_equal(QE.fold_eq(s, rs), QE.fold_eq_ref(s, rs))


@pytest.mark.parametrize("j", [1, 3, 4])
def test_fold_pair_sums_twin(j):
    rng = np.random.default_rng(10 + j)
    n = 2 * 29
    s = _vals(rng, n << j)
    rs = _vals(rng, j, 2)
    w = _vals(rng, n, 2)
    assert np.array_equal(QE.fold_pair_sums(s, rs, w), QE.fold_pair_sums_ref(s, rs, w))


@pytest.mark.parametrize("q,m", [(3, 6), (8, 5), (20, 7), (9, 11)])
def test_pow_eq_accumulate_twin(q, m):
    """`whir_eq._rows` (q ≥ LAZY_J: unreduced sums) against the definition."""
    rng = np.random.default_rng(q * 31 + m)
    out = _vals(rng, 1 << m, 2)
    zs = _vals(rng, q)
    cf = _vals(rng, q, 2)
    want = QE.pow_eq_accumulate_ref(out.copy(), zs, cf)
    QE.pow_eq_accumulate(out, zs, cf)
    assert np.array_equal(out, want)
    out[:] = P - 1
    cf[:] = P - 1
    zs[:] = P - 2
    want = QE.pow_eq_accumulate_ref(out.copy(), zs, cf)
    QE.pow_eq_accumulate(out, zs, cf)
    assert np.array_equal(out, want)
