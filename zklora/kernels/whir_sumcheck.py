"""The whir prover's product sumcheck Σ_b f(b)·w(b) (numba), with pure-Python twins.

Variable 0 (bit 0 of the index) is bound first, as in `Field.sc_round`/`sc_fold`: a
round's polynomial is h(X) = Σ_i f_i(X)·w_i(X) with f_i(X) = f[2i] + X·(f[2i+1] − f[2i])
(likewise w), of degree 2; the prover sends h(0) and h(2).

* `round_`: h(0), h(2) for f and w; for a *base-field* f (N,) (the first round on a
  committed table) with base × extension products (two base products each instead of
  an extension product).
* `fold_round`: binds variable 0 of f (base (N,) or extension (N, 2)) and w to α and, in
  the same pass, returns the next round's h(0), h(2) on the folded tables (one pass
  over memory per round instead of two).
* `fold`: binds variable 0 only (the last round of a WHIR round).

Every output equals the generic kernels' (`Field.sc_round` with one degree-2 product
term, `Field.sc_fold`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from . import reference as R

# the kernels below are loops with loop-carried sums or interleaved (n, 2) tables, which
# LLVM leaves scalar: the scalar forms of the products (one 128-bit multiply each)
from .goldilocks import P_INT, ZERO, gl_add, gl_sub
from .goldilocks import e2_mul_s as e2_mul
from .goldilocks import gl_mul_s as gl_mul

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: pairs per chunk of the parallel reductions
CHUNK = 1 << 13
#: below this many pairs the serial path is used
SERIAL_BELOW = 1 << 13


@njit(inline="always", **_OPTS)
def _dbl_sub(hi, lo):
    """2·hi − lo (the value at X = 2 of the line through lo, hi)."""
    return gl_sub(gl_add(hi, hi), lo)


@njit(**_OPTS)
def _round_base_range(f, w, lo, hi, out):
    a0 = ZERO
    a1 = ZERO
    b0 = ZERO
    b1 = ZERO
    for i in range(lo, hi):
        f0 = f[2 * i]
        f2 = _dbl_sub(f[2 * i + 1], f0)
        w00 = w[2 * i, 0]
        w01 = w[2 * i, 1]
        w20 = _dbl_sub(w[2 * i + 1, 0], w00)
        w21 = _dbl_sub(w[2 * i + 1, 1], w01)
        a0 = gl_add(a0, gl_mul(f0, w00))
        a1 = gl_add(a1, gl_mul(f0, w01))
        b0 = gl_add(b0, gl_mul(f2, w20))
        b1 = gl_add(b1, gl_mul(f2, w21))
    out[0] = a0
    out[1] = a1
    out[2] = b0
    out[3] = b1


@njit(**_OPTS)
def _round_ext_range(f, w, lo, hi, out):
    a0 = ZERO
    a1 = ZERO
    b0 = ZERO
    b1 = ZERO
    for i in range(lo, hi):
        f00 = f[2 * i, 0]
        f01 = f[2 * i, 1]
        w00 = w[2 * i, 0]
        w01 = w[2 * i, 1]
        p0, p1 = e2_mul(f00, f01, w00, w01)
        a0 = gl_add(a0, p0)
        a1 = gl_add(a1, p1)
        p0, p1 = e2_mul(_dbl_sub(f[2 * i + 1, 0], f00), _dbl_sub(f[2 * i + 1, 1], f01),
                        _dbl_sub(w[2 * i + 1, 0], w00), _dbl_sub(w[2 * i + 1, 1], w01))
        b0 = gl_add(b0, p0)
        b1 = gl_add(b1, p1)
    out[0] = a0
    out[1] = a1
    out[2] = b0
    out[3] = b1


@njit(parallel=True, **_OPTS)
def _round_ext_par(f, w, nch, part):
    m = f.shape[0] // 2
    step = (m + nch - 1) // nch
    for c in prange(nch):
        _round_ext_range(f, w, c * step, min(m, (c + 1) * step), part[c])


@njit(parallel=True, **_OPTS)
def _round_base_par(f, w, nch, part):
    m = f.shape[0] // 2
    step = (m + nch - 1) // nch
    for c in prange(nch):
        _round_base_range(f, w, c * step, min(m, (c + 1) * step), part[c])


@njit(inline="always", **_OPTS)
def _fold_pair_w(w, j, a0, a1):
    lo0 = w[2 * j, 0]
    lo1 = w[2 * j, 1]
    p0, p1 = e2_mul(gl_sub(w[2 * j + 1, 0], lo0), gl_sub(w[2 * j + 1, 1], lo1), a0, a1)
    return gl_add(lo0, p0), gl_add(lo1, p1)


@njit(**_OPTS)
def _fold_round_range_base(f, w, a0, a1, fo, wo, lo, hi, out):
    """Pairs lo..hi of the *folded* tables (folded entries 2i, 2i+1): fold, store, and
    accumulate the next round's h(0), h(2).  f base (N,)."""
    s00 = ZERO
    s01 = ZERO
    s20 = ZERO
    s21 = ZERO
    for i in range(lo, hi):
        # folded f at 2i and 2i+1 from base pairs (4i, 4i+1), (4i+2, 4i+3)
        x = f[4 * i]
        d = gl_sub(f[4 * i + 1], x)
        f00 = gl_add(x, gl_mul(d, a0))
        f01 = gl_mul(d, a1)
        x = f[4 * i + 2]
        d = gl_sub(f[4 * i + 3], x)
        f10 = gl_add(x, gl_mul(d, a0))
        f11 = gl_mul(d, a1)
        w00, w01 = _fold_pair_w(w, 2 * i, a0, a1)
        w10, w11 = _fold_pair_w(w, 2 * i + 1, a0, a1)
        fo[2 * i, 0] = f00
        fo[2 * i, 1] = f01
        fo[2 * i + 1, 0] = f10
        fo[2 * i + 1, 1] = f11
        wo[2 * i, 0] = w00
        wo[2 * i, 1] = w01
        wo[2 * i + 1, 0] = w10
        wo[2 * i + 1, 1] = w11
        p0, p1 = e2_mul(f00, f01, w00, w01)
        s00 = gl_add(s00, p0)
        s01 = gl_add(s01, p1)
        p0, p1 = e2_mul(_dbl_sub(f10, f00), _dbl_sub(f11, f01),
                        _dbl_sub(w10, w00), _dbl_sub(w11, w01))
        s20 = gl_add(s20, p0)
        s21 = gl_add(s21, p1)
    out[0] = s00
    out[1] = s01
    out[2] = s20
    out[3] = s21


