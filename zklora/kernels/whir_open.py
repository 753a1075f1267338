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
the A·G dots run once per thread.  The G sums are kept as 192-bit integers (the
128-bit products added unreduced, `whir_eq.acc_mul` / `_acc_dot2`) and reduced mod p
once per thread (`_acc_fin`).  Field sums are exact, so the message equals
`round_(f, eq_rows(A, B, a, lo, hi))`.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import njit, prange

from . import reference as R
from . import whir_eq as _QE
from .goldilocks import (
    ONE,
    P_INT,
    ZERO,
    emul_s,
    fin_acc128,
    gl_add,
    gl_mul,
    gl_mul7,
    gl_sub,
    mul128,
)
from .goldilocks import e2_mul_s as e2_mul
from .jit_util import _wide512
from .lookup_gkr import _col_at, col_table
from .whir_eq import (
    IFMA_FLUSH,
    IFMA_LANES,
    IFMA_ROWS,
    IFMA_TERMS,
    _eq_weights,
    _fold_rows,
    _ifma_1,
    _ifma_2,
    _ifma_3,
    _ifma_4,
    _ifma_limbs,
    _out_ext,
    _transpose_tile,
    acc_mul,
    fold_pairs_ref,
)
from .whir_sumcheck import round_ref

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: at most this many threads (each with its accumulators, q·2^(a+1)·16 bytes)
MAX_CHUNKS = 16
#: chunks a worker thread (`_nchunks`): each chunk pays its own zeroing, reduction and
#: A·G dots (`_acc_fin`, `_final`: q·2^a scalar extension products), so not more
#: chunks than balance needs
CHUNKS_PER_THREAD = 2
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


@njit(inline="always", **_OPTS)
def _acc_dot2(lo, hi, tp, x0, x1, b0, b1, n):
    """(tp, hi, lo)[p] += x0[p]·b0 + x1[p]·b1 for p < n as 192-bit integers
    tp·2^128 + hi·2^64 + lo: the two 128-bit products (`mul128`) added without any
    reduction mod p (`_acc_fin` reduces once); tp grows by at most 3 a call."""
    for p in range(n):
        h1, l1 = mul128(x0[p], b0)
        h2, l2 = mul128(x1[p], b1)
        s = l1 + l2
        c1 = ONE if s < l1 else ZERO
        t = lo[p] + s
        c2 = ONE if t < s else ZERO
        lo[p] = t
        u = hi[p] + h1
        c3 = ONE if u < h1 else ZERO
        v = u + h2
        c4 = ONE if v < h2 else ZERO
        w = v + c1 + c2
        c5 = ONE if w < v else ZERO
        hi[p] = w
        tp[p] = tp[p] + c3 + c4 + c5


@njit(inline="always", **_OPTS)
def _acc_fin(K, q, Lh, G):
    """G[l, i, p] = (K[l, 3i + 2]·2^128 + K[l, 3i + 1]·2^64 + K[l, 3i])[p] mod p."""
    for l in range(q):
        for i in range(4):
            for p in range(Lh):
                G[l, i, p] = fin_acc128(K[l, 3 * i, p], K[l, 3 * i + 1, p],
                                        K[l, 3 * i + 2, p])


@njit(inline="always", **_OPTS)
def _acc_row(K, B, hb, p0, P, e0, e1, d0, d1):
    # one row piece into every claim's 192-bit sums K[l]: the products of (e0, e1) (the
    # point 0) and (d0, d1) (the slope) with B[l, hb] (an extension element)
    q0 = p0 + P
    for l in range(K.shape[0]):
        b0 = B[l, hb, 0]
        b1 = B[l, hb, 1]
        b7 = gl_mul7(b1)
        _acc_dot2(K[l, 0, p0:q0], K[l, 1, p0:q0], K[l, 2, p0:q0], e0, e1, b0, b7, P)
        _acc_dot2(K[l, 3, p0:q0], K[l, 4, p0:q0], K[l, 5, p0:q0], e0, e1, b1, b0, P)
        _acc_dot2(K[l, 6, p0:q0], K[l, 7, p0:q0], K[l, 8, p0:q0], d0, d1, b0, b7, P)
        _acc_dot2(K[l, 9, p0:q0], K[l, 10, p0:q0], K[l, 11, p0:q0], d0, d1, b1, b0, P)


