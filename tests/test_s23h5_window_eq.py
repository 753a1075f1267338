"""s23h5: `e_gkr_window_sums` with A = P0·(E·Q1) + P1·(E·Q0) (E multiplied into the two
denominator tables, not into the numerators) against its pure-Python twin
`ref_gkr_window_sums`, with edge values 0, 1, p − 1, p − 2 in the tables and in E."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

EDGE = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)


def _edge(rng, shape):
    """Random canonical values, about half of them replaced by edge values."""
    x = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    mask = rng.random(shape) < 0.5
    x[mask] = EDGE[rng.integers(0, len(EDGE), size=int(mask.sum()))]
    return x


@pytest.mark.parametrize("slots", [[[0, 1, 2, 3]], [[0, 1, 2, 3], [-1, -1, 4, 5]],
                                   [[-1, -1, 0, 1], [2, 3, 4, 5]]])
@pytest.mark.parametrize("m,want1", [(1, [False]), (2, [False, True]),
                                     (3, [False, False, False]), (3, [True, False, True])])
def test_window_sums_edge_values(slots, m, want1):
    """Serial and chunked kernel runs (added to a nonzero accumulator) equal the twin."""
    rng = np.random.default_rng(23 + m + len(slots))
    slots = np.array(slots, np.int64)
    M = 1 << (m + 4)
    W = _edge(rng, (6, M, 2))
    Es = [_edge(rng, (M >> (i + 1), 2)) for i in range(m)]
    want = KL.ref_gkr_window_sums(W, slots, Es, want1)
    Eall = np.ascontiguousarray(np.concatenate(Es))
    eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
    for nch in (1, 3):
        acc = np.zeros_like(want)
        KL.e_gkr_window_sums(W, slots, Eall, eoff, np.array(want1), acc, nch)
        assert np.array_equal(acc, want)
        KL.e_gkr_window_sums(W, slots, Eall, eoff, np.array(want1), acc, nch)
        twice = np.zeros_like(want)
        for x in np.ndindex(want.shape[:-1]):
            twice[x] = KL._ref_add(tuple(int(v) for v in want[x]),
                                   tuple(int(v) for v in want[x]))
        assert np.array_equal(acc, twice)


def test_window_sums_all_p_minus_1():
    """Every table entry and every E value p − 1 (the largest limb sums), full blocks."""
    m = 3
    M = 1 << 11
    slots = np.array([[0, 1, 2, 3]], np.int64)
    W = np.full((4, M, 2), P_INT - 1, np.uint64)
    Es = [np.full((M >> (i + 1), 2), P_INT - 1, np.uint64) for i in range(m)]
    want = KL.ref_gkr_window_sums(W, slots, Es, [True] * m)
    acc = np.zeros_like(want)
    KL.gkr_window_sums(W, slots, Es, [True] * m, acc)
    assert np.array_equal(acc, want)
