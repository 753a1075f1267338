"""s24h1: the radix-8 tails multiply by shifts (`ntt._radix8`: ω8 = −2^24, ω4 = 2^48,
ω8³ = −2^72) — checked against `root_of_unity`, a pure-Python twin of the block of 8,
and the plain radix-2 transform / naive evaluation, with edge values."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import ntt as N

P = N.P_INT
EDGE = [0, 1, P - 1, P - 2, 2, P - 3, (1 << 63), (1 << 32) - 1, 1 << 32, P >> 1]


def test_roots_are_powers_of_two():
    w8 = N.root_of_unity(3)
    assert w8 == pow(2, N.OMEGA8_EXP, P) == P - (1 << 24)
    assert N.root_of_unity(2) == pow(2, N.OMEGA4_EXP, P) == 1 << 48
    assert pow(w8, 3, P) == P - pow(2, 72, P)
    for log_k in range(3, 14):
        tw = N.stage_twiddles(log_k)
        assert [int(tw[i]) for i in (3, 5, 6, 7)] == [1 << 48, w8, 1 << 48, pow(w8, 3, P)]


@njit(cache=False)
def _shifts(x, o24, o48):
    for i in range(x.shape[0]):
        o24[i] = N._mul_2_24(x[i])
        o48[i] = N._mul_2_48(x[i])


def _values(n: int) -> np.ndarray:
    rng = np.random.default_rng(24)
    v = rng.integers(0, 1 << 64, size=n, dtype=np.uint64)   # any uint64, not only < p
    v[:len(EDGE)] = EDGE
    v[len(EDGE):len(EDGE) + 4] = [2**64 - 1, 2**64 - 2, P, P + 1]
    return v


def test_shift_products_twin():
    x = _values(4096)
    o24 = np.empty_like(x)
    o48 = np.empty_like(x)
    _shifts(x, o24, o48)
    for a, b, c in zip(x.tolist(), o24.tolist(), o48.tolist()):
        assert b == a * (1 << 24) % P
        assert c == a * (1 << 48) % P


def radix8_ref(x: list[int]) -> list[int]:
    """The block of 8's three DIF stages over Python integers (plain radix-2, ω8^j)."""
    w8 = N.root_of_unity(3)
    v = [int(a) % P for a in x]
    half = 4
    while half >= 1:
        w = pow(w8, 4 // half, P)
        for st in range(0, 8, 2 * half):
            for j in range(half):
                a, b = v[st + j], v[st + j + half]
                v[st + j] = (a + b) % P
                v[st + j + half] = (a - b) * pow(w, j, P) % P
        half >>= 1
    return v


@njit(cache=False)
def _tail_scalar(buf, tw):
    N._dif_tail8(buf, tw)


@njit(cache=False)
def _tail_lanes(buf, tw):
    for g in range(0, buf.shape[0], 64):
        v = buf[g:g + 64]
        N._transpose8(v, 0)
        N._tail8_lanes(v, 0, tw[5], tw[6], tw[7], tw[3])
        N._transpose8(v, 0)


def test_radix8_twin_edges():
    rng = np.random.default_rng(3)
    blocks = [[e] * 8 for e in EDGE] + [list(rng.choice(EDGE, 8)) for _ in range(200)]
    blocks += [rng.integers(0, P, 8, dtype=np.uint64).tolist() for _ in range(200)]
    buf = np.array([b for blk in blocks for b in blk] + [0] * (64 - (8 * len(blocks)) % 64),
                   dtype=np.uint64)
    tw = N.stage_twiddles(6)
    a = buf.copy()
    _tail_scalar(a, tw)
    b = buf.copy()
    _tail_lanes(b, tw)
    assert np.array_equal(a, b)
    for i, blk in enumerate(blocks):
        assert a[8 * i:8 * i + 8].tolist() == radix8_ref(blk)


@pytest.mark.parametrize("log_k,rate_log", [(3, 1), (4, 2), (6, 0), (7, 2), (9, 1)])
def test_rs_encode_naive(log_k: int, rate_log: int):
    rng = np.random.default_rng(log_k)
    M = rng.integers(0, P, size=(3, 1 << log_k), dtype=np.uint64)
    M[0, :4] = [0, 1, P - 1, P - 2]
    M[1] = P - 1
    out = N.rs_encode(M, rate_log)
    for r in range(M.shape[0]):
        assert out[:, r].tolist() == N.rs_encode_ref(M[r], rate_log)


@pytest.mark.parametrize("k,W,rows,rl", [(64, 64, 16, 1), (256, 32, 32, 2), (2048, 16, 16, 0)])
def test_rs_encode_cols_vs_plain(k: int, W: int, rows: int, rl: int):
    """`rs_encode_cols` (the `_tails_out` path) against the radix-2 transform in Python."""
    rng = np.random.default_rng(k)
    Y = rng.integers(0, P, size=(k, W), dtype=np.uint64)
    Y.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
    col = np.arange(rows, dtype=np.int64)
    out = N.rs_encode_cols(Y, col, rl)
    ref = N.rs_encode(np.ascontiguousarray(Y[:, col].T), rl)
    assert np.array_equal(out, ref)
    L = k << rl
    w = N.root_of_unity(L.bit_length() - 1)
    c = [int(x) for x in Y[:, 0]]
    for i in (0, 1, 5, L - 1):   # a few naive evaluations of codeword 0
        x = pow(w, i, P)
        acc = 0
        for a in reversed(c):
            acc = (acc * x + a) % P
        assert int(out[i, 0]) == acc


def test_cube_tables_layout():
    for log_k in range(3, 12):
        k = 1 << log_k
        tw = N.stage_twiddles(log_k)
        assert tw.shape[0] == 2 * k
        q = 1
        while 4 * q <= k:
            w = N.root_of_unity((4 * q).bit_length() - 1)
            assert tw[k + q:k + 2 * q].tolist() == [pow(w, 3 * j, P) for j in range(q)]
            q <<= 1
    assert N.stage_twiddles(2).shape[0] == 8


@njit(cache=False)
def _stages(buf, tw, half):
    N._r2_stages(buf, tw, half)


def _r2_ref(v: list[int], half: int) -> list[int]:
    v = [int(a) for a in v]
    while half >= 8:
        w = N.root_of_unity(half.bit_length())
        for st in range(0, len(v), 2 * half):
            for j in range(half):
                a, b = v[st + j], v[st + j + half]
                v[st + j] = (a + b) % P
                v[st + j + half] = (a - b) * pow(w, j, P) % P
        half >>= 1
    return v


@pytest.mark.parametrize("log_k", [4, 5, 6, 7, 8, 9])
def test_r2_stages_radix4_pairs_twin(log_k: int):
    """`_r2_stages` (radix-2² pairs; the plain radix-2 path when ``tw`` has no cube
    tables) against the radix-2 stages over Python integers, edge values, every start."""
    k = 1 << log_k
    rng = np.random.default_rng(log_k)
    x = rng.integers(0, P, size=k, dtype=np.uint64)
    x[:k // 2] = rng.choice(np.array(EDGE[:4], dtype=np.uint64), k // 2)
    tw = N.stage_twiddles(log_k)
    half = k >> 1
    while half >= 8:
        want = _r2_ref(x.tolist(), half)
        for t in (tw, np.ascontiguousarray(tw[:k])):
            got = x.copy()
            _stages(got, t, half)
            assert got.tolist() == want
        half >>= 1