@njit(inline="always", **_OPTS)
def _chunk_final(K, A, q, Lh, out):
    # a chunk's 192-bit sums reduced, then its share of the round message into out
    G = np.empty((q, 4, Lh), dtype=np.uint64)
    _acc_fin(K, q, Lh, G)
    _final(A, G, q, Lh, out)


@njit(parallel=True, **_OPTS)
def _split_round_base(f, A, B, h0, a, nch, part):
    # 192-bit accumulators as in `_split_round_ext` (`whir_eq.acc_mul`, `_acc_fin`)
    q = A.shape[0]
    L = 1 << a
    Lh = L >> 1
    H = f.shape[0] >> a
    step = (H + nch - 1) // nch
    for c in prange(nch):
        K = np.zeros((q, 12, Lh), dtype=np.uint64)
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
                    q0 = p0 + P
                    acc_mul(K[l, 0, p0:q0], K[l, 1, p0:q0], K[l, 2, p0:q0], fe, b0, P)
                    acc_mul(K[l, 3, p0:q0], K[l, 4, p0:q0], K[l, 5, p0:q0], fe, b1, P)
                    acc_mul(K[l, 6, p0:q0], K[l, 7, p0:q0], K[l, 8, p0:q0], f2, b0, P)
                    acc_mul(K[l, 9, p0:q0], K[l, 10, p0:q0], K[l, 11, p0:q0], f2, b1, P)
        _chunk_final(K, A, q, Lh, part[c])


@njit(parallel=True, **_OPTS)
def _split_round_ext(f, A, B, h0, a, nch, part):
    # the accumulators as 192-bit integers (`_acc_dot2`: no reduction per product),
    # reduced once per thread (`_acc_fin`); a thread sums at most 2^29 rows
    q = A.shape[0]
    L = 1 << a
    Lh = L >> 1
    H = f.shape[0] >> a
    step = (H + nch - 1) // nch
    for c in prange(nch):
        K = np.zeros((q, 12, Lh), dtype=np.uint64)
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
                _acc_row(K, B, h0 + h, p0, P, e0, e1, d0, d1)
        _chunk_final(K, A, q, Lh, part[c])


@njit(parallel=True, **_OPTS)
def _fold_split_round(s, E0, E1, j, A, B, h0, a, H, nch, part):
    # `_split_round_ext` on the table s (base) folded j times, the folded entries made a
    # piece of a row at a time in cache (`whir_eq._fold_rows` over the even and the odd
    # entries' inputs apart: no de-interleaving) and never written
    q = A.shape[0]
    J = 1 << j
    Lh = (1 << a) >> 1
    step = (H + nch - 1) // nch
    for c in prange(nch):
        K = np.zeros((q, 12, Lh), dtype=np.uint64)
        P = min(PIECE, Lh)
        T = np.empty(2 * J * P, dtype=np.uint64)
        KF = np.empty((6, P), dtype=np.uint64)
        e0 = np.empty(P, dtype=np.uint64)
        e1 = np.empty(P, dtype=np.uint64)
        d0 = np.empty(P, dtype=np.uint64)
        d1 = np.empty(P, dtype=np.uint64)
        for p0 in range(0, Lh, P):
            for h in range(c * step, min(H, (c + 1) * step)):
                _transpose_tile(s, ((h << a) + 2 * p0) << j, 2 * J, P, T)
                _fold_rows(T, 0, J, P, E0, E1, e0, e1, KF)
                _fold_rows(T, J, J, P, E0, E1, d0, d1, KF)
                for p in range(P):
                    d0[p] = _dbl_sub(d0[p], e0[p])
                    d1[p] = _dbl_sub(d1[p], e1[p])
                _acc_row(K, B, h0 + h, p0, P, e0, e1, d0, d1)
        _chunk_final(K, A, q, Lh, part[c])


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


def _nchunks(H: int, M: int) -> int:
    """Chunks of a split-round call over H rows (M entries): up to `CHUNKS_PER_THREAD`
    a numba thread, `MAX_CHUNKS`, one per 2^14 entries; at least one per 2^29 rows (the
    192-bit sums' top word).  The chunking does not change the (exact) sums."""
    cap = min(MAX_CHUNKS, CHUNKS_PER_THREAD * numba.get_num_threads())
    nch = max(1, min(H, cap, max(1, M >> 14)))
    return max(nch, -(-H >> 29))


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
    nch = _nchunks(H, M)
    part = np.zeros((nch, 4), dtype=np.uint64)
    (_split_round_ext if f.ndim == 2 else _split_round_base)(f, A, B, lo >> a, a, nch, part)
    s = _sum4(part)
    return np.array([[s[0], s[1]], [s[2], s[3]]], dtype=np.uint64)


