"""Weight tables of the whir prover's sumcheck (numba), with pure-Python twins.

After each WHIR round the prover adds Σ_l c_l·eq(pow(z_l), ·) to the sumcheck weight
table W over the hypercube of the folded polynomial's m variables, where the z_l are
the round's shift-query points — *base-field* elements (z = ω^(a·2^k), a root of
unity) — and pow(z) = (z, z², z⁴, …, z^(2^(m−1))).  With one eq table per point this
costs q tables of 2^m extension elements (q ≈ 100 queries at 2^19 is ~5·10^7 extension
products, and as many stores).

`pow_eq_accumulate` uses eq(r, x) = eq(r_lo, x_lo)·eq(r_hi, x_hi) (x_lo the low a bits
of the index, x_hi the high b = m − a bits): with A[l, x_lo] = c_l·eq(r_l,lo, x_lo)
(extension, 2^a per point) and B[l, x_hi] = eq(r_l,hi, x_hi) (base field, 2^b per
point), the update is the matrix product W[x_hi, x_lo] += Σ_l B[l, x_hi]·A[l, x_lo]:
2^m·q base×extension products (two base products each) accumulated in registers, the
small A block staying in cache.  The tables A and B cost q·(2^a + 2^b).

`eq_combination` is the same split for a few *extension* points (the first weight table
Σ_j β^j·eq(r_j, ·) of the claims and OOD points, on the full 2^n hypercube): one
extension product per entry and point in a single pass, instead of an eq table per
point and an axpy per point.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import reference as R
from .goldilocks import ONE, P_INT, ZERO, e2_mul, gl_add, gl_mul, gl_mul7, gl_sub

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: low variables of the split (A has 2^LO_VARS entries per point: q·2^a·16 bytes in cache)
LO_VARS = 6
#: at most this many points per block of A (bounds the cache footprint)
POINT_BLOCK = 64
#: tables below this many entries are built by one thread
SERIAL_BELOW = 1 << 14


@njit(**_OPTS)
def _pow_chain(z, m, out):
    """out[l, j] = z_l^(2^j) for j < m."""
    for l in range(z.shape[0]):
        v = z[l]
        for j in range(m):
            out[l, j] = v
            v = gl_mul(v, v)


@njit(**_OPTS)
def _eq_cols(r, j0, j1, out):
    """out[l, x] = Π_{j0 ≤ j < j1} eq(r[l, j], bit (j − j0) of x) (base field): (q, 2^(j1−j0))."""
    for l in range(r.shape[0]):
        out[l, 0] = ONE
        size = 1
        for j in range(j0, j1):
            rj = r[l, j]
            for i in range(size):
                h = gl_mul(out[l, i], rj)
                out[l, i + size] = h
                out[l, i] = gl_sub(out[l, i], h)
            size *= 2


@njit(**_OPTS)
def _scale(A, coefs, A0, A1):
    for l in range(A.shape[0]):
        c0 = coefs[l, 0]
        c1 = coefs[l, 1]
        for x in range(A.shape[1]):
            A0[l, x] = gl_mul(A[l, x], c0)
            A1[l, x] = gl_mul(A[l, x], c1)


@njit(inline="always", **_OPTS)
def _rows(A0, A1, B, out, a, lo_row, hi_row):
    L = A0.shape[1]
    q = A0.shape[0]
    acc0 = np.empty(L, dtype=np.uint64)
    acc1 = np.empty(L, dtype=np.uint64)
    for h in range(lo_row, hi_row):
        base = h << a
        for x in range(L):
            acc0[x] = out[base + x, 0]
            acc1[x] = out[base + x, 1]
        for l0 in range(0, q, POINT_BLOCK):
            for l in range(l0, min(q, l0 + POINT_BLOCK)):
                b = B[l, h]
                for x in range(L):
                    acc0[x] = gl_add(acc0[x], gl_mul(A0[l, x], b))
                    acc1[x] = gl_add(acc1[x], gl_mul(A1[l, x], b))
        for x in range(L):
            out[base + x, 0] = acc0[x]
            out[base + x, 1] = acc1[x]


@njit(parallel=True, **_OPTS)
def _combine_par(A0, A1, B, out, a, nch):
    H = B.shape[1]
    step = (H + nch - 1) // nch
    for ch in prange(nch):
        _rows(A0, A1, B, out, a, ch * step, min(H, (ch + 1) * step))


@njit(**_OPTS)
def _combine_ser(A0, A1, B, out, a):
    _rows(A0, A1, B, out, a, 0, B.shape[1])


def pow_eq_accumulate(out: np.ndarray, zs: np.ndarray, coefs: np.ndarray) -> None:
    """out (2^m, 2) += Σ_l coefs[l]·eq(pow(zs[l]), ·) for base-field points ``zs`` (q,)
    and extension coefficients ``coefs`` (q, 2); pow(z) = (z, z², …, z^(2^(m−1)))
    (module doc).  ``out`` is updated in place."""
    zs = np.ascontiguousarray(zs, dtype=np.uint64).reshape(-1)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    if out.ndim != 2 or out.shape[1] != 2 or out.dtype != np.uint64 or \
            not out.flags.c_contiguous:
        raise ValueError("pow_eq_accumulate: out must be a contiguous (2^m, 2) uint64 array")
    N = out.shape[0]
    m = N.bit_length() - 1
    if N != 1 << m or coefs.shape[0] != zs.shape[0]:
        raise ValueError("pow_eq_accumulate: need 2^m rows and one coefficient per point")
    if zs.shape[0] == 0:
        return
    a = min(m, LO_VARS)
    r = np.empty((zs.shape[0], max(m, 1)), dtype=np.uint64)
    _pow_chain(zs, m, r)
    A = np.empty((zs.shape[0], 1 << a), dtype=np.uint64)
    _eq_cols(r, 0, a, A)
    B = np.empty((zs.shape[0], 1 << (m - a)), dtype=np.uint64)
    _eq_cols(r, a, m, B)
    A0 = np.empty_like(A)
    A1 = np.empty_like(A)
    _scale(A, coefs, A0, A1)
    if N * zs.shape[0] < SERIAL_BELOW or B.shape[1] == 1:
        _combine_ser(A0, A1, B, out, a)
    else:
        _combine_par(A0, A1, B, out, a, min(B.shape[1], 16))


def pow_eq_accumulate_ref(out, zs, coefs) -> np.ndarray:
    """Straight from the definition: one eq table per point (`reference.eq_expand`)."""
    res = [(int(x), int(y)) for x, y in np.asarray(out)]
    m = len(res).bit_length() - 1
    for z, cf in zip(np.asarray(zs).reshape(-1), np.asarray(coefs).reshape(-1, 2)):
        pt = [(pow(int(z), 1 << j, P_INT), 0) for j in range(m)]
        tab = R.eq_expand(pt)
        for i in range(len(res)):
            p = R.e2_mul(int(tab[i][0]), int(tab[i][1]), int(cf[0]), int(cf[1]))
            res[i] = ((res[i][0] + p[0]) % P_INT, (res[i][1] + p[1]) % P_INT)
    return np.array(res, dtype=np.uint64)



# -- extension points (the claims and OOD points of the first weight table) ---------------


@njit(**_OPTS)
def _eq_cols_ext(r, j0, j1, c, out):
    """out[l, x] = c[l]·Π_{j0 ≤ j < j1} eq(r[l, j], bit (j − j0) of x) over the extension."""
    for l in range(r.shape[0]):
        out[l, 0, 0] = c[l, 0]
        out[l, 0, 1] = c[l, 1]
        size = 1
        for j in range(j0, j1):
            r0 = r[l, j, 0]
            r1 = r[l, j, 1]
            for i in range(size):
                h0, h1 = e2_mul(out[l, i, 0], out[l, i, 1], r0, r1)
                out[l, i + size, 0] = h0
                out[l, i + size, 1] = h1
                out[l, i, 0] = gl_sub(out[l, i, 0], h0)
                out[l, i, 1] = gl_sub(out[l, i, 1], h1)
            size *= 2


@njit(inline="always", **_OPTS)
def _axpy_e(acc0, acc1, x0, x1, b0, b1, bs, L):
    """acc[x] += (x0[x] + x1[x]·X)·(b0 + b1·X) for x < L, components in separate
    unit-stride runs (Karatsuba with bs = b0 + b1; vectorised)."""
    for x in range(L):
        a0 = x0[x]
        a1 = x1[x]
        m0 = gl_mul(a0, b0)
        m1 = gl_mul(a1, b1)
        m2 = gl_mul(gl_add(a0, a1), bs)
        acc0[x] = gl_add(acc0[x], gl_add(m0, gl_mul7(m1)))
        acc1[x] = gl_add(acc1[x], gl_sub(gl_sub(m2, m0), m1))


@njit(parallel=True, **_OPTS)
def _combine_ext(A, B, out, a, overwrite, nch):
    """out[h·2^a + x] (+)= Σ_l A[l, x]·B[l, h].  A's components are split into unit-stride
    runs once, and each row of out is accumulated in two component runs (`_axpy_e`)."""
    H = B.shape[1]
    L = A.shape[1]
    q = A.shape[0]
    A0 = np.empty((q, L), dtype=np.uint64)
    A1 = np.empty((q, L), dtype=np.uint64)
    for l in range(q):
        for x in range(L):
            A0[l, x] = A[l, x, 0]
            A1[l, x] = A[l, x, 1]
    step = (H + nch - 1) // nch
    for ch in prange(nch):
        acc0 = np.empty(L, dtype=np.uint64)
        acc1 = np.empty(L, dtype=np.uint64)
        for h in range(ch * step, min(H, (ch + 1) * step)):
            base = h << a
            for x in range(L):
                if overwrite:
                    acc0[x] = ZERO
                    acc1[x] = ZERO
                else:
                    acc0[x] = out[base + x, 0]
                    acc1[x] = out[base + x, 1]
            for l in range(q):
                b0 = B[l, h, 0]
                b1 = B[l, h, 1]
                _axpy_e(acc0, acc1, A0[l], A1[l], b0, b1, gl_add(b0, b1), L)
            for x in range(L):
                out[base + x, 0] = acc0[x]
                out[base + x, 1] = acc1[x]


#: low variables of the extension split (a row of 2^a extension values per point)
EXT_LO_VARS = 10


def eq_combination(out: np.ndarray, points: np.ndarray, coefs: np.ndarray,
                   overwrite: bool = False) -> None:
    """out (2^m, 2) (+)= Σ_l coefs[l]·eq(points[l], ·) for extension points (q, m, 2):
    the split product of the module doc with extension tables on both sides (one
    extension product per entry and point, one pass over ``out``); with
    ``overwrite`` the sum replaces out's contents."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    if out.ndim != 2 or out.shape[1] != 2 or out.dtype != np.uint64 or \
            not out.flags.c_contiguous:
        raise ValueError("eq_combination: out must be a contiguous (2^m, 2) uint64 array")
    N = out.shape[0]
    m = N.bit_length() - 1
    q = points.shape[0]
    if N != 1 << m or coefs.shape[0] != q or points.shape[1:] != (m, 2):
        raise ValueError("eq_combination: need 2^m rows, points (q, m, 2), coefs (q, 2)")
    if q == 0:
        if overwrite:
            out[...] = 0
        return
    A, B, a = eq_split(points, coefs)
    nch = 1 if N < SERIAL_BELOW else min(B.shape[1], 16)
    _combine_ext(A, B, out, a, overwrite, nch)


