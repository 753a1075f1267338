"""s33h2: `lookup_gkr._win_load2` (eight y at a time by an <8 x i64> transpose for B = 1,
2, 4: `_win_t1`, `_win_t2`, `_win_t4`; the rest entry by entry) against its definition on
Python ints — every cube point's row of G0 (values) and G1 (differences, `gl_sub`), at
block offsets, counts that are and are not multiples of 8, row strides 256 and 128, edge
values (0, 1, p − 1, p − 2, non-canonical words) — and the rows and lanes it must not
write left as they were."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

EDGE = [0, 1, 2, P_INT - 1, P_INT - 2, (1 << 32) - 1, 1 << 32, P_INT >> 1,
        (1 << 64) - 1, P_INT + 3]
EPS = (1 << 32) - 1
SENT = 0xDEADBEEF12345678


def _gl_sub(a: int, b: int) -> int:
    d = (a - b) % (1 << 64)
    return (d - EPS) % (1 << 64) if a < b else d


def _table(rng, shape, edge_frac):
    a = rng.integers(0, P_INT, size=shape, dtype=np.uint64)
    flat = a.reshape(-1)
    mask = rng.random(flat.shape[0]) < edge_frac
    flat[mask] = rng.choice(np.array(EDGE, dtype=np.uint64), int(mask.sum()))
    return a


def _check(W, f, B, s, cnt, wb):
    n3 = 3 ** max(1, B.bit_length() - 1)
    G0 = np.full((n3, 2, wb), SENT, np.uint64)
    G1 = np.full((n3, 2, wb), SENT, np.uint64)
    KL._win_load2(W, f, B, s, cnt, G0, G1)
    want0 = np.full_like(G0, SENT)
    want1 = np.full_like(G1, SENT)
    for b in range(B):
        g = KL._tri(b)
        for i in range(cnt):
            idx = b + 2 * B * (s + i)
            for c in range(2):
                x = int(W[f, idx, c])
                want0[g, c, i] = x
                want1[g, c, i] = _gl_sub(int(W[f, idx + B, c]), x)
    np.testing.assert_array_equal(G0, want0)
    np.testing.assert_array_equal(G1, want1)


@pytest.mark.parametrize("B", [1, 2, 4, 8])
@pytest.mark.parametrize("edge_frac", [0.3, 1.0])
def test_win_load2_matches_definition(B, edge_frac):
    rng = np.random.default_rng(B * 7 + int(edge_frac * 10))
    M = 2 * B * 700
    W = _table(rng, (3, M, 2), edge_frac)
    for s, cnt, wb in ((0, 256, 256), (256, 256, 256), (3, 200, 256), (0, 7, 256),
                       (41, 9, 256), (600, 100, 128), (512, 128, 128), (5, 1, 8), (0, 0, 8)):
        _check(W, 1 + (s % 2), B, s, cnt, wb)


def test_win_load2_every_edge_pair():
    """Every (value, value at +B) pair of edge words in one table, B = 1, 2, 4."""
    pairs = [(x, y) for x in EDGE for y in EDGE]
    for B in (1, 2, 4):
        ny = len(pairs)
        W = np.zeros((1, 2 * B * ny, 2), np.uint64)
        for i, (x, y) in enumerate(pairs):
            for b in range(B):
                W[0, 2 * B * i + b] = (x, y)
                W[0, 2 * B * i + B + b] = (y, x)
        _check(W, 0, B, 0, ny, 128)