def fold_split_round(s: np.ndarray, rs: np.ndarray, A: np.ndarray, B: np.ndarray, a: int,
                     lo: int) -> np.ndarray:
    """`split_round` of the base block ``s`` (2^j·M entries) folded at rs (j ≥ 1, (j, 2)):
    the value of ``split_round(whir_eq.fold_eq(s, rs), A, B, a, lo)`` with the folded
    block never written (made a piece of a row at a time in cache).  lo (in folded
    entries) and M are multiples of 2^a, a ≥ 1."""
    s = np.ascontiguousarray(s, dtype=np.uint64)
    A = np.ascontiguousarray(A, dtype=np.uint64)
    B = np.ascontiguousarray(B, dtype=np.uint64)
    E0, E1 = _eq_weights(rs)
    j = E0.shape[0].bit_length() - 1
    M = s.shape[0] >> j if s.ndim == 1 else 0
    if j < 1 or a < 1 or s.ndim != 1 or s.shape[0] != M << j or lo % (1 << a) or \
            M % (1 << a) or M == 0 or (lo + M) >> a > B.shape[1] or A.shape[1] != 1 << a:
        raise ValueError("fold_split_round: need j, a ≥ 1 and whole rows of 2^a inside "
                         "the table")
    H = M >> a
    nch = _nchunks(H, M)
    part = np.zeros((nch, 4), dtype=np.uint64)
    _fold_split_round(s, E0, E1, j, A, B, lo >> a, a, H, nch, part)
    t = _sum4(part)
    return np.array([[t[0], t[1]], [t[2], t[3]]], dtype=np.uint64)


@njit(parallel=True, **_OPTS)
def _lincomb_fold(tabs, C0, C1, j, out, L):
    """out[x] = Σ_k Σ_(b<2^j) C[k·2^j + b]·tabs[k][x·2^j + b] (base tables given as a
    `lookup_gkr.col_table` of addresses — no `numba.typed.List`, whose methods numba
    compiles uncached in every process —, extension C, out (M, 2)), tiles of L
    outputs; below `LF_LAZY` terms an output reduced products, else the T·2^j terms
    summed as 192-bit integers (`acc_mul`), reduced once an output."""
    J = 1 << j
    M = out.shape[0]
    nt = C0.shape[0] // J
    ntiles = (M + L - 1) // L
    if nt * J < LF_LAZY:   # few terms: a reduced product each (as `_fold_rows`)
        for t in prange(ntiles):
            _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
            T = np.empty(J * L, dtype=np.uint64)
            o0 = np.zeros(L, dtype=np.uint64)
            o1 = np.zeros(L, dtype=np.uint64)
            x0 = t * L
            n = min(L, M - x0)
            for k in range(nt):
                s = _col_at(tabs, k)
                if J == 1:
                    v = s[x0:x0 + n]
                else:
                    _transpose_tile(s, x0 * J, J, n, T)
                for b in range(J):
                    if J > 1:
                        v = T[b * n:(b + 1) * n]
                    e0 = C0[k * J + b]
                    e1 = C1[k * J + b]
                    for x in range(n):
                        y = v[x]
                        o0[x] = gl_add(o0[x], gl_mul(y, e0))
                        o1[x] = gl_add(o1[x], gl_mul(y, e1))
            for x in range(n):
                out[x0 + x, 0] = o0[x]
                out[x0 + x, 1] = o1[x]
        return
    for t in prange(ntiles):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        T = np.empty(J * L, dtype=np.uint64)
        K = np.zeros((6, L), dtype=np.uint64)
        k0 = K[0]
        k1 = K[1]
        k2 = K[2]
        k3 = K[3]
        k4 = K[4]
        k5 = K[5]
        x0 = t * L
        n = min(L, M - x0)
        for k in range(nt):
            s = _col_at(tabs, k)
            if J == 1:
                v = s[x0:x0 + n]
                acc_mul(k0, k1, k2, v, C0[k], n)
                acc_mul(k3, k4, k5, v, C1[k], n)
                continue
            _transpose_tile(s, x0 * J, J, n, T)
            for b in range(J):
                v = T[b * n:(b + 1) * n]
                acc_mul(k0, k1, k2, v, C0[k * J + b], n)
                acc_mul(k3, k4, k5, v, C1[k * J + b], n)
        for x in range(n):
            out[x0 + x, 0] = fin_acc128(k0[x], k1[x], k2[x])
            out[x0 + x, 1] = fin_acc128(k3[x], k4[x], k5[x])


