"""`ntt._dif_fast` (the DIF transform with its last three stages run as 8-word vectors
over transposed 8×8 runs) against `ntt._dif_inplace` and the naive DFT, on edge values
(0, 1, p − 1, p − 2) and random rows, at every size it takes; its lane layout
(`lane_pos` / `fast_perm`); and the kernels built on it (`rs_encode`'s parallel kernel,
`whir.twist_dft_block`, `whir.encode_leaves`) against their references."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import ntt
from zklora.kernels import whir as K

P = ntt.P_INT


@njit(cache=False)
def _run(rows, tw, mode):
    for r in range(rows.shape[0]):
        if mode == 0:
            ntt._dif_inplace(rows[r], tw)
        elif mode == 1:
            ntt._dif_nat(rows[r], tw)
        else:
            ntt._dif_any(rows[r], tw)


def _rows(log_k: int) -> np.ndarray:
    k = 1 << log_k
    rng = np.random.default_rng(log_k)
    a = rng.integers(0, P, size=(6, k), dtype=np.uint64)
    a[0] = P - 1
    a[1] = 0
    a[2, ::2] = P - 2
    a[2, 1::2] = 1
    a[3, :min(k, 4)] = [0, 1, P - 1, P - 2][:min(k, 4)]
    a[4] = 1
    return a


@pytest.mark.parametrize("log_k", range(0, 14))
def test_dif_fast_matches_dif_inplace(log_k):
    a = _rows(log_k)
    tw = ntt.stage_twiddles(log_k)
    want, nat, lane = a.copy(), a.copy(), a.copy()
    _run(want, tw, 0)
    _run(nat, tw, 1)
    _run(lane, tw, 2)
    assert np.array_equal(nat, want)
    perm = ntt.fast_perm(np.arange(1 << log_k))
    assert np.array_equal(lane[:, perm], want)
    assert int(nat.max()) < P


@pytest.mark.parametrize("log_k", [6, 7])
def test_dif_fast_naive_dft(log_k):
    """The bit-reversed output is the DFT: entry rev(u) = Σ_t x_t ω^(t·u)."""
    k = 1 << log_k
    a = _rows(log_k)
    got = a.copy()
    _run(got, ntt.stage_twiddles(log_k), 1)
    w = ntt.root_of_unity(log_k)
    rev = ntt._tables(log_k, 0)[2]
    for row, out in zip(a[:4], got[:4]):
        x = [int(v) for v in row]
        for u in range(0, k, 7):
            assert int(out[rev[u]]) == sum(x[t] * pow(w, t * u, P) for t in range(k)) % P


def test_lane_pos_is_the_8x8_transpose():
    p = np.arange(256)
    q = ntt.lane_pos(p)
    assert sorted(q.tolist()) == p.tolist()
    assert q[64 + 8 * 3 + 5] == 64 + 8 * 5 + 3
    small = np.arange(32)
    assert ntt.fast_perm(small) is small


@pytest.mark.parametrize("rows,log_k,rate_log", [(9, 11, 1), (160, 6, 2), (3, 13, 1),
                                                 (161, 8, 0)])
def test_rs_encode_parallel_matches_serial_reference(rows, log_k, rate_log):
    M = _rows(log_k)
    M = np.vstack([M] * (rows // M.shape[0] + 1))[:rows]
    out = ntt.rs_encode(M, rate_log)
    assert out.size >= ntt.SERIAL_BELOW
    for r in sorted({0, 1, 2, min(3, rows - 1), rows - 1}):
        assert [int(x) for x in out[:, r]] == ntt.rs_encode_ref(M[r], rate_log)


@pytest.mark.parametrize("ncomp", [1, 2])
def test_twist_dft_block_matches_encode_leaves_ref(ncomp):
    m, d, k = 8, 10, 3
    rng = np.random.default_rng(ncomp)
    shape = (1 << m,) if ncomp == 1 else (1 << m, 2)
    c = rng.integers(0, P, size=shape, dtype=np.uint64)
    c.reshape(-1)[:4] = [0, 1, P - 1, P - 2]
    want = K.encode_leaves_ref(c, d, k)
    assert np.array_equal(K.encode_leaves(c, d, k, log_split=6), want)
    lt = 6
    T, S = 1 << lt, (1 << d) >> lt
    M = np.empty((ncomp * T, (1 << m) // T), dtype=np.uint64)
    K._split_rows(c.reshape(-1), T, ncomp, M)
    enc = ntt.rs_encode(M, d - m)
    wa = ntt.powers(ntt.root_of_unity(d), S)
    out = np.empty(((1 << d) >> k, ncomp << k), dtype=np.uint64)
    for a0 in range(0, S, 5):
        K.twist_dft_block(enc[a0:a0 + 5], a0, d, k, lt, wa, out)
    assert np.array_equal(out.reshape(want.shape), want)