@njit(**_OPTS)
def _fold_round_range_ext(f, w, a0, a1, fo, wo, lo, hi, out):
    s00 = ZERO
    s01 = ZERO
    s20 = ZERO
    s21 = ZERO
    for i in range(lo, hi):
        f00, f01 = _fold_pair_w(f, 2 * i, a0, a1)
        f10, f11 = _fold_pair_w(f, 2 * i + 1, a0, a1)
        w00, w01 = _fold_pair_w(w, 2 * i, a0, a1)
        w10, w11 = _fold_pair_w(w, 2 * i + 1, a0, a1)
        fo[2 * i, 0] = f00
        fo[2 * i, 1] = f01
        fo[2 * i + 1, 0] = f10
        fo[2 * i + 1, 1] = f11
        wo[2 * i, 0] = w00
        wo[2 * i, 1] = w01
        wo[2 * i + 1, 0] = w10
        wo[2 * i + 1, 1] = w11
        p0, p1 = e2_mul(f00, f01, w00, w01)
        s00 = gl_add(s00, p0)
        s01 = gl_add(s01, p1)
        p0, p1 = e2_mul(_dbl_sub(f10, f00), _dbl_sub(f11, f01),
                        _dbl_sub(w10, w00), _dbl_sub(w11, w01))
        s20 = gl_add(s20, p0)
        s21 = gl_add(s21, p1)
    out[0] = s00
    out[1] = s01
    out[2] = s20
    out[3] = s21