#: `lincomb_fold` sums fewer terms an output (T·2^j) as reduced products, more as
#: 192-bit integers (`acc_mul`)
LF_LAZY = 12
#: outputs of a `lincomb_fold` tile at j = 0 (halved a fold: the tile's inputs, and
#: its six accumulator rows, stay in L1 / L2)
LF_TILE = 512


def lincomb_fold(tabs, mu: np.ndarray, rs: np.ndarray, out: np.ndarray | None = None
                 ) -> np.ndarray:
    """Σ_t mu[t]·tabs[t] (base tables of 2^j·M entries each, ``mu`` (T, 2)) with its
    lowest j = len(rs) variables bound to rs ((j, 2), j ≥ 0): the values of
    ``whir_eq.fold_eq``/``sumcheck.fold_into`` applied to ``whir.lincomb_base`` of the
    stacked tables, (M, 2), without stacking the tables or writing the combination
    (folding is linear: one sum of T·2^j base × extension products an output, weights
    mu[t]·eq(rs, b)); written into ``out`` when given."""
    tabs = [np.ascontiguousarray(t, dtype=np.uint64) for t in tabs]
    mu = np.ascontiguousarray(mu, dtype=np.uint64).reshape(-1, 2)
    rs = np.ascontiguousarray(rs, dtype=np.uint64).reshape(-1, 2)
    j = rs.shape[0]
    N = tabs[0].shape[0] if tabs else 0
    if not tabs or len(tabs) != mu.shape[0] or any(t.ndim != 1 or t.shape[0] != N
                                                   for t in tabs) or N % (1 << j):
        raise ValueError("lincomb_fold: need T base tables of one length 2^j·M and "
                         "(T, 2) coefficients")
    E0, E1 = _eq_weights(rs)
    C = np.empty((mu.shape[0], 1 << j, 2), dtype=np.uint64)
    C[:, :, 0] = E0[None, :]
    C[:, :, 1] = E1[None, :]
    C = C.reshape(-1, 2)
    emul_s(np.ascontiguousarray(np.repeat(mu, 1 << j, axis=0)), C.copy(), C)
    out = _out_ext(out, N >> j, "lincomb_fold")
    if out.shape[0]:
        _lincomb_fold(col_table(tabs), np.ascontiguousarray(C[:, 0]),
                      np.ascontiguousarray(C[:, 1]), j, out, max(16, LF_TILE >> j))
    return out


def lincomb_fold_ref(tabs, mu, rs) -> np.ndarray:
    """`lincomb_fold`'s twin: the combination from the definition (Python integers),
    then `whir_eq.fold_eq_ref`'s folds one at a time."""
    tabs = [[int(v) for v in np.asarray(t).reshape(-1)] for t in tabs]
    mu = [(int(a), int(b)) for a, b in np.asarray(mu, dtype=np.uint64).reshape(-1, 2)]
    f = []
    for i in range(len(tabs[0])):
        acc = (0, 0)
        for t, m in zip(tabs, mu):
            acc = ((acc[0] + m[0] * t[i]) % P_INT, (acc[1] + m[1] * t[i]) % P_INT)
        f.append(acc)
    return fold_pairs_ref(f, rs)


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


def fold_split_round_ref(s, rs, A, B, a: int, lo: int) -> np.ndarray:
    """`fold_split_round`'s twin: the block folded from the definition
    (`whir_eq.fold_eq_ref`), then `split_round_ref`."""
    from .whir_eq import fold_eq_ref
    return split_round_ref(fold_eq_ref(s, rs), A, B, a, lo)


# -- every streamed round's message from one pass: W's split rows summed once (s26h3) ------

#: entries of a row `_split_rows` updates at a time for every table, row and term of a
#: chunk (the accumulators' piece, q·6·ROW_PIECE·8 bytes, stays in L1 / L2)
ROW_PIECE = 256


