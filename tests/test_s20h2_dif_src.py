"""`ntt._dif_src` (the twist product fused into the first DIF stage, output in the lane
layout) against its twins: the product pass + `ntt._dif_inplace`, and a pure-Python DFT;
`whir._pw_init` against Python powers; the encoders (`rs_encode`, `whir.twist_dft_block`,
`encode_leaves`) against their references."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import ntt, whir
from zklora.kernels.goldilocks import P_INT

P = np.uint64(P_INT)


@njit(cache=False)
def _src_mul(buf, src, fac, tw):
    ntt._dif_src(buf, src, fac, tw)


@njit(cache=False)
def _inplace(buf, tw):
    ntt._dif_inplace(buf, tw)


def _rows(k: int, rng) -> list[np.ndarray]:
    edge = np.array([0, 1, P_INT - 1, P_INT - 2], dtype=np.uint64)
    return [np.full(k, P_INT - 1, dtype=np.uint64), np.zeros(k, dtype=np.uint64),
            np.resize(edge, k), np.resize(np.array([P_INT - 2, 1], dtype=np.uint64), k),
            np.ones(k, dtype=np.uint64),
            rng.integers(0, 2**63, size=k, dtype=np.uint64) % P]


def _py_dif(x: list[int]) -> list[int]:
    """Pure-Python twin: the DFT Σ_j x_j ω^(j·u) at u = bit-reverse(position)."""
    k = len(x)
    lk = k.bit_length() - 1
    w = ntt.root_of_unity(lk)
    out = [0] * k
    for u in range(k):
        r = int(format(u, f"0{lk}b")[::-1], 2) if lk else 0
        wu = pow(w, u, P_INT)
        acc = 0
        for c in reversed(x):
            acc = (acc * wu + c) % P_INT
        out[r] = acc
    return out


@pytest.mark.parametrize("lk", list(range(0, 14)))
def test_dif_src_matches_inplace(lk):
    rng = np.random.default_rng(lk)
    k = 1 << lk
    tw = ntt.stage_twiddles(lk)
    perm = ntt.fast_perm(ntt._tables(lk, 0)[2]) if k >= 1 else None
    rev = ntt._tables(lk, 0)[2]
    for src in _rows(k, rng):
        for fac in _rows(k, rng)[:3] + [rng.integers(0, 2**63, size=k, dtype=np.uint64) % P]:
            want = (src.astype(object) * fac.astype(object) % P_INT).astype(np.uint64)
            ref = want.copy()
            _inplace(ref, tw)
            got = np.empty(k, dtype=np.uint64)
            _src_mul(got, src, fac, tw)
            assert np.array_equal(got[perm], ref[rev]), lk
            if lk <= 7:
                py = _py_dif([int(v) for v in want])
                assert [int(v) for v in ref] == py


@pytest.mark.parametrize("rows,lk,rate", [(16, 6, 1), (64, 10, 1), (33, 7, 2), (8, 13, 1),
                                          (40, 5, 2)])
def test_rs_encode_par(rows, lk, rate):
    rng = np.random.default_rng(rows + lk)
    k = 1 << lk
    M = rng.integers(0, 2**63, size=(rows, k), dtype=np.uint64) % P
    M.reshape(-1)[:4] = [0, 1, P_INT - 1, P_INT - 2]
    M[1] = P_INT - 1
    out = np.empty((k << rate, rows), dtype=np.uint64)
    ntt._rs_encode_par(M, *ntt._tables(lk, rate)[:2], ntt._fast_rev(lk), out)
    ser = np.empty_like(out)
    ntt._rs_encode_ser(M, *ntt._tables(lk, rate), ser)
    assert np.array_equal(out, ser)
    for r in (0, 1, rows - 1):
        if k << rate <= 512:
            assert [int(v) for v in out[:, r]] == ntt.rs_encode_ref(M[r], rate)


@pytest.mark.parametrize("m,d,k,ext", [(12, 14, 2, False), (12, 13, 4, True),
                                       (14, 15, 4, False), (6, 8, 3, True)])
def test_encoders_vs_ref(m, d, k, ext):
    """Against the naive evaluation (small) or the full-length numpy NTT (larger: T ≥
    FAST_MIN, the fast path)."""
    rng = np.random.default_rng(m * d)
    shape = (1 << m, 2) if ext else (1 << m,)
    c = rng.integers(0, 2**63, size=shape, dtype=np.uint64) % P
    c.reshape(-1)[:4] = [0, 1, P_INT - 1, P_INT - 2]
    if d <= 8:
        ref = whir.encode_leaves_ref(c, d, k)
    else:
        ref = whir._encode_leaves_cold(c, d, k)
    assert np.array_equal(whir.encode_leaves(c, d, k), ref)
    # twist_dft_block over every row of enc in two blocks gives the same leaves
    lt = whir.split_log(m, d, k)
    T = 1 << lt
    ncomp = 2 if ext else 1
    Mx = np.empty((ncomp * T, (1 << m) // T), dtype=np.uint64)
    whir._split_rows(c.reshape(-1), T, ncomp, Mx)
    enc = ntt.rs_encode(Mx, d - m)
    S = enc.shape[0]
    wa = ntt.powers(ntt.root_of_unity(d), S)
    out = np.empty(((1 << d) >> k, (1 << k) * ncomp), dtype=np.uint64)
    h = S // 2
    whir.twist_dft_block(enc[:h], 0, d, k, lt, wa, out)
    whir.twist_dft_block(enc[h:], h, d, k, lt, wa, out)
    assert np.array_equal(out.reshape(ref.shape), ref)


@njit(cache=False)
def _pw(pw, w):
    whir._pw_init(pw, w)


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 128, 200, 2048])
def test_pw_init(n):
    rng = np.random.default_rng(n)
    for w in (0, 1, P_INT - 1, P_INT - 2, int(rng.integers(0, 2**63)) % P_INT):
        pw = np.empty(n, dtype=np.uint64)
        _pw(pw, np.uint64(w))
        assert [int(v) for v in pw] == whir._pw_init_ref(n, w)
