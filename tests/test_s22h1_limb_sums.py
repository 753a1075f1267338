"""s22h1: the lane sums of the LogUp-GKR kernels as 32-bit limb sums of unreduced 128-bit
products (`lookup_gkr._v_mul_sum`, `_v_addmul_sum`, `_v_dot_acc`, reduced once by
`_fin4`) against Python-integer twins, on edge values (0, 1, p − 1, p − 2) and full
blocks (cnt = 2^8: the largest limb sums)."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT as P

EDGE = [0, 1, P - 1, P - 2, (1 << 32) - 1, 1 << 32]


@njit(cache=False)
def _fin4_call(a, b, c, d):
    return KL._fin4(a, b, c, d)


@njit(cache=False)
def _mul_sum_call(a0, a1, b0, b1, cnt):
    return KL._v_mul_sum(a0, a1, b0, b1, cnt)


@njit(cache=False)
def _addmul_sum_call(e0, e1, a0, a1, b0, b1, cnt):
    return KL._v_addmul_sum(e0, e1, a0, a1, b0, b1, cnt)


def _ext(a0, a1, b0, b1):
    return ((a0 * b0 + 7 * a1 * b1) % P, (a0 * b1 + a1 * b0) % P)


def ref_fin4(a, b, c, d):
    """Twin of `_fin4`: the integer a + b·2^32 + c·2^64 + d·2^96 mod p."""
    return (a + (b << 32) + (c << 64) + (d << 96)) % P


def test_fin4_edges():
    big = (1 << 40) - 1
    vals = [0, 1, P - 1, P - 2, big, (1 << 32) - 1]
    for a in vals:
        for b in vals:
            for c in vals:
                for d in vals:
                    got = _fin4_call(np.uint64(a), np.uint64(b), np.uint64(c), np.uint64(d))
                    assert int(got) == ref_fin4(a, b, c, d)


def _lanes(rng, fill, k, cnt):
    if fill == "max":
        return np.full((k, cnt), P - 1, np.uint64)
    if fill == "edge":
        return rng.choice(np.array(EDGE, np.uint64), size=(k, cnt))
    return rng.integers(0, P, (k, cnt), dtype=np.uint64)


@pytest.mark.parametrize("fill", ["max", "edge", "rand"])
@pytest.mark.parametrize("cnt", [1, 7, 256])
def test_lane_sums_vs_twin(fill, cnt):
    rng = np.random.default_rng(cnt)
    x = _lanes(rng, fill, 6, cnt)
    v = [[int(y) for y in row] for row in x]
    want = [0, 0]
    want2 = [0, 0]
    for i in range(cnt):
        m = _ext(v[0][i], v[1][i], v[2][i], v[3][i])
        want = [(want[0] + m[0]) % P, (want[1] + m[1]) % P]
        m = _ext(v[0][i], v[1][i], v[2][i] + v[4][i], v[3][i] + v[5][i])
        want2 = [(want2[0] + m[0]) % P, (want2[1] + m[1]) % P]
    got = _mul_sum_call(x[0], x[1], x[2], x[3], cnt)
    assert (int(got[0]), int(got[1])) == tuple(want)
    got = _addmul_sum_call(x[0], x[1], x[2], x[3], x[4], x[5], cnt)
    assert (int(got[0]), int(got[1])) == tuple(want2)


@pytest.mark.parametrize("fill", ["max", "edge", "rand"])
def test_dot_acc_vs_twin(fill):
    rng = np.random.default_rng(3)
    cnt = 256
    x = _lanes(rng, fill, 8, cnt)
    v = [[int(y) for y in row] for row in x]
    acc = np.zeros((1, 3, 2, 2, 2), np.uint64)
    acc[0, 0, 1, 1] = (P - 1, P - 2)
    KL._v_dot_acc(*x, acc, 0, 0, 1, 1, cnt)
    want = [P - 1, P - 2]
    for i in range(cnt):
        m = _ext(v[0][i], v[1][i], v[2][i], v[3][i])
        n = _ext(v[4][i], v[5][i], v[6][i], v[7][i])
        want = [(want[0] + m[0] + n[0]) % P, (want[1] + m[1] + n[1]) % P]
    assert [int(acc[0, 0, 1, 1, 0]), int(acc[0, 0, 1, 1, 1])] == want
    assert not acc[0, 0, 0].any()