@njit(parallel=True, **_OPTS)
def _split_rows(tabs, C0, C1, a, H, nch, part):
    """part[c, l, x] = Σ_t Σ_h C[l, t, h]·tabs[t][h·2^a + x] over chunk c's rows h (base
    tables as a `lookup_gkr.col_table`, extension C as two component arrays (q, T, H)):
    each product added to 192-bit sums unreduced (`acc_mul`, unit-stride runs of a
    row), reduced once a chunk."""
    q = C0.shape[0]
    T = C0.shape[1]
    L = 1 << a
    step = (H + nch - 1) // nch
    P = min(ROW_PIECE, L)
    for c in prange(nch):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        K = np.zeros((q, 6, L), dtype=np.uint64)
        h1 = min(H, (c + 1) * step)
        for p0 in range(0, L, P):
            q0 = p0 + P
            for t in range(T):
                s = _col_at(tabs, t)
                for h in range(c * step, h1):
                    b = (h << a) + p0
                    v = s[b:b + P]
                    for l in range(q):
                        acc_mul(K[l, 0, p0:q0], K[l, 1, p0:q0], K[l, 2, p0:q0], v,
                                C0[l, t, h], P)
                        acc_mul(K[l, 3, p0:q0], K[l, 4, p0:q0], K[l, 5, p0:q0], v,
                                C1[l, t, h], P)
        for l in range(q):
            for x in range(L):
                part[c, l, x, 0] = fin_acc128(K[l, 0, x], K[l, 1, x], K[l, 2, x])
                part[c, l, x, 1] = fin_acc128(K[l, 3, x], K[l, 4, x], K[l, 5, x])


@njit(**_OPTS)
def _add_parts(part, G):
    """G (+)= Σ_c part[c] (mod p)."""
    for c in range(part.shape[0]):
        pc = part[c]
        for l in range(G.shape[0]):
            for x in range(G.shape[1]):
                G[l, x, 0] = gl_add(G[l, x, 0], pc[l, x, 0])
                G[l, x, 1] = gl_add(G[l, x, 1], pc[l, x, 1])


# -- `split_rows` by AVX-512 IFMA52 limb products (`whir_eq`'s IFMA section; s28h1) ------


