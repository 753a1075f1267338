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

# the interleaved (n, 2) tables are de-interleaved into lane blocks (`LANES`) by plain
# copy loops, the products (the vectorisable forms) and the sums (per lane) run over the
# lanes: loops with loop-carried sums over interleaved tables stay scalar in LLVM
from .goldilocks import P_INT, ZERO, gl_add, gl_sub
from .goldilocks import e2_mul as e2_mul_v
from .goldilocks import gl_mul as gl_mul_v
from .jit_util import _wide512

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: pairs per chunk of the parallel reductions
CHUNK = 1 << 13
#: below this many pairs the serial path is used
SERIAL_BELOW = 1 << 13


@njit(inline="always", **_OPTS)
def _dbl_sub(hi, lo):
    """2·hi − lo (the value at X = 2 of the line through lo, hi)."""
    return gl_sub(gl_add(hi, hi), lo)


@njit(inline="always", **_OPTS)
def _ld_round(t, b, n, X0, X1, Y0, Y1):
    """X = t[2i], Y = 2·t[2i + 1] − t[2i] (i = b + p, p < n) of an extension table."""
    for p in range(n):
        i = 2 * (b + p)
        x0 = t[i, 0]
        x1 = t[i, 1]
        X0[p] = x0
        X1[p] = x1
        Y0[p] = _dbl_sub(t[i + 1, 0], x0)
        Y1[p] = _dbl_sub(t[i + 1, 1], x1)