@njit(parallel=True, **_OPTS)
def _fold_round_base_par(f, w, a0, a1, fo, wo, nch, part):
    m = fo.shape[0] // 2
    step = (m + nch - 1) // nch
    for c in prange(nch):
        _fold_round_range_base(f, w, a0, a1, fo, wo, c * step, min(m, (c + 1) * step),
                               part[c])


@njit(parallel=True, **_OPTS)
def _fold_round_ext_par(f, w, a0, a1, fo, wo, nch, part):
    m = fo.shape[0] // 2
    step = (m + nch - 1) // nch
    for c in prange(nch):
        _fold_round_range_ext(f, w, a0, a1, fo, wo, c * step, min(m, (c + 1) * step),
                              part[c])


@njit(**_OPTS)
def _fold_range_base(f, w, a0, a1, fo, wo, lo, hi):
    for j in range(lo, hi):
        x = f[2 * j]
        d = gl_sub(f[2 * j + 1], x)
        fo[j, 0] = gl_add(x, gl_mul(d, a0))
        fo[j, 1] = gl_mul(d, a1)
        wo[j, 0], wo[j, 1] = _fold_pair_w(w, j, a0, a1)


@njit(**_OPTS)
def _fold_range_ext(f, w, a0, a1, fo, wo, lo, hi):
    for j in range(lo, hi):
        fo[j, 0], fo[j, 1] = _fold_pair_w(f, j, a0, a1)
        wo[j, 0], wo[j, 1] = _fold_pair_w(w, j, a0, a1)


@njit(parallel=True, **_OPTS)
def _fold_base_par(f, w, a0, a1, fo, wo, nch):
    m = fo.shape[0]
    step = (m + nch - 1) // nch
    for c in prange(nch):
        _fold_range_base(f, w, a0, a1, fo, wo, c * step, min(m, (c + 1) * step))


@njit(parallel=True, **_OPTS)
def _fold_ext_par(f, w, a0, a1, fo, wo, nch):
    m = fo.shape[0]
    step = (m + nch - 1) // nch
    for c in prange(nch):
        _fold_range_ext(f, w, a0, a1, fo, wo, c * step, min(m, (c + 1) * step))


def _sum_parts(part: np.ndarray) -> np.ndarray:
    """(nch, 4) partial sums -> (2, 2) [h(0), h(2)]."""
    s = [sum(int(x) for x in part[:, j]) % P_INT for j in range(4)]
    return np.array([[s[0], s[1]], [s[2], s[3]]], dtype=np.uint64)


