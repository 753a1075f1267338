"""s24h3: `e_gkr_window_sums`' numerator trees without X = 1 read each table's two halves
once for both kk (values at X = 0 and differences, `_win_load2` for P0, P1, Q0, Q1), against
the pure-Python twin `ref_gkr_window_sums`, with edge values 0, 1, p − 1, p − 2 in the
tables and in E, partial blocks, mixed unit / numerator slots."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _edge(rng, shape, frac=0.5):
    """Random canonical values, about ``frac`` of them replaced by edge values."""
    x = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    mask = rng.random(shape) < frac
    x[mask] = EDGE[rng.integers(0, len(EDGE), size=int(mask.sum()))]
    return x


def _run(W, slots, Es, want1, nch, acc):
    Eall = np.ascontiguousarray(np.concatenate(Es))
    eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
    KL.e_gkr_window_sums(W, slots, Eall, eoff, np.array(want1), acc, nch)


@pytest.mark.parametrize("slots", [[[0, 1, 2, 3]], [[0, 1, 2, 3], [-1, -1, 4, 5]],
                                   [[-1, -1, 0, 1], [2, 3, 4, 5], [4, 5, 0, 1]]])
@pytest.mark.parametrize("m", [1, 2, 3])
@pytest.mark.parametrize("frac", [0.5, 1.0])
def test_window_both_kk_edge(slots, m, frac):
    """want1 all False (the one-load path) — serial, 3 and 5 chunks, partial blocks (M
    not a multiple of the block), added to a nonzero accumulator."""
    rng = np.random.default_rng(2400 + 10 * m + len(slots) + int(frac * 7))
    slots = np.array(slots, np.int64)
    M = (1 << (m + 2)) * 37   # y counts 37·2^(m+1-i): blocks of 256 split unevenly
    W = _edge(rng, (6, M, 2), frac)
    Es = [_edge(rng, (M >> (i + 1), 2), frac) for i in range(m)]
    want = KL.ref_gkr_window_sums(W, slots, Es, [False] * m)
    init = _edge(rng, want.shape)
    for nch in (1, 3, 5):
        acc = init.copy()
        _run(W, slots, Es, [False] * m, nch, acc)
        exp = np.zeros_like(want)
        for x in np.ndindex(want.shape[:-1]):
            exp[x] = KL._ref_add(tuple(int(v) for v in want[x]),
                                 tuple(int(v) for v in init[x]))
        assert np.array_equal(acc, exp)


def test_window_both_kk_all_p_minus_1():
    """Every table entry and every E value p − 1 (the largest limb sums), full blocks of
    256 y, numerator slots, want1 off."""
    m = 3
    M = 1 << 11
    slots = np.array([[0, 1, 2, 3], [2, 3, 0, 1]], np.int64)
    W = np.full((4, M, 2), P_INT - 1, np.uint64)
    Es = [np.full((M >> (i + 1), 2), P_INT - 1, np.uint64) for i in range(m)]
    want = KL.ref_gkr_window_sums(W, slots, Es, [False] * m)
    acc = np.zeros_like(want)
    KL.gkr_window_sums(W, slots, Es, [False] * m, acc)
    assert np.array_equal(acc, want)


def test_window_both_kk_zero_tables():
    """All-zero tables and E: every sum zero."""
    m = 2
    M = 1 << 9
    slots = np.array([[0, 1, 2, 3]], np.int64)
    W = np.zeros((4, M, 2), np.uint64)
    Es = [np.zeros((M >> (i + 1), 2), np.uint64) for i in range(m)]
    acc = np.zeros((1, 3, 2, KL.window_offsets(m)[m], 2), np.uint64)
    KL.gkr_window_sums(W, slots, Es, [False] * m, acc)
    assert not acc.any()