@njit(inline="always", **_OPTS)
def _ifma_flush(Kc, part, c, q, L):
    """part[c, l, x] += the limbs of Kc (x-block, l, component, limb, lane) mod p
    (`whir_eq._ifma_limbs`); the limbs zeroed."""
    for xb in range(L // IFMA_LANES):
        for l in range(q):
            for comp in range(2):
                o = ((xb * q + l) * 2 + comp) * 3 * IFMA_LANES
                for e in range(IFMA_LANES):
                    x = xb * IFMA_LANES + e
                    part[c, l, x, comp] = gl_add(part[c, l, x, comp],
                                                 _ifma_limbs(Kc, o + e))
                    Kc[o + e] = ZERO
                    Kc[o + IFMA_LANES + e] = ZERO
                    Kc[o + 2 * IFMA_LANES + e] = ZERO


@njit(parallel=True, **_OPTS)
def _split_rows_ifma(tabs, Bc, a, H, q, nch, part):
    """`_split_rows` (the same part[c, l, x], exact field sums) by IFMA52 limb products:
    Bc (T, H, q, 2, 2) holds each constant C[l, t, h] component as (c, c >> 52); chunk
    c's rows run IFMA_ROWS at a time, for each table, group of ≤ IFMA_TERMS terms and
    x-block of 8 entries one `_ifma_g` call (limbs in registers across the rows); the
    limbs are carried into part[c] every ≤ IFMA_FLUSH products (`_ifma_flush`)."""
    T = tabs.shape[0]
    L = 1 << a
    NX = L // IFMA_LANES
    step = (H + nch - 1) // nch
    R = max(1, min(IFMA_ROWS, IFMA_FLUSH // T))
    brow = 4 * q
    for c in prange(nch):
        _wide512()   # zmm lanes (`jit_util._wide512`; s38h4)
        Kc = np.zeros(NX * q * 6 * IFMA_LANES, dtype=np.uint64)
        for l in range(q):
            for x in range(L):
                part[c, l, x, 0] = ZERO
                part[c, l, x, 1] = ZERO
        cnt = 0
        h1 = min(H, (c + 1) * step)
        for g0 in range(c * step, h1, R):
            nr = min(R, h1 - g0)
            if cnt + T * nr > IFMA_FLUSH:
                _ifma_flush(Kc, part, c, q, L)
                cnt = 0
            for t in range(T):
                s = _col_at(tabs, t)
                for l0 in range(0, q, IFMA_TERMS):
                    g = min(IFMA_TERMS, q - l0)
                    boff = ((t * H + g0) * q + l0) * 4
                    for xb in range(NX):
                        voff = g0 * L + xb * IFMA_LANES
                        koff = (xb * q + l0) * 6 * IFMA_LANES
                        if g == 4:
                            _ifma_4(s, voff, L, nr, Bc, boff, brow, Kc, koff)
                        elif g == 3:
                            _ifma_3(s, voff, L, nr, Bc, boff, brow, Kc, koff)
                        elif g == 2:
                            _ifma_2(s, voff, L, nr, Bc, boff, brow, Kc, koff)
                        else:
                            _ifma_1(s, voff, L, nr, Bc, boff, brow, Kc, koff)
            cnt += T * nr
        _ifma_flush(Kc, part, c, q, L)


def split_rows(tabs, C: np.ndarray, a: int, G: np.ndarray | None = None) -> np.ndarray:
    """G[l, x] (+)= Σ_t Σ_h C[l, t, h]·tabs[t][h·2^a + x] (q, 2^a, 2): ``tabs`` T base
    blocks of H·2^a entries each, C (q, T, H, 2) extension weights (for W = Σ_l
    A[l, x]·B[l, h] of `whir_eq.eq_split` and a batch's combination Σ_t mu_t·f_t:
    C[l, t, h] = mu_t·B[l, h0 + h]); added into ``G`` when given.  Every round message
    of the sumcheck on Σ_i f(i)·W(i) whose folded variables lie in the low a follows
    from G and A alone (`split_messages`): h_j = round_(G folded j times, A folded j
    times) summed over l — W's high part B weights the rows, so binding low variables
    commutes with the row sums."""
    tabs = [np.ascontiguousarray(t, dtype=np.uint64) for t in tabs]
    C = np.ascontiguousarray(C, dtype=np.uint64)
    if C.ndim != 4 or C.shape[1] != len(tabs) or C.shape[3] != 2 or a < 1:
        raise ValueError("split_rows: need C (q, T, H, 2) for T tables and a ≥ 1")
    q, T, H = C.shape[0], C.shape[1], C.shape[2]
    if any(t.ndim != 1 or t.shape[0] != H << a for t in tabs):
        raise ValueError("split_rows: every table needs H·2^a base entries")
    if G is None:
        G = np.zeros((q, 1 << a, 2), dtype=np.uint64)
    elif G.shape != (q, 1 << a, 2) or G.dtype != np.uint64 or not G.flags.c_contiguous:
        raise ValueError("split_rows: G must be a contiguous (q, 2^a, 2) uint64 array")
    if H == 0 or q == 0:
        return G
    nch = _nchunks(H, T * (H << a))
    part = np.empty((nch, q, 1 << a, 2), dtype=np.uint64)
    if _QE.IFMA and 1 << a >= IFMA_LANES and T <= IFMA_FLUSH:
        # the constants as (c, c >> 52), (T, H, q, 2, 2) (`_split_rows_ifma`)
        Bc = np.empty((T, H, q, 2, 2), dtype=np.uint64)
        Bc[..., 0] = C.transpose(1, 2, 0, 3)
        Bc[..., 1] = Bc[..., 0] >> np.uint64(52)
        _split_rows_ifma(col_table(tabs), Bc.reshape(-1), a, H, q, nch, part)
    else:
        _split_rows(col_table(tabs), np.ascontiguousarray(C[..., 0]),
                    np.ascontiguousarray(C[..., 1]), a, H, nch, part)
    _add_parts(part, G)
    return G


def split_rows_ref(tabs, C, a: int) -> np.ndarray:
    """`split_rows`' twin from the definition (Python integers)."""
    C = np.asarray(C, dtype=np.uint64)
    q, T, H = C.shape[0], C.shape[1], C.shape[2]
    L = 1 << a
    G = np.zeros((q, L, 2), dtype=np.uint64)
    for l in range(q):
        for x in range(L):
            s0 = s1 = 0
            for t in range(T):
                for h in range(H):
                    v = int(tabs[t][h * L + x])
                    s0 += int(C[l, t, h, 0]) * v
                    s1 += int(C[l, t, h, 1]) * v
            G[l, x] = (s0 % P_INT, s1 % P_INT)
    return G
