"""s31h1: the lane-form Möbius kernels (`whir._mobius_blocks_lane`, `_mobius_blocks_lane_from`,
`_mobius_hi_lane`) give the same words as the former kernels (`_mobius_blocks`,
`_mobius_blocks_from`, `_mobius_hi`) and as `mobius_ref`, on random tables with the edge
values 0, 1, p−1, p−2, at every remainder of the three-variable passes."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import whir as K

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _table(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.integers(0, P, 1 << n, dtype=np.uint64)
    t[rng.integers(0, 1 << n, 1 << max(0, n - 3))] = rng.choice(EDGE, 1 << max(0, n - 3))
    t[:16] = np.tile(EDGE, 4)
    t[-8:] = [P - 1, P - 2, 0, 1, P - 1, P - 1, 0, 0]
    return t


@pytest.mark.parametrize("lo", [6, 7, 8, 9, 12, 13])
def test_blocks_lane_matches(lo: int) -> None:
    t = _table(15, lo)
    a = t.copy()
    K._mobius_blocks(a, lo)
    b = t.copy()
    K._mobius_blocks_lane(b, lo)
    assert np.array_equal(a, b)
    c = np.empty_like(t)
    K._mobius_blocks_lane_from(t, c, lo, 0)
    assert np.array_equal(a, c)


@pytest.mark.parametrize("lo", [7, 8, 9, 10, 13, 14])
def test_blocks_lane_from_pairs_matches(lo: int) -> None:
    t = _table(15, 100 + lo)
    a = np.empty_like(t)
    K._mobius_blocks_from(t, a, lo, 1)
    b = np.zeros_like(t)
    K._mobius_blocks_lane_from(t, b, lo, 1)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("j0,n", [(3, 14), (7, 16), (8, 16), (9, 16), (12, 15), (13, 16),
                                  (12, 16), (7, 9), (7, 8)])
def test_hi_lane_matches(j0: int, n: int) -> None:
    t = _table(n, 7 * j0 + n)
    a = t.copy()
    K._mobius_hi(a, j0, n)
    b = t.copy()
    K._mobius_hi_lane(b, j0, n)
    assert np.array_equal(a, b)


@pytest.mark.parametrize("n", [14, 15])
def test_public_paths_match_ref_and_former(n: int, monkeypatch) -> None:
    t = _table(n, 300 + n)
    ref = np.array(K.mobius_ref(t), dtype=np.uint64)
    pairs = t.reshape(-1, 2)
    out = {}
    for lane in (False, True):
        monkeypatch.setattr(K, "MOBIUS_LANE", lane)
        m = K.mobius(t)
        mp = K.mobius_pairs(pairs)
        lo = t.copy()
        K.mobius_low(lo, 13)
        K.mobius_high(lo, 13)
        out[lane] = (m, mp, lo)
    assert np.array_equal(out[True][0], ref)
    assert np.array_equal(out[True][2], ref)
    for x, y in zip(out[False], out[True]):
        assert np.array_equal(x, y)
    for c in range(2):
        assert np.array_equal(out[True][1][:, c],
                              np.array(K.mobius_ref(pairs[:, c]), dtype=np.uint64))
