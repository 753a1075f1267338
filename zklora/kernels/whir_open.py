"""The streamed WHIR opening's round message from W's split tables (numba), with a
pure-Python twin.

A streamed first-round sumcheck (`Whir._fold_streamed`, `_reduce_streamed`) needs, in
each pass, the message [h(0), h(2)] of Σ_i f(i)·W(i) on a block of rows, where
W = Σ_l A[l, x]·B[l, h] at row i = h·2^a + x (`whir_eq.eq_split`).  Before, the pass
made W's rows (`whir_eq.eq_rows`: one extension product per entry and term, 16 bytes
an entry written) and then ran `whir_sumcheck.round_` over f and W (a second pass).
When only the message is needed, the sums can be reordered (a = 2^a ≥ 2, so a pair
(2i, 2i + 1) never crosses a row; p = x / 2 the pair in the row):

    h(0) = Σ_l Σ_p A[l, 2p]·G0_l[p],      G0_l[p] = Σ_h B[l, h]·f[h·2^a + 2p]
    h(2) = Σ_l Σ_p A2[l, p]·G2_l[p],      G2_l[p] = Σ_h B[l, h]·(2f[.. + 2p + 1] − f[.. + 2p])

with A2[l, p] = 2A[l, 2p + 1] − A[l, 2p] (W(2) is linear in A).  The G tables are
per-thread accumulators of 2^(a−1) entries per term, updated a row at a time by
vectorised axpys (a base-field f: a base × extension product, two base products, an
entry and term, instead of an extension product for W plus the round's products);
the A·G dots run once per thread.  Field sums are exact, so the message equals
`round_(f, eq_rows(A, B, a, lo, hi))`.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import reference as R
from .goldilocks import P_INT, ZERO, gl_add, gl_mul, gl_mul7, gl_sub
from .goldilocks import e2_mul_s as e2_mul
from .whir_sumcheck import round_ref

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: at most this many threads (each with its accumulators, q·2^(a+1)·16 bytes)
MAX_CHUNKS = 16
#: pairs of a row a thread updates at a time for every term and row of its share (the
#: accumulators' piece, q·PIECE·32 bytes, stays in L1)
PIECE = 64


@njit(inline="always", **_OPTS)
def _dbl_sub(hi, lo):
    return gl_sub(gl_add(hi, hi), lo)


@njit(inline="always", **_OPTS)
def _final(A, G, q, Lh, out):
    """out += [Σ_l Σ_p A[l, 2p]·G[l, 0/1, p], Σ_l Σ_p A2[l, p]·G[l, 2/3, p]]."""
    s00 = ZERO
    s01 = ZERO
    s20 = ZERO
    s21 = ZERO
    for l in range(q):
        for p in range(Lh):
            e0 = A[l, 2 * p, 0]
            e1 = A[l, 2 * p, 1]
            d0 = _dbl_sub(A[l, 2 * p + 1, 0], e0)
            d1 = _dbl_sub(A[l, 2 * p + 1, 1], e1)
            x0, x1 = e2_mul(e0, e1, G[l, 0, p], G[l, 1, p])
            s00 = gl_add(s00, x0)
            s01 = gl_add(s01, x1)
            x0, x1 = e2_mul(d0, d1, G[l, 2, p], G[l, 3, p])
            s20 = gl_add(s20, x0)
            s21 = gl_add(s21, x1)
    out[0] = s00
    out[1] = s01
    out[2] = s20
    out[3] = s21


@njit(parallel=True, **_OPTS)
def _split_round_base(f, A, B, h0, a, nch, part):
    q = A.shape[0]
    L = 1 << a
    Lh = L >> 1
    H = f.shape[0] >> a
    step = (H + nch - 1) // nch
    for c in prange(nch):
        G = np.zeros((q, 4, Lh), dtype=np.uint64)
        P = min(PIECE, Lh)
        fe = np.empty(P, dtype=np.uint64)
        f2 = np.empty(P, dtype=np.uint64)
        for p0 in range(0, Lh, P):
            for h in range(c * step, min(H, (c + 1) * step)):
                base = (h << a) + 2 * p0
                for p in range(P):
                    x = f[base + 2 * p]
                    fe[p] = x
                    f2[p] = _dbl_sub(f[base + 2 * p + 1], x)
                for l in range(q):
                    b0 = B[l, h0 + h, 0]
                    b1 = B[l, h0 + h, 1]
                    g0 = G[l, 0, p0:p0 + P]
                    g1 = G[l, 1, p0:p0 + P]
                    g2 = G[l, 2, p0:p0 + P]
                    g3 = G[l, 3, p0:p0 + P]
                    for p in range(P):
                        x = fe[p]
                        y = f2[p]
                        g0[p] = gl_add(g0[p], gl_mul(x, b0))
                        g1[p] = gl_add(g1[p], gl_mul(x, b1))
                        g2[p] = gl_add(g2[p], gl_mul(y, b0))
                        g3[p] = gl_add(g3[p], gl_mul(y, b1))
        _final(A, G, q, Lh, part[c])


@njit(parallel=True, **_OPTS)
def _split_round_ext(f, A, B, h0, a, nch, part):
    q = A.shape[0]
    L = 1 << a
    Lh = L >> 1
    H = f.shape[0] >> a
    step = (H + nch - 1) // nch
    for c in prange(nch):
        G = np.zeros((q, 4, Lh), dtype=np.uint64)
        P = min(PIECE, Lh)
        e0 = np.empty(P, dtype=np.uint64)
        e1 = np.empty(P, dtype=np.uint64)
        d0 = np.empty(P, dtype=np.uint64)
        d1 = np.empty(P, dtype=np.uint64)
        for p0 in range(0, Lh, P):
            for h in range(c * step, min(H, (c + 1) * step)):
                base = (h << a) + 2 * p0
                for p in range(P):
                    x0 = f[base + 2 * p, 0]
                    x1 = f[base + 2 * p, 1]
                    e0[p] = x0
                    e1[p] = x1
                    d0[p] = _dbl_sub(f[base + 2 * p + 1, 0], x0)
                    d1[p] = _dbl_sub(f[base + 2 * p + 1, 1], x1)
                for l in range(q):
                    b0 = B[l, h0 + h, 0]
                    b1 = B[l, h0 + h, 1]
                    b7 = gl_mul7(b1)
                    g0 = G[l, 0, p0:p0 + P]
                    g1 = G[l, 1, p0:p0 + P]
                    g2 = G[l, 2, p0:p0 + P]
                    g3 = G[l, 3, p0:p0 + P]
                    for p in range(P):
                        x0 = e0[p]
                        x1 = e1[p]
                        g0[p] = gl_add(g0[p], gl_add(gl_mul(x0, b0), gl_mul(x1, b7)))
                        g1[p] = gl_add(g1[p], gl_add(gl_mul(x0, b1), gl_mul(x1, b0)))
                        y0 = d0[p]
                        y1 = d1[p]
                        g2[p] = gl_add(g2[p], gl_add(gl_mul(y0, b0), gl_mul(y1, b7)))
                        g3[p] = gl_add(g3[p], gl_add(gl_mul(y0, b1), gl_mul(y1, b0)))
        _final(A, G, q, Lh, part[c])


@njit(**_OPTS)
def _sum4(part):
    s0 = ZERO
    s1 = ZERO
    s2 = ZERO
    s3 = ZERO
    for c in range(part.shape[0]):
        s0 = gl_add(s0, part[c, 0])
        s1 = gl_add(s1, part[c, 1])
        s2 = gl_add(s2, part[c, 2])
        s3 = gl_add(s3, part[c, 3])
    return s0, s1, s2, s3


def split_round(f: np.ndarray, A: np.ndarray, B: np.ndarray, a: int, lo: int) -> np.ndarray:
    """[h(0), h(2)] (2, 2) of Σ_i f[i]·W[lo + i] for a block f (base (M,) or extension
    (M, 2)) and W = Σ_l A[l, x]·B[l, h] at h·2^a + x (`whir_eq.eq_split`): the value of
    `whir_sumcheck.round_(f, whir_eq.eq_rows(A, B, a, lo, lo + M))` without making W
    (module doc).  lo and M are multiples of 2^a, a ≥ 1."""
    f = np.ascontiguousarray(f, dtype=np.uint64)
    A = np.ascontiguousarray(A, dtype=np.uint64)
    B = np.ascontiguousarray(B, dtype=np.uint64)
    M = f.shape[0]
    if a < 1 or lo % (1 << a) or M % (1 << a) or M == 0 or \
            (lo + M) >> a > B.shape[1] or A.shape[1] != 1 << a or \
            f.ndim not in (1, 2) or (f.ndim == 2 and f.shape[1] != 2):
        raise ValueError("split_round: need a ≥ 1 and whole rows of 2^a inside the table")
    H = M >> a
    nch = max(1, min(H, MAX_CHUNKS, max(1, M >> 14)))
    part = np.zeros((nch, 4), dtype=np.uint64)
    (_split_round_ext if f.ndim == 2 else _split_round_base)(f, A, B, lo >> a, a, nch, part)
    s = _sum4(part)
    return np.array([[s[0], s[1]], [s[2], s[3]]], dtype=np.uint64)


def split_round_ref(f, A, B, a: int, lo: int) -> np.ndarray:
    """The twin: W's rows from the definition, then [h(0), h(2)] of Σ f·W."""
    A = np.asarray(A, dtype=np.uint64)
    B = np.asarray(B, dtype=np.uint64)
    f = np.asarray(f, dtype=np.uint64)
    L = 1 << a
    wl = []
    for i in range(len(f)):
        h, x = (lo + i) >> a, (lo + i) % L
        acc = (0, 0)
        for l in range(A.shape[0]):
            p = R.e2_mul(int(A[l, x, 0]), int(A[l, x, 1]), int(B[l, h, 0]), int(B[l, h, 1]))
            acc = ((acc[0] + p[0]) % P_INT, (acc[1] + p[1]) % P_INT)
        wl.append(acc)
    return round_ref(f, np.array(wl, dtype=np.uint64))
