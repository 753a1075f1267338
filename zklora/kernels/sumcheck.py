"""Numba kernels of the sumcheck engine's fast path for sums of pairwise products over
goldilocks-ext2 (`zklora.zkcore.sumcheck.prove`): Σ_x Σ_j c_j·f_{a_j}(x)·f_{b_j}(x).

A round polynomial of such a sum has degree 2; the kernels sum, per term j and over the
pairs (lo, hi) of the variable being bound, lo_a·lo_b (the value at 0) and
(hi_a − lo_a)·(hi_b − lo_b) (the X² coefficient): 2 extension products per pair and
term instead of 3 points' worth.  The value at 1 is derived from the running claim, so
what is sent (g(0), g(2)) is exactly what the generic prover sends.  `p2_fold_sums`
folds the previous challenge into every table and sums the next round in one pass.

Each kernel has a pure-Python twin (``ref_*``, Python ints) used by the tests.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .goldilocks import (
    ONE,
    P_INT,
    SMALL,
    ZERO,
    _chunks,
    e2_mul,
    e2_mul_call,
    e2_mul_s,
    e_interpolate,
    e_sc_fold,
    e_sc_fold_s,
    gl_add,
    gl_inv,
    gl_mul,
    gl_mul7,
    gl_mul_s,
    gl_neg,
    gl_sub,
)
from .jit_util import _wide512

_OPTS = dict(cache=True, nogil=True, fastmath=False)


def _ro(a):
    """``a`` as a read-only view (same memory): the wrappers pass the tables and stacks
    they only read read-only, so numba compiles (and caches) one signature per kernel
    for in-memory and memory-mapped (read-only) callers alike; a compile at a real shape
    costs seconds, and `warm` can only warm the signatures a prove will use."""
    if a.flags.writeable:
        a = a.view()
        a.flags.writeable = False
    return a


#: pairs a lane block of the pairwise sums and the folds holds (`_p2_range`,
#: `_fold_range`): the products run as loops over a block's lanes (vectorised), the
#: de-interleaving of the (k, 2m, 2) rows into lane arrays is a plain copy loop
LANES = 32


@njit(inline="always")
def _lane_load(st, f, i0, n, L0, L1, D0, D1):
    """L = lo, D = hi − lo of table f of ``st`` on the pairs i0..i0+n, as lane arrays."""
    for p in range(n):
        i = 2 * (i0 + p)
        l0 = st[f, i, 0]
        l1 = st[f, i, 1]
        L0[p] = l0
        L1[p] = l1
        D0[p] = gl_sub(st[f, i + 1, 0], l0)
        D1[p] = gl_sub(st[f, i + 1, 1], l1)


@njit(**_OPTS)
def _p2_range(st, fa, fb, lo, hi, acc):
    """acc[j, 0] += Σ lo_a·lo_b, acc[j, 1] += Σ Δ_a·Δ_b over the pairs lo..hi of st: blocks
    of `LANES` pairs, each term's two products and the sums as loops over the lanes
    (vectorised), the sums kept per lane and added into ``acc`` once (field sums: the
    values of a per-pair sum)."""
    _wide512()  # zmm code (s37h5: x0.83-0.89 CPU, same values)
    T = fa.shape[0]
    B = LANES
    A = np.empty((4, B), dtype=np.uint64)
    C = np.empty((4, B), dtype=np.uint64)
    S = np.zeros((T, 4, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        for j in range(T):
            _lane_load(st, fa[j], i0, n, A[0], A[1], A[2], A[3])
            _lane_load(st, fb[j], i0, n, C[0], C[1], C[2], C[3])
            for p in range(n):
                x0, x1 = e2_mul(A[0, p], A[1, p], C[0, p], C[1, p])
                y0, y1 = e2_mul(A[2, p], A[3, p], C[2, p], C[3, p])
                S[j, 0, p] = gl_add(S[j, 0, p], x0)
                S[j, 1, p] = gl_add(S[j, 1, p], x1)
                S[j, 2, p] = gl_add(S[j, 2, p], y0)
                S[j, 3, p] = gl_add(S[j, 3, p], y1)
    for j in range(T):
        for q in range(4):
            a = acc[j, q >> 1, q & 1]
            for p in range(B):
                a = gl_add(a, S[j, q, p])
            acc[j, q >> 1, q & 1] = a


@njit(inline="always")
def _fold_table_to(st, f, o, r0, r1, out, lo, hi, X):
    """`_fold_range` of table f of ``st`` alone, into table o of ``out`` (``X`` (4,
    `LANES`) scratch)."""
    B = LANES
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        _lane_load(st, f, i0, n, X[0], X[1], X[2], X[3])
        for p in range(n):
            p0, p1 = e2_mul(X[2, p], X[3, p], r0, r1)
            X[0, p] = gl_add(X[0, p], p0)
            X[1, p] = gl_add(X[1, p], p1)
        for p in range(n):
            out[o, i0 + p, 0] = X[0, p]
            out[o, i0 + p, 1] = X[1, p]


@njit(inline="always")
def _fold_table(st, f, r0, r1, out, lo, hi, X):
    """`_fold_range` of table f alone (``X`` (4, `LANES`) scratch)."""
    _fold_table_to(st, f, f, r0, r1, out, lo, hi, X)


@njit(**_OPTS)
def _fold_range(st, r0, r1, out, lo, hi):
    """out[f, i] = lo + r·(hi − lo) for i in lo..hi, every table f: blocks of `LANES`
    entries de-interleaved into lane arrays, the products over the lanes (vectorised)."""
    _wide512()  # zmm code (s37h5: x0.83-0.89 CPU, same values)
    X = np.empty((4, LANES), dtype=np.uint64)
    for f in range(st.shape[0]):
        _fold_table(st, f, r0, r1, out, lo, hi, X)


@njit(**_OPTS)
def _reduce(part):
    out = np.zeros(part.shape[1:], dtype=np.uint64)
    for c in range(part.shape[0]):
        for j in range(part.shape[1]):
            for k in range(2):
                out[j, k, 0] = gl_add(out[j, k, 0], part[c, j, k, 0])
                out[j, k, 1] = gl_add(out[j, k, 1], part[c, j, k, 1])
    return out


@njit(parallel=True, **_OPTS)
def e_p2_sums(st, fa, fb, nchunks):
    """Per-term sums (T, 2, 2) of one round over the (k, 2m, 2) stack ``st``."""
    m = st.shape[1] // 2
    part = np.zeros((nchunks, fa.shape[0], 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _p2_range(st, fa, fb, min(m, c * step), min(m, (c + 1) * step), part[c])
    return _reduce(part)


@njit(**_OPTS)
def e_p2_sums_s(st, fa, fb):
    out = np.zeros((fa.shape[0], 2, 2), dtype=np.uint64)
    _p2_range(st, fa, fb, 0, st.shape[1] // 2, out)
    return out


@njit(parallel=True, **_OPTS)
def e_p2_fold_sums(st, r0, r1, out, fa, fb, nchunks):
    """Fold ``st`` (k, 4m, 2) at r into ``out`` (k, 2m, 2) and return the next round's
    per-term sums over ``out`` (one pass: each chunk folds, then sums, its own pairs)."""
    m = out.shape[1] // 2
    part = np.zeros((nchunks, fa.shape[0], 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_range(st, r0, r1, out, 2 * lo, 2 * hi)
        _p2_range(out, fa, fb, lo, hi, part[c])
    return _reduce(part)


@njit(**_OPTS)
def e_p2_fold_sums_s(st, r0, r1, out, fa, fb):
    m = out.shape[1] // 2
    _fold_range(st, r0, r1, out, 0, 2 * m)
    res = np.zeros((fa.shape[0], 2, 2), dtype=np.uint64)
    _p2_range(out, fa, fb, 0, m, res)
    return res


def p2_sums(st, fa, fb):
    """`e_p2_sums` (serial below `SMALL` work)."""
    st = _ro(st)
    work = st.shape[1] // 2 * fa.shape[0]
    if work < SMALL:
        return e_p2_sums_s(st, fa, fb)
    return e_p2_sums(st, fa, fb, _chunks(work))


def p2_fold_sums(st, r, fa, fb):
    """Fold ``st`` at r and sum the next round: returns (folded stack, sums)."""
    st = _ro(st)
    out = np.empty((st.shape[0], st.shape[1] // 2, 2), dtype=np.uint64)
    work = st.shape[1] // 4 * max(fa.shape[0], st.shape[0])
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    if work < SMALL:
        return out, e_p2_fold_sums_s(st, r0, r1, out, fa, fb)
    return out, e_p2_fold_sums(st, r0, r1, out, fa, fb, _chunks(work))


# -- mixed-field first round (tables given one by one, base or extension) ----------------
#
# The first round of a sum of pairwise products reads the tables where they lie: a
# base-field table (shape (N,)) is not lifted and nothing is stacked; a base × extension
# product costs 2 base products, base × base 1 (Bagad–Domb–Thaler: the small values stay
# in the base field until the first challenge).  After the first challenge every table is
# folded into one extension stack of half the size and the rounds go on as above.


@njit(inline="always")
def _lane_load1(A, i0, n, L, D):
    """L = lo, D = hi − lo of the base table A (N,) on the pairs i0..i0+n."""
    for p in range(n):
        i = 2 * (i0 + p)
        lo = A[i]
        L[p] = lo
        D[p] = gl_sub(A[i + 1], lo)


@njit(inline="always")
def _lane_load2(A, i0, n, L0, L1, D0, D1):
    """`_lane_load` of an extension table A (N, 2)."""
    for p in range(n):
        i = 2 * (i0 + p)
        l0 = A[i, 0]
        l1 = A[i, 1]
        L0[p] = l0
        L1[p] = l1
        D0[p] = gl_sub(A[i + 1, 0], l0)
        D1[p] = gl_sub(A[i + 1, 1], l1)


@njit(inline="always")
def _lanes_into(S, acc):
    """acc[q >> 1, q & 1] += Σ_p S[q, p] (the per-lane sums of a pair range)."""
    for q in range(4):
        a = acc[q >> 1, q & 1]
        for p in range(S.shape[1]):
            a = gl_add(a, S[q, p])
        acc[q >> 1, q & 1] = a


@njit(**_OPTS)
def _pair_range_ee(A, B, lo, hi, acc):
    """Both extension (N, 2); lane blocks of `LANES` pairs (as `_p2_range`)."""
    X = np.empty((8, LANES), dtype=np.uint64)
    S = np.zeros((4, LANES), dtype=np.uint64)
    for i0 in range(lo, hi, LANES):
        n = min(LANES, hi - i0)
        _lane_load2(A, i0, n, X[0], X[1], X[2], X[3])
        _lane_load2(B, i0, n, X[4], X[5], X[6], X[7])
        for p in range(n):
            x0, x1 = e2_mul(X[0, p], X[1, p], X[4, p], X[5, p])
            y0, y1 = e2_mul(X[2, p], X[3, p], X[6, p], X[7, p])
            S[0, p] = gl_add(S[0, p], x0)
            S[1, p] = gl_add(S[1, p], x1)
            S[2, p] = gl_add(S[2, p], y0)
            S[3, p] = gl_add(S[3, p], y1)
    _lanes_into(S, acc)


@njit(**_OPTS)
def _pair_range_be(A, B, lo, hi, acc):
    """A base (N,), B extension (N, 2); lane blocks of `LANES` pairs."""
    X = np.empty((6, LANES), dtype=np.uint64)
    S = np.zeros((4, LANES), dtype=np.uint64)
    for i0 in range(lo, hi, LANES):
        n = min(LANES, hi - i0)
        _lane_load1(A, i0, n, X[0], X[1])
        _lane_load2(B, i0, n, X[2], X[3], X[4], X[5])
        for p in range(n):
            al = X[0, p]
            da = X[1, p]
            S[0, p] = gl_add(S[0, p], gl_mul(al, X[2, p]))
            S[1, p] = gl_add(S[1, p], gl_mul(al, X[3, p]))
            S[2, p] = gl_add(S[2, p], gl_mul(da, X[4, p]))
            S[3, p] = gl_add(S[3, p], gl_mul(da, X[5, p]))
    _lanes_into(S, acc)


@njit(**_OPTS)
def _pair_range_bb(A, B, lo, hi, acc):
    """Both base (N,); lane blocks of `LANES` pairs."""
    X = np.empty((4, LANES), dtype=np.uint64)
    S = np.zeros((4, LANES), dtype=np.uint64)
    for i0 in range(lo, hi, LANES):
        n = min(LANES, hi - i0)
        _lane_load1(A, i0, n, X[0], X[1])
        _lane_load1(B, i0, n, X[2], X[3])
        for p in range(n):
            S[0, p] = gl_add(S[0, p], gl_mul(X[0, p], X[2, p]))
            S[2, p] = gl_add(S[2, p], gl_mul(X[1, p], X[3, p]))
    _lanes_into(S, acc)


@njit(**_OPTS)
def _fold_base_range(t, r0, r1, out, lo, hi):
    """out[i] = lo + r·(hi − lo) = (lo + r0·d, r1·d), d = hi − lo, for i in lo..hi of the
    base table ``t`` (2m,) into extension rows ``out`` (m, 2): lane blocks of `LANES`."""
    X = np.empty((4, LANES), dtype=np.uint64)
    for i0 in range(lo, hi, LANES):
        n = min(LANES, hi - i0)
        _lane_load1(t, i0, n, X[0], X[1])
        for p in range(n):
            d = X[1, p]
            X[2, p] = gl_add(X[0, p], gl_mul(d, r0))
            X[3, p] = gl_mul(d, r1)
        for p in range(n):
            out[i0 + p, 0] = X[2, p]
            out[i0 + p, 1] = X[3, p]


@njit(parallel=True, **_OPTS)
def e_fold_base_l(t, r0, r1, out, nchunks):
    """`goldilocks.e_fold_base` (the same values) by `_fold_base_range` over chunks."""
    m = out.shape[0]
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _fold_base_range(t, r0, r1, out, min(m, c * step), min(m, (c + 1) * step))


@njit(**_OPTS)
def _reduce2(part):
    out = np.zeros((2, 2), dtype=np.uint64)
    for c in range(part.shape[0]):
        for k in range(2):
            out[k, 0] = gl_add(out[k, 0], part[c, k, 0])
            out[k, 1] = gl_add(out[k, 1], part[c, k, 1])
    return out


@njit(parallel=True, **_OPTS)
def e_pair_sums_ee(A, B, nchunks):
    """(Σ lo_a·lo_b, Σ Δ_a·Δ_b) over the pairs of two extension tables (N, 2), as a
    (2, 2) extension array."""
    m = A.shape[0] // 2
    part = np.zeros((nchunks, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _pair_range_ee(A, B, min(m, c * step), min(m, (c + 1) * step), part[c])
    return _reduce2(part)


@njit(parallel=True, **_OPTS)
def e_pair_sums_be(A, B, nchunks):
    """`e_pair_sums_ee` for a base table A (N,) and an extension table B."""
    m = A.shape[0] // 2
    part = np.zeros((nchunks, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _pair_range_be(A, B, min(m, c * step), min(m, (c + 1) * step), part[c])
    return _reduce2(part)


@njit(parallel=True, **_OPTS)
def e_pair_sums_bb(A, B, nchunks):
    """`e_pair_sums_ee` for two base tables (N,) (the sums embedded)."""
    m = A.shape[0] // 2
    part = np.zeros((nchunks, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _pair_range_bb(A, B, min(m, c * step), min(m, (c + 1) * step), part[c])
    return _reduce2(part)


def pair_sums(A, B):
    """(Σ lo_a·lo_b, Σ Δ_a·Δ_b) over the pairs of two tables, each (N,) base or (N, 2)
    extension, contiguous uint64: a (2, 2) extension array."""
    A, B = _ro(A), _ro(B)
    if A.ndim == 2 and B.ndim == 1:
        A, B = B, A
    kern = (e_pair_sums_ee if A.ndim == 2 else e_pair_sums_be if B.ndim == 2
            else e_pair_sums_bb)
    m = A.shape[0] // 2
    if m < SMALL:  # serial: no thread launch
        rng = (_pair_range_ee if A.ndim == 2 else _pair_range_be if B.ndim == 2
               else _pair_range_bb)
        acc = np.zeros((2, 2), dtype=np.uint64)
        rng(A, B, 0, m, acc)
        return acc
    return kern(A, B, _chunks(m))


def fold_into(t, r, out):
    """out[i] = lo + r·(hi − lo) for the pairs of one table ``t`` ((2m,) base or
    (2m, 2) extension) into the contiguous extension rows ``out`` (m, 2)."""
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    t = _ro(t)
    if t.ndim == 1:
        if out.shape[0] < SMALL:
            _fold_base_range(t, r0, r1, out, 0, out.shape[0])
        else:
            e_fold_base_l(t, r0, r1, out, _chunks(out.shape[0]))
    elif out.shape[0] < SMALL:
        e_sc_fold_s(t[None], r0, r1, out[None])
    else:
        e_sc_fold(t[None], r0, r1, out[None])


@njit(**_OPTS)
def e_p2_message(sums, coeffs, running):
    """The round polynomial of a pairwise sum from its per-term sums (T, 2, 2):
    g(0) = Σ c_j·s_j0, g(∞) = Σ c_j·s_j1 (the X² coefficient), g(1) = running − g(0),
    g(2) = 2·g(1) − g(0) + 2·g(∞).  Returns [g(0), g(1), g(2)] as (3, 2)."""
    g0 = ZERO
    g0x = ZERO
    gi = ZERO
    gix = ZERO
    for j in range(sums.shape[0]):
        c0 = coeffs[j, 0]
        c1 = coeffs[j, 1]
        p0, p1 = e2_mul(c0, c1, sums[j, 0, 0], sums[j, 0, 1])
        g0 = gl_add(g0, p0)
        g0x = gl_add(g0x, p1)
        q0, q1 = e2_mul(c0, c1, sums[j, 1, 0], sums[j, 1, 1])
        gi = gl_add(gi, q0)
        gix = gl_add(gix, q1)
    out = np.empty((3, 2), dtype=np.uint64)
    out[0, 0] = g0
    out[0, 1] = g0x
    g1 = gl_sub(running[0], g0)
    g1x = gl_sub(running[1], g0x)
    out[1, 0] = g1
    out[1, 1] = g1x
    out[2, 0] = gl_add(gl_sub(gl_add(g1, g1), g0), gl_add(gi, gi))
    out[2, 1] = gl_add(gl_sub(gl_add(g1x, g1x), g0x), gl_add(gix, gix))
    return out


# -- generic rounds: sums of products of any degree --------------------------------------
#
# Σ_x Σ_j c_j·Π_{f ∈ term j} f(x) over a stack (k, 2m, 2) of extension tables: the round
# polynomial g of degree d is evaluated at t = 0, 2, …, d only; g(1) is derived from the
# running claim (g(0) + g(1) = running), so what is sent is exactly what a prover that
# evaluates every point sends.  A table flagged in ``isb`` holds base-field values (its
# x part is zero: a base table lifted for the first round): a product with it costs 2
# base products instead of an extension product, 1 when both sides are base
# (Bagad–Domb–Thaler: small values stay in the base field until the first challenge).
# `e_gen_fold_sums` folds the previous challenge into every table and evaluates the
# next round in one pass over each chunk, into a buffer the caller preallocates.


@njit(**_OPTS)
def _gen_blocks(st, isb, starts, factors, npts, lo, hi, acc):
    """acc[j, s] += Σ_{lo ≤ i < hi} Π_{f ∈ term j} (lo_f + t_s·(hi_f − lo_f)) with
    t_0 = 0 and t_s = s + 1 for s ≥ 1 (the point t = 1 is skipped): `_blocks` unweighted."""
    _blocks(st, np.zeros((1, 2), dtype=np.uint64), False, isb, starts, factors,
            np.full(starts.shape[0] - 1, -1, dtype=np.int64), npts, lo, hi, acc)


@njit(**_OPTS)
def _gen_finish(part, coeffs, running):
    """g (npts+1, 2) from the per-chunk, per-term sums (C, T, npts, 2): g(0), g(1) =
    running − g(0), g(2), …, g(npts); coefficients applied once per term."""
    npts = part.shape[2]
    g = np.zeros((npts + 1, 2), dtype=np.uint64)
    for j in range(part.shape[1]):
        c0 = coeffs[j, 0]
        c1 = coeffs[j, 1]
        for s in range(npts):
            s0 = ZERO
            s1 = ZERO
            for c in range(part.shape[0]):
                s0 = gl_add(s0, part[c, j, s, 0])
                s1 = gl_add(s1, part[c, j, s, 1])
            p0, p1 = e2_mul(s0, s1, c0, c1)
            t = 0 if s == 0 else s + 1
            g[t, 0] = gl_add(g[t, 0], p0)
            g[t, 1] = gl_add(g[t, 1], p1)
    g[1, 0] = gl_sub(running[0], g[0, 0])
    g[1, 1] = gl_sub(running[1], g[0, 1])
    return g


@njit(parallel=True, **_OPTS)
def e_gen_sums(st, isb, starts, factors, coeffs, npts, running, nchunks):
    """The round polynomial (npts+1, 2) of the stack ``st`` (k, 2m, 2) (section doc)."""
    m = st.shape[1] // 2
    nterms = starts.shape[0] - 1
    part = np.zeros((nchunks, nterms, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _gen_blocks(st, isb, starts, factors, npts, min(m, c * step), min(m, (c + 1) * step),
                    part[c])
    return _gen_finish(part, coeffs, running)


@njit(**_OPTS)
def e_gen_sums_s(st, isb, starts, factors, coeffs, npts, running):
    """Serial `e_gen_sums`."""
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _gen_blocks(st, isb, starts, factors, npts, 0, st.shape[1] // 2, part[0])
    return _gen_finish(part, coeffs, running)


@njit(parallel=True, **_OPTS)
def e_gen_fold_sums(st, r0, r1, out, isb, starts, factors, coeffs, npts, running, nchunks):
    """Fold ``st`` (k, 4m, 2) at r into ``out`` (k, 2m, 2) and return the round
    polynomial of ``out`` (one pass: each chunk folds, then sums, its own pairs)."""
    m = out.shape[1] // 2
    nterms = starts.shape[0] - 1
    part = np.zeros((nchunks, nterms, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_range(st, r0, r1, out, 2 * lo, 2 * hi)
        _gen_blocks(out, isb, starts, factors, npts, lo, hi, part[c])
    return _gen_finish(part, coeffs, running)


@njit(**_OPTS)
def e_gen_fold_sums_s(st, r0, r1, out, isb, starts, factors, coeffs, npts, running):
    """Serial `e_gen_fold_sums`."""
    m = out.shape[1] // 2
    _fold_range(st, r0, r1, out, 0, 2 * m)
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _gen_blocks(out, isb, starts, factors, npts, 0, m, part[0])
    return _gen_finish(part, coeffs, running)


@njit(parallel=True, **_OPTS)
def e_fold_into(st, r0, r1, out, nchunks):
    """Fold ``st`` (k, 2m, 2) at r into ``out`` (k, m, 2)."""
    m = out.shape[1]
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _fold_range(st, r0, r1, out, min(m, c * step), min(m, (c + 1) * step))


@njit(**_OPTS)
def e_fold_into_s(st, r0, r1, out):
    _fold_range(st, r0, r1, out, 0, out.shape[1])


def _gen_chunks(m: int, k: int, nterms: int, npts: int) -> int:
    """0 (serial) below `SMALL` work, else the chunk count of a parallel round."""
    work = m * max(k, nterms)
    return 0 if work < SMALL else _chunks(work * npts // 2)


def gen_sums(st, isb, starts, factors, coeffs, degree: int, running):
    """Round polynomial [g(0), …, g(degree)] (degree+1, 2) of Σ_j c_j·Π_{f ∈ term j} f
    over the contiguous stack ``st`` (k, 2m, 2) (term j's tables are
    ``factors[starts[j]:starts[j+1]]``, ``isb[f]``: table f is base-valued), g(1)
    derived from ``running`` (2,)."""
    npts = max(1, int(degree))
    st = _ro(st)
    nc = _gen_chunks(st.shape[1] // 2, st.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        return e_gen_sums_s(st, isb, starts, factors, coeffs, npts, running)
    return e_gen_sums(st, isb, starts, factors, coeffs, npts, running, nc)


def gen_fold_sums(st, r, out, starts, factors, coeffs, degree: int, running, isb):
    """Fold ``st`` (k, 4m, 2) at r into ``out`` (k, 2m, 2, contiguous, written) and
    return `gen_sums` of ``out`` (``isb`` all False: folded tables are extension)."""
    npts = max(1, int(degree))
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    st = _ro(st)
    nc = _gen_chunks(out.shape[1] // 2, st.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        return e_gen_fold_sums_s(st, r0, r1, out, isb, starts, factors, coeffs, npts, running)
    return e_gen_fold_sums(st, r0, r1, out, isb, starts, factors, coeffs, npts, running, nc)


def fold_stack_into(st, r, out):
    """out = every table of ``st`` (k, 2m, 2) folded at r: (k, m, 2), written."""
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    st = _ro(st)
    work = out.shape[1] * st.shape[0]
    if work < SMALL:
        e_fold_into_s(st, r0, r1, out)
    else:
        e_fold_into(st, r0, r1, out, _chunks(work))


# -- one call per round ----------------------------------------------------------------
#
# The step kernels do all of a round's field work between two transcript operations:
# the running claim g_prev(r) (Lagrange interpolation at the challenge), the fold at r
# into a preallocated buffer, the next round's sums, and the message to send (g(0),
# g(2), …, g(d)), written into preallocated ``g``/``msg``/``run`` arrays (no array is
# returned, so nothing is boxed per round).


@njit(**_OPTS)
def _step_prologue(g, inv_den, r0, r1, run):
    v = e_interpolate(g, inv_den, r0, r1)
    run[0] = v[0]
    run[1] = v[1]


@njit(**_OPTS)
def _step_message(new, g, msg):
    for t in range(new.shape[0]):
        g[t, 0] = new[t, 0]
        g[t, 1] = new[t, 1]
    msg[0, 0] = new[0, 0]
    msg[0, 1] = new[0, 1]
    for t in range(2, new.shape[0]):
        msg[t - 1, 0] = new[t, 0]
        msg[t - 1, 1] = new[t, 1]


@njit(parallel=True, **_OPTS)
def e_gen_step(st, r0, r1, out, isb, starts, factors, coeffs, npts, inv_den, g, msg, run,
               nchunks):
    """run = g(r) for the previous round's g (npts+1, 2); fold ``st`` at r into ``out``;
    g ← the round polynomial of ``out`` (g(1) = run − g(0)); msg ← (g(0), g(2), …)."""
    _step_prologue(g, inv_den, r0, r1, run)
    m = out.shape[1] // 2
    nterms = starts.shape[0] - 1
    part = np.zeros((nchunks, nterms, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_range(st, r0, r1, out, 2 * lo, 2 * hi)
        _gen_blocks(out, isb, starts, factors, npts, lo, hi, part[c])
    _step_message(_gen_finish(part, coeffs, run), g, msg)


@njit(**_OPTS)
def e_gen_step_s(st, r0, r1, out, isb, starts, factors, coeffs, npts, inv_den, g, msg, run):
    """Serial `e_gen_step`."""
    _step_prologue(g, inv_den, r0, r1, run)
    m = out.shape[1] // 2
    _fold_range(st, r0, r1, out, 0, 2 * m)
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _gen_blocks(out, isb, starts, factors, npts, 0, m, part[0])
    _step_message(_gen_finish(part, coeffs, run), g, msg)


def gen_step(st, r, out, isb, starts, factors, coeffs, degree: int, inv_den, g, msg, run):
    """One generic round after a challenge r (section doc): ``g`` (degree+1, 2) holds the
    previous round polynomial on entry and the new one on exit, ``run`` (2,) gets g_prev(r),
    ``msg`` (degree, 2) the values to send; ``out`` (k, m/2, 2) the folded stack.  Needs
    ``out.shape[1] ≥ 2`` (a last round only folds: `fold_stack_into`)."""
    npts = max(1, int(degree))
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    st = _ro(st)
    nc = _gen_chunks(out.shape[1] // 2, st.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        e_gen_step_s(st, r0, r1, out, isb, starts, factors, coeffs, npts, inv_den, g, msg, run)
    else:
        e_gen_step(st, r0, r1, out, isb, starts, factors, coeffs, npts, inv_den, g, msg, run,
                   nc)


@njit(**_OPTS)
def _p2_message_into(sums, coeffs, run, g, msg):
    new = e_p2_message(sums, coeffs, run)
    _step_message(new, g, msg)


@njit(parallel=True, **_OPTS)
def e_p2_step(st, r0, r1, out, fa, fb, coeffs, inv_den, g, msg, run, nchunks):
    """`e_gen_step` for a sum of pairwise products (`e_p2_fold_sums` + `e_p2_message`)."""
    _step_prologue(g, inv_den, r0, r1, run)
    m = out.shape[1] // 2
    part = np.zeros((nchunks, fa.shape[0], 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_range(st, r0, r1, out, 2 * lo, 2 * hi)
        _p2_range(out, fa, fb, lo, hi, part[c])
    _p2_message_into(_reduce(part), coeffs, run, g, msg)


@njit(**_OPTS)
def e_p2_step_s(st, r0, r1, out, fa, fb, coeffs, inv_den, g, msg, run):
    """Serial `e_p2_step`."""
    _step_prologue(g, inv_den, r0, r1, run)
    m = out.shape[1] // 2
    _fold_range(st, r0, r1, out, 0, 2 * m)
    res = np.zeros((fa.shape[0], 2, 2), dtype=np.uint64)
    _p2_range(out, fa, fb, 0, m, res)
    _p2_message_into(res, coeffs, run, g, msg)


def p2_step(st, r, out, fa, fb, coeffs, inv_den, g, msg, run):
    """`gen_step` for a sum of pairwise products (degree 2)."""
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    st = _ro(st)
    work = out.shape[1] // 2 * max(fa.shape[0], st.shape[0])
    if work < SMALL:
        e_p2_step_s(st, r0, r1, out, fa, fb, coeffs, inv_den, g, msg, run)
    else:
        e_p2_step(st, r0, r1, out, fa, fb, coeffs, inv_den, g, msg, run, _chunks(work))


# -- eq-factored rounds (a zero-check's or einsum's eq factor kept out of the stack) ---------
#
# When every term carries one factor E(x) = Π_j e_j(x_j) with e_j(X) = a_j·(1 − X) + b_j·X
# (eq(τ, x): a_j = 1 − τ_j, b_j = τ_j; a variable E does not depend on: a_j = b_j = 1),
# round j's polynomial is g(X) = s_j·e_j(X)·h(X), s_j = Π_{i<j} e_i(r_i), where
# h(X) = Σ_{x'} W_j(x')·Σ_t c_t·Π_{f ∈ term t, f ≠ E} f(X, x') and W_j(x') =
# Π_{i>j} e_i(x'_i) (Gruen's factoring of the zero-check's eq).  h has one degree less:
# it is summed at t = 0, 2, …, d − 1 only (d − 1 points instead of d), h(1) follows from
# g(1) = running − g(0) = s_j·b_j·h(1), h(d) from the d-th finite difference, and the
# message g(0), g(2), …, g(d) is then exactly the one of the plain rounds (same field
# elements: same bytes).  E is neither stacked nor folded; the suffix tables W_j are
# built once (`e_eq_suffix`, N − 1 entries).


@njit(**_OPTS)
def e2_inv(a0, a1):
    """1/(a0 + a1·x) mod x² − 7 (0 for 0)."""
    n = gl_sub(gl_mul_s(a0, a0), gl_mul7(gl_mul_s(a1, a1)))
    ni = gl_inv(n)
    return gl_mul_s(a0, ni), gl_mul_s(gl_neg(a1), ni)


@njit(**_OPTS)
def e_eq_suffix(e, out):
    """out (2^n − 1, 2): W_j = Π_{i>j} e_i (bit b of its index ↔ variable j + 1 + b) at
    offset 2^n − 2^(n−j), 2^(n−1−j) entries, for j = 0..n−1 (``e`` (n, 2, 2): (a_j, b_j))."""
    n = e.shape[0]
    N = 1 << n
    out[N - 2, 0] = ONE
    out[N - 2, 1] = ZERO
    X = np.empty((6, LANES), dtype=np.uint64)
    for j in range(n - 2, -1, -1):
        src = N - (1 << (n - j - 1))
        dst = N - (1 << (n - j))
        a0 = e[j + 1, 0, 0]
        a1 = e[j + 1, 0, 1]
        b0 = e[j + 1, 1, 0]
        b1 = e[j + 1, 1, 1]
        half = 1 << (n - 2 - j)
        if a0 == ONE and a1 == ZERO and b0 == ONE and b1 == ZERO:  # constant: copies
            for i in range(half):
                v0 = out[src + i, 0]
                v1 = out[src + i, 1]
                out[dst + 2 * i, 0] = v0
                out[dst + 2 * i, 1] = v1
                out[dst + 2 * i + 1, 0] = v0
                out[dst + 2 * i + 1, 1] = v1
            continue
        eq = gl_add(a0, b0) == ONE and gl_add(a1, b1) == ZERO  # eq: v·a = v − v·b
        # lane blocks: the source rows de-interleaved, the products over the lanes
        for i0 in range(0, half, LANES):
            cnt = min(LANES, half - i0)
            for p in range(cnt):
                X[0, p] = out[src + i0 + p, 0]
                X[1, p] = out[src + i0 + p, 1]
            for p in range(cnt):
                X[2, p], X[3, p] = e2_mul(X[0, p], X[1, p], b0, b1)
            if eq:
                for p in range(cnt):
                    X[4, p] = gl_sub(X[0, p], X[2, p])
                    X[5, p] = gl_sub(X[1, p], X[3, p])
            else:
                for p in range(cnt):
                    X[4, p], X[5, p] = e2_mul(X[0, p], X[1, p], a0, a1)
            for p in range(cnt):
                i = dst + 2 * (i0 + p)
                out[i, 0] = X[4, p]
                out[i, 1] = X[5, p]
                out[i + 1, 0] = X[2, p]
                out[i + 1, 1] = X[3, p]


#: pairs an eq-factored round evaluates together (`_eqw_blocks`): every factor's product
#: and the weighting run as loops over a block's lanes (vectorised), per-lane sums
EQ_BLOCK = 32


@njit(inline="always")
def _blk_points_row(st, r, f, i0, n, npts, V, D):
    """`_blk_points` of one table: V[f, s, 0/1, p] and D[f, 0/1, p] from row r of the
    extension stack ``st``."""
    for p in range(n):
        i = 2 * (i0 + p)
        l0 = st[r, i, 0]
        l1 = st[r, i, 1]
        h0 = st[r, i + 1, 0]
        h1 = st[r, i + 1, 1]
        d0 = gl_sub(h0, l0)
        d1 = gl_sub(h1, l1)
        D[f, 0, p] = d0
        D[f, 1, p] = d1
        V[f, 0, 0, p] = l0
        V[f, 0, 1, p] = l1
        if npts > 1:
            V[f, 1, 0, p] = gl_add(h0, d0)
            V[f, 1, 1, p] = gl_add(h1, d1)
    for s in range(2, npts):
        for p in range(n):
            V[f, s, 0, p] = gl_add(V[f, s - 1, 0, p], D[f, 0, p])
            V[f, s, 1, p] = gl_add(V[f, s - 1, 1, p], D[f, 1, p])


@njit(inline="always")
def _blk_points(st, k, i0, n, npts, V, D):
    """V[f, s, 0/1, p] = table f of ``st`` on pair i0 + p at t_s (t_0 = 0, t_s = s + 1:
    the point t = 1 is skipped) for p < n; D[f, 0/1, p] = hi − lo of table f."""
    for f in range(k):
        _blk_points_row(st, f, f, i0, n, npts, V, D)


@njit(inline="always")
def _blk_points_sb(sb, st, fromb, tmap, k, i0, n, npts, V, D):
    """`_blk_points` over split stacks (`eq_sums_split`): table f is row tmap[f] of the
    base stack ``sb`` (kb, 2m) where fromb[f] (only V[f, s, 0] and D[f, 0] are written:
    the kernels read no x part of a base table), else of the extension stack ``st``."""
    for f in range(k):
        r = tmap[f]
        if fromb[f]:
            for p in range(n):
                i = 2 * (i0 + p)
                l0 = sb[r, i]
                h0 = sb[r, i + 1]
                d0 = gl_sub(h0, l0)
                D[f, 0, p] = d0
                V[f, 0, 0, p] = l0
                if npts > 1:
                    V[f, 1, 0, p] = gl_add(h0, d0)
            for s in range(2, npts):
                for p in range(n):
                    V[f, s, 0, p] = gl_add(V[f, s - 1, 0, p], D[f, 0, p])
            continue
        _blk_points_row(st, r, f, i0, n, npts, V, D)


@njit(**_OPTS)
def _blk_weighted(V, D, isb, f, n, npts, W0, W1, U, u, Y):
    """U[u, s, 0/1, p] = w_p·f_p(t_s) for table f: w·lo and w·(hi − lo) once a pair (2
    products, base ones for a base table), the points by additions (t_s = 0, 2, 3, …)."""
    if isb[f]:
        for p in range(n):
            x = V[f, 0, 0, p]
            U[u, 0, 0, p] = gl_mul(x, W0[p])
            U[u, 0, 1, p] = gl_mul(x, W1[p])
        if npts > 1:
            for p in range(n):
                x = D[f, 0, p]
                Y[0, p] = gl_mul(x, W0[p])
                Y[1, p] = gl_mul(x, W1[p])
    else:
        for p in range(n):
            U[u, 0, 0, p], U[u, 0, 1, p] = e2_mul(V[f, 0, 0, p], V[f, 0, 1, p], W0[p], W1[p])
        if npts > 1:
            for p in range(n):
                Y[0, p], Y[1, p] = e2_mul(D[f, 0, p], D[f, 1, p], W0[p], W1[p])
    if npts > 1:
        for p in range(n):
            y0 = Y[0, p]
            y1 = Y[1, p]
            U[u, 1, 0, p] = gl_add(gl_add(U[u, 0, 0, p], y0), y0)
            U[u, 1, 1, p] = gl_add(gl_add(U[u, 0, 1, p], y1), y1)
    for s in range(2, npts):
        for p in range(n):
            U[u, s, 0, p] = gl_add(U[u, s - 1, 0, p], Y[0, p])
            U[u, s, 1, p] = gl_add(U[u, s - 1, 1, p], Y[1, p])


@njit(**_OPTS)
def _blocks(st, w, weighted, isb, starts, factors, wf, npts, lo, hi, acc, sb=None, fromb=None,
            tmap=None):
    """acc[j, s] += Σ_{lo ≤ i < hi} w_i·Π_{f ∈ term j} f_i(t_s) at t_0 = 0, t_s = s + 1
    (w_i = 1 unless ``weighted``) over blocks of `EQ_BLOCK` pairs: the points, each
    factor's product and the weighting as loops over the block's lanes (vectorised; the
    terms are interpreted once a block, not once a pair), the sums kept per lane and
    added into ``acc`` once (field sums: the values of a per-pair sum).  A product with a
    base table (``isb``) costs 2 base products, 1 while every factor so far is base (then
    its x part is the first factor's, 0).  A term with ``wf[j] = f ≥ 0`` (weighted only;
    f is its first factor) starts from w·f (`_blk_weighted`, made once a pair for all the
    terms that name f) instead of multiplying w in at every point (same field values).
    With ``sb`` the tables are split (`_blk_points_sb`: ``sb``, ``st``, ``fromb``,
    ``tmap``); without, numba compiles the plain loads only."""
    _wide512()  # zmm code (s37h5: x0.83-0.89 CPU, same values)
    if sb is None:
        k = st.shape[0]
    else:
        k = fromb.shape[0]
    nterms = starts.shape[0] - 1
    B = EQ_BLOCK
    V = np.empty((k, npts, 2, B), dtype=np.uint64)
    D = np.empty((k, 2, B), dtype=np.uint64)
    P0 = np.empty(B, dtype=np.uint64)
    P1 = np.empty(B, dtype=np.uint64)
    W0 = np.empty(B, dtype=np.uint64)
    W1 = np.empty(B, dtype=np.uint64)
    L = np.zeros((nterms, npts, 2, B), dtype=np.uint64)
    ui = np.full(k, -1, dtype=np.int64)   # table -> its slot of U
    nu = 0
    for j in range(nterms):
        f = wf[j]
        if weighted and f >= 0 and ui[f] < 0:
            ui[f] = nu
            nu += 1
    U = np.empty((max(nu, 1), npts, 2, B), dtype=np.uint64)
    Y = np.empty((2, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        if sb is None:
            _blk_points(st, k, i0, n, npts, V, D)
        else:
            _blk_points_sb(sb, st, fromb, tmap, k, i0, n, npts, V, D)
        if weighted:
            for p in range(n):
                W0[p] = w[i0 + p, 0]
                W1[p] = w[i0 + p, 1]
        else:
            for p in range(n):
                W0[p] = ONE
                W1[p] = ZERO
        for f in range(k):
            if ui[f] >= 0:
                _blk_weighted(V, D, isb, f, n, npts, W0, W1, U, ui[f], Y)
        for j in range(nterms):
            q0 = starts[j]
            q1 = starts[j + 1]
            if q0 == q1:
                for s in range(npts):
                    for p in range(n):
                        L[j, s, 0, p] = gl_add(L[j, s, 0, p], W0[p])
                        L[j, s, 1, p] = gl_add(L[j, s, 1, p], W1[p])
                continue
            uw = ui[wf[j]] if weighted and wf[j] >= 0 else -1
            for s in range(npts):
                f0 = factors[q0]
                if uw >= 0:
                    pb = False
                    for p in range(n):
                        P0[p] = U[uw, s, 0, p]
                        P1[p] = U[uw, s, 1, p]
                else:
                    pb = isb[f0]
                    for p in range(n):
                        P0[p] = V[f0, s, 0, p]
                        P1[p] = V[f0, s, 1, p]
                for q in range(q0 + 1, q1):
                    f = factors[q]
                    if isb[f]:
                        if pb:
                            for p in range(n):
                                P0[p] = gl_mul(P0[p], V[f, s, 0, p])
                        else:
                            for p in range(n):
                                x = V[f, s, 0, p]
                                P0[p] = gl_mul(P0[p], x)
                                P1[p] = gl_mul(P1[p], x)
                    elif pb:
                        for p in range(n):
                            x = P0[p]
                            P0[p] = gl_mul(x, V[f, s, 0, p])
                            P1[p] = gl_mul(x, V[f, s, 1, p])
                        pb = False
                    else:
                        for p in range(n):
                            P0[p], P1[p] = e2_mul(P0[p], P1[p], V[f, s, 0, p], V[f, s, 1, p])
                if not weighted or uw >= 0:
                    for p in range(n):
                        L[j, s, 0, p] = gl_add(L[j, s, 0, p], P0[p])
                        L[j, s, 1, p] = gl_add(L[j, s, 1, p], P1[p])
                elif pb:
                    for p in range(n):
                        L[j, s, 0, p] = gl_add(L[j, s, 0, p], gl_mul(P0[p], W0[p]))
                        L[j, s, 1, p] = gl_add(L[j, s, 1, p], gl_mul(P0[p], W1[p]))
                else:
                    for p in range(n):
                        y0, y1 = e2_mul(P0[p], P1[p], W0[p], W1[p])
                        L[j, s, 0, p] = gl_add(L[j, s, 0, p], y0)
                        L[j, s, 1, p] = gl_add(L[j, s, 1, p], y1)
    for j in range(nterms):
        for s in range(npts):
            a0 = acc[j, s, 0]
            a1 = acc[j, s, 1]
            for p in range(B):
                a0 = gl_add(a0, L[j, s, 0, p])
                a1 = gl_add(a1, L[j, s, 1, p])
            acc[j, s, 0] = a0
            acc[j, s, 1] = a1


@njit(**_OPTS)
def _eqgen_blocks(st, w, isb, starts, factors, npts, lo, hi, acc):
    """`_blocks` weighted by w[i] (the eq factor's suffix W_j; the factor itself is not
    in ``st``), w multiplied into every term at every point."""
    _blocks(st, w, True, isb, starts, factors,
            np.full(starts.shape[0] - 1, -1, dtype=np.int64), npts, lo, hi, acc)


@njit(**_OPTS)
def _eqw_blocks(st, w, isb, starts, factors, wf, npts, lo, hi, acc):
    """`_eqgen_blocks` where a term with ``wf[j] ≥ 0`` starts from its weighted first
    factor (`eq_plan`; the rounds' kernels)."""
    _blocks(st, w, True, isb, starts, factors, wf, npts, lo, hi, acc)


@njit(**_OPTS)
def _eq_finish(part, coeffs, running, sc, ej, g):
    """g (d+1, 2), d = npts + 1, of round j from the per-chunk, per-term sums of h
    (C, T, npts, 2) at t = 0, 2, …, d − 1, the scale s_j = ``sc`` and e_j = ``ej``
    (section doc).  Returns 1 when s_j·b_j = 0 (h(1) unknown; g not valid), else 0."""
    npts = part.shape[2]
    d = npts + 1
    h = np.zeros((d + 1, 2), dtype=np.uint64)
    for j in range(part.shape[1]):
        c0 = coeffs[j, 0]
        c1 = coeffs[j, 1]
        for s in range(npts):
            s0 = ZERO
            s1 = ZERO
            for c in range(part.shape[0]):
                s0 = gl_add(s0, part[c, j, s, 0])
                s1 = gl_add(s1, part[c, j, s, 1])
            p0, p1 = e2_mul(s0, s1, c0, c1)
            t = 0 if s == 0 else s + 1
            h[t, 0] = gl_add(h[t, 0], p0)
            h[t, 1] = gl_add(h[t, 1], p1)
    a0, a1 = e2_mul_call(sc[0], sc[1], ej[0, 0], ej[0, 1])
    g0, g1 = e2_mul_call(a0, a1, h[0, 0], h[0, 1])
    g[0, 0] = g0
    g[0, 1] = g1
    g[1, 0] = gl_sub(running[0], g0)
    g[1, 1] = gl_sub(running[1], g1)
    b0, b1 = e2_mul_call(sc[0], sc[1], ej[1, 0], ej[1, 1])
    if b0 == ZERO and b1 == ZERO:
        return 1
    i0, i1 = e2_inv(b0, b1)
    x0, x1 = e2_mul_call(g[1, 0], g[1, 1], i0, i1)
    h[1, 0] = x0
    h[1, 1] = x1
    # h(d) = Σ_{i<d} (−1)^(d−1−i)·C(d, i)·h(i) (deg h ≤ d − 1)
    acc0 = ZERO
    acc1 = ZERO
    binom = 1
    for i in range(d):
        cb = np.uint64(binom)
        y0 = gl_mul_s(cb, h[i, 0])
        y1 = gl_mul_s(cb, h[i, 1])
        if (d - 1 - i) % 2 == 0:
            acc0 = gl_add(acc0, y0)
            acc1 = gl_add(acc1, y1)
        else:
            acc0 = gl_sub(acc0, y0)
            acc1 = gl_sub(acc1, y1)
        binom = binom * (d - i) // (i + 1)
    h[d, 0] = acc0
    h[d, 1] = acc1
    # g(t) = s_j·(a_j + t·(b_j − a_j))·h(t), t = 2..d
    da0 = gl_sub(ej[1, 0], ej[0, 0])
    da1 = gl_sub(ej[1, 1], ej[0, 1])
    for t in range(2, d + 1):
        tt = np.uint64(t)
        e0 = gl_add(ej[0, 0], gl_mul_s(tt, da0))
        e1 = gl_add(ej[0, 1], gl_mul_s(tt, da1))
        z0, z1 = e2_mul_call(sc[0], sc[1], e0, e1)
        z0, z1 = e2_mul_call(z0, z1, h[t, 0], h[t, 1])
        g[t, 0] = z0
        g[t, 1] = z1
    return 0


@njit(parallel=True, **_OPTS)
def e_eq_sums(st, w, isb, starts, factors, wf, coeffs, npts, running, sc, ej, g, nchunks):
    """Round polynomial g (npts+2, 2), written, of the eq-factored sum over ``st`` (k, 2m,
    2) with weights ``w`` (m, 2) (section doc); returns `_eq_finish`'s flag."""
    m = st.shape[1] // 2
    part = np.zeros((nchunks, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _eqw_blocks(st, w, isb, starts, factors, wf, npts, min(m, c * step),
                      min(m, (c + 1) * step), part[c])
    return _eq_finish(part, coeffs, running, sc, ej, g)


@njit(**_OPTS)
def e_eq_sums_s(st, w, isb, starts, factors, wf, coeffs, npts, running, sc, ej, g):
    """Serial `e_eq_sums`."""
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _eqw_blocks(st, w, isb, starts, factors, wf, npts, 0, st.shape[1] // 2, part[0])
    return _eq_finish(part, coeffs, running, sc, ej, g)


@njit(**_OPTS)
def _eq_scale(sc, ep, r0, r1):
    """sc ← sc·e_{j−1}(r) = sc·(a + r·(b − a))."""
    d0, d1 = e2_mul_call(gl_sub(ep[1, 0], ep[0, 0]), gl_sub(ep[1, 1], ep[0, 1]), r0, r1)
    s0, s1 = e2_mul_call(sc[0], sc[1], gl_add(ep[0, 0], d0), gl_add(ep[0, 1], d1))
    sc[0] = s0
    sc[1] = s1


@njit(**_OPTS)
def _fold_range_b(st, fisb, r0, r1, out, lo, hi):
    """`_fold_range` where a table flagged in ``fisb`` holds base values (x parts 0):
    lo + r·(hi − lo) = (lo + r0·d, r1·d) with d = hi − lo, 2 base products (same values);
    lane blocks as `_fold_range`."""
    _wide512()  # zmm code (s37h5: x0.83-0.89 CPU, same values)
    B = LANES
    X = np.empty((4, B), dtype=np.uint64)
    for f in range(st.shape[0]):
        if not fisb[f]:
            _fold_table(st, f, r0, r1, out, lo, hi, X)
            continue
        for i0 in range(lo, hi, B):
            n = min(B, hi - i0)
            for p in range(n):
                i = 2 * (i0 + p)
                l0 = st[f, i, 0]
                X[0, p] = l0
                X[2, p] = gl_sub(st[f, i + 1, 0], l0)
            for p in range(n):
                d = X[2, p]
                X[0, p] = gl_add(X[0, p], gl_mul(d, r0))
                X[1, p] = gl_mul(d, r1)
            for p in range(n):
                out[f, i0 + p, 0] = X[0, p]
                out[f, i0 + p, 1] = X[1, p]


@njit(parallel=True, **_OPTS)
def e_eq_step(st, r0, r1, out, w, isb, fisb, starts, factors, wf, coeffs, npts, inv_den, g, msg,
              run, sc, ep, ej, nchunks):
    """`e_gen_step` of the eq-factored rounds: run = g(r), sc ← sc·e_{j−1}(r) (``ep``),
    fold ``st`` at r into ``out`` (``fisb``: its base tables), g ← round j's polynomial
    (``w`` = W_j, ``ej`` = e_j), msg ← (g(0), g(2), …).  Returns `_eq_finish`'s flag."""
    _step_prologue(g, inv_den, r0, r1, run)
    _eq_scale(sc, ep, r0, r1)
    m = out.shape[1] // 2
    part = np.zeros((nchunks, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_range_b(st, fisb, r0, r1, out, 2 * lo, 2 * hi)
        _eqw_blocks(out, w, isb, starts, factors, wf, npts, lo, hi, part[c])
    new = np.empty_like(g)
    flag = _eq_finish(part, coeffs, run, sc, ej, new)
    _step_message(new, g, msg)
    return flag


@njit(**_OPTS)
def e_eq_step_s(st, r0, r1, out, w, isb, fisb, starts, factors, wf, coeffs, npts, inv_den, g,
                msg,
                run, sc, ep, ej):
    """Serial `e_eq_step`."""
    _step_prologue(g, inv_den, r0, r1, run)
    _eq_scale(sc, ep, r0, r1)
    m = out.shape[1] // 2
    _fold_range_b(st, fisb, r0, r1, out, 0, 2 * m)
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _eqw_blocks(out, w, isb, starts, factors, wf, npts, 0, m, part[0])
    new = np.empty_like(g)
    flag = _eq_finish(part, coeffs, run, sc, ej, new)
    _step_message(new, g, msg)
    return flag


# Split stacks (s43h2): round 0 of the eq-factored rounds and the fold into round 1 read
# the base tables as a (kb, N) stack of base values (``sb``, 8 bytes an entry; one base
# table is its own stack, not copied) and the extension tables as a (ke, N, 2) stack
# (``st``): table f is row tmap[f] of ``sb`` where fromb[f], else of ``st``.  `_stacked`'s
# (k, N, 2) lift (16 bytes an entry, half of them zeros) is not made; the folded tables
# (k, N/2, 2) are extension values, so rounds ≥ 1 run on the usual stack.  The same
# field operations on the same values as `e_eq_sums` / `e_eq_step` with ``fisb`` = isb:
# the same messages.


@njit(**_OPTS)
def _fold_range_sb(sb, st, fromb, tmap, r0, r1, out, lo, hi):
    """`_fold_range_b` over split stacks: out[f, i] = lo + r·(hi − lo) of table f (a base
    table: (lo + r0·d, r1·d), d = hi − lo, 2 base products) for i in lo..hi."""
    _wide512()  # zmm code (s37h5: x0.83-0.89 CPU, same values)
    B = LANES
    X = np.empty((4, B), dtype=np.uint64)
    for f in range(fromb.shape[0]):
        r = tmap[f]
        if not fromb[f]:
            _fold_table_to(st, r, f, r0, r1, out, lo, hi, X)
            continue
        for i0 in range(lo, hi, B):
            n = min(B, hi - i0)
            for p in range(n):
                i = 2 * (i0 + p)
                l0 = sb[r, i]
                X[0, p] = l0
                X[2, p] = gl_sub(sb[r, i + 1], l0)
            for p in range(n):
                d = X[2, p]
                X[0, p] = gl_add(X[0, p], gl_mul(d, r0))
                X[1, p] = gl_mul(d, r1)
            for p in range(n):
                out[f, i0 + p, 0] = X[0, p]
                out[f, i0 + p, 1] = X[1, p]


@njit(parallel=True, **_OPTS)
def e_eq_sums_sb(sb, st, fromb, tmap, w, isb, starts, factors, wf, coeffs, npts, running, sc,
                 ej, g, nchunks):
    """`e_eq_sums` over split stacks (section above; w (m, 2): the tables have 2m rows)."""
    m = w.shape[0]
    part = np.zeros((nchunks, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _blocks(st, w, True, isb, starts, factors, wf, npts, min(m, c * step),
                min(m, (c + 1) * step), part[c], sb, fromb, tmap)
    return _eq_finish(part, coeffs, running, sc, ej, g)


@njit(**_OPTS)
def e_eq_sums_sb_s(sb, st, fromb, tmap, w, isb, starts, factors, wf, coeffs, npts, running, sc,
                   ej, g):
    """Serial `e_eq_sums_sb`."""
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _blocks(st, w, True, isb, starts, factors, wf, npts, 0, w.shape[0], part[0], sb, fromb,
            tmap)
    return _eq_finish(part, coeffs, running, sc, ej, g)


@njit(parallel=True, **_OPTS)
def e_eq_step_sb(sb, st, fromb, tmap, r0, r1, out, w, isb, starts, factors, wf, coeffs, npts,
                 inv_den, g, msg, run, sc, ep, ej, nchunks):
    """`e_eq_step` (its first call: the fold at r_0) over split stacks, folded into
    ``out`` (k, 2m, 2)."""
    _step_prologue(g, inv_den, r0, r1, run)
    _eq_scale(sc, ep, r0, r1)
    m = out.shape[1] // 2
    part = np.zeros((nchunks, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_range_sb(sb, st, fromb, tmap, r0, r1, out, 2 * lo, 2 * hi)
        _eqw_blocks(out, w, isb, starts, factors, wf, npts, lo, hi, part[c])
    new = np.empty_like(g)
    flag = _eq_finish(part, coeffs, run, sc, ej, new)
    _step_message(new, g, msg)
    return flag


@njit(**_OPTS)
def e_eq_step_sb_s(sb, st, fromb, tmap, r0, r1, out, w, isb, starts, factors, wf, coeffs, npts,
                   inv_den, g, msg, run, sc, ep, ej):
    """Serial `e_eq_step_sb`."""
    _step_prologue(g, inv_den, r0, r1, run)
    _eq_scale(sc, ep, r0, r1)
    m = out.shape[1] // 2
    _fold_range_sb(sb, st, fromb, tmap, r0, r1, out, 0, 2 * m)
    part = np.zeros((1, starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    _eqw_blocks(out, w, isb, starts, factors, wf, npts, 0, m, part[0])
    new = np.empty_like(g)
    flag = _eq_finish(part, coeffs, run, sc, ej, new)
    _step_message(new, g, msg)
    return flag


def eq_plan(starts, factors, isb, degree: int) -> tuple[np.ndarray, np.ndarray]:
    """(factors', wf) of the eq-factored rounds for terms ``starts``/``factors`` over
    tables flagged base in ``isb``: wf[j] = f ≥ 0 where term j starts from w·f (made once
    a pair for every term naming f: 2 products, instead of w times the term at each of
    the degree − 1 points), f then first in factors' term j; −1 where that costs more
    base products a pair (then the term's base factors first, as the callers order them).
    Greedy by the per-pair base-product count, shared w·f counted once."""
    npts = int(degree) - 1
    nt = len(starts) - 1
    terms = [[int(f) for f in factors[starts[j]:starts[j + 1]]] for j in range(nt)]

    def mc(f):   # a product of an extension value with table f
        return 2 if isb[f] else 3

    def old(t):
        pb, c = bool(isb[t[0]]), 0
        for f in t[1:]:
            c += (1 if pb else 2) if isb[f] else (2 if pb else 3)
            pb = pb and bool(isb[f])
        return npts * (c + (2 if pb else 3))

    def new(t, f):
        rest = list(t)
        rest.remove(f)
        return npts * sum(mc(g) for g in rest)

    ucost = {f: mc(f) * (2 if npts > 1 else 1) for t in terms for f in t}
    freq: dict[int, int] = {}
    for t in terms:
        for f in set(t):
            freq[f] = freq.get(f, 0) + 1
    chosen: set[int] = set()
    pick = [-1] * nt
    for amort in (True, False):
        used: set[int] = set()
        for j, t in enumerate(terms):
            if not t:
                continue
            best, bf = old(t), -1
            for f in sorted(set(t), key=lambda f: (f not in chosen, -freq[f], f)):
                u = 0 if f in chosen else (ucost[f] / freq[f] if amort else ucost[f])
                if new(t, f) + u < best:
                    best, bf = new(t, f) + u, f
            pick[j] = bf
            if bf >= 0:
                used.add(bf)
                if not amort:
                    chosen.add(bf)
        chosen = used if amort else chosen
    fa = np.array(factors, dtype=np.int64).copy()
    for j, t in enumerate(terms):
        f = pick[j]
        if f >= 0:
            rest = list(t)
            rest.remove(f)
            fa[starts[j]:starts[j + 1]] = [f, *rest]
    return fa.astype(np.asarray(factors).dtype), np.array(pick, dtype=np.int64)


def eq_sums(st, w, isb, starts, factors, coeffs, degree: int, running, sc, ej, g,
            plan=None) -> int:
    """Round 0 of the eq-factored rounds (section doc): ``g`` (degree+1, 2) written, where
    ``degree`` is the full degree (the eq factor counted); returns 1 when s·b = 0.
    ``plan``: `eq_plan`'s (factors', wf) for these ``isb`` (made here when None)."""
    npts = int(degree) - 1
    fa, wf = eq_plan(starts, factors, isb, degree) if plan is None else plan
    st = _ro(st)
    nc = _gen_chunks(st.shape[1] // 2, st.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        return int(e_eq_sums_s(st, w, isb, starts, fa, wf, coeffs, npts, running, sc, ej, g))
    return int(e_eq_sums(st, w, isb, starts, fa, wf, coeffs, npts, running, sc, ej, g, nc))


def eq_step(st, r, out, w, isb, starts, factors, coeffs, degree: int, inv_den, g, msg, run,
            sc, ep, ej, fisb=None, plan=None) -> int:
    """`gen_step` of the eq-factored rounds (`e_eq_step`); returns its flag.  ``fisb``:
    the tables of ``st`` holding base values (the first fold: 2 base products each).
    ``plan``: `eq_plan`'s (factors', wf) for ``isb`` (made here when None)."""
    npts = int(degree) - 1
    fa, wf = eq_plan(starts, factors, isb, degree) if plan is None else plan
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    fisb = np.zeros(st.shape[0], np.bool_) if fisb is None else fisb
    st = _ro(st)
    nc = _gen_chunks(out.shape[1] // 2, st.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        return int(e_eq_step_s(st, r0, r1, out, w, isb, fisb, starts, fa, wf, coeffs, npts,
                               inv_den, g, msg, run, sc, ep, ej))
    return int(e_eq_step(st, r0, r1, out, w, isb, fisb, starts, fa, wf, coeffs, npts,
                         inv_den, g, msg, run, sc, ep, ej, nc))


def split_stacks(tables) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(sb, st, fromb, tmap) of the split-stack kernels for ``tables`` (each (N,) base or
    (N, 2) extension, uint64): sb (kb, N) the base tables (one contiguous base table is
    used in place as (1, N), else copied), st (ke, N, 2) the extension tables copied
    ((0, 2, 2) when none), fromb/tmap each table's stack and row."""
    tabs = [np.asarray(t) for t in tables]
    size = int(tabs[0].shape[0])
    fromb = np.array([t.ndim == 1 for t in tabs], np.bool_)
    tmap = np.zeros(len(tabs), np.int64)
    base = [t for t in tabs if t.ndim == 1]
    ext = [t for t in tabs if t.ndim != 1]
    tmap[fromb] = np.arange(len(base))
    tmap[~fromb] = np.arange(len(ext))
    if len(base) == 1:
        sb = np.ascontiguousarray(base[0], np.uint64).reshape(1, size)
    else:
        sb = np.empty((len(base), size), np.uint64)
        for i, t in enumerate(base):
            sb[i] = t
    if ext:
        st = np.empty((len(ext), size, 2), np.uint64)
        for i, t in enumerate(ext):
            st[i] = t.reshape(size, 2)
    else:
        st = np.empty((0, 2, 2), np.uint64)
    return sb, st, fromb, tmap


def eq_sums_split(sb, st, fromb, tmap, w, isb, starts, coeffs, degree: int, running, sc, ej,
                  g, plan) -> int:
    """`eq_sums` over split stacks (`split_stacks`; ``w`` (N/2, 2) = W_0); ``plan``:
    `eq_plan`'s (factors', wf) for ``isb`` (= fromb).  Returns 1 when s·b = 0."""
    npts = int(degree) - 1
    fa, wf = plan
    sb, st = _ro(sb), _ro(st)
    nc = _gen_chunks(w.shape[0], fromb.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        return int(e_eq_sums_sb_s(sb, st, fromb, tmap, w, isb, starts, fa, wf, coeffs, npts,
                                  running, sc, ej, g))
    return int(e_eq_sums_sb(sb, st, fromb, tmap, w, isb, starts, fa, wf, coeffs, npts, running,
                            sc, ej, g, nc))


def eq_step_split(sb, st, fromb, tmap, r, out, w, isb, starts, coeffs, degree: int, inv_den, g,
                  msg, run, sc, ep, ej, plan) -> int:
    """`eq_step` of round 1 over split stacks: the fold at r_0 of the tables of
    (``sb``, ``st``) into ``out`` (k, N/2, 2), written, then round 1's sums (``isb`` all
    False: folded tables are extension; ``plan`` for it).  Returns the flag."""
    npts = int(degree) - 1
    fa, wf = plan
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    sb, st = _ro(sb), _ro(st)
    nc = _gen_chunks(out.shape[1] // 2, fromb.shape[0], starts.shape[0] - 1, npts)
    if nc == 0:
        return int(e_eq_step_sb_s(sb, st, fromb, tmap, r0, r1, out, w, isb, starts, fa, wf,
                                  coeffs, npts, inv_den, g, msg, run, sc, ep, ej))
    return int(e_eq_step_sb(sb, st, fromb, tmap, r0, r1, out, w, isb, starts, fa, wf, coeffs,
                            npts, inv_den, g, msg, run, sc, ep, ej, nc))


# -- the stacked-claim weight table ----------------------------------------------------


@njit(**_OPTS)
def _eq_fill(r, start, n, c0, c1, out):
    """out[0:2^n] = c·eq(r[start:start+n], ·) by doubling (variable j ↔ bit j)."""
    out[0, 0] = c0
    out[0, 1] = c1
    size = 1
    for j in range(n):
        r0 = r[start + j, 0]
        r1 = r[start + j, 1]
        for i in range(size):
            v0 = out[i, 0]
            v1 = out[i, 1]
            h0, h1 = e2_mul(v0, v1, r0, r1)
            out[i + size, 0] = h0
            out[i + size, 1] = h1
            out[i, 0] = gl_sub(v0, h0)
            out[i, 1] = gl_sub(v1, h1)
        size *= 2


#: low variables of an eq table expanded in one piece (the rest as an outer product)
EQ_LO = 11


@njit(parallel=True, **_OPTS)
def e_eq_acc(points, nv, offs, coefs, out):
    """out[o_k + x] += c_k·eq(p_k, x) for x ∈ {0,1}^{n_k}, every claim k in order:
    ``points`` (C, n_max, 2) holds p_k in its first n_k rows, ``nv`` the n_k, ``offs``
    the o_k, ``coefs`` the c_k (C, 2).  eq(p, x) = eq(p_lo, x_lo)·eq(p_hi, x_hi) with the
    low `EQ_LO` variables expanded once (scaled by c_k) and one product per entry."""
    for k in range(points.shape[0]):
        n = nv[k]
        lo_n = min(n, EQ_LO)
        hi_n = n - lo_n
        L = 1 << lo_n
        low = np.empty((L, 2), dtype=np.uint64)
        _eq_fill(points[k], 0, lo_n, coefs[k, 0], coefs[k, 1], low)
        high = np.empty((1 << hi_n, 2), dtype=np.uint64)
        _eq_fill(points[k], lo_n, hi_n, ONE, ZERO, high)
        o = offs[k]
        if hi_n == 0:
            for x in range(L):
                out[o + x, 0] = gl_add(out[o + x, 0], low[x, 0])
                out[o + x, 1] = gl_add(out[o + x, 1], low[x, 1])
        else:
            # the low table de-interleaved once; each row's products in contiguous lanes
            # (vectorised 32-bit-limb products), then added into the interleaved rows
            l0 = np.empty(L, dtype=np.uint64)
            l1 = np.empty(L, dtype=np.uint64)
            for x in range(L):
                l0[x] = low[x, 0]
                l1[x] = low[x, 1]
            for row in prange(1 << hi_n):
                e0 = high[row, 0]
                e1 = high[row, 1]
                b = o + row * L
                t0 = np.empty(L, dtype=np.uint64)
                t1 = np.empty(L, dtype=np.uint64)
                for x in range(L):
                    p0, p1 = e2_mul(l0[x], l1[x], e0, e1)
                    t0[x] = p0
                    t1[x] = p1
                for x in range(L):
                    out[b + x, 0] = gl_add(out[b + x, 0], t0[x])
                    out[b + x, 1] = gl_add(out[b + x, 1], t1[x])


def eq_acc(points, nv, offs, coefs, out):
    """`e_eq_acc` with the arguments made contiguous (``out`` is written in place)."""
    e_eq_acc(np.ascontiguousarray(points, np.uint64), np.ascontiguousarray(nv, np.int64),
             np.ascontiguousarray(offs, np.int64), np.ascontiguousarray(coefs, np.uint64), out)


# -- references (Python ints) ---------------------------------------------------------


def _m(a, b):
    return ((a[0] * b[0] + 7 * a[1] * b[1]) % P_INT, (a[0] * b[1] + a[1] * b[0]) % P_INT)


def _el(st, f, i):
    return (int(st[f, i, 0]), int(st[f, i, 1]))


def ref_p2_sums(st, fa, fb):
    """Reference of `e_p2_sums`."""
    out = []
    for a, b in zip(fa, fb):
        s0, s1 = (0, 0), (0, 0)
        for i in range(st.shape[1] // 2):
            la, ha, lb, hb = _el(st, a, 2 * i), _el(st, a, 2 * i + 1), _el(st, b, 2 * i), \
                _el(st, b, 2 * i + 1)
            x = _m(la, lb)
            y = _m(((ha[0] - la[0]) % P_INT, (ha[1] - la[1]) % P_INT),
                   ((hb[0] - lb[0]) % P_INT, (hb[1] - lb[1]) % P_INT))
            s0 = ((s0[0] + x[0]) % P_INT, (s0[1] + x[1]) % P_INT)
            s1 = ((s1[0] + y[0]) % P_INT, (s1[1] + y[1]) % P_INT)
        out.append([s0, s1])
    return np.array(out, dtype=np.uint64).reshape(-1, 2, 2)


def ref_fold(st, r):
    """Reference fold: lo + r·(hi − lo) of every table."""
    r = (int(r[0]), int(r[1]))
    out = []
    for f in range(st.shape[0]):
        row = []
        for i in range(st.shape[1] // 2):
            lo, hi = _el(st, f, 2 * i), _el(st, f, 2 * i + 1)
            p = _m(((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT), r)
            row.append(((lo[0] + p[0]) % P_INT, (lo[1] + p[1]) % P_INT))
        out.append(row)
    return np.array(out, dtype=np.uint64).reshape(st.shape[0], -1, 2)


def _elx(t, i):
    """Element i of a base (N,) or extension (N, 2) table as a pair of ints."""
    return (int(t[i]), 0) if t.ndim == 1 else (int(t[i, 0]), int(t[i, 1]))


def ref_pair_sums(A, B):
    """Reference of `pair_sums`."""
    s0, s1 = (0, 0), (0, 0)
    for i in range(A.shape[0] // 2):
        la, ha, lb, hb = _elx(A, 2 * i), _elx(A, 2 * i + 1), _elx(B, 2 * i), _elx(B, 2 * i + 1)
        x = _m(la, lb)
        y = _m(((ha[0] - la[0]) % P_INT, (ha[1] - la[1]) % P_INT),
               ((hb[0] - lb[0]) % P_INT, (hb[1] - lb[1]) % P_INT))
        s0 = ((s0[0] + x[0]) % P_INT, (s0[1] + x[1]) % P_INT)
        s1 = ((s1[0] + y[0]) % P_INT, (s1[1] + y[1]) % P_INT)
    return np.array([s0, s1], dtype=np.uint64)


def ref_fold_one(t, r):
    """Reference of `fold_into`: lo + r·(hi − lo) of one base or extension table."""
    r = (int(r[0]), int(r[1]))
    out = []
    for i in range(t.shape[0] // 2):
        lo, hi = _elx(t, 2 * i), _elx(t, 2 * i + 1)
        p = _m(((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT), r)
        out.append(((lo[0] + p[0]) % P_INT, (lo[1] + p[1]) % P_INT))
    return np.array(out, dtype=np.uint64).reshape(-1, 2)


def ref_p2_message(sums, coeffs, running):
    """Reference of `e_p2_message`."""
    g0, gi = (0, 0), (0, 0)
    for j in range(sums.shape[0]):
        c = (int(coeffs[j, 0]), int(coeffs[j, 1]))
        x = _m(c, (int(sums[j, 0, 0]), int(sums[j, 0, 1])))
        y = _m(c, (int(sums[j, 1, 0]), int(sums[j, 1, 1])))
        g0 = ((g0[0] + x[0]) % P_INT, (g0[1] + x[1]) % P_INT)
        gi = ((gi[0] + y[0]) % P_INT, (gi[1] + y[1]) % P_INT)
    g1 = tuple((int(running[k]) - g0[k]) % P_INT for k in range(2))
    g2 = tuple((2 * g1[k] - g0[k] + 2 * gi[k]) % P_INT for k in range(2))
    return np.array([g0, g1, g2], dtype=np.uint64)


def ref_eq_acc(points, nv, offs, coefs, out):
    """Reference of `e_eq_acc` (returns the updated copy of ``out``)."""
    out = [(int(a), int(b)) for a, b in np.asarray(out)]
    for k in range(len(nv)):
        n = int(nv[k])
        for x in range(1 << n):
            e = (int(coefs[k, 0]), int(coefs[k, 1]))
            for j in range(n):
                r = (int(points[k, j, 0]), int(points[k, j, 1]))
                f = r if (x >> j) & 1 else ((1 - r[0]) % P_INT, (-r[1]) % P_INT)
                e = _m(e, f)
            o = int(offs[k]) + x
            out[o] = ((out[o][0] + e[0]) % P_INT, (out[o][1] + e[1]) % P_INT)
    return np.array(out, dtype=np.uint64).reshape(-1, 2)


def _eval_at(lo, hi, t):
    d = ((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT)
    return ((lo[0] + t * d[0]) % P_INT, (lo[1] + t * d[1]) % P_INT)


def ref_gen_sums(st, starts, factors, coeffs, degree, running):
    """Reference of `gen_sums` (any ``isb``: it only changes how products are made):
    g(t) = Σ_pairs Σ_j c_j·Π_{f ∈ term j} (lo_f + t·(hi_f − lo_f)) for t = 0, 2, …, d,
    g(1) = running − g(0)."""
    d = max(1, int(degree))
    g = [(0, 0)] * (d + 1)
    for t in [0] + list(range(2, d + 1)):
        acc = (0, 0)
        for i in range(st.shape[1] // 2):
            for j in range(len(starts) - 1):
                p = (int(coeffs[j, 0]), int(coeffs[j, 1]))
                for q in range(int(starts[j]), int(starts[j + 1])):
                    f = int(factors[q])
                    p = _m(p, _eval_at(_el(st, f, 2 * i), _el(st, f, 2 * i + 1), t))
                acc = ((acc[0] + p[0]) % P_INT, (acc[1] + p[1]) % P_INT)
        g[t] = acc
    g[1] = ((int(running[0]) - g[0][0]) % P_INT, (int(running[1]) - g[0][1]) % P_INT)
    return np.array(g, dtype=np.uint64)


def ref_gen_fold_sums(st, r, starts, factors, coeffs, degree, running):
    """Reference of `gen_fold_sums`: (folded stack, `ref_gen_sums` of it)."""
    out = ref_fold(st, r)
    return out, ref_gen_sums(out, starts, factors, coeffs, degree, running)


def ref_step(st, r, g_prev, starts, factors, coeffs, degree):
    """Reference of `gen_step` (and of `p2_step` for pairwise terms): (g_prev(r), folded
    stack, new g, message)."""
    from . import reference as R

    run = np.asarray(R.e_interpolate(g_prev, int(r[0]), int(r[1])), np.uint64)
    out, g = ref_gen_fold_sums(st, r, starts, factors, coeffs, degree, run)
    return run, out, g, np.concatenate([g[:1], g[2:]])


def ref_eq_suffix(e):
    """Reference of `e_eq_suffix`: the tables W_j concatenated (2^n − 1, 2)."""
    n = len(e)
    ev = [((int(e[j][0][0]), int(e[j][0][1])), (int(e[j][1][0]), int(e[j][1][1])))
          for j in range(n)]
    out = []
    for j in range(n):
        for x in range(1 << (n - 1 - j)):
            v = (1, 0)
            for b in range(n - 1 - j):
                v = _m(v, ev[j + 1 + b][(x >> b) & 1])
            out.append(v)
    return np.array(out, dtype=np.uint64).reshape(-1, 2)


def ref_eq_round(st, w, starts, factors, coeffs, degree, running, sc, ej):
    """Reference of `eq_sums`: g(t) = s·e_j(t)·Σ_pairs w_i·Σ_t c·Π (lo + t·(hi − lo)) at
    t = 0, 2, …, degree computed directly (no finite differences), g(1) = running − g(0)."""
    s = (int(sc[0]), int(sc[1]))
    a = (int(ej[0, 0]), int(ej[0, 1]))
    b = (int(ej[1, 0]), int(ej[1, 1]))
    d = int(degree)
    g = [(0, 0)] * (d + 1)
    for t in [0] + list(range(2, d + 1)):
        acc = (0, 0)
        for i in range(st.shape[1] // 2):
            wi = (int(w[i, 0]), int(w[i, 1]))
            for j in range(len(starts) - 1):
                p = _m((int(coeffs[j, 0]), int(coeffs[j, 1])), wi)
                for q in range(int(starts[j]), int(starts[j + 1])):
                    f = int(factors[q])
                    p = _m(p, _eval_at(_el(st, f, 2 * i), _el(st, f, 2 * i + 1), t))
                acc = ((acc[0] + p[0]) % P_INT, (acc[1] + p[1]) % P_INT)
        et = ((a[0] + t * (b[0] - a[0])) % P_INT, (a[1] + t * (b[1] - a[1])) % P_INT)
        g[t] = _m(_m(s, et), acc)
    g[1] = ((int(running[0]) - g[0][0]) % P_INT, (int(running[1]) - g[0][1]) % P_INT)
    return np.array(g, dtype=np.uint64)


# -- the zero-knowledge verifier's per-sumcheck scalar work (`zklora.zkcore.zk`) --------


@njit(**_OPTS)
def e_zk_points(r, w, s0, s1, coords, factor, dens):
    """The point-dependent part of `zk._tensor_points` for the n variables of ``r``
    (n, 2): for each weight w_j and variable i, t = r_i^{w_j}, den = 1 + t,
    coords[j, i] = t/den; factor[i] = (s0 + s1·x)·Π_j den.  ``dens`` (e·n, 2) is
    scratch.  Returns −1, or the flat index j·n + i of the first den equal to 0 (then
    coords and factor are not written)."""
    n = r.shape[0]
    e = w.shape[0]
    for j in range(e):
        for i in range(n):
            t0 = r[i, 0]
            t1 = r[i, 1]
            for _ in range(w[j] - 1):
                t0, t1 = e2_mul_s(t0, t1, r[i, 0], r[i, 1])
            coords[j, i, 0] = t0
            coords[j, i, 1] = t1
            d0 = gl_add(t0, ONE)
            if d0 == ZERO and t1 == ZERO:
                return j * n + i
            dens[j * n + i, 0] = d0
            dens[j * n + i, 1] = t1
    # factor
    for i in range(n):
        f0 = s0
        f1 = s1
        for j in range(e):
            f0, f1 = e2_mul_s(f0, f1, dens[j * n + i, 0], dens[j * n + i, 1])
        factor[i, 0] = f0
        factor[i, 1] = f1
    # batch inversion of the dens by their norms d0² − 7·d1² (non-zero: x² − 7 is
    # irreducible and den ≠ 0), one base-field inversion for all
    m = e * n
    pre = np.empty(m + 1, dtype=np.uint64)
    pre[0] = ONE
    for k in range(m):
        d0 = dens[k, 0]
        d1 = dens[k, 1]
        nk = gl_sub(gl_mul_s(d0, d0), gl_mul7(gl_mul_s(d1, d1)))
        pre[k + 1] = gl_mul_s(pre[k], nk)
    inv = gl_inv(pre[m])
    for k in range(m - 1, -1, -1):
        d0 = dens[k, 0]
        d1 = dens[k, 1]
        nk = gl_sub(gl_mul_s(d0, d0), gl_mul7(gl_mul_s(d1, d1)))
        ik = gl_mul_s(inv, pre[k])          # 1/norm_k
        inv = gl_mul_s(inv, nk)
        i0 = gl_mul_s(d0, ik)               # 1/den = (d0 − d1·x)/norm
        i1 = gl_neg(gl_mul_s(d1, ik))
        j = k // n
        i = k - j * n
        c0, c1 = e2_mul_s(coords[j, i, 0], coords[j, i, 1], i0, i1)
        coords[j, i, 0] = c0
        coords[j, i, 1] = c1
    return -1


@njit(**_OPTS)
def e_prod_z(pt, out):
    """out[0] = Π_i pt_i, out[1] = Π_i pt_i·(1 − pt_i) (1 for an empty point) over
    goldilocks-ext2 (``pt`` (n, 2), ``out`` (2, 2))."""
    a0 = ONE
    a1 = ZERO
    z0 = ONE
    z1 = ZERO
    for i in range(pt.shape[0]):
        p0 = pt[i, 0]
        p1 = pt[i, 1]
        a0, a1 = e2_mul_s(a0, a1, p0, p1)
        q0, q1 = e2_mul_s(p0, p1, gl_sub(ONE, p0), gl_neg(p1))
        z0, z1 = e2_mul_s(z0, z1, q0, q1)
    out[0, 0] = a0
    out[0, 1] = a1
    out[1, 0] = z0
    out[1, 1] = z1


@njit(**_OPTS)
def _eq_scaled(points, k, r, e0, e1):
    """(e0, e1)·eq(points[k], r), eq(a, b) = Π_j (2·a_j·b_j − a_j − b_j + 1), over
    goldilocks-ext2: the term shared by `e_eq_dot` and `e_eq_combo`."""
    for j in range(r.shape[0]):
        a0 = points[k, j, 0]
        a1 = points[k, j, 1]
        b0 = r[j, 0]
        b1 = r[j, 1]
        m0, m1 = e2_mul_s(a0, a1, b0, b1)
        t0 = gl_add(gl_sub(gl_sub(gl_add(m0, m0), a0), b0), ONE)
        t1 = gl_sub(gl_sub(gl_add(m1, m1), a1), b1)
        e0, e1 = e2_mul_s(e0, e1, t0, t1)
    return e0, e1


@njit(**_OPTS)
def e_eq_dot(points, coefs, r, out):
    """out = Σ_k coefs[k]·eq(points[k], r), eq(a, b) = Π_j (2·a_j·b_j − a_j − b_j + 1),
    over goldilocks-ext2 (``points`` (C, n, 2), ``coefs`` (C, 2), ``r`` (n, 2), ``out``
    (2,)): the stack reduction's W(r*) (`zklora.zkcore.stack._w_eval`)."""
    s0 = ZERO
    s1 = ZERO
    for k in range(points.shape[0]):
        e0 = coefs[k, 0]
        e1 = coefs[k, 1]
        e0, e1 = _eq_scaled(points, k, r, e0, e1)
        s0 = gl_add(s0, e0)
        s1 = gl_add(s1, e1)
    out[0] = s0
    out[1] = s1


@njit(**_OPTS)
def e_eq_combo(points, rho0, rho1, r, out):
    """out = Σ_k ρ^k·eq(points[k], r), eq(a, b) = Π_j (2·a_j·b_j − a_j − b_j + 1), over
    goldilocks-ext2 (``points`` (C, n, 2), ``r`` (n, 2), ``out`` (2,))."""
    s0 = ZERO
    s1 = ZERO
    c0 = ONE
    c1 = ZERO
    for k in range(points.shape[0]):
        e0 = c0
        e1 = c1
        e0, e1 = _eq_scaled(points, k, r, e0, e1)
        s0 = gl_add(s0, e0)
        s1 = gl_add(s1, e1)
        c0, c1 = e2_mul_s(c0, c1, rho0, rho1)
    out[0] = s0
    out[1] = s1
