"""s29h3: the lane-layout Reed–Solomon encoder (`ntt._rs_encode_lane_par`) against
`_rs_encode_cols_par` and the reference encoding: random and edge values (0, 1, p − 1,
p − 2), every first-stage mode (c = 2^48, −2^24, general), gathered columns, the
radix-2² passes on and off."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt

P = (1 << 64) - (1 << 32) + 1
EDGE = np.array([0, 1, P - 1, P - 2], dtype=np.uint64)


def _Y(k: int, W: int, seed: int) -> np.ndarray:
    g = np.random.default_rng(seed)
    Y = g.integers(0, P, size=(k, W), dtype=np.uint64)
    Y[: k // 4, : W // 2] = EDGE[g.integers(0, 4, size=(k // 4, W // 2))]
    Y[:, 0] = P - 1            # an all-(p − 1) message and an all-zero one
    Y[:, 1] = 0
    return Y


def _encode(Y, col, rl, lane: bool, r4: bool = True) -> np.ndarray:
    old = ntt.LANE, ntt.R4
    ntt.LANE, ntt.R4 = lane, r4
    try:
        assert ntt._lane_ok(col, Y.shape[0], rl) == lane   # the path under test is taken
        return ntt.rs_encode_cols(Y, col, rl)
    finally:
        ntt.LANE, ntt.R4 = old


@pytest.mark.parametrize("k, rl, cs", [(16, 1, 1), (32, 2, 1), (64, 3, 2), (128, 1, 1),
                                       (256, 2, 3), (512, 1, 1), (1024, 2, 2),
                                       (2048, 1, 1), (64, 5, 1)])
def test_lane_matches_cols(k: int, rl: int, cs: int) -> None:
    rows = max(16, -(-(1 << 15) // (k << rl)) // 8 * 8 + 8)
    Y = _Y(k, rows * cs + 5, k + rl)
    col = np.arange(rows, dtype=np.int64) * cs + (3 if cs > 1 else 0)
    ref = _encode(Y, col, rl, False)
    for r4 in (True, False):
        assert np.array_equal(_encode(Y, col, rl, True, r4), ref), (k, rl, cs, r4)


def test_lane_matches_reference() -> None:
    k, rl, rows = 64, 2, 128
    Y = _Y(k, rows, 7)
    col = np.arange(rows, dtype=np.int64)
    got = _encode(Y, col, rl, True)
    for r in (0, 1, 2, 9, rows - 1):
        assert [int(x) for x in got[:, r]] == ntt.rs_encode_ref(
            [int(x) for x in Y[:, col[r]]], rl), r


def test_lane_not_taken_on_irregular_blocks() -> None:
    col = np.arange(64, dtype=np.int64)
    col[[3, 4]] = col[[4, 3]]
    old = ntt.LANE
    ntt.LANE = True
    try:
        assert not ntt._lane_ok(col, 1024, 1)
        assert not ntt._lane_ok(np.arange(60, dtype=np.int64), 1024, 1)
        assert not ntt._lane_ok(np.arange(64, dtype=np.int64), 8, 1)
        assert ntt._lane_ok(np.arange(64, dtype=np.int64), 1024, 1)
    finally:
        ntt.LANE = old