def eq_split(points: np.ndarray, coefs: np.ndarray, lo_vars: int = EXT_LO_VARS
             ) -> tuple[np.ndarray, np.ndarray, int]:
    """The split tables of `eq_combination` for extension points (q ≥ 1, m, 2) and
    coefficients (q, 2): (A (q, 2^a, 2) with the coefficients, B (q, 2^(m−a), 2), a),
    a = min(m, ``lo_vars``) (`eq_rows` makes whole blocks of 2^a rows)."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    q, m = points.shape[0], points.shape[1]
    a = max(0, min(m, EXT_LO_VARS, lo_vars))
    A = np.empty((q, 1 << a, 2), dtype=np.uint64)
    _eq_cols_ext(points, 0, a, coefs, A)
    B = np.empty((q, 1 << (m - a), 2), dtype=np.uint64)
    _eq_cols_ext(points, a, m, np.array([[1, 0]] * q, dtype=np.uint64), B)
    return A, B, a


def eq_rows(A: np.ndarray, B: np.ndarray, a: int, lo: int, hi: int) -> np.ndarray:
    """Rows [lo, hi) (multiples of 2^a) of Σ_l coefs[l]·eq(points[l], ·) from the split
    tables of `eq_split`: the same values as those rows of `eq_combination`'s table,
    computed without the others (a streamed prover builds the table a block at a
    time)."""
    if lo % (1 << a) or hi % (1 << a) or not 0 <= lo <= hi <= B.shape[1] << a:
        raise ValueError("eq_rows: rows must be whole blocks of 2^a inside the table")
    out = np.empty((hi - lo, 2), dtype=np.uint64)
    Bb = np.ascontiguousarray(B[:, lo >> a:hi >> a])
    if hi > lo:
        nch = 1 if hi - lo < SERIAL_BELOW else min(Bb.shape[1], 16)
        _combine_ext(A, Bb, out, a, True, nch)
    return out


def eq_combination_ref(out, points, coefs) -> np.ndarray:
    """One eq table per point (`reference.eq_expand`), added to ``out``."""
    res = [(int(x), int(y)) for x, y in np.asarray(out)]
    for pt, cf in zip(np.asarray(points), np.asarray(coefs).reshape(-1, 2)):
        tab = R.eq_expand(pt)
        for i in range(len(res)):
            p = R.e2_mul(int(tab[i][0]), int(tab[i][1]), int(cf[0]), int(cf[1]))
            res[i] = ((res[i][0] + p[0]) % P_INT, (res[i][1] + p[1]) % P_INT)
    return np.array(res, dtype=np.uint64)