def _nch(pairs: int) -> int:
    return 1 if pairs < SERIAL_BELOW else max(2, min(64, pairs // CHUNK))


def _check(f: np.ndarray, w: np.ndarray) -> None:
    if w.ndim != 2 or w.shape[1] != 2 or f.shape[0] != w.shape[0] or f.ndim not in (1, 2) \
            or (f.ndim == 2 and f.shape[1] != 2) or w.shape[0] < 2 or w.shape[0] % 2:
        raise ValueError("whir sumcheck: need f (N,) or (N, 2) and w (N, 2), N even")


def round_(f: np.ndarray, w: np.ndarray) -> np.ndarray:
    """[h(0), h(2)] (2, 2) of Σ f·w for f base (N,) or extension (N, 2) and w (N, 2)."""
    f = np.ascontiguousarray(f, dtype=np.uint64)
    w = np.ascontiguousarray(w, dtype=np.uint64)
    _check(f, w)
    nch = _nch(f.shape[0] // 2)
    part = np.zeros((nch, 4), dtype=np.uint64)
    (_round_ext_par if f.ndim == 2 else _round_base_par)(f, w, nch, part)
    return _sum_parts(part)


def fold_round(f: np.ndarray, w: np.ndarray, alpha: np.ndarray
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Bind variable 0 of f (base (N,) or extension (N, 2)) and w (N, 2) to α ∈ E and
    return (f', w', [h(0), h(2)] of Σ f'·w'), N ≥ 4."""
    f = np.ascontiguousarray(f, dtype=np.uint64)
    w = np.ascontiguousarray(w, dtype=np.uint64)
    _check(f, w)
    if f.shape[0] < 4:
        raise ValueError("fold_round: need at least 4 entries")
    M = f.shape[0] // 2
    fo = np.empty((M, 2), dtype=np.uint64)
    wo = np.empty((M, 2), dtype=np.uint64)
    nch = _nch(M // 2)
    part = np.zeros((nch, 4), dtype=np.uint64)
    a0, a1 = np.uint64(alpha[0]), np.uint64(alpha[1])
    (_fold_round_ext_par if f.ndim == 2 else _fold_round_base_par)(f, w, a0, a1, fo, wo,
                                                                    nch, part)
    return fo, wo, _sum_parts(part)


def fold(f: np.ndarray, w: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bind variable 0 of f (base or extension) and w to α: (f', w'), both (N/2, 2)."""
    f = np.ascontiguousarray(f, dtype=np.uint64)
    w = np.ascontiguousarray(w, dtype=np.uint64)
    _check(f, w)
    M = f.shape[0] // 2
    fo = np.empty((M, 2), dtype=np.uint64)
    wo = np.empty((M, 2), dtype=np.uint64)
    a0, a1 = np.uint64(alpha[0]), np.uint64(alpha[1])
    (_fold_ext_par if f.ndim == 2 else _fold_base_par)(f, w, a0, a1, fo, wo, _nch(M))
    return fo, wo


# -- pure-Python twins ---------------------------------------------------------------------


def _ext_list(a) -> list[tuple[int, int]]:
    a = np.asarray(a, dtype=np.uint64)
    if a.ndim == 1:
        return [(int(x), 0) for x in a]
    return [(int(x), int(y)) for x, y in a]


def round_ref(f, w) -> np.ndarray:
    """[h(0), h(2)] of Σ f·w from the definition (f base or extension)."""
    fl, wl = _ext_list(f), _ext_list(w)
    h0, h2 = (0, 0), (0, 0)
    for i in range(len(fl) // 2):
        f0, f1, w0, w1 = fl[2 * i], fl[2 * i + 1], wl[2 * i], wl[2 * i + 1]
        p = R.e2_mul(*f0, *w0)
        h0 = ((h0[0] + p[0]) % P_INT, (h0[1] + p[1]) % P_INT)
        f2 = ((2 * f1[0] - f0[0]) % P_INT, (2 * f1[1] - f0[1]) % P_INT)
        w2 = ((2 * w1[0] - w0[0]) % P_INT, (2 * w1[1] - w0[1]) % P_INT)
        p = R.e2_mul(*f2, *w2)
        h2 = ((h2[0] + p[0]) % P_INT, (h2[1] + p[1]) % P_INT)
    return np.array([h0, h2], dtype=np.uint64)


def fold_ref(t, alpha) -> np.ndarray:
    """t[2j] + α·(t[2j+1] − t[2j]) for every j (t base or extension): (N/2, 2)."""
    tl = _ext_list(t)
    a = (int(alpha[0]), int(alpha[1]))
    out = []
    for j in range(len(tl) // 2):
        lo, hi = tl[2 * j], tl[2 * j + 1]
        p = R.e2_mul((hi[0] - lo[0]) % P_INT, (hi[1] - lo[1]) % P_INT, *a)
        out.append(((lo[0] + p[0]) % P_INT, (lo[1] + p[1]) % P_INT))
    return np.array(out, dtype=np.uint64).reshape(-1, 2)
