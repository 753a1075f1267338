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

from .goldilocks import P_INT, SMALL, _chunks, e2_mul, gl_add, gl_sub

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(**_OPTS)
def _p2_range(st, fa, fb, lo, hi, acc):
    """acc[j, 0] += Σ lo_a·lo_b, acc[j, 1] += Σ Δ_a·Δ_b over the pairs lo..hi of st."""
    T = fa.shape[0]
    for i in range(lo, hi):
        for j in range(T):
            a = fa[j]
            b = fb[j]
            al0 = st[a, 2 * i, 0]
            al1 = st[a, 2 * i, 1]
            bl0 = st[b, 2 * i, 0]
            bl1 = st[b, 2 * i, 1]
            x0, x1 = e2_mul(al0, al1, bl0, bl1)
            acc[j, 0, 0] = gl_add(acc[j, 0, 0], x0)
            acc[j, 0, 1] = gl_add(acc[j, 0, 1], x1)
            y0, y1 = e2_mul(gl_sub(st[a, 2 * i + 1, 0], al0), gl_sub(st[a, 2 * i + 1, 1], al1),
                            gl_sub(st[b, 2 * i + 1, 0], bl0), gl_sub(st[b, 2 * i + 1, 1], bl1))
            acc[j, 1, 0] = gl_add(acc[j, 1, 0], y0)
            acc[j, 1, 1] = gl_add(acc[j, 1, 1], y1)


@njit(**_OPTS)
def _fold_range(st, r0, r1, out, lo, hi):
    """out[f, i] = lo + r·(hi − lo) for i in lo..hi, every table f."""
    for f in range(st.shape[0]):
        for i in range(lo, hi):
            l0 = st[f, 2 * i, 0]
            l1 = st[f, 2 * i, 1]
            p0, p1 = e2_mul(gl_sub(st[f, 2 * i + 1, 0], l0), gl_sub(st[f, 2 * i + 1, 1], l1),
                            r0, r1)
            out[f, i, 0] = gl_add(l0, p0)
            out[f, i, 1] = gl_add(l1, p1)


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
    work = st.shape[1] // 2 * fa.shape[0]
    if work < SMALL:
        return e_p2_sums_s(st, fa, fb)
    return e_p2_sums(st, fa, fb, _chunks(work))


def p2_fold_sums(st, r, fa, fb):
    """Fold ``st`` at r and sum the next round: returns (folded stack, sums)."""
    out = np.empty((st.shape[0], st.shape[1] // 2, 2), dtype=np.uint64)
    work = st.shape[1] // 4 * max(fa.shape[0], st.shape[0])
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    if work < SMALL:
        return out, e_p2_fold_sums_s(st, r0, r1, out, fa, fb)
    return out, e_p2_fold_sums(st, r0, r1, out, fa, fb, _chunks(work))


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
