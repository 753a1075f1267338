"""s25h3: the column encoder's first DIF stage with the twist's second half folded in —
`ntt._bfly_run_tw` (two general products a butterfly, c·s1 a shift for c = 2^48, −2^24)
inside `ntt._rs_encode_cols_par` — checked against a pure-Python twin and the per-row
serial encoder / naive evaluation, with edge values 0, 1, p−1, p−2."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt as N

P = N.P_INT
EDGE = [0, 1, P - 1, P - 2, 2, P - 3, (1 << 32) - 1, 1 << 32, P >> 1]


def _vals(rng, n: int) -> np.ndarray:
    v = rng.integers(0, P, size=n, dtype=np.uint64)
    v[:len(EDGE)] = EDGE[:n]
    return v


def _first_stage_ref(s0, s1, f0, f1, tw):
    """Twin: x = s·f, (lo, hi) = (x0 + x1, (x0 − x1)·tw) with Python integers."""
    lo, hi = [], []
    for a, b, fa, fb, t in zip(s0, s1, f0, f1, tw):
        x0 = int(a) * int(fa) % P
        x1 = int(b) * int(fb) % P
        lo.append((x0 + x1) % P)
        hi.append((x0 - x1) * int(t) % P)
    return lo, hi


def test_twist_first_tables():
    for log_k, rl in ((4, 1), (6, 2), (5, 3), (11, 1)):
        _, twist, _ = N._tables(log_k, rl)
        tw = N.stage_twiddles(log_k)
        g, c = N._twist_first(log_k, rl)
        h = 1 << (log_k - 1)
        for s in range(1 << rl):
            assert int(c[s]) == int(twist[s, h])
            assert g[s].tolist() == [int(twist[s, j]) * int(tw[h + j]) % P for j in range(h)]
    assert int(N._twist_first(4, 1)[1][1]) == 1 << 48
    assert int(N._twist_first(4, 2)[1][1]) == P - (1 << 24)


@pytest.mark.parametrize("rl", [1, 2, 3])
def test_bfly_run_tw_twin(rl):
    rng = np.random.default_rng(rl)
    log_k = 6
    k = 1 << log_k
    h = k >> 1
    _, twist, _ = N._tables(log_k, rl)
    tw = N.stage_twiddles(log_k)
    g, c = N._twist_first(log_k, rl)
    for s in range(1 << rl):   # rl = 2, 3 reach the −2^24 and the general branches
        s0 = _vals(rng, h)
        s1 = _vals(rng, h)[::-1].copy()
        lo = np.empty(h, np.uint64)
        hi = np.empty(h, np.uint64)
        N._bfly_run_tw(s0, s1, np.ascontiguousarray(twist[s, :h]), g[s], lo, hi, c[s], h)
        rlo, rhi = _first_stage_ref(s0, s1, twist[s, :h], twist[s, h:], tw[h:k])
        assert lo.tolist() == rlo and hi.tolist() == rhi


@pytest.mark.parametrize("log_k,rows,rl", [(4, 1024, 1), (6, 256, 1), (6, 64, 2),
                                           (5, 128, 3), (11, 16, 1), (8, 24, 2)])
def test_rs_encode_cols_matches_rs_encode(log_k, rows, rl):
    rng = np.random.default_rng(log_k * 10 + rl)
    k = 1 << log_k
    W_ = rows + 5
    Y = rng.integers(0, P, size=(k, W_), dtype=np.uint64)
    Y.reshape(-1)[:len(EDGE)] = EDGE
    col = rng.permutation(W_)[:rows].astype(np.int64)
    got = N.rs_encode_cols(Y, col, rl)
    M = np.ascontiguousarray(Y[:, col].T)
    want = np.empty_like(got)
    N._rs_encode_ser(M, *N._tables(log_k, rl), want)   # the per-row serial encoder
    assert np.array_equal(got, want)
    assert got[:, 0].tolist() == N.rs_encode_ref(M[0], rl)