@njit(**_OPTS)
def _round_base_range(f, w, lo, hi, out):
    """[h(0), h(2)] of pairs lo..hi (f base): lane blocks of `LANES` pairs, per-lane sums
    (exact field sums: the same values)."""
    _wide512()  # zmm code (s37h5: x0.81-0.92 CPU, same values)
    B = LANES
    X = np.empty((6, B), dtype=np.uint64)
    S = np.zeros((4, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        for p in range(n):
            i = 2 * (i0 + p)
            x = f[i]
            X[0, p] = x
            X[1, p] = _dbl_sub(f[i + 1], x)
        _ld_round(w, i0, n, X[2], X[3], X[4], X[5])
        for p in range(n):
            S[0, p] = gl_add(S[0, p], gl_mul_v(X[0, p], X[2, p]))
            S[1, p] = gl_add(S[1, p], gl_mul_v(X[0, p], X[3, p]))
            S[2, p] = gl_add(S[2, p], gl_mul_v(X[1, p], X[4, p]))
            S[3, p] = gl_add(S[3, p], gl_mul_v(X[1, p], X[5, p]))
    _lane_sums(S, out)


@njit(**_OPTS)
def _round_ext_range(f, w, lo, hi, out):
    """`_round_base_range` with f extension (N, 2)."""
    _wide512()  # zmm code (s37h5: x0.81-0.92 CPU, same values)
    B = LANES
    X = np.empty((8, B), dtype=np.uint64)
    S = np.zeros((4, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        _ld_round(f, i0, n, X[0], X[1], X[2], X[3])
        _ld_round(w, i0, n, X[4], X[5], X[6], X[7])
        for p in range(n):
            p0, p1 = e2_mul_v(X[0, p], X[1, p], X[4, p], X[5, p])
            S[0, p] = gl_add(S[0, p], p0)
            S[1, p] = gl_add(S[1, p], p1)
            p0, p1 = e2_mul_v(X[2, p], X[3, p], X[6, p], X[7, p])
            S[2, p] = gl_add(S[2, p], p0)
            S[3, p] = gl_add(S[3, p], p1)
    _lane_sums(S, out)


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


#: pairs a lane block of the folds (`_fold_round_range_*`, `_fold_range_*`): the
#: interleaved (n, 2) entries de-interleaved into lane arrays by plain copy loops, the
#: products (the vectorisable `goldilocks.e2_mul` / `gl_mul`) and sums over the lanes
LANES = 32


@njit(inline="always", **_OPTS)
def _ld_ext(t, b, st, n, L0, L1, D0, D1):
    """L = lo, D = hi − lo of the extension pairs (t[b + st·p], t[b + st·p + 1]), p < n."""
    for p in range(n):
        i = b + st * p
        l0 = t[i, 0]
        l1 = t[i, 1]
        L0[p] = l0
        L1[p] = l1
        D0[p] = gl_sub(t[i + 1, 0], l0)
        D1[p] = gl_sub(t[i + 1, 1], l1)


@njit(inline="always", **_OPTS)
def _fold_ext_lanes(t, b, st, n, a0, a1, L0, L1, D0, D1):
    """L = lo + α·(hi − lo) of the pairs of `_ld_ext` (D scratch)."""
    _ld_ext(t, b, st, n, L0, L1, D0, D1)
    for p in range(n):
        p0, p1 = e2_mul_v(D0[p], D1[p], a0, a1)
        L0[p] = gl_add(L0[p], p0)
        L1[p] = gl_add(L1[p], p1)


@njit(inline="always", **_OPTS)
def _fold_base_lanes(t, b, st, n, a0, a1, L0, L1):
    """(L0, L1) = lo + α·(hi − lo) of the base pairs (t[b + st·p], t[b + st·p + 1])."""
    for p in range(n):
        i = b + st * p
        L0[p] = t[i]
        L1[p] = gl_sub(t[i + 1], t[i])
    for p in range(n):
        d = L1[p]
        L0[p] = gl_add(L0[p], gl_mul_v(d, a0))
        L1[p] = gl_mul_v(d, a1)


@njit(inline="always", **_OPTS)
def _store_round(fo, wo, i0, n, X, S):
    """The folded pairs' entries into fo / wo (entries 2i, 2i + 1 of pair i = i0 + p:
    f in X[0, 1] / X[4, 5], w in X[8, 9] / X[12, 13]) and their round products into
    the lane sums S (h(0): f·w at 2i; h(2): (2f − f)·(2w − w))."""
    for p in range(n):
        k = 2 * (i0 + p)
        fo[k, 0] = X[0, p]
        fo[k, 1] = X[1, p]
        fo[k + 1, 0] = X[4, p]
        fo[k + 1, 1] = X[5, p]
    for p in range(n):
        k = 2 * (i0 + p)
        wo[k, 0] = X[8, p]
        wo[k, 1] = X[9, p]
        wo[k + 1, 0] = X[12, p]
        wo[k + 1, 1] = X[13, p]
    for p in range(n):
        p0, p1 = e2_mul_v(X[0, p], X[1, p], X[8, p], X[9, p])
        S[0, p] = gl_add(S[0, p], p0)
        S[1, p] = gl_add(S[1, p], p1)
        p0, p1 = e2_mul_v(_dbl_sub(X[4, p], X[0, p]), _dbl_sub(X[5, p], X[1, p]),
                          _dbl_sub(X[12, p], X[8, p]), _dbl_sub(X[13, p], X[9, p]))
        S[2, p] = gl_add(S[2, p], p0)
        S[3, p] = gl_add(S[3, p], p1)


@njit(inline="always", **_OPTS)
def _lane_sums(S, out):
    for k in range(4):
        s = ZERO
        for p in range(S.shape[1]):
            s = gl_add(s, S[k, p])
        out[k] = s


@njit(**_OPTS)
def _fold_round_range_base(f, w, a0, a1, fo, wo, lo, hi, out):
    """Pairs lo..hi of the *folded* tables (folded entries 2i, 2i+1): fold, store, and
    accumulate the next round's h(0), h(2).  f base (N,).  Lane blocks of `LANES`
    pairs, per-lane sums (exact field sums: the same values)."""
    _wide512()  # zmm code (s37h5: x0.81-0.92 CPU, same values)
    B = LANES
    X = np.empty((16, B), dtype=np.uint64)
    S = np.zeros((4, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        # folded f at 2i from base pairs (4i, 4i+1), at 2i + 1 from (4i+2, 4i+3)
        _fold_base_lanes(f, 4 * i0, 4, n, a0, a1, X[0], X[1])
        _fold_base_lanes(f, 4 * i0 + 2, 4, n, a0, a1, X[4], X[5])
        _fold_ext_lanes(w, 4 * i0, 4, n, a0, a1, X[8], X[9], X[10], X[11])
        _fold_ext_lanes(w, 4 * i0 + 2, 4, n, a0, a1, X[12], X[13], X[14], X[15])
        _store_round(fo, wo, i0, n, X, S)
    _lane_sums(S, out)


@njit(**_OPTS)
def _fold_round_range_ext(f, w, a0, a1, fo, wo, lo, hi, out):
    """`_fold_round_range_base` with f extension (N, 2)."""
    _wide512()  # zmm code (s37h5: x0.81-0.92 CPU, same values)
    B = LANES
    X = np.empty((16, B), dtype=np.uint64)
    S = np.zeros((4, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        _fold_ext_lanes(f, 4 * i0, 4, n, a0, a1, X[0], X[1], X[2], X[3])
        _fold_ext_lanes(f, 4 * i0 + 2, 4, n, a0, a1, X[4], X[5], X[6], X[7])
        _fold_ext_lanes(w, 4 * i0, 4, n, a0, a1, X[8], X[9], X[10], X[11])
        _fold_ext_lanes(w, 4 * i0 + 2, 4, n, a0, a1, X[12], X[13], X[14], X[15])
        _store_round(fo, wo, i0, n, X, S)
    _lane_sums(S, out)


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


@njit(inline="always", **_OPTS)
def _store2(o, i0, n, X0, X1):
    for p in range(n):
        o[i0 + p, 0] = X0[p]
        o[i0 + p, 1] = X1[p]


@njit(**_OPTS)
def _fold_range_base(f, w, a0, a1, fo, wo, lo, hi):
    """fo[j] = f[2j] + α·(f[2j+1] − f[2j]) (f base), wo likewise, j in lo..hi: lane
    blocks of `LANES`."""
    _wide512()  # zmm code (s37h5: x0.81-0.92 CPU, same values)
    B = LANES
    X = np.empty((6, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        _fold_base_lanes(f, 2 * i0, 2, n, a0, a1, X[0], X[1])
        _store2(fo, i0, n, X[0], X[1])
        _fold_ext_lanes(w, 2 * i0, 2, n, a0, a1, X[2], X[3], X[4], X[5])
        _store2(wo, i0, n, X[2], X[3])


@njit(**_OPTS)
def _fold_range_ext(f, w, a0, a1, fo, wo, lo, hi):
    """`_fold_range_base` with f extension (N, 2)."""
    _wide512()  # zmm code (s37h5: x0.81-0.92 CPU, same values)
    B = LANES
    X = np.empty((4, B), dtype=np.uint64)
    for i0 in range(lo, hi, B):
        n = min(B, hi - i0)
        _fold_ext_lanes(f, 2 * i0, 2, n, a0, a1, X[0], X[1], X[2], X[3])
        _store2(fo, i0, n, X[0], X[1])
        _fold_ext_lanes(w, 2 * i0, 2, n, a0, a1, X[0], X[1], X[2], X[3])
        _store2(wo, i0, n, X[0], X[1])


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
