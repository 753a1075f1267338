"""Numba kernels of the LogUp arguments over goldilocks-ext2 (see `zklora.kernels.goldilocks`).

Extension elements are ``(n, 2)`` uint64 arrays.  Each kernel has a pure-Python twin
(``ref_*``) on Python ints used by the tests.

* `e_leaf_denoms` — the leaves β − Σ_k a_k·col_k(i) of a fraction tree (cols in the base field,
  a the combiners, `zklora.zkcore.lookup.draw_combiners`); `e_leaf_denoms_sets` the same
  for several challenge sets at once, interleaved;
* `e_frac_up` — one layer of the fraction-sum tree, halves paired by the top index bit:
  (p', q')[i] = (p[i]·q[i+h] + p[i+h]·q[i],  q[i]·q[i+h]);
* `e_frac_up_unit` — the same for numerators all 1: (q[i] + q[i+h], q[i]·q[i+h]);
* `e_frac_reduce` — log2(m) such layers in one pass, the levels above the first in cache
  (a layer summed from its leaves, `zklora.plugins.lookups.logup_gkr.layer_range`);
* `e_leaf_pair_sets` — `e_leaf_denoms_sets` for one or two columns read in place;
* `e_gkr_sums`, `e_gkr_message`, `e_quad_eval` — one round of a GKR layer sumcheck with
  the eq factor split off (see the section below and `zklora.plugins.lookups.logup_gkr`);
* `e_gkr_window_sums`, `window_round_sums` — several rounds of a streamed layer from one
  pass over it (the last section).
"""

from __future__ import annotations

import llvmlite.ir as ir
import numba
import numpy as np
from numba import njit, prange
from numba.core import cgutils
from numba.core import types as _nt
from numba.extending import intrinsic, overload

from .goldilocks import (
    BLOCK,
    EPS,
    M32,
    ONE,
    P_INT,
    S32,
    SMALL,
    T32,
    ZERO,
    P,
    _chunks,
    _sc_fold_block,
    e2_mul,
    e2_mul_call,
    e_sc_fold,
    e_sc_fold_s,
    gl_add,
    gl_dot2,
    gl_mul,
    gl_mul7,
    gl_neg,
    gl_pow,
    gl_reduce128,
    gl_sub,
    mul128,
)
from .jit_util import _wide512
from .ntt import _I64, _VT, _arr, _v_ptr, _v_reduce128, _vc
from .ntt import _v_add as _ir_add
from .ntt import _v_sub as _ir_sub
from .whir_eq import IFMA, IFMA_LANES, _ifma_limbs, ifma_decl, ifma_madd

_OPTS = dict(cache=True, nogil=True, fastmath=False)

@njit(inline="always", **_OPTS)
def _leaf_sets_block(cols, apow, beta, out, s, cnt, s0, s1):
    """out[s+i, r] for i < cnt and every challenge set r: both components accumulated in
    lanes (s0, s1), one column at a time (loops LLVM vectorises), then interleaved into
    ``out`` (the columns' block is read once per set from cache, not once per set from
    memory)."""
    for r in range(apow.shape[0]):
        for i in range(cnt):
            s0[i] = beta[r, 0]
            s1[i] = beta[r, 1]
        for k in range(cols.shape[0]):
            a0 = apow[r, k, 0]
            a1 = apow[r, k, 1]
            for i in range(cnt):
                c = cols[k, s + i]
                s0[i] = gl_sub(s0[i], gl_mul(a0, c))
                s1[i] = gl_sub(s1[i], gl_mul(a1, c))
        for i in range(cnt):
            out[s + i, r, 0] = s0[i]
            out[s + i, r, 1] = s1[i]


@njit(parallel=True, **_OPTS)
def e_leaf_denoms_sets(cols, apow, beta, out):
    """out[i, r] = β_r − Σ_k apow[r, k]·cols[k, i]: the leaves of R challenge sets at
    once, interleaved; cols (w, N) base, apow (R, w, 2), beta (R, 2), out (N, R, 2)."""
    n = cols.shape[1]
    nb = (n + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
        s0 = np.empty(BLOCK, np.uint64)
        s1 = np.empty(BLOCK, np.uint64)
        s = blk * BLOCK
        _leaf_sets_block(cols, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(**_OPTS)
def e_leaf_denoms_sets_s(cols, apow, beta, out):
    """Serial `e_leaf_denoms_sets` (short ranges)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    n = cols.shape[1]
    s0 = np.empty(BLOCK, np.uint64)
    s1 = np.empty(BLOCK, np.uint64)
    for s in range(0, n, BLOCK):
        _leaf_sets_block(cols, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(inline="always", **_OPTS)
def _leaf_pair_block(c0, c1, w, apow, beta, out, s, cnt, s0, s1):
    """`_leaf_sets_block` for w ≤ 2 columns given as two arrays (c1 unread when w = 1):
    no (w, N) stack of the columns is copied first."""
    for r in range(apow.shape[0]):
        a0 = apow[r, 0, 0]
        a1 = apow[r, 0, 1]
        for i in range(cnt):
            c = c0[s + i]
            s0[i] = gl_sub(beta[r, 0], gl_mul(a0, c))
            s1[i] = gl_sub(beta[r, 1], gl_mul(a1, c))
        if w == 2:
            a0 = apow[r, 1, 0]
            a1 = apow[r, 1, 1]
            for i in range(cnt):
                c = c1[s + i]
                s0[i] = gl_sub(s0[i], gl_mul(a0, c))
                s1[i] = gl_sub(s1[i], gl_mul(a1, c))
        for i in range(cnt):
            out[s + i, r, 0] = s0[i]
            out[s + i, r, 1] = s1[i]


@njit(parallel=True, **_OPTS)
def e_leaf_pair_sets(c0, c1, w, apow, beta, out):
    """`e_leaf_denoms_sets` for w ≤ 2 columns c0, c1 (1-D, base; c1 ignored when w = 1):
    out[i, r] = β_r − apow[r, 0]·c0[i] (− apow[r, 1]·c1[i])."""
    n = c0.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
        s0 = np.empty(BLOCK, np.uint64)
        s1 = np.empty(BLOCK, np.uint64)
        s = blk * BLOCK
        _leaf_pair_block(c0, c1, w, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(**_OPTS)
def e_leaf_pair_sets_s(c0, c1, w, apow, beta, out):
    """Serial `e_leaf_pair_sets`."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    n = c0.shape[0]
    s0 = np.empty(BLOCK, np.uint64)
    s1 = np.empty(BLOCK, np.uint64)
    for s in range(0, n, BLOCK):
        _leaf_pair_block(c0, c1, w, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


def _one_set(apow, beta, out):
    """A single set's arguments as the sets kernels' R = 1 views (no copies)."""
    if not out.flags.c_contiguous:
        raise ValueError("e_leaf_denoms: out must be contiguous")
    return (apow.reshape(1, apow.shape[0], 2), beta.reshape(1, 2),
            out.reshape(out.shape[0], 1, 2))


def e_leaf_denoms(cols, apow, beta, out):
    """out[i] = β − Σ_k apow[k]·cols[k, i]; cols (w, N) base, apow (w, 2), beta (2,):
    `e_leaf_denoms_sets` with one set."""
    e_leaf_denoms_sets(cols, *_one_set(apow, beta, out))


def e_leaf_denoms_s(cols, apow, beta, out):
    """Serial `e_leaf_denoms` (short ranges: the prover's streamed passes call it on many
    short segments, where a thread launch costs more than the work)."""
    e_leaf_denoms_sets_s(cols, *_one_set(apow, beta, out))


@njit(**_OPTS)
def _v_mul(a0, a1, b0, b1, o0, o1, cnt):
    """(o0 + o1 x)[i] = (a0 + a1 x)[i]·(b0 + b1 x)[i] for i < cnt, one extension component
    per lane array (o distinct from a and b).  A plain call, compiled once and vectorised:
    `e2_mul` inlined (numba IR) into every block kernel made cold compiles take minutes."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    for i in range(cnt):
        o0[i], o1[i] = e2_mul(a0[i], a1[i], b0[i], b1[i])


@njit(**_OPTS)
def _v_add(a, b, o, cnt):
    """o[i] = a[i] + b[i] for i < cnt (base field lanes)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    for i in range(cnt):
        o[i] = gl_add(a[i], b[i])


@njit(**_OPTS)
def _v_sub(a, b, o, cnt):
    """o[i] = a[i] − b[i] for i < cnt (base field lanes)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    for i in range(cnt):
        o[i] = gl_sub(a[i], b[i])


#: lane rows of `_frac_block`'s scratch L
_NL = 12


@njit(inline="always", **_OPTS)
def _frac_block(p, q, pout, qout, s, cnt, unit, L):
    """Outputs s … s+cnt−1 of `e_frac_up` (``unit``: numerators 1): the halves'
    components de-interleaved into the lane rows of L (`_NL` rows), products lane by
    lane (`_v_mul`), written back interleaved."""
    h = pout.shape[0]
    for i in range(cnt):
        L[0, i] = q[s + i, 0]
        L[1, i] = q[s + i, 1]
        L[2, i] = q[s + i + h, 0]
        L[3, i] = q[s + i + h, 1]
    if unit:
        _v_add(L[0], L[2], L[4], cnt)
        _v_add(L[1], L[3], L[5], cnt)
    else:
        for i in range(cnt):
            L[4, i] = p[s + i, 0]
            L[5, i] = p[s + i, 1]
            L[6, i] = p[s + i + h, 0]
            L[7, i] = p[s + i + h, 1]
        _v_mul(L[4], L[5], L[2], L[3], L[8], L[9], cnt)
        _v_mul(L[6], L[7], L[0], L[1], L[10], L[11], cnt)
        _v_add(L[8], L[10], L[4], cnt)
        _v_add(L[9], L[11], L[5], cnt)
    _v_mul(L[0], L[1], L[2], L[3], L[6], L[7], cnt)
    for i in range(cnt):
        pout[s + i, 0] = L[4, i]
        pout[s + i, 1] = L[5, i]
        qout[s + i, 0] = L[6, i]
        qout[s + i, 1] = L[7, i]


@njit(parallel=True, **_OPTS)
def e_frac_up(p, q, pout, qout):
    """One fraction-tree layer: pout[i] = p[i]q[i+h] + p[i+h]q[i], qout[i] = q[i]q[i+h]."""
    h = pout.shape[0]
    for blk in prange((h + BLOCK - 1) // BLOCK):
        _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
        L = np.empty((_NL, BLOCK), np.uint64)
        _frac_block(p, q, pout, qout, blk * BLOCK, min(h, (blk + 1) * BLOCK) - blk * BLOCK,
                    False, L)


@njit(parallel=True, **_OPTS)
def e_frac_up_unit(q, pout, qout):
    """One layer above leaves with numerator 1: pout[i] = q[i] + q[i+h], qout[i] = q[i]q[i+h]."""
    h = pout.shape[0]
    for blk in prange((h + BLOCK - 1) // BLOCK):
        _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
        L = np.empty((_NL, BLOCK), np.uint64)
        _frac_block(q, q, pout, qout, blk * BLOCK, min(h, (blk + 1) * BLOCK) - blk * BLOCK,
                    True, L)


@njit(inline="always", **_OPTS)
def _reduce_block(p, q, unit, m, w, s, cnt, LP, LQ, T):
    """Entries s … s+cnt−1 of `e_frac_reduce`: level 1 from the m pieces in memory (piece
    j with piece j + m/2, as `e_frac_up` pairs them), the levels above in the lane rows
    of LP, LQ (m/2, 2, ·) in cache; written to LP[0], LQ[0]."""
    h = m // 2
    for j in range(h):
        a = j * w + s
        b = (j + h) * w + s
        for i in range(cnt):
            T[0, i] = q[a + i, 0]
            T[1, i] = q[a + i, 1]
            T[2, i] = q[b + i, 0]
            T[3, i] = q[b + i, 1]
        if unit:
            _v_add(T[0], T[2], LP[j, 0], cnt)
            _v_add(T[1], T[3], LP[j, 1], cnt)
        else:
            for i in range(cnt):
                T[4, i] = p[a + i, 0]
                T[5, i] = p[a + i, 1]
                T[6, i] = p[b + i, 0]
                T[7, i] = p[b + i, 1]
            _v_mul(T[4], T[5], T[2], T[3], T[8], T[9], cnt)
            _v_mul(T[6], T[7], T[0], T[1], T[10], T[11], cnt)
            _v_add(T[8], T[10], LP[j, 0], cnt)
            _v_add(T[9], T[11], LP[j, 1], cnt)
        _v_mul(T[0], T[1], T[2], T[3], LQ[j, 0], LQ[j, 1], cnt)
    while h > 1:
        h //= 2
        for j in range(h):
            _v_mul(LP[j, 0], LP[j, 1], LQ[j + h, 0], LQ[j + h, 1], T[8], T[9], cnt)
            _v_mul(LP[j + h, 0], LP[j + h, 1], LQ[j, 0], LQ[j, 1], T[10], T[11], cnt)
            _v_add(T[8], T[10], LP[j, 0], cnt)
            _v_add(T[9], T[11], LP[j, 1], cnt)
            _v_mul(LQ[j, 0], LQ[j, 1], LQ[j + h, 0], LQ[j + h, 1], T[6], T[7], cnt)
            for i in range(cnt):
                LQ[j, 0, i] = T[6, i]
                LQ[j, 1, i] = T[7, i]


@njit(inline="always", **_OPTS)
def _reduce_range(p, q, unit, m, pout, qout, lo, hi, rb):
    """`_reduce_block` over entries lo … hi−1, ``rb`` at a time (one scratch)."""
    w = pout.shape[0]
    LP = np.empty((m // 2, 2, rb), np.uint64)
    LQ = np.empty((m // 2, 2, rb), np.uint64)
    T = np.empty((12, rb), np.uint64)
    for s in range(lo, hi, rb):
        cnt = min(hi, s + rb) - s
        _reduce_block(p, q, unit, m, w, s, cnt, LP, LQ, T)
        for i in range(cnt):
            pout[s + i, 0] = LP[0, 0, i]
            pout[s + i, 1] = LP[0, 1, i]
            qout[s + i, 0] = LQ[0, 0, i]
            qout[s + i, 1] = LQ[0, 1, i]


@njit(parallel=True, **_OPTS)
def e_frac_reduce(p, q, unit, m, pout, qout, rb, nchunks):
    """log2(m) fraction-tree layers at once: q (and p unless ``unit``, numerators 1) of
    m·w entries, piece j (rows j·w … j·w + w − 1) the j-th of m; (pout, qout)[i] the
    fraction sum of the m entries i + j·w — `e_frac_up` applied log2(m) times (the same
    pairing, the same values), with the levels above the first held in cache, ``rb``
    entries at a time, instead of written and read back (m a power of two ≥ 2)."""
    w = pout.shape[0]
    step = (w + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
        _reduce_range(p, q, unit, m, pout, qout, min(w, c * step), min(w, (c + 1) * step),
                      rb)


@njit(**_OPTS)
def e_frac_reduce_s(p, q, unit, m, pout, qout, rb):
    """Serial `e_frac_reduce`."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    _reduce_range(p, q, unit, m, pout, qout, 0, pout.shape[0], rb)


# -- pure-Python references (Python ints, elements as (a0, a1) tuples) --------------------


def _ref_mul(a, b):
    return ((a[0] * b[0] + 7 * a[1] * b[1]) % P_INT, (a[0] * b[1] + a[1] * b[0]) % P_INT)


def _ref_add(a, b):
    return ((a[0] + b[0]) % P_INT, (a[1] + b[1]) % P_INT)


def ref_leaf_denoms(cols, apow, beta):
    out = []
    for i in range(len(cols[0])):
        s = (int(beta[0]), int(beta[1]))
        for k in range(len(cols)):
            c = int(cols[k][i])
            s = ((s[0] - int(apow[k][0]) * c) % P_INT, (s[1] - int(apow[k][1]) * c) % P_INT)
        out.append(s)
    return np.array(out, dtype=np.uint64).reshape(-1, 2)


def ref_frac_up(p, q):
    h = len(q) // 2
    P = [(int(a), int(b)) for a, b in p]
    Q = [(int(a), int(b)) for a, b in q]
    po = [_ref_add(_ref_mul(P[i], Q[i + h]), _ref_mul(P[i + h], Q[i])) for i in range(h)]
    qo = [_ref_mul(Q[i], Q[i + h]) for i in range(h)]
    return np.array(po, np.uint64).reshape(-1, 2), np.array(qo, np.uint64).reshape(-1, 2)


def ref_frac_up_unit(q):
    one = np.zeros_like(np.asarray(q, np.uint64))
    one[:, 0] = 1
    return ref_frac_up(one, q)


# -- backend dispatch on a challenge field (numba for goldilocks-ext2, numpy otherwise) ----


def _fast(E) -> bool:
    return E.name == "goldilocks-ext2"


fast = _fast


def leaf_denoms(E, cols, apow, beta, out=None):
    """β − Σ_k apow[k]·cols[k] for base-field columns ``cols`` (list of flat arrays),
    written into ``out`` (a challenge-field array of the columns' length) when given."""
    n = len(cols[0])
    if _fast(E):
        if out is None:
            out = np.empty((n, 2), dtype=np.uint64)
        if not (out.flags.c_contiguous and out.dtype == np.uint64 and out.shape == (n, 2)):
            raise ValueError("leaf_denoms: out must be a contiguous (n, 2) uint64 array")
        c0 = cols[0]
        if len(cols) == 1 and c0.dtype == np.uint64 and c0.flags.c_contiguous:
            cs = c0.reshape(1, n)   # a view: no copy of the one column
        else:
            cs = np.ascontiguousarray(np.stack(cols), np.uint64)
        kern = e_leaf_denoms_sets if n * len(cols) >= SMALL else e_leaf_denoms_sets_s
        kern(cs, *_one_set(np.ascontiguousarray(apow, np.uint64),
                           np.ascontiguousarray(beta, np.uint64), out))
        return out
    acc = E.sub(E.zeros(n), E.mul(E.embed(np.asarray(cols[0])), apow[0]))
    for k in range(1, len(cols)):
        acc = E.sub(acc, E.mul(E.embed(np.asarray(cols[k])), apow[k]))
    acc = E.add(acc, beta)
    if out is None:
        return acc
    out[...] = acc
    return out


def ref_frac_reduce(p, q, m):
    """Reference of `e_frac_reduce`: `ref_frac_up` (``p`` None: `ref_frac_up_unit`)
    log2(m) times."""
    if p is None:
        p, q = ref_frac_up_unit(q)
        m //= 2
    while m > 1:
        p, q = ref_frac_up(p, q)
        m //= 2
    return p, q


def _outs(out, w: int):
    """(pout, qout): ``out``'s arrays (contiguous (w, 2) uint64, written in place) or new
    ones."""
    if out is None:
        return np.empty((w, 2), dtype=np.uint64), np.empty((w, 2), dtype=np.uint64)
    for o in out:
        if not (o.flags.c_contiguous and o.dtype == np.uint64 and o.shape == (w, 2)):
            raise ValueError("out must be contiguous (w, 2) uint64 arrays")
    return out


def frac_reduce(E, p, q, m: int, out=None):
    """The layer log2(m) levels above (p, q) (``p is None``: numerators all 1): one
    `e_frac_reduce` pass instead of log2(m) `frac_up` calls; returns (p', q'), written
    into ``out`` = (pout, qout) when given (goldilocks-ext2, m ≥ 2)."""
    if m == 1:
        return p, q
    if m == 2 or not _fast(E):   # (one level: `frac_up` is as fast)
        while m > 2:
            p, q = frac_up(E, p, q)
            m //= 2
        return frac_up(E, p, q, out)
    q = np.ascontiguousarray(q, np.uint64)
    w = q.shape[0] // m
    unit = p is None
    p = q if unit else np.ascontiguousarray(p, np.uint64)
    pout, qout = _outs(out, w)
    rb = max(8, min(512, 4096 // m))
    if w * m < SMALL:
        e_frac_reduce_s(p, q, unit, m, pout, qout, rb)
    else:
        nch = max(1, min(_chunks(w * m), (w + rb - 1) // rb))
        e_frac_reduce(p, q, unit, m, pout, qout, rb, nch)
    return pout, qout


def ref_leaf_denoms_sets(cols, apow, beta):
    """Reference of `e_leaf_denoms_sets`: (N, R, 2)."""
    return np.stack([ref_leaf_denoms(cols, apow[r], beta[r]) for r in range(len(apow))],
                    axis=1)


def leaf_denoms_sets(E, cols, apows, betas, out):
    """`leaf_denoms` for R challenge sets at once: out[i, r] = β_r − Σ_k apows[r][k]·cols[k][i]
    (``out``: a C-contiguous array of shape (n, R) + E's element shape)."""
    n = len(cols[0])
    R = len(apows)
    if not _fast(E):
        for r in range(R):
            out[:, r] = leaf_denoms(E, cols, apows[r], betas[r])
        return out
    if not (out.flags.c_contiguous and out.dtype == np.uint64 and out.shape == (n, R, 2)):
        raise ValueError("leaf_denoms_sets: out must be a contiguous (n, R, 2) uint64 array")
    ap = np.ascontiguousarray(np.stack([np.asarray(a, np.uint64) for a in apows]), np.uint64)
    bt = np.ascontiguousarray(np.stack([np.asarray(b, np.uint64) for b in betas]), np.uint64)
    return leaf_sets_u64(cols, ap.reshape(R, len(cols), 2), bt.reshape(R, 2), out)


def leaf_sets_u64(cols, ap, bt, out):
    """`leaf_denoms_sets` over goldilocks-ext2 with the combiners already stacked: ap
    (R, w, 2), bt (R, 2) uint64; ``out`` contiguous (n, R, 2).  One or two columns are
    read where they lie (`e_leaf_pair_sets`), more are stacked first."""
    n = len(cols[0])
    R, w = ap.shape[0], ap.shape[1]
    if w <= 2 and all(c.dtype == np.uint64 and c.flags.c_contiguous for c in cols):
        kern = e_leaf_pair_sets if n * w * R >= SMALL else e_leaf_pair_sets_s
        kern(cols[0], cols[-1], w, ap, bt, out)
        return out
    cs = np.ascontiguousarray(np.stack(cols), np.uint64)
    kern = e_leaf_denoms_sets if n * w * R >= SMALL else e_leaf_denoms_sets_s
    kern(cs, ap, bt, out)
    return out


def frac_up(E, p, q, out=None):
    """One fraction-tree layer (``p is None``: numerators all 1); returns (p', q'),
    written into ``out`` = (pout, qout) when given."""
    h = E.length(q) // 2
    if _fast(E):
        pout, qout = _outs(out, h)
        q = np.ascontiguousarray(q, np.uint64)
        if p is None:
            e_frac_up_unit(q, pout, qout)
        else:
            e_frac_up(np.ascontiguousarray(p, np.uint64), q, pout, qout)
        return pout, qout
    q0, q1 = q[:h], q[h:]
    pout = E.add(q0, q1) if p is None else E.add(E.mul(p[:h], q1), E.mul(p[h:], q0))
    qout = E.mul(q0, q1)
    if out is not None:
        out[0][...], out[1][...] = pout, qout
        return out
    return pout, qout


# -- GKR layer sumcheck with the eq factor split off (Gruen) ------------------------------
#
# A layer sumcheck proves Σ_x eq(r, x)·F(x) = claim with, per tree t (coefficient c_t),
# F_t = A_t + μ·B_t,  A = p0·q1 + p1·q0 (unit numerators: q0 + q1),  B = q0·q1.
# Round j binds variable j; with E_j(y) = eq(r_{>j}, y) its round polynomial factors as
# s_j(X) = eq(r_<j, ρ_<j)·eq(r_j, X)·q_j(X),  q_j(X) = Σ_y E_j(y)·F(ρ_<j, X, y),
# and q_j has degree 2.  The prover computes q_j(0) and the X² coefficient q_j(∞) (pair
# sums below), derives q_j(1) from the running claim, and sends the same s_j(0), s_j(2),
# s_j(3) as the generic prover (`zklora.zkcore.sumcheck.prove`): proofs are identical.
# E_{j+1}(y) = E_j(2y) + E_j(2y+1) (eq(r, 0) + eq(r, 1) = 1): additions only.


#: pairs per block of the de-interleaving layer-sum kernel (`_gkr_sums_range`)
GBLOCK = 256


@njit(inline="always", **_OPTS)
def _lanes(W, s, lo, cnt, L0, L1, H0, H1):
    """De-interleave pairs lo … lo+cnt−1 of table s of W (k, 2m, 2): low halves (L0, L1)
    and high halves (H0, H1) of the pairs, one component per lane array."""
    for i in range(cnt):
        L0[i] = W[s, 2 * (lo + i), 0]
        L1[i] = W[s, 2 * (lo + i), 1]
        H0[i] = W[s, 2 * (lo + i) + 1, 0]
        H1[i] = W[s, 2 * (lo + i) + 1, 1]


@njit(inline="always", **_OPTS)
def _fin4(a, b, c, d):
    """a + b·2^32 + c·2^64 + d·2^96 mod p for a, b, c, d < p (2^64 ≡ 2^32 − 1, 2^96 ≡ −1):
    an unreduced sum of 128-bit products kept as four 32-bit limb sums (`_limbs`)."""
    return gl_sub(gl_add(gl_add(a, gl_mul(b, T32)), gl_mul(c, EPS)), d)


@njit(inline="always", **_OPTS)
def _limbs(m_hi, m_lo):
    """The four 32-bit limbs (lo of lo, hi of lo, lo of hi, hi of hi) of a 128-bit
    product (`mul128`), summed lane by lane by the callers (plain adds: vectorised)."""
    return m_lo & M32, m_lo >> S32, m_hi & M32, m_hi >> S32


@njit(inline="always", **_OPTS)
def _v_mul_sum(a0, a1, b0, b1, cnt):
    """Σ_i (a0 + a1 x)[i]·(b0 + b1 x)[i] over cnt ≤ 2^8 lanes: the three Karatsuba
    products' 128-bit values (`mul128`, no reduction per lane) summed as four 32-bit limb
    sums each (< 2^40), reduced (`_fin4`) and combined once — the same field element as
    reducing every product."""
    a00 = ZERO
    a01 = ZERO
    a02 = ZERO
    a03 = ZERO
    a10 = ZERO
    a11 = ZERO
    a12 = ZERO
    a13 = ZERO
    a20 = ZERO
    a21 = ZERO
    a22 = ZERO
    a23 = ZERO
    for i in range(cnt):
        h, l = mul128(a0[i], b0[i])
        x0, x1, x2, x3 = _limbs(h, l)
        a00 += x0
        a01 += x1
        a02 += x2
        a03 += x3
        h, l = mul128(a1[i], b1[i])
        x0, x1, x2, x3 = _limbs(h, l)
        a10 += x0
        a11 += x1
        a12 += x2
        a13 += x3
        h, l = mul128(gl_add(a0[i], a1[i]), gl_add(b0[i], b1[i]))
        x0, x1, x2, x3 = _limbs(h, l)
        a20 += x0
        a21 += x1
        a22 += x2
        a23 += x3
    m0 = _fin4(a00, a01, a02, a03)
    m1 = _fin4(a10, a11, a12, a13)
    m2 = _fin4(a20, a21, a22, a23)
    return gl_add(m0, gl_mul7(m1)), gl_sub(gl_sub(m2, m0), m1)


@njit(inline="always", **_OPTS)
def _v_addmul_sum(e0, e1, a0, a1, b0, b1, cnt):
    """Σ_i e[i]·(a[i] + b[i]) over cnt ≤ 2^8 lanes (`_v_mul_sum` of e and a + b)."""
    a00 = ZERO
    a01 = ZERO
    a02 = ZERO
    a03 = ZERO
    a10 = ZERO
    a11 = ZERO
    a12 = ZERO
    a13 = ZERO
    a20 = ZERO
    a21 = ZERO
    a22 = ZERO
    a23 = ZERO
    for i in range(cnt):
        c0 = gl_add(a0[i], b0[i])
        c1 = gl_add(a1[i], b1[i])
        h, l = mul128(e0[i], c0)
        x0, x1, x2, x3 = _limbs(h, l)
        a00 += x0
        a01 += x1
        a02 += x2
        a03 += x3
        h, l = mul128(e1[i], c1)
        x0, x1, x2, x3 = _limbs(h, l)
        a10 += x0
        a11 += x1
        a12 += x2
        a13 += x3
        h, l = mul128(gl_add(e0[i], e1[i]), gl_add(c0, c1))
        x0, x1, x2, x3 = _limbs(h, l)
        a20 += x0
        a21 += x1
        a22 += x2
        a23 += x3
    m0 = _fin4(a00, a01, a02, a03)
    m1 = _fin4(a10, a11, a12, a13)
    m2 = _fin4(a20, a21, a22, a23)
    return gl_add(m0, gl_mul7(m1)), gl_sub(gl_sub(m2, m0), m1)


@njit(**_OPTS)
def _v_dot(a0, a1, b0, b1, c0, c1, d0, d1, o0, o1, cnt):
    """(o0 + o1 x)[i] = (a·b + c·d)[i] for i < cnt (extension lanes): each Karatsuba
    product pair reduced once (`gl_dot2`), combined once per lane — `_v_mul` twice and
    `_v_add` twice in one loop, the same field elements."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    for i in range(cnt):
        m0 = gl_dot2(a0[i], b0[i], c0[i], d0[i])
        m1 = gl_dot2(a1[i], b1[i], c1[i], d1[i])
        m2 = gl_dot2(gl_add(a0[i], a1[i]), gl_add(b0[i], b1[i]),
                     gl_add(c0[i], c1[i]), gl_add(d0[i], d1[i]))
        o0[i] = gl_add(m0, gl_mul7(m1))
        o1[i] = gl_sub(gl_sub(m2, m0), m1)


# -- AVX-512 IFMA52 lane × lane products (s28h7, s30h3): the lazily summed products of the
# -- layer sums (`_b_terms`, `_a_terms`, `_unit_a_terms`) and of `_window_round` ----------
#
# `whir_eq`'s `_ifma_g` multiplies lanes by broadcast constants; here both factors are
# lanes.  x·y for 64-bit x, y as in whir_eq's IFMA section (x1 = x >> 52, y1 = y >> 52:
# seven vpmadd52 into three 64-bit limbs of weights 1, 2^52, 2^104), Karatsuba: the
# products a0·b0, a1·b1 and (a0 + a1)·(b0 + b1) into three limb triples (9 vectors).
# The choice is made when numba compiles (`whir_eq.IFMA`: the host has IFMA52 and numba
# targets it); elsewhere the `_l_*` selectors are the 32-bit limb kernels.  Both give the
# same field elements (exact sums, reduced once).

#: fewest lanes a lazily summed product takes the IFMA path with (fewer: the limb sums'
#: fixed cost, 9 limb vectors summed and reduced, is more than the 32-bit limb loop's)
IFMA_MIN_LANES = 64


def _ifma_e2_codegen(context, builder, sig, args):
    """IR of `_ifma_e2`: for r < n8, lanes a_c = A_c[8r : 8r + 8], b_c likewise: Kc's
    limb triples 0, 1, 2 (8 lanes each, 9 vectors) += a0·b0, a1·b1, (a0 + a1)·(b0 + b1)
    (the sums as 64-bit representatives: x + y, plus 2^32 − 1 on a carry out).  Emits
    nothing where the host has no IFMA (the selectors never call it there)."""
    if not IFMA:
        return context.get_dummy_value()
    i64 = ir.IntType(64)
    vt = ir.VectorType(i64, IFMA_LANES)
    mlo, mhi = ifma_decl(builder)
    arrs = [context.make_array(sig.args[k])(context, builder, args[k]) for k in range(4)]
    n8 = args[4]
    Kc = context.make_array(sig.args[5])(context, builder, args[5])
    slots = []
    kptrs = []
    for i in range(9):   # loop-carried limbs: promoted to registers by LLVM
        p = builder.bitcast(builder.gep(Kc.data, [ir.Constant(i64, IFMA_LANES * i)]),
                            vt.as_pointer())
        s = cgutils.alloca_once(builder, vt)
        builder.store(builder.load(p, align=8), s)
        kptrs.append(p)
        slots.append(s)
    s52 = ir.Constant(vt, [52] * IFMA_LANES)
    eps = ir.Constant(vt, [0xFFFFFFFF] * IFMA_LANES)
    zero = ir.Constant(vt, [0] * IFMA_LANES)

    def add(x, y):
        t = builder.add(x, y)
        return builder.add(t, builder.select(builder.icmp_unsigned("<", t, x), eps, zero))

    def madd(k, x, y):
        ifma_madd(builder, mlo, mhi, slots[3 * k:3 * k + 3], x, builder.lshr(x, s52), y,
                  builder.lshr(y, s52))

    with cgutils.for_range(builder, n8) as loop:
        o = builder.mul(loop.index, ir.Constant(i64, IFMA_LANES))
        a0, a1, b0, b1 = [builder.load(builder.bitcast(builder.gep(a.data, [o]),
                                                       vt.as_pointer()), align=8)
                          for a in arrs]
        madd(0, a0, b0)
        madd(1, a1, b1)
        madd(2, add(a0, a1), add(b0, b1))
    for p, s in zip(kptrs, slots):
        builder.store(builder.load(s), p, align=8)
    return context.get_dummy_value()


@intrinsic
def _ifma_e2(typingctx, A0, A1, B0, B1, n8, Kc):
    """Kc (72 limbs) += the Karatsuba products of lanes 0 … 8·n8 − 1 of the extension
    lanes (A0 + A1 x) and (B0 + B1 x) (unit-stride 1-d arrays), as IFMA52 limbs
    (`_ifma_e2_codegen`)."""
    sig = _nt.void(A0, A1, B0, B1, _nt.int64, Kc)
    return sig, _ifma_e2_codegen


@njit(inline="always", **_OPTS)
def _ifma_e2_fin(Kc):
    """The extension element Σ of `_ifma_e2`'s limbs in Kc: each limb vector's lanes
    summed (< 2^64 for ≤ 512 products a triple: the middle limb grows < 3·2^52 a
    product), each triple reduced (`whir_eq._ifma_limbs`) and the Karatsuba terms
    combined (m0 + 7m1, m2 − m0 − m1)."""
    for j in range(9):
        s = ZERO
        for e in range(IFMA_LANES):
            s += Kc[j * IFMA_LANES + e]
        Kc[j * IFMA_LANES] = s
    m0 = _ifma_limbs(Kc, 0)
    m1 = _ifma_limbs(Kc, 3 * IFMA_LANES)
    m2 = _ifma_limbs(Kc, 6 * IFMA_LANES)
    return gl_add(m0, gl_mul7(m1)), gl_sub(gl_sub(m2, m0), m1)


@njit(**_OPTS)
def _i_mul_sum(a0, a1, b0, b1, cnt, Kc):
    """`_v_mul_sum` (the same element, cnt ≤ 2^9 lanes) with the lanes below a multiple
    of 8 summed by IFMA52 limb products (`_ifma_e2`; Kc: 72 limbs of scratch), the rest
    by `_v_mul_sum`."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    Kc[:] = ZERO
    n8 = cnt // IFMA_LANES
    _ifma_e2(a0, a1, b0, b1, n8, Kc)
    y0, y1 = _ifma_e2_fin(Kc)
    r = n8 * IFMA_LANES
    if r < cnt:
        z0, z1 = _v_mul_sum(a0[r:], a1[r:], b0[r:], b1[r:], cnt - r)
        y0 = gl_add(y0, z0)
        y1 = gl_add(y1, z1)
    return y0, y1


@njit(**_OPTS)
def _i_dot_sum(a0, a1, b0, b1, c0, c1, d0, d1, cnt, Kc):
    """Σ_i (a·b + c·d)[i] over cnt ≤ 2^8 lanes (`_v_dot_acc`'s element) by IFMA52 limb
    products as `_i_mul_sum`: both products' limbs into one Kc (≤ 512 products a
    triple)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    Kc[:] = ZERO
    n8 = cnt // IFMA_LANES
    _ifma_e2(a0, a1, b0, b1, n8, Kc)
    _ifma_e2(c0, c1, d0, d1, n8, Kc)
    y0, y1 = _ifma_e2_fin(Kc)
    r = n8 * IFMA_LANES
    if r < cnt:
        z0, z1 = _v_mul_sum(a0[r:], a1[r:], b0[r:], b1[r:], cnt - r)
        w0, w1 = _v_mul_sum(c0[r:], c1[r:], d0[r:], d1[r:], cnt - r)
        y0 = gl_add(y0, gl_add(z0, w0))
        y1 = gl_add(y1, gl_add(z1, w1))
    return y0, y1


@njit(**_OPTS)
def _l_mul_sum(a0, a1, b0, b1, cnt, Kc):
    """`_v_mul_sum`'s element: by `_i_mul_sum` where `whir_eq.IFMA` and cnt ≥
    `IFMA_MIN_LANES`, else `_v_mul_sum`."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    if IFMA and cnt >= IFMA_MIN_LANES:
        return _i_mul_sum(a0, a1, b0, b1, cnt, Kc)
    return _v_mul_sum(a0, a1, b0, b1, cnt)


@njit(**_OPTS)
def _l_addmul_sum(e0, e1, a0, a1, b0, b1, cnt, Kc, c0, c1):
    """`_v_addmul_sum`'s element Σ_i e[i]·(a[i] + b[i]); on the IFMA path a + b first into
    the scratch lanes c0, c1, then `_i_mul_sum`."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    if IFMA and cnt >= IFMA_MIN_LANES:
        for i in range(cnt):
            c0[i] = gl_add(a0[i], b0[i])
            c1[i] = gl_add(a1[i], b1[i])
        return _i_mul_sum(e0, e1, c0, c1, cnt, Kc)
    return _v_addmul_sum(e0, e1, a0, a1, b0, b1, cnt)


@njit(inline="always", **_OPTS)
def _acc2(acc, t, k, a, y):
    acc[t, k, a, 0] = gl_add(acc[t, k, a, 0], y[0])
    acc[t, k, a, 1] = gl_add(acc[t, k, a, 1], y[1])


@njit(inline="always", **_OPTS)
def _en_pairs(E, En, lo, hi):
    """En[i/2] = E[i] + E[i+1] for the even i in [lo, hi) with i/2 < len(En) (the next
    round's eq table, written by the chunk that owns the pair)."""
    nn = En.shape[0]
    for i in range(lo + (lo & 1), hi, 2):
        if (i >> 1) < nn:
            En[i >> 1, 0] = gl_add(E[i, 0], E[i + 1, 0])
            En[i >> 1, 1] = gl_add(E[i, 1], E[i + 1, 1])


@njit(inline="always", **_OPTS)
def _b_terms(e0, e1, a0, a1, a2, a3, b0, b1, b2, b3, want1, Z, acc, t, cnt, Kc):
    """Tree t's denominator sums over one block of pairs, from the lanes of q0 = (a0, a1;
    a2, a3) and q1 = (b0, b1; b2, b3) (the low halves' components; the high halves'):
    B(0) = q0·q1, B's X² coefficient Δq0·Δq1 (Δq0, Δq1 left in Z rows 2-5 for
    `_a_terms`) and B(1) = q0'·q1' when ``want1``."""
    _v_mul(a0, a1, b0, b1, Z[0], Z[1], cnt)
    _acc2(acc, t, 0, 1, _l_mul_sum(e0, e1, Z[0], Z[1], cnt, Kc))
    _v_sub(a2, a0, Z[2], cnt)
    _v_sub(a3, a1, Z[3], cnt)
    _v_sub(b2, b0, Z[4], cnt)
    _v_sub(b3, b1, Z[5], cnt)
    _v_mul(Z[2], Z[3], Z[4], Z[5], Z[0], Z[1], cnt)
    _acc2(acc, t, 1, 1, _l_mul_sum(e0, e1, Z[0], Z[1], cnt, Kc))
    if want1:
        _v_mul(a2, a3, b2, b3, Z[0], Z[1], cnt)
        _acc2(acc, t, 2, 1, _l_mul_sum(e0, e1, Z[0], Z[1], cnt, Kc))


@njit(inline="always", **_OPTS)
def _unit_a_terms(e0, e1, a0, a1, a2, a3, b0, b1, b2, b3, want1, Z, acc, t, cnt, Kc):
    """Unit numerators: A(0) = q0 + q1, A(1) = q0' + q1' when ``want1`` (A is linear:
    no X² coefficient)."""
    _acc2(acc, t, 0, 0, _l_addmul_sum(e0, e1, a0, a1, b0, b1, cnt, Kc, Z[8], Z[9]))
    if want1:
        _acc2(acc, t, 2, 0, _l_addmul_sum(e0, e1, a2, a3, b2, b3, cnt, Kc,
                                                Z[8], Z[9]))


@njit(inline="always", **_OPTS)
def _a_terms(e0, e1, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3,
             want1, Z, acc, t, cnt, Kc):
    """Tree t's numerator sums with p0 = (c0, c1; c2, c3), p1 = (d0, d1; d2, d3):
    A(0) = p0·q1 + p1·q0, A's X² coefficient Δp0·Δq1 + Δp1·Δq0 (Δq from `_b_terms` in
    Z rows 2-5) and A(1) = p0'·q1' + p1'·q0' when ``want1``."""
    _v_dot(c0, c1, b0, b1, d0, d1, a0, a1, Z[0], Z[1], cnt)
    _acc2(acc, t, 0, 0, _l_mul_sum(e0, e1, Z[0], Z[1], cnt, Kc))
    _v_sub(c2, c0, Z[12], cnt)
    _v_sub(c3, c1, Z[13], cnt)
    _v_sub(d2, d0, Z[6], cnt)
    _v_sub(d3, d1, Z[7], cnt)
    _v_dot(Z[12], Z[13], Z[4], Z[5], Z[6], Z[7], Z[2], Z[3], Z[0], Z[1], cnt)
    _acc2(acc, t, 1, 0, _l_mul_sum(e0, e1, Z[0], Z[1], cnt, Kc))
    if want1:
        _v_dot(c2, c3, b2, b3, d2, d3, a2, a3, Z[0], Z[1], cnt)
        _acc2(acc, t, 2, 0, _l_mul_sum(e0, e1, Z[0], Z[1], cnt, Kc))


@njit(**_OPTS)
def _sum_parts(part):
    """Σ_c part[c]: the chunks' partial round sums (nchunks, T, 3, 2, 2) added up."""
    res = np.zeros(part.shape[1:], dtype=np.uint64)
    for c in range(part.shape[0]):
        for t in range(part.shape[1]):
            for k in range(3):
                for a in range(2):
                    res[t, k, a, 0] = gl_add(res[t, k, a, 0], part[c, t, k, a, 0])
                    res[t, k, a, 1] = gl_add(res[t, k, a, 1], part[c, t, k, a, 1])
    return res


@njit(**_OPTS)
def _gkr_sums_range(WP, WQ, slots, E, En, want1, lo, hi, acc):
    """acc[t, k, a] += Σ_{lo ≤ i < hi} E[i]·X_{t,k,a}(i): k = 0 (t = 0), 1 (X² coefficient),
    2 (t = 1, only when ``want1``); a = 0 (A), 1 (B).  En[i/2] = E[i] + E[i+1] (even i).
    Works on blocks of `GBLOCK` pairs: each table's pairs are de-interleaved into lane
    arrays, the factors computed lane by lane (loops LLVM vectorises) and each E·X summed
    over the block without being written (`_v_mul_sum`: 32-bit limb sums of the
    unreduced products, reduced and Karatsuba-combined once per block; IFMA52 limbs where
    the host has them, `_l_mul_sum`)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    T = slots.shape[0]
    _en_pairs(E, En, lo, hi)
    e0 = np.empty(GBLOCK, np.uint64)
    e1 = np.empty(GBLOCK, np.uint64)
    lanes = np.empty((16, GBLOCK), np.uint64)
    # scratch rows: X 0-1, Δq0 2-3, Δq1 4-5, Δp 12-13
    Z = np.empty((14, GBLOCK), np.uint64)
    Kc = np.empty(9 * IFMA_LANES, np.uint64)   # `_i_mul_sum`'s limbs
    for s in range(lo, hi, GBLOCK):
        cnt = min(GBLOCK, hi - s)
        for i in range(cnt):
            e0[i] = E[s + i, 0]
            e1[i] = E[s + i, 1]
        for t in range(T):
            unit = slots[t, 0] < 0
            # q0 lanes 0-3, q1 lanes 4-7, p0 lanes 8-11, p1 lanes 12-15 (lo0, lo1, hi0, hi1)
            _lanes(WQ, slots[t, 2], s, cnt, lanes[0], lanes[1], lanes[2], lanes[3])
            _lanes(WQ, slots[t, 3], s, cnt, lanes[4], lanes[5], lanes[6], lanes[7])
            _b_terms(e0, e1, lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5],
                     lanes[6], lanes[7], want1, Z, acc, t, cnt, Kc)
            if unit:
                _unit_a_terms(e0, e1, lanes[0], lanes[1], lanes[2], lanes[3], lanes[4],
                              lanes[5], lanes[6], lanes[7], want1, Z, acc, t, cnt, Kc)
                continue
            _lanes(WP, slots[t, 0], s, cnt, lanes[8], lanes[9], lanes[10], lanes[11])
            _lanes(WP, slots[t, 1], s, cnt, lanes[12], lanes[13], lanes[14], lanes[15])
            _a_terms(e0, e1, lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5],
                     lanes[6], lanes[7], lanes[8], lanes[9], lanes[10], lanes[11],
                     lanes[12], lanes[13], lanes[14], lanes[15], want1, Z, acc, t, cnt,
                     Kc)


@njit(parallel=True, **_OPTS)
def e_gkr_sums(WP, WQ, slots, E, En, want1, nchunks):
    """Pair sums of one GKR layer round (see `_gkr_sums_range`); WP, WQ (k, 2m, 2) hold
    the tables, ``slots[t] = (p0, p1, q0, q1)`` index tree t's tables (p0 < 0: unit
    numerators), E (m, 2) = E_j, En (m/2, 2) receives E_{j+1}.  Returns (T, 3, 2, 2)."""
    m = E.shape[0]
    T = slots.shape[0]
    part = np.zeros((nchunks, T, 3, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    step += step & 1
    for c in prange(nchunks):
        _gkr_sums_range(WP, WQ, slots, E, En, want1, min(m, c * step),
                        min(m, (c + 1) * step), part[c])
    return _sum_parts(part)


@njit(**_OPTS)
def _fold_blocks(W, r0, r1, out, lo, hi):
    """out[f, i] = W[f, 2i] + r·(W[f, 2i+1] − W[f, 2i]) for lo ≤ i < hi, every table f,
    `BLOCK` pairs at a time (`zklora.kernels.goldilocks._sc_fold_block`, vectorised)."""
    for s in range(lo, hi, BLOCK):
        _sc_fold_block(W, r0, r1, out, s, min(hi, s + BLOCK) - s)


@njit(parallel=True, **_OPTS)
def e_gkr_fold_sums(W, r0, r1, out, slots, E, En, want1, nchunks):
    """Fold every table of W (k, 4m, 2) at r into ``out`` (k, 2m, 2), then the sums of
    `e_gkr_sums` over ``out``, in one pass (each chunk folds, then sums, its pairs)."""
    m = E.shape[0]
    T = slots.shape[0]
    part = np.zeros((nchunks, T, 3, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    step += step & 1
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_blocks(W, r0, r1, out, 2 * lo, 2 * hi)
        _gkr_sums_range(out, out, slots, E, En, want1, lo, hi, part[c])
    return _sum_parts(part)


@njit(**_OPTS)
def e_gkr_fold_sums_s(W, r0, r1, out, slots, E, En, want1):
    """Serial `e_gkr_fold_sums`."""
    _fold_blocks(W, r0, r1, out, 0, out.shape[1])
    res = np.zeros((slots.shape[0], 3, 2, 2), dtype=np.uint64)
    _gkr_sums_range(out, out, slots, E, En, want1, 0, E.shape[0], res)
    return res


@njit(**_OPTS)
def e_gkr_sums_s(WP, WQ, slots, E, En, want1):
    """Serial `e_gkr_sums` for small layers."""
    out = np.zeros((slots.shape[0], 3, 2, 2), dtype=np.uint64)
    _gkr_sums_range(WP, WQ, slots, E, En, want1, 0, E.shape[0], out)
    return out


# -- the same rounds on component-major tables (the layer's rounds held in RAM) ---------
#
# `_prove_layer` folds its tables round after round (`gkr_fold_sums_c`).  Held as
# (k, 4, m) — rows 0, 1: the two components of the even entries 2i (the low halves of the
# pairs), rows 2, 3: those of the odd entries 2i + 1 (the high halves) — the next round's
# pair sums read every lane as a unit-stride row (`_gkr_sums_range_c`: no de-interleave
# copy, `_lanes`), and the fold writes each row with unit stride.  The sums are the same
# field elements in any layout.


@njit(inline="always", **_OPTS)
def _sums_c_block(WP, WQ, slots, E, want1, s, cnt, e0, e1, Z, Kc, acc):
    """acc += the round sums of pairs s … s+cnt−1 (cnt ≤ `GBLOCK`) over the component-major
    tables WP, WQ (k, 4, m): the body of `_gkr_sums_range_c`'s block loop, with its scratch
    (e0, e1: E's lanes; Z (14, GBLOCK); Kc: `_i_mul_sum`'s limbs) passed in."""
    T = slots.shape[0]
    for i in range(cnt):
        e0[i] = E[s + i, 0]
        e1[i] = E[s + i, 1]
    for t in range(T):
        unit = slots[t, 0] < 0
        # q0 (lo0, lo1, hi0, hi1) = a0 … a3, q1 = b0 … b3
        qa = WQ[slots[t, 2]]
        qb = WQ[slots[t, 3]]
        a0 = qa[0, s:]
        a1 = qa[1, s:]
        a2 = qa[2, s:]
        a3 = qa[3, s:]
        b0 = qb[0, s:]
        b1 = qb[1, s:]
        b2 = qb[2, s:]
        b3 = qb[3, s:]
        _b_terms(e0, e1, a0, a1, a2, a3, b0, b1, b2, b3, want1, Z, acc, t, cnt, Kc)
        if unit:
            _unit_a_terms(e0, e1, a0, a1, a2, a3, b0, b1, b2, b3, want1, Z, acc, t, cnt,
                          Kc)
            continue
        pa = WP[slots[t, 0]]
        pb = WP[slots[t, 1]]
        c0 = pa[0, s:]
        c1 = pa[1, s:]
        c2 = pa[2, s:]
        c3 = pa[3, s:]
        d0 = pb[0, s:]
        d1 = pb[1, s:]
        d2 = pb[2, s:]
        d3 = pb[3, s:]
        _a_terms(e0, e1, a0, a1, a2, a3, b0, b1, b2, b3, c0, c1, c2, c3, d0, d1, d2, d3,
                 want1, Z, acc, t, cnt, Kc)


@njit(**_OPTS)
def _gkr_sums_range_c(WP, WQ, slots, E, En, want1, lo, hi, acc):
    """`_gkr_sums_range` over component-major tables WP, WQ (k, 4, m) (section above):
    the same sums, each pair's lanes read in place (rows of the tables) instead of
    de-interleaved into lane arrays (`_sums_c_block`, `GBLOCK` pairs at a time)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    _en_pairs(E, En, lo, hi)
    e0 = np.empty(GBLOCK, np.uint64)
    e1 = np.empty(GBLOCK, np.uint64)
    # scratch rows: X 0-1, Δq0 2-3, Δq1 4-5, Δp1 6-7, Δp0 12-13
    Z = np.empty((14, GBLOCK), np.uint64)
    Kc = np.empty(9 * IFMA_LANES, np.uint64)   # `_i_mul_sum`'s limbs
    for s in range(lo, hi, GBLOCK):
        _sums_c_block(WP, WQ, slots, E, want1, s, min(GBLOCK, hi - s), e0, e1, Z, Kc, acc)


@njit(parallel=True, **_OPTS)
def e_gkr_sums_c(W, slots, E, En, want1, nchunks):
    """`e_gkr_sums` over one component-major stack W (k, 4, m) (`_gkr_sums_range_c`)."""
    m = E.shape[0]
    T = slots.shape[0]
    part = np.zeros((nchunks, T, 3, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    step += step & 1
    for c in prange(nchunks):
        _gkr_sums_range_c(W, W, slots, E, En, want1, min(m, c * step),
                          min(m, (c + 1) * step), part[c])
    return _sum_parts(part)


@njit(**_OPTS)
def e_gkr_sums_c_s(W, slots, E, En, want1):
    """Serial `e_gkr_sums_c`."""
    out = np.zeros((slots.shape[0], 3, 2, 2), dtype=np.uint64)
    _gkr_sums_range_c(W, W, slots, E, En, want1, 0, E.shape[0], out)
    return out


@njit(**_OPTS)
def _fold_blocks_c(W, soa_in, r0, r1, out, lo, hi):
    """Entries 2i, 2i + 1 (lo ≤ i < hi) of every table folded at r into the component-
    major ``out`` (k, 4, m): entry x = lo_x + r·(hi_x − lo_x) of input pair x (entries
    2x, 2x + 1); W (k, 4m, 2) interleaved, or (k, 4, 2m) component-major (``soa_in``).
    The value of `_sc_fold_block` (`e2_mul`), `BLOCK` outputs per row at a time."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    n = min(BLOCK, max(1, hi - lo))
    l0 = np.empty(n, np.uint64)
    l1 = np.empty(n, np.uint64)
    x0 = np.empty(n, np.uint64)
    x1 = np.empty(n, np.uint64)
    for s in range(lo, hi, BLOCK):
        cnt = min(hi, s + BLOCK) - s
        for f in range(W.shape[0]):
            for half in range(2):   # output entries 2i + half: input pairs 2i + half
                if soa_in:
                    for i in range(cnt):
                        x = 2 * (s + i) + half
                        a0 = W[f, 0, x]
                        a1 = W[f, 1, x]
                        l0[i] = a0
                        l1[i] = a1
                        x0[i] = gl_sub(W[f, 2, x], a0)
                        x1[i] = gl_sub(W[f, 3, x], a1)
                else:
                    for i in range(cnt):
                        x = 2 * (2 * (s + i) + half)
                        a0 = W[f, x, 0]
                        a1 = W[f, x, 1]
                        l0[i] = a0
                        l1[i] = a1
                        x0[i] = gl_sub(W[f, x + 1, 0], a0)
                        x1[i] = gl_sub(W[f, x + 1, 1], a1)
                for i in range(cnt):
                    p0, p1 = e2_mul(x0[i], x1[i], r0, r1)
                    x0[i] = gl_add(l0[i], p0)
                    x1[i] = gl_add(l1[i], p1)
                for i in range(cnt):
                    out[f, 2 * half, s + i] = x0[i]
                    out[f, 2 * half + 1, s + i] = x1[i]


@njit(parallel=True, **_OPTS)
def e_gkr_fold_sums_c(W, soa_in, r0, r1, out, slots, E, En, want1, nchunks):
    """`e_gkr_fold_sums` into component-major tables: W (k, 4m, 2) or (k, 4, 2m)
    (``soa_in``) folded at r into ``out`` (k, 4, m), then round sums over ``out``
    (`_gkr_sums_range_c`), a chunk of pairs at a time.  Returns (T, 3, 2, 2)."""
    m = E.shape[0]
    T = slots.shape[0]
    part = np.zeros((nchunks, T, 3, 2, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    step += step & 1
    for c in prange(nchunks):
        lo = min(m, c * step)
        hi = min(m, (c + 1) * step)
        _fold_blocks_c(W, soa_in, r0, r1, out, lo, hi)
        _gkr_sums_range_c(out, out, slots, E, En, want1, lo, hi, part[c])
    return _sum_parts(part)


@njit(**_OPTS)
def e_gkr_fold_sums_c_s(W, soa_in, r0, r1, out, slots, E, En, want1):
    """Serial `e_gkr_fold_sums_c`."""
    _fold_blocks_c(W, soa_in, r0, r1, out, 0, E.shape[0])
    res = np.zeros((slots.shape[0], 3, 2, 2), dtype=np.uint64)
    _gkr_sums_range_c(out, out, slots, E, En, want1, 0, E.shape[0], res)
    return res


#: columns of the serial head of `e_gkr_fold_sums_ci` (the parallel steps double from it)
CI_HEAD = 1 << 10


@njit(inline="always", **_OPTS)
def _fold_ci_block(W, r0, r1, s, cnt, y0, y1):
    """`_fold_blocks_ci`'s block: columns s … s+cnt−1 of every table of W set in place to
    the fold at r of input columns 2s … 2(s+cnt)−1 (y0, y1: ≥ 2·cnt words of scratch).
    Every table's inputs of the block are read before its outputs are written."""
    for f in range(W.shape[0]):
        w0 = W[f, 0, 2 * s:]
        w1 = W[f, 1, 2 * s:]
        w2 = W[f, 2, 2 * s:]
        w3 = W[f, 3, 2 * s:]
        for i in range(2 * cnt):
            a0 = w0[i]
            a1 = w1[i]
            p0, p1 = e2_mul(gl_sub(w2[i], a0), gl_sub(w3[i], a1), r0, r1)
            y0[i] = gl_add(a0, p0)
            y1[i] = gl_add(a1, p1)
        o0 = W[f, 0, s:]
        o1 = W[f, 1, s:]
        o2 = W[f, 2, s:]
        o3 = W[f, 3, s:]
        for i in range(cnt):
            o0[i] = y0[2 * i]
            o1[i] = y1[2 * i]
            o2[i] = y0[2 * i + 1]
            o3[i] = y1[2 * i + 1]


@njit(**_OPTS)
def _fold_blocks_ci(W, r0, r1, lo, hi):
    """In place: columns lo ≤ i < hi of the component-major stack W (k, 4, ≥ 2·hi) set to
    the fold at r of input columns 2i, 2i + 1 (the value of `_fold_blocks_c` with
    ``soa_in``: output entry x = lo_x + r·(hi_x − lo_x) of input pair x, entries 2i + half
    in rows 2·half, 2·half + 1).  Each block's inputs of a table are read before any of its
    outputs is written, so ascending blocks over [lo, hi) are safe whenever the columns
    below 2·lo that the outputs overwrite have been consumed (columns < lo: done; those
    in [lo, 2·lo) are read by the outputs [lo/2, lo), the caller's earlier steps).
    s40h3: a block's 2·cnt input columns folded in one unit-stride loop over the rows
    (y0, y1: the folded entries in input order), then split into the even / odd output
    rows (no stride-2 reads in the product loop); 512-bit lanes (×0.6–0.8 of the
    half-by-half loop in process, the same values)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    n = min(BLOCK, max(1, hi - lo))
    y0 = np.empty(2 * n, np.uint64)
    y1 = np.empty(2 * n, np.uint64)
    for s in range(lo, hi, BLOCK):
        _fold_ci_block(W, r0, r1, s, min(hi, s + BLOCK) - s, y0, y1)


#: columns a block of the fused in-place fold + sums (`_fold_sums_range_ci`)
FSBLOCK = GBLOCK


@njit(**_OPTS)
def _fold_sums_range_ci(W, r0, r1, slots, E, En, want1, lo, hi, acc):
    """`_fold_blocks_ci(W, r0, r1, lo, hi)` then `_gkr_sums_range_c(W, W, slots, E, En,
    want1, lo, hi, acc)` fused by blocks (s42h2): each block of `FSBLOCK` columns folded,
    then its pairs summed while the folded columns are still in cache (one pass over the
    stack per round instead of a fold pass and a sums pass).  The same fold values (the
    block schedule of `_fold_blocks_ci`: ascending, inputs before outputs) and the same
    field sums (additions in another order)."""
    _wide512()   # zmm lanes (`jit_util._wide512`; s40h3)
    _en_pairs(E, En, lo, hi)
    y0 = np.empty(2 * FSBLOCK, np.uint64)
    y1 = np.empty(2 * FSBLOCK, np.uint64)
    e0 = np.empty(GBLOCK, np.uint64)
    e1 = np.empty(GBLOCK, np.uint64)
    Z = np.empty((14, GBLOCK), np.uint64)
    Kc = np.empty(9 * IFMA_LANES, np.uint64)
    for s in range(lo, hi, FSBLOCK):
        cnt = min(FSBLOCK, hi - s)
        _fold_ci_block(W, r0, r1, s, cnt, y0, y1)
        for g in range(s, s + cnt, GBLOCK):
            _sums_c_block(W, W, slots, E, want1, g, min(GBLOCK, s + cnt - g), e0, e1, Z,
                          Kc, acc)


@njit(parallel=True, **_OPTS)
def e_gkr_fold_sums_ci(W, r0, r1, slots, E, En, want1, nchunks):
    """`e_gkr_fold_sums_c` (``soa_in``) in place: the first 2m columns of W (k, 4, ≥ 2m),
    m = len(E), folded at r into its first m columns (no output stack), then the round
    sums over them.  Output column i reads input columns 2i, 2i + 1, so the columns are
    done in steps [0, a0) (serial, `CI_HEAD`), then [a, 2a) for a = a0, 2a0, …, each in
    parallel pieces: a step reads [2a, 4a) (not yet written) and writes [a, 2a) (read by
    the outputs [a/2, a), done).  Same fold values and field sums as `e_gkr_fold_sums_c`
    (field additions: any order).  Returns (T, 3, 2, 2)."""
    m = E.shape[0]
    part = np.zeros((nchunks, slots.shape[0], 3, 2, 2), dtype=np.uint64)
    a = min(m, CI_HEAD)
    _fold_sums_range_ci(W, r0, r1, slots, E, En, want1, 0, a, part[0])
    while a < m:
        b = min(m, 2 * a)
        npc = max(1, min(nchunks, (b - a) // 64))
        step = (b - a + npc - 1) // npc
        step += step & 1
        for c in prange(npc):
            lo = min(b, a + c * step)
            hi = min(b, a + (c + 1) * step)
            _fold_sums_range_ci(W, r0, r1, slots, E, En, want1, lo, hi, part[c])
        a = b
    return _sum_parts(part)


@njit(**_OPTS)
def e_gkr_fold_sums_ci_s(W, r0, r1, slots, E, En, want1):
    """Serial `e_gkr_fold_sums_ci` (ascending blocks are safe in place)."""
    res = np.zeros((slots.shape[0], 3, 2, 2), dtype=np.uint64)
    _fold_sums_range_ci(W, r0, r1, slots, E, En, want1, 0, E.shape[0], res)
    return res


@njit(**_OPTS)
def _e_inv(a0, a1):
    """1/(a0 + a1 x) = (a0 − a1 x)/(a0² − 7 a1²); (0, 0) for 0."""
    nrm = gl_sub(gl_mul(a0, a0), gl_mul7(gl_mul(a1, a1)))
    ni = gl_pow(nrm, P - np.uint64(2))
    return gl_mul(a0, ni), gl_neg(gl_mul(a1, ni))


@njit(**_OPTS)
def e_quad_eval(qc, x):
    """qc[0] + x·qc[1] + x²·qc[2]."""
    v0, v1 = e2_mul_call(qc[2, 0], qc[2, 1], x[0], x[1])
    v0, v1 = e2_mul_call(gl_add(v0, qc[1, 0]), gl_add(v1, qc[1, 1]), x[0], x[1])
    out = np.empty(2, dtype=np.uint64)
    out[0] = gl_add(v0, qc[0, 0])
    out[1] = gl_add(v1, qc[0, 1])
    return out


@njit(**_OPTS)
def e_gkr_message(sums, coefs, mu, r, c, pref, want1):
    """The round message from the pair sums: q(k) = Σ_t c_t·(S_{t,k,A} + μ·S_{t,k,B});
    q(1) = (c − (1 − r)·q(0))/r unless ``want1`` (then summed);
    s(X) = pref·eq(r, X)·q(X) with pref = eq(r_<j, ρ_<j).
    Returns (msg, qc): msg = [s(0), s(2), s(3)], qc = [q(0), q(1) − q(0) − q(∞), q(∞)]
    (coefficients of q, whose value at the challenge is the next round's ``c``)."""
    q = np.zeros((3, 2), dtype=np.uint64)
    for k in range(3):
        for t in range(sums.shape[0]):
            b0, b1 = e2_mul_call(mu[0], mu[1], sums[t, k, 1, 0], sums[t, k, 1, 1])
            f0, f1 = e2_mul_call(coefs[t, 0], coefs[t, 1], gl_add(sums[t, k, 0, 0], b0),
                                 gl_add(sums[t, k, 0, 1], b1))
            q[k, 0] = gl_add(q[k, 0], f0)
            q[k, 1] = gl_add(q[k, 1], f1)
    om0 = gl_sub(ONE, r[0])  # 1 − r
    om1 = gl_neg(r[1])
    if not want1:
        a0, a1 = e2_mul_call(om0, om1, q[0, 0], q[0, 1])
        i0, i1 = _e_inv(r[0], r[1])
        q[2, 0], q[2, 1] = e2_mul_call(gl_sub(c[0], a0), gl_sub(c[1], a1), i0, i1)
    qc = np.zeros((3, 2), dtype=np.uint64)
    qc[0, 0] = q[0, 0]
    qc[0, 1] = q[0, 1]
    qc[1, 0] = gl_sub(gl_sub(q[2, 0], q[0, 0]), q[1, 0])
    qc[1, 1] = gl_sub(gl_sub(q[2, 1], q[0, 1]), q[1, 1])
    qc[2, 0] = q[1, 0]
    qc[2, 1] = q[1, 1]
    msg = np.zeros((3, 2), dtype=np.uint64)
    sl0 = gl_sub(gl_add(r[0], r[0]), ONE)  # eq(r, X) = (1 − r) + X·(2r − 1)
    sl1 = gl_add(r[1], r[1])
    for k in range(3):
        x = np.uint64(0 if k == 0 else k + 1)
        v0, v1 = e2_mul_call(qc[2, 0], qc[2, 1], x, ZERO)
        v0 = gl_add(v0, qc[1, 0])
        v1 = gl_add(v1, qc[1, 1])
        v0, v1 = e2_mul_call(v0, v1, x, ZERO)
        v0 = gl_add(v0, qc[0, 0])
        v1 = gl_add(v1, qc[0, 1])
        w0, w1 = e2_mul_call(sl0, sl1, x, ZERO)
        v0, v1 = e2_mul_call(gl_add(om0, w0), gl_add(om1, w1), v0, v1)
        msg[k, 0], msg[k, 1] = e2_mul_call(pref[0], pref[1], v0, v1)
    return msg, qc


@njit(**_OPTS)
def e_gkr_next(qc, x, r, pref):
    """After the challenge x: (q(x), pref·eq(r, x)) — the next round's c and pref."""
    c = e_quad_eval(qc, x)
    a0, a1 = e2_mul_call(r[0], r[1], x[0], x[1])
    # eq(r, x) = 1 − r − x + 2rx
    e0 = gl_sub(gl_sub(gl_add(ONE, gl_add(a0, a0)), r[0]), x[0])
    e1 = gl_sub(gl_sub(gl_add(a1, a1), r[1]), x[1])
    out = np.empty(2, dtype=np.uint64)
    out[0], out[1] = e2_mul_call(pref[0], pref[1], e0, e1)
    return c, out


# -- references of the layer-sumcheck kernels (Python ints) ----------------------------


def _ref_sub(a, b):
    return ((a[0] - b[0]) % P_INT, (a[1] - b[1]) % P_INT)


def _ref_inv(a):
    nrm = (a[0] * a[0] - 7 * a[1] * a[1]) % P_INT
    ni = pow(nrm, P_INT - 2, P_INT)
    return (a[0] * ni % P_INT, (-a[1] * ni) % P_INT)


def ref_gkr_sums(WP, WQ, slots, E, want1):
    """Reference of `e_gkr_sums`: returns (sums (T, 3, 2, 2), En)."""
    def el(a, f, i):
        return (int(a[f, i, 0]), int(a[f, i, 1]))

    m = len(E)
    T = len(slots)
    out = [[[(0, 0), (0, 0)] for _ in range(3)] for _ in range(T)]
    En = [_ref_add(el(E[None], 0, 2 * y), el(E[None], 0, 2 * y + 1)) for y in range(m // 2)]
    for i in range(m):
        e = el(E[None], 0, i)
        for t in range(T):
            p0s, p1s, q0s, q1s = (int(s) for s in slots[t])
            lo = {k: el(WQ, s, 2 * i) for k, s in (("q0", q0s), ("q1", q1s))}
            hi = {k: el(WQ, s, 2 * i + 1) for k, s in (("q0", q0s), ("q1", q1s))}
            if p0s < 0:
                one = (1, 0)
                lo["p0"] = lo["p1"] = hi["p0"] = hi["p1"] = one
            else:
                for k, s in (("p0", p0s), ("p1", p1s)):
                    lo[k], hi[k] = el(WP, s, 2 * i), el(WP, s, 2 * i + 1)
            d = {k: _ref_sub(hi[k], lo[k]) for k in lo}

            def AB(v):
                return (_ref_add(_ref_mul(v["p0"], v["q1"]), _ref_mul(v["p1"], v["q0"])),
                        _ref_mul(v["q0"], v["q1"]))

            rows = [AB(lo), AB(d)]
            if p0s < 0:
                rows[1] = ((0, 0), rows[1][1])
            rows.append(AB(hi) if want1 else ((0, 0), (0, 0)))
            for k in range(3):
                for a in range(2):
                    out[t][k][a] = _ref_add(out[t][k][a], _ref_mul(e, rows[k][a]))
    return (np.array(out, dtype=np.uint64).reshape(T, 3, 2, 2),
            np.array(En, dtype=np.uint64).reshape(-1, 2))


def ref_gkr_message(sums, coefs, mu, r, c, pref, want1):
    """Reference of `e_gkr_message` (Python ints)."""
    def el(a):
        return (int(a[0]), int(a[1]))

    mu, r, c, pref = el(mu), el(r), el(c), el(pref)
    q = []
    for k in range(3):
        acc = (0, 0)
        for t in range(len(sums)):
            f = _ref_add(el(sums[t][k][0]), _ref_mul(mu, el(sums[t][k][1])))
            acc = _ref_add(acc, _ref_mul(el(coefs[t]), f))
        q.append(acc)
    q0, qinf, q1 = q
    om = _ref_sub((1, 0), r)
    if not want1:
        q1 = _ref_mul(_ref_sub(c, _ref_mul(om, q0)), _ref_inv(r))
    qc = [q0, _ref_sub(_ref_sub(q1, q0), qinf), qinf]
    msg = []
    for x in (0, 2, 3):
        qx = _ref_add(_ref_add(qc[0], _ref_mul((x, 0), qc[1])), _ref_mul((x * x, 0), qc[2]))
        eqx = _ref_add(om, _ref_mul((x, 0), _ref_sub(_ref_add(r, r), (1, 0))))
        msg.append(_ref_mul(pref, _ref_mul(eqx, qx)))
    return np.array(msg, dtype=np.uint64), np.array(qc, dtype=np.uint64)


def gkr_sums(WP, WQ, slots, E, want1: bool):
    """`e_gkr_sums` (serial below `SMALL` work); returns (sums, E_{j+1})."""
    m = E.shape[0]
    En = np.empty((m // 2, 2), dtype=np.uint64)
    work = m * slots.shape[0]
    if work < SMALL:
        return e_gkr_sums_s(WP, WQ, slots, E, En, want1), En
    return e_gkr_sums(WP, WQ, slots, E, En, want1, _chunks(work)), En


def gkr_fold_sums(W, r, slots, E, want1: bool):
    """Fold W at r and sum the next round (`e_gkr_fold_sums`): (folded W, sums, E_{j+1})."""
    m = E.shape[0]
    out = np.empty((W.shape[0], W.shape[1] // 2, 2), dtype=np.uint64)
    En = np.empty((m // 2, 2), dtype=np.uint64)
    work = m * max(slots.shape[0], W.shape[0] // 2)
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    if work < SMALL:
        return out, e_gkr_fold_sums_s(W, r0, r1, out, slots, E, En, want1), En
    return out, e_gkr_fold_sums(W, r0, r1, out, slots, E, En, want1, _chunks(work)), En


def gkr_sums_c(W, slots, E, want1: bool):
    """`gkr_sums` over a component-major stack W (k, 4, m) (`e_gkr_sums_c`)."""
    m = E.shape[0]
    En = np.empty((m // 2, 2), dtype=np.uint64)
    work = m * slots.shape[0]
    if work < SMALL:
        return e_gkr_sums_c_s(W, slots, E, En, want1), En
    return e_gkr_sums_c(W, slots, E, En, want1, _chunks(work)), En


def gkr_fold_sums_c(W, soa_in: bool, r, slots, E, want1: bool):
    """`gkr_fold_sums` with a component-major result (`e_gkr_fold_sums_c`): W (k, 4m, 2),
    or (k, 4, 2m) when ``soa_in``; returns (folded W (k, 4, m), sums, E_{j+1})."""
    m = E.shape[0]
    k = W.shape[0]
    out = np.empty((k, 4, m), dtype=np.uint64)
    En = np.empty((m // 2, 2), dtype=np.uint64)
    work = m * max(slots.shape[0], k // 2)
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    if work < SMALL:
        return out, e_gkr_fold_sums_c_s(W, soa_in, r0, r1, out, slots, E, En, want1), En
    return (out, e_gkr_fold_sums_c(W, soa_in, r0, r1, out, slots, E, En, want1,
                                   _chunks(work)), En)


def gkr_fold_sums_ci(W, r, slots, E, want1: bool):
    """`gkr_fold_sums_c` (``soa_in``) in place (`e_gkr_fold_sums_ci`): the first 2m columns
    of the C-contiguous W (k, 4, ≥ 2m), m = len(E), folded into its first m columns; no
    new stack (the folded tables are W[:, :, :m]).  Returns (sums, E_{j+1})."""
    m = E.shape[0]
    k = W.shape[0]
    assert W.flags.c_contiguous and W.shape[1] == 4 and W.shape[2] >= 2 * m
    En = np.empty((m // 2, 2), dtype=np.uint64)
    work = m * max(slots.shape[0], k // 2)
    r0, r1 = np.uint64(r[0]), np.uint64(r[1])
    if work < SMALL:
        return e_gkr_fold_sums_ci_s(W, r0, r1, slots, E, En, want1), En
    return e_gkr_fold_sums_ci(W, r0, r1, slots, E, En, want1, _chunks(work)), En


def pairs_of_c(W) -> np.ndarray:
    """A component-major stack (k, 4, m) as the interleaved (k, 2m, 2) one (a copy)."""
    k, _, m = W.shape
    return np.ascontiguousarray(W.reshape(k, 2, 2, m).transpose(0, 3, 1, 2)).reshape(k, 2 * m, 2)


def fold_into(stack, r, out) -> None:
    """out[f, i] = lo + r·(hi − lo) over the pairs (2i, 2i+1) of every table f of the
    (k, 2m, 2) ``stack`` (`zklora.kernels.goldilocks.e_sc_fold`); ``out`` (k, m, 2)."""
    kern = e_sc_fold if stack.shape[0] * stack.shape[1] >= SMALL else e_sc_fold_s
    kern(stack, np.uint64(r[0]), np.uint64(r[1]), out)


#: inputs per table per block of `e_multi_fold` (its lane buffers: 6·MFOLD_LANES/2 words)
MFOLD_LANES = 1 << 12


@njit(inline="always", **_OPTS)
def _mfold_store(out, f, x0, cnt, A0, A1, soa):
    """Writes a block's cnt folded entries (A0[i], A1[i]) to ``out``'s entries x0 + i of
    row f: (k, ·, 2) rows, or component-major (k, 4, ·) when ``soa`` (entry x at column
    x >> 1, rows 2(x & 1) and 2(x & 1) + 1)."""
    if soa:
        for i in range(cnt):
            x = x0 + i
            y = 2 * (x & 1)
            out[f, y, x >> 1] = A0[i]
            out[f, y + 1, x >> 1] = A1[i]
    else:
        for i in range(cnt):
            out[f, x0 + i, 0] = A0[i]
            out[f, x0 + i, 1] = A1[i]


@njit(**_OPTS)
def _mfold_block(W, rr, out, at, s, cnt, L0, L1, X0, X1, A0, A1, soa):
    """Outputs s … s+cnt−1 of `e_multi_fold` for every table, written at out[f, at + s …]:
    the cnt·2^j inputs folded level by level in de-interleaved lanes (each level
    `_sc_fold_block`'s arithmetic).  ``soa``: ``out`` is component-major (k, 4, ·), entry
    x at column x >> 1, rows 2(x & 1) and 2(x & 1) + 1 (`gkr_fold_sums_c`)."""
    j = rr.shape[0]
    n = cnt << j
    base = s << j
    for f in range(W.shape[0]):
        h = n >> 1
        r0 = rr[0, 0]
        r1 = rr[0, 1]
        r7 = gl_mul7(r1)
        for i in range(h):
            a0 = W[f, base + 2 * i, 0]
            a1 = W[f, base + 2 * i, 1]
            L0[i] = a0
            L1[i] = a1
            X0[i] = gl_sub(W[f, base + 2 * i + 1, 0], a0)
            X1[i] = gl_sub(W[f, base + 2 * i + 1, 1], a1)
        for i in range(h):   # X·ρ = (X0·ρ0 + X1·7ρ1, X0·ρ1 + X1·ρ0), `e2_mul`'s value
            A0[i] = gl_add(L0[i], gl_dot2(X0[i], r0, X1[i], r7))
            A1[i] = gl_add(L1[i], gl_dot2(X0[i], r1, X1[i], r0))
        for lv in range(1, j):
            h >>= 1
            r0 = rr[lv, 0]
            r1 = rr[lv, 1]
            r7 = gl_mul7(r1)
            for i in range(h):
                a0 = A0[2 * i]
                a1 = A1[2 * i]
                L0[i] = a0
                L1[i] = a1
                X0[i] = gl_sub(A0[2 * i + 1], a0)
                X1[i] = gl_sub(A1[2 * i + 1], a1)
            for i in range(h):
                A0[i] = gl_add(L0[i], gl_dot2(X0[i], r0, X1[i], r7))
                A1[i] = gl_add(L1[i], gl_dot2(X0[i], r1, X1[i], r0))
        _mfold_store(out, f, at + s, cnt, A0, A1, soa)


# -- the fold's products by a constant challenge on IFMA52 lanes (s35h6) ----------------
#
# A level of `_mfold_block` computes, for each pair (lo, hi) of extension entries,
# lo + (hi − lo)·ρ: (X0·ρ0 + X1·7ρ1, X0·ρ1 + X1·ρ0) with X = hi − lo.  The scalar form
# spends most of its time de-interleaving the pairs into lane arrays (strided scalar
# loads) and on 32-bit limb products.  `_mfold_lv` does a whole level on <8 x i64>
# vectors in IR: 8 pairs loaded as 4 (level 0: the stack's words lo0 lo1 hi0 hi1 …) or
# 2 + 2 vectors (later levels: the previous level's component lanes), de-interleaved by
# shuffles, the two products of each component summed as IFMA52 limbs (`whir_eq.
# ifma_madd` with ρ split as (c, c >> 52), 14 vpmadd52 a component) and reduced once
# lane-wise (`_ifma_limbs`'s arithmetic on vectors; ntt's `_v_reduce128`, `_v_sub`,
# `_v_add`).  Selected where `whir_eq.IFMA`; the same field elements as `_mfold_block`.


def _mfold_lv_codegen(mode: int):
    """IR of `_mfold_w` (mode 0) / `_mfold_a` (mode 1), see there."""
    def codegen(context, builder, sig, args):
        if not IFMA:
            return context.get_dummy_value()
        b = builder
        i32 = ir.IntType(32)
        vt = _VT
        mlo, mhi = ifma_decl(b)
        S0, S1, A0, A1, C = [_arr(context, b, sig, args, k) for k in (0, 1, 3, 4, 6)]
        soff, n8 = args[2], args[5]
        s52 = _vc(52)
        zero = _vc(0)
        one = _vc(1)
        und = ir.Constant(vt, ir.Undefined)
        zm = ir.Constant(ir.VectorType(i32, IFMA_LANES), [0] * IFMA_LANES)
        cs = [b.shuffle_vector(b.insert_element(und, b.load(b.gep(C, [ir.Constant(_I64, k)])),
                                                ir.Constant(i32, 0)), und, zm)
              for k in range(8)]
        slots = [cgutils.alloca_once(b, vt) for _ in range(6)]

        def ld(a, o):
            return b.load(_v_ptr(b, a, o), align=8)

        def shuf(x, y, idx):
            return b.shuffle_vector(x, y, ir.Constant(ir.VectorType(i32, len(idx)), idx))

        def red(k0, k1, k2):   # `whir_eq._ifma_limbs` lane-wise (k2 < 2^55)
            lo = b.add(k0, b.shl(k1, s52))
            c1 = b.select(b.icmp_unsigned("<", lo, k0), one, zero)
            m = b.shl(k2, _vc(40))
            hi = b.add(b.lshr(k1, _vc(12)), m)
            c2 = b.select(b.icmp_unsigned("<", hi, m), one, zero)
            hi2 = b.add(hi, c1)
            c3 = b.select(b.icmp_unsigned("<", hi2, hi), one, zero)
            top = b.add(b.add(b.lshr(k2, _vc(24)), c2), c3)
            return _ir_sub(b, _v_reduce128(b, hi2, lo), b.shl(top, _vc(32)))

        with cgutils.for_range(b, n8) as loop:
            o = b.mul(loop.index, ir.Constant(_I64, IFMA_LANES))
            if mode == 0:
                base = b.add(soff, b.mul(loop.index, ir.Constant(_I64, 32)))
                v = [ld(S0, b.add(base, ir.Constant(_I64, 8 * q))) for q in range(4)]
                lanes = []
                for c in range(4):
                    idx = [c, c + 4, c + 8, c + 12]
                    lanes.append(shuf(shuf(v[0], v[1], idx), shuf(v[2], v[3], idx),
                                      list(range(8))))
                l0, l1, h0, h1 = lanes
            else:
                base = b.mul(loop.index, ir.Constant(_I64, 16))
                nxt = b.add(base, ir.Constant(_I64, 8))
                u0, u1, w0, w1 = ld(S0, base), ld(S0, nxt), ld(S1, base), ld(S1, nxt)
                ev = list(range(0, 16, 2))
                od = list(range(1, 16, 2))
                l0, h0 = shuf(u0, u1, ev), shuf(u0, u1, od)
                l1, h1 = shuf(w0, w1, ev), shuf(w0, w1, od)
            x0 = _ir_sub(b, h0, l0)
            x1 = _ir_sub(b, h1, l1)
            x0h = b.lshr(x0, s52)
            x1h = b.lshr(x1, s52)
            for s in slots:
                b.store(zero, s)
            ifma_madd(b, mlo, mhi, slots[0:3], x0, x0h, cs[0], cs[1])
            ifma_madd(b, mlo, mhi, slots[0:3], x1, x1h, cs[2], cs[3])
            ifma_madd(b, mlo, mhi, slots[3:6], x0, x0h, cs[4], cs[5])
            ifma_madd(b, mlo, mhi, slots[3:6], x1, x1h, cs[6], cs[7])
            k = [b.load(s) for s in slots]
            b.store(_ir_add(b, l0, red(*k[0:3])), _v_ptr(b, A0, o), align=8)
            b.store(_ir_add(b, l1, red(*k[3:6])), _v_ptr(b, A1, o), align=8)
        return context.get_dummy_value()

    return codegen


@intrinsic
def _mfold_w(typingctx, S0, S1, soff, A0, A1, n8, C):
    """Level 0 of `_mfold_block_i`: for pairs i < 8·n8, with the words soff + 4i …
    soff + 4i + 3 from S0's first element = (lo0, lo1, hi0, hi1) (a row's entries 2i,
    2i + 1 in place; S0 any array, read through its data pointer),
    (A0 + A1 x)[i] = lo + (hi − lo)·ρ; C = (ρ0, ρ0 >> 52, 7ρ1, 7ρ1 >> 52, ρ1, ρ1 >> 52,
    ρ0, ρ0 >> 52) (`_mfold_consts`).  S1 unused.  IFMA52 lanes (section comment)."""
    return _nt.void(S0, S1, _nt.int64, A0, A1, _nt.int64, C), _mfold_lv_codegen(0)


@intrinsic
def _mfold_a(typingctx, S0, S1, soff, A0, A1, n8, C):
    """A later level of `_mfold_block_i`: pairs i < 8·n8 of the lanes (S0 + S1 x) folded,
    (A0 + A1 x)[i] = S[2i] + (S[2i + 1] − S[2i])·ρ (C as `_mfold_w`; in place for A = S:
    each 8 outputs are written after their 16 inputs are read).  soff unused."""
    return _nt.void(S0, S1, _nt.int64, A0, A1, _nt.int64, C), _mfold_lv_codegen(1)


@njit(inline="always", **_OPTS)
def _mfold_consts(C, r0, r1):
    """`_mfold_w`'s constants of ρ = (r0, r1) into C; returns 7·r1."""
    r7 = gl_mul7(r1)
    s52 = np.uint64(52)
    C[0] = r0
    C[1] = r0 >> s52
    C[2] = r7
    C[3] = r7 >> s52
    C[4] = r1
    C[5] = r1 >> s52
    C[6] = r0
    C[7] = r0 >> s52
    return r7


@njit(**_OPTS)
def _mfold_block_i(W, rr, out, at, s, cnt, A0, A1, soa, C):
    """`_mfold_block` (the same outputs) with each level on IFMA52 lanes (`_mfold_w`,
    `_mfold_a`; the < 8 last pairs of a level by `gl_dot2`).  W's rows hold their entries
    in place (strides (·, 16, 8) bytes: `_mfold_fast`)."""
    j = rr.shape[0]
    n = cnt << j
    base = s << j
    rs = W.strides[0] >> 3
    for f in range(W.shape[0]):
        h = n >> 1
        r0 = rr[0, 0]
        r1 = rr[0, 1]
        r7 = _mfold_consts(C, r0, r1)
        n8 = h // IFMA_LANES
        o = f * rs + 2 * base
        _mfold_w(W, W, o, A0, A1, n8, C)
        for i in range(n8 * IFMA_LANES, h):
            a0 = W[f, base + 2 * i, 0]
            a1 = W[f, base + 2 * i, 1]
            x0 = gl_sub(W[f, base + 2 * i + 1, 0], a0)
            x1 = gl_sub(W[f, base + 2 * i + 1, 1], a1)
            A0[i] = gl_add(a0, gl_dot2(x0, r0, x1, r7))
            A1[i] = gl_add(a1, gl_dot2(x0, r1, x1, r0))
        for lv in range(1, j):
            h >>= 1
            r0 = rr[lv, 0]
            r1 = rr[lv, 1]
            r7 = _mfold_consts(C, r0, r1)
            n8 = h // IFMA_LANES
            _mfold_a(A0, A1, 0, A0, A1, n8, C)
            for i in range(n8 * IFMA_LANES, h):
                a0 = A0[2 * i]
                a1 = A1[2 * i]
                x0 = gl_sub(A0[2 * i + 1], a0)
                x1 = gl_sub(A1[2 * i + 1], a1)
                A0[i] = gl_add(a0, gl_dot2(x0, r0, x1, r7))
                A1[i] = gl_add(a1, gl_dot2(x0, r1, x1, r0))
        if soa and ((at + s) | cnt) & 1 == 0:   # entry pairs to one column each
            c = (at + s) >> 1
            for i in range(cnt >> 1):
                out[f, 0, c + i] = A0[2 * i]
                out[f, 1, c + i] = A1[2 * i]
                out[f, 2, c + i] = A0[2 * i + 1]
                out[f, 3, c + i] = A1[2 * i + 1]
        else:
            _mfold_store(out, f, at + s, cnt, A0, A1, soa)

@njit(inline="always", **_OPTS)
def _mfold_fast(W):
    """Whether `_mfold_block_i` reads W: each row's entries in place, one after the other
    (strides (·, 16, 8) bytes; rows anywhere)."""
    return W.strides[1] == 16 and W.strides[2] == 8


@njit(parallel=True, **_OPTS)
def e_multi_fold(W, rr, out):
    """out[f, i] = W[f] folded by rr[0], rr[1], … (pairs (2i, 2i+1) each time, as
    `fold_into` j = len(rr) ≥ 1 times): one pass, blocks of outputs in parallel, the
    intermediate levels in per-block lane buffers (no (k, ·) array per fold)."""
    j = rr.shape[0]
    m = out.shape[1]
    cb = max(1, MFOLD_LANES >> j)
    nb = (m + cb - 1) // cb
    hmax = (cb << j) >> 1
    fast = _mfold_fast(W)
    C = np.empty((nb, 8), np.uint64)   # `_mfold_consts` of each block
    for blk in prange(nb):
        s = blk * cb
        L0 = np.empty(hmax, np.uint64)
        L1 = np.empty(hmax, np.uint64)
        X0 = np.empty(hmax, np.uint64)
        X1 = np.empty(hmax, np.uint64)
        A0 = np.empty(hmax, np.uint64)
        A1 = np.empty(hmax, np.uint64)
        if IFMA and fast:
            _mfold_block_i(W, rr, out, 0, s, min(m, s + cb) - s, A0, A1, False, C[blk])
        else:
            _mfold_block(W, rr, out, 0, s, min(m, s + cb) - s, L0, L1, X0, X1, A0, A1,
                         False)


@njit(parallel=True, **_OPTS)
def e_multi_fold_at(W, rr, out, at, soa=False):
    """`e_multi_fold` into entries at … at + m − 1 of every table of a bigger ``out``
    (k, ≥ at + m, 2), m = W.shape[1] / 2^j: a chunk's fold written in place into the
    whole folded stack (no copy of a chunk-sized result); ``soa``: ``out`` is the
    component-major (k, 4, ≥ (at + m)/2) stack (`gkr_fold_sums_c`)."""
    j = rr.shape[0]
    m = W.shape[1] >> j
    cb = max(1, MFOLD_LANES >> j)
    nb = (m + cb - 1) // cb
    hmax = (cb << j) >> 1
    fast = _mfold_fast(W)
    C = np.empty((nb, 8), np.uint64)   # `_mfold_consts` of each block
    for blk in prange(nb):
        s = blk * cb
        L0 = np.empty(hmax, np.uint64)
        L1 = np.empty(hmax, np.uint64)
        X0 = np.empty(hmax, np.uint64)
        X1 = np.empty(hmax, np.uint64)
        A0 = np.empty(hmax, np.uint64)
        A1 = np.empty(hmax, np.uint64)
        if IFMA and fast:
            _mfold_block_i(W, rr, out, at, s, min(m, s + cb) - s, A0, A1, soa, C[blk])
        else:
            _mfold_block(W, rr, out, at, s, min(m, s + cb) - s, L0, L1, X0, X1, A0, A1,
                         soa)


def ref_multi_fold(W, rhos):
    """Twin of `multi_fold`: W (k, 2^j·m, 2) folded j = len(rhos) times, Python
    integers, returns (k, m, 2) uint64."""
    cur = [[(int(a), int(b)) for a, b in t] for t in np.asarray(W)]
    for r in rhos:
        r0, r1 = int(r[0]), int(r[1])
        nxt = []
        for t in cur:
            row = []
            for i in range(len(t) // 2):
                (l0, l1), (u0, u1) = t[2 * i], t[2 * i + 1]
                x0, x1 = (u0 - l0) % P_INT, (u1 - l1) % P_INT
                p0, p1 = (x0 * r0 + 7 * x1 * r1) % P_INT, (x0 * r1 + x1 * r0) % P_INT
                row.append(((l0 + p0) % P_INT, (l1 + p1) % P_INT))
            nxt.append(row)
        cur = nxt
    return np.array(cur, dtype=np.uint64).reshape(len(cur), -1, 2)


def multi_fold(W, rhos, out=None, at=None, soa: bool = False):
    """W (k, 2^j·m, 2) folded by ρ_0 … ρ_(j−1) in turn (`fold_into` j times; the same
    field elements) into ``out`` (k, m, 2) — one pass (`e_multi_fold`) for big stacks.
    Returns out (W itself for j = 0).  With ``at`` (j ≥ 1), ``out`` is a bigger C-contiguous
    (k, ≥ at + m, 2) stack and the fold goes to its entries at … at + m − 1
    (`e_multi_fold_at`); returns that slice of it.  With ``soa`` (``at`` and m even),
    ``out`` is component-major (k, 4, ≥ (at + m)/2) (`gkr_fold_sums_c`); returns out."""
    j = len(rhos)
    if j == 0:
        return W
    m = W.shape[1] >> j
    if soa:
        assert j >= 1 and at is not None and at % 2 == 0 and m % 2 == 0
        assert out.flags.c_contiguous and out.shape[2] * 2 >= at + m
        if W.shape[0] * W.shape[1] < SMALL:
            f = multi_fold(W, rhos)
            c = slice(at // 2, (at + m) // 2)
            out[:, 0:2, c] = f[:, 0::2, :].transpose(0, 2, 1)
            out[:, 2:4, c] = f[:, 1::2, :].transpose(0, 2, 1)
        else:
            rr = np.ascontiguousarray(np.asarray(rhos, dtype=np.uint64).reshape(j, 2))
            e_multi_fold_at(W, rr, out, at, True)
        return out
    if out is None:
        out = np.empty((W.shape[0], m, 2), dtype=np.uint64)
    dst = out if at is None else out[:, at:at + m]
    if W.shape[0] * W.shape[1] < SMALL:
        for r in rhos:
            nxt = np.empty((W.shape[0], W.shape[1] // 2, 2), dtype=np.uint64)
            fold_into(W, r, nxt)
            W = nxt
        dst[...] = W
        return dst
    rr = np.ascontiguousarray(np.asarray(rhos, dtype=np.uint64).reshape(j, 2))
    if at is None:
        e_multi_fold(W, rr, out)
    else:
        assert out.flags.c_contiguous and out.shape[1] >= at + m
        e_multi_fold_at(W, rr, out, at)
    return dst


# -- several streamed rounds from one pass (the small-value / multi-round trick) ----------
#
# A streamed layer (`zklora.plugins.lookups.logup_gkr._streamed_rounds`) is read in
# chunks summed again from the leaves: one pass per round costs a re-summation of every
# leaf.  Rounds j0 … j0+m−1 can share one pass.  With the tables folded by ρ_<j0 (W),
# round j = j0 + i reads them folded further by ρ' = ρ_[j0, j): T_ρ'(X, y) =
# Σ_b eq(ρ', b)·T[b + 2^i X + 2^(i+1) y], multilinear in ρ'.  A product of two such
# tables is of degree ≤ 2 in each coordinate of ρ', so it is fixed by its values on the
# grid {0, 1, ∞}^i (∞: the coefficient of ρ_k²), and those are products of the tables'
# extensions to the grid (T̂ at ∞ in coordinate k: T at 1 minus T at 0):
#
#   Σ_y E_j(y)·T_ρ'·U_ρ' = Σ_(g ∈ {0,1,∞}^i) w_g(ρ')·M[g],   M[g] = Σ_y E_j(y)·T̂[g]·Û[g],
#   w_g(ρ') = Π_k L_(g_k)(ρ'_k),   L_0(r) = 1 − r,  L_1(r) = r,  L_∞(r) = r(r − 1)
#
# (for X = 0, for the X² coefficient with T, U replaced by their differences in X, and for
# X = 1 when needed).  The pass accumulates M for every round of the window: 3^i products
# per product of tables and per y of round j (the small-value sumcheck of Bagad, Domb
# and Thaler, "Speeding up sum-check proving"); once ρ' is drawn, round j's pair sums
# are the forms (`window_round_sums`).  They are the same field elements as the
# per-round pass's, so the messages and the proof are unchanged.  A with unit numerators
# (Q0 + Q1) is linear: its forms are over {0, 1}^i, weights eq(ρ', b).

#: most y values per block of `_window_round` (its lane arrays hold 8·3^i·2 rows: a
#: quarter of it from round 4 on, half at round 3)
WBLOCK = 256


def window_offsets(m: int) -> list[int]:
    """Offsets of rounds 0 … m−1 of a window in its accumulator's entry axis (round i has
    3^i entries, the grid points g = Σ_k g_k·3^k, g_k ∈ {0, 1, 2 = ∞})."""
    return [(3 ** i - 1) // 2 for i in range(m + 1)]


@njit(**_OPTS)
def _tri(b):
    """The grid index Σ_k b_k·3^k of the cube point b (bits b_k)."""
    g = 0
    q = 1
    while b:
        if b & 1:
            g += q
        b >>= 1
        q *= 3
    return g


@njit(**_OPTS)
def _win_load(W, f, B, kk, s, cnt, G, e0, e1, scale, V):
    """G[_tri(b), c, i] = V_b(s + i) component c for b < B, i < cnt: V_b(y) the value of
    table f of W at b + 2B·y (kk = 0), at b + B + 2B·y (kk = 2) or their difference
    (kk = 1); times E (lanes e0, e1) when ``scale`` (V: scratch lanes (2, cnt))."""
    for b in range(B):
        g = _tri(b)
        for i in range(cnt):
            idx = b + 2 * B * (s + i)
            if kk == 0:
                V[0, i] = W[f, idx, 0]
                V[1, i] = W[f, idx, 1]
            elif kk == 2:
                V[0, i] = W[f, idx + B, 0]
                V[1, i] = W[f, idx + B, 1]
            else:
                V[0, i] = gl_sub(W[f, idx + B, 0], W[f, idx, 0])
                V[1, i] = gl_sub(W[f, idx + B, 1], W[f, idx, 1])
        if scale:
            _v_mul(e0, e1, V[0], V[1], G[g, 0], G[g, 1], cnt)
        else:
            for i in range(cnt):
                G[g, 0, i] = V[0, i]
                G[g, 1, i] = V[1, i]


def _t_swap(b, rows, k):
    """IR: exchange bit k of the row index with bit k of the lane index of the <8 x i64>
    rows (two-source shuffles, a pair of rows at a time)."""
    i32 = ir.IntType(32)
    h = 1 << k
    lo = ir.Constant(ir.VectorType(i32, 8), [L if not L & h else 8 + L - h for L in range(8)])
    hi = ir.Constant(ir.VectorType(i32, 8), [L + h if not L & h else 8 + L for L in range(8)])
    out = list(rows)
    for a in range(len(rows)):
        if not a & h:
            out[a] = b.shuffle_vector(rows[a], rows[a | h], lo)
            out[a | h] = b.shuffle_vector(rows[a], rows[a | h], hi)
    return out


def _t_words(b, vs, K):
    """IR: the K word vectors of 8 consecutive y (word j of y u at lane u of vector j) from
    the K <8 x i64> loads vs of their 8K words (K = 4B words a y): a transpose."""
    if K == 4:   # vs[q] lane l: y 2q + (l >> 2), word l & 3
        rows = _t_swap(b, _t_swap(b, vs, 0), 1)   # row l & 3, lane (l >> 2)·4 + q
        i32 = ir.IntType(32)
        perm = ir.Constant(ir.VectorType(i32, 8), [((u & 1) << 2) | (u >> 1) for u in range(8)])
        und = ir.Constant(_VT, ir.Undefined)
        return [b.shuffle_vector(r, und, perm) for r in rows]
    if K == 8:   # vs[u]: the 8 words of y u
        return _t_swap(b, _t_swap(b, _t_swap(b, vs, 0), 1), 2)
    # K = 16: vs[2u + h]: words 8h … 8h + 7 of y u
    return [v for h in range(2) for v in _t_words(b, vs[h::2], 8)]


def _win_t_codegen(B):
    K = 4 * B
    tri = [int(sum(3 ** k for k in range(4) if e >> k & 1)) for e in range(B)]

    def codegen(context, builder, sig, args):
        b = builder
        V = _arr(context, b, sig, args, 0)
        base, n8, rs = args[1], args[2], args[3]
        G0 = _arr(context, b, sig, args, 4)
        G1 = _arr(context, b, sig, args, 5)
        with cgutils.for_range(b, n8) as loop:
            r = loop.index
            src = b.add(base, b.mul(r, ir.Constant(_I64, 8 * K)))
            vs = [b.load(_v_ptr(b, V, b.add(src, ir.Constant(_I64, 8 * q))), align=8)
                  for q in range(K)]
            w = _t_words(b, vs, K)
            o = b.mul(r, ir.Constant(_I64, 8))
            for e in range(B):
                for c in range(2):
                    x = w[2 * e + c]
                    at = b.add(b.mul(rs, ir.Constant(_I64, 2 * tri[e] + c)), o)
                    b.store(x, _v_ptr(b, G0, at), align=8)
                    b.store(_ir_sub(b, w[2 * (e + B) + c], x), _v_ptr(b, G1, at), align=8)
        return context.get_dummy_value()

    return codegen


def _win_t(B):
    def typer(typingctx, V, base, n8, rs, G0, G1):
        if V.layout != "C" or G0.layout != "C" or G1.layout != "C":
            return None
        return _nt.void(V, _nt.int64, _nt.int64, _nt.int64, G0, G1), _win_t_codegen(B)

    typer.__name__ = f"_win_t{B}"
    typer.__doc__ = (f"`_win_load2`'s G0, G1 for B = {B} over y = 8r … 8r + 7, r < n8, from "
                     f"the table's words V[base + {4 * B}·y …] (flat, C order; G0, G1 C "
                     "order, row stride rs): 8 y at a time by an <8 x i64> transpose.")
    return intrinsic(typer)


_win_t1 = _win_t(1)
_win_t2 = _win_t(2)
_win_t4 = _win_t(4)


@njit(**_OPTS)
def _win_load2(W, f, B, s, cnt, G0, G1):
    """`_win_load` of kk = 0 into G0 and of kk = 1 (differences) into G1 in one pass
    over the table's entries (each read once, not twice): for B ≤ 4 eight y at a time
    by a transpose of their words (`_win_t1`, `_win_t2`, `_win_t4`), the rest entry by
    entry."""
    n8 = cnt >> 3 if B <= 4 else 0
    if n8 > 0:
        V = W[f].reshape(-1)
        rs = G0.shape[2]
        if B == 1:
            _win_t1(V, 4 * s, n8, rs, G0, G1)
        elif B == 2:
            _win_t2(V, 8 * s, n8, rs, G0, G1)
        else:
            _win_t4(V, 16 * s, n8, rs, G0, G1)
    for b in range(B):
        g = _tri(b)
        for i in range(8 * n8, cnt):
            idx = b + 2 * B * (s + i)
            x0 = W[f, idx, 0]
            x1 = W[f, idx, 1]
            G0[g, 0, i] = x0
            G0[g, 1, i] = x1
            G1[g, 0, i] = gl_sub(W[f, idx + B, 0], x0)
            G1[g, 1, i] = gl_sub(W[f, idx + B, 1], x1)


@njit(**_OPTS)
def _grid_extend(G, i, cnt):
    """Rows at the cube points {0, 1}^i of G (`_tri`) extended to the grid {0, 1, ∞}^i:
    coordinate by coordinate, the value at ∞ is the value at 1 minus the value at 0."""
    p = 1
    for k in range(i):
        for hi in range(1 << (i - k - 1)):   # coordinates above k still in {0, 1}
            hb = _tri(hi) * 3 * p
            for lo in range(p):   # coordinates below k already on the grid
                g = hb + 2 * p + lo
                _v_sub(G[g - p, 0], G[g - 2 * p, 0], G[g, 0], cnt)
                _v_sub(G[g - p, 1], G[g - 2 * p, 1], G[g, 1], cnt)
        p *= 3


@njit(**_OPTS)
def _v_mul_acc(a0, a1, b0, b1, acc, t, kk, a, idx, cnt):
    """acc[t, kk, a, idx] += Σ_i (a0 + a1 x)[i]·(b0 + b1 x)[i] over cnt ≤ 2^8 lanes
    (`_v_mul_sum`: the products summed as 32-bit limbs, never written)."""
    y0, y1 = _v_mul_sum(a0, a1, b0, b1, cnt)
    acc[t, kk, a, idx, 0] = gl_add(acc[t, kk, a, idx, 0], y0)
    acc[t, kk, a, idx, 1] = gl_add(acc[t, kk, a, idx, 1], y1)


@njit(**_OPTS)
def _v_addmul_acc(e0, e1, a0, a1, b0, b1, acc, t, kk, idx, cnt):
    """acc[t, kk, 0, idx] += Σ_i e[i]·(a[i] + b[i]) (`_v_addmul_sum`)."""
    y0, y1 = _v_addmul_sum(e0, e1, a0, a1, b0, b1, cnt)
    acc[t, kk, 0, idx, 0] = gl_add(acc[t, kk, 0, idx, 0], y0)
    acc[t, kk, 0, idx, 1] = gl_add(acc[t, kk, 0, idx, 1], y1)


@njit(**_OPTS)
def _v_dot_acc(a0, a1, b0, b1, c0, c1, d0, d1, acc, t, kk, a, idx, cnt):
    """acc[t, kk, a, idx] += Σ_i (a·b + c·d)[i] over cnt ≤ 2^8 lanes (extension lanes):
    the six Karatsuba products' 128-bit values (`mul128`) summed as 32-bit limb sums (the
    two products of each Karatsuba term into one sum, < 2^41), reduced and combined once
    (`_fin4`) — `_v_mul` twice, `_v_add` and a lane sum in one loop, the same field
    element."""
    a00 = ZERO
    a01 = ZERO
    a02 = ZERO
    a03 = ZERO
    a10 = ZERO
    a11 = ZERO
    a12 = ZERO
    a13 = ZERO
    a20 = ZERO
    a21 = ZERO
    a22 = ZERO
    a23 = ZERO
    for i in range(cnt):
        h, l = mul128(a0[i], b0[i])
        x0, x1, x2, x3 = _limbs(h, l)
        h, l = mul128(c0[i], d0[i])
        y0, y1, y2, y3 = _limbs(h, l)
        a00 += x0 + y0
        a01 += x1 + y1
        a02 += x2 + y2
        a03 += x3 + y3
        h, l = mul128(a1[i], b1[i])
        x0, x1, x2, x3 = _limbs(h, l)
        h, l = mul128(c1[i], d1[i])
        y0, y1, y2, y3 = _limbs(h, l)
        a10 += x0 + y0
        a11 += x1 + y1
        a12 += x2 + y2
        a13 += x3 + y3
        h, l = mul128(gl_add(a0[i], a1[i]), gl_add(b0[i], b1[i]))
        x0, x1, x2, x3 = _limbs(h, l)
        h, l = mul128(gl_add(c0[i], c1[i]), gl_add(d0[i], d1[i]))
        y0, y1, y2, y3 = _limbs(h, l)
        a20 += x0 + y0
        a21 += x1 + y1
        a22 += x2 + y2
        a23 += x3 + y3
    m0 = _fin4(a00, a01, a02, a03)
    m1 = _fin4(a10, a11, a12, a13)
    m2 = _fin4(a20, a21, a22, a23)
    acc[t, kk, a, idx, 0] = gl_add(acc[t, kk, a, idx, 0], gl_add(m0, gl_mul7(m1)))
    acc[t, kk, a, idx, 1] = gl_add(acc[t, kk, a, idx, 1], gl_sub(gl_sub(m2, m0), m1))


@njit(**_OPTS)
def _l_mul_acc(a0, a1, b0, b1, acc, t, kk, a, idx, cnt, Kc):
    """`_v_mul_acc` (the same acc) by `_l_mul_sum` (IFMA52 limbs where the host has them)."""
    y0, y1 = _l_mul_sum(a0, a1, b0, b1, cnt, Kc)
    acc[t, kk, a, idx, 0] = gl_add(acc[t, kk, a, idx, 0], y0)
    acc[t, kk, a, idx, 1] = gl_add(acc[t, kk, a, idx, 1], y1)


@njit(**_OPTS)
def _l_addmul_acc(e0, e1, a0, a1, b0, b1, acc, t, kk, idx, cnt, Kc, c0, c1):
    """`_v_addmul_acc` (the same acc) by `_l_addmul_sum` (c0, c1: scratch lanes)."""
    y0, y1 = _l_addmul_sum(e0, e1, a0, a1, b0, b1, cnt, Kc, c0, c1)
    acc[t, kk, 0, idx, 0] = gl_add(acc[t, kk, 0, idx, 0], y0)
    acc[t, kk, 0, idx, 1] = gl_add(acc[t, kk, 0, idx, 1], y1)


@njit(**_OPTS)
def _l_dot_acc(a0, a1, b0, b1, c0, c1, d0, d1, acc, t, kk, a, idx, cnt, Kc):
    """`_v_dot_acc` (the same acc): by `_i_dot_sum` where `whir_eq.IFMA` and cnt ≥
    `IFMA_MIN_LANES`."""
    if IFMA and cnt >= IFMA_MIN_LANES:
        y0, y1 = _i_dot_sum(a0, a1, b0, b1, c0, c1, d0, d1, cnt, Kc)
        acc[t, kk, a, idx, 0] = gl_add(acc[t, kk, a, idx, 0], y0)
        acc[t, kk, a, idx, 1] = gl_add(acc[t, kk, a, idx, 1], y1)
    else:
        _v_dot_acc(a0, a1, b0, b1, c0, c1, d0, d1, acc, t, kk, a, idx, cnt)


@njit(**_OPTS)
def _window_round(W, slots, E, i, want1, lo, hi, acc, off):
    """Round i of a window over y = lo … hi−1 (E[y] = E_j(y) of the chunk): adds to
    acc[t, kk, a, off + g] the grid forms M[g] of `window_round_sums` — kk = 0 (X = 0),
    1 (X² coefficient: differences), 2 (X = 1, only when ``want1``); a = 0: A =
    P0·Q1 + P1·Q0 (unit numerators: Q0 + Q1 at the cube points b, entry off + b, linear;
    none for kk = 1), a = 1: B = Q0·Q1."""
    B = 1 << i
    n3 = 1
    for _ in range(i):
        n3 *= 3
    T = slots.shape[0]
    nk = 3 if want1 else 2
    wb = WBLOCK if n3 <= 9 else (WBLOCK // 2 if n3 <= 27 else WBLOCK // 4)
    e0 = np.empty(wb, np.uint64)
    e1 = np.empty(wb, np.uint64)
    EP0 = np.empty((n3, 2, wb), np.uint64)
    EP1 = np.empty((n3, 2, wb), np.uint64)
    EQ0 = np.empty((n3, 2, wb), np.uint64)
    EQ1 = np.empty((n3, 2, wb), np.uint64)
    Q0 = np.empty((n3, 2, wb), np.uint64)
    Q1 = np.empty((n3, 2, wb), np.uint64)
    D0 = np.empty((n3, 2, wb), np.uint64)
    D1 = np.empty((n3, 2, wb), np.uint64)
    Z = np.empty((2, wb), np.uint64)
    Kc = np.empty(9 * IFMA_LANES, np.uint64)   # `_i_mul_sum`'s limbs
    DP0 = np.empty((n3 if nk == 2 else 1, 2, wb), np.uint64)   # numerators' differences
    DP1 = np.empty((n3 if nk == 2 else 1, 2, wb), np.uint64)
    for s in range(lo, hi, wb):
        cnt = min(wb, hi - s)
        for y in range(cnt):
            e0[y] = E[s + y, 0]
            e1[y] = E[s + y, 1]
        for t in range(T):
            unit = slots[t, 0] < 0
            if unit and nk == 2:   # unit numerators, no X = 1: both kk from one load
                _win_load2(W, slots[t, 2], B, s, cnt, Q0, D0)
                _win_load2(W, slots[t, 3], B, s, cnt, Q1, D1)
                for b in range(B):
                    g = _tri(b)
                    _l_addmul_acc(e0, e1, Q0[g, 0], Q0[g, 1], Q1[g, 0], Q1[g, 1], acc,
                                  t, 0, off + b, cnt, Kc, Z[0], Z[1])
                for kk in range(2):
                    X0 = Q0 if kk == 0 else D0
                    X1 = Q1 if kk == 0 else D1
                    for b in range(B):
                        g = _tri(b)
                        _v_mul(e0, e1, X0[g, 0], X0[g, 1], EQ0[g, 0], EQ0[g, 1], cnt)
                    _grid_extend(EQ0, i, cnt)
                    _grid_extend(X1, i, cnt)
                    for g in range(n3):
                        _l_mul_acc(EQ0[g, 0], EQ0[g, 1], X1[g, 0], X1[g, 1], acc, t, kk,
                                   1, off + g, cnt, Kc)
                continue
            if not unit and nk == 2:   # numerators, no X = 1: both kk from one load
                _win_load2(W, slots[t, 2], B, s, cnt, Q0, D0)
                _win_load2(W, slots[t, 3], B, s, cnt, Q1, D1)
                _win_load2(W, slots[t, 0], B, s, cnt, EP0, DP0)
                _win_load2(W, slots[t, 1], B, s, cnt, EP1, DP1)
                for kk in range(2):
                    X0 = Q0 if kk == 0 else D0
                    X1 = Q1 if kk == 0 else D1
                    XP0 = EP0 if kk == 0 else DP0
                    XP1 = EP1 if kk == 0 else DP1
                    for b in range(B):
                        g = _tri(b)
                        _v_mul(e0, e1, X0[g, 0], X0[g, 1], EQ0[g, 0], EQ0[g, 1], cnt)
                        _v_mul(e0, e1, X1[g, 0], X1[g, 1], EQ1[g, 0], EQ1[g, 1], cnt)
                    _grid_extend(EQ0, i, cnt)
                    _grid_extend(X1, i, cnt)
                    _grid_extend(XP0, i, cnt)
                    _grid_extend(XP1, i, cnt)
                    _grid_extend(EQ1, i, cnt)
                    for g in range(n3):
                        _l_mul_acc(EQ0[g, 0], EQ0[g, 1], X1[g, 0], X1[g, 1], acc, t, kk,
                                   1, off + g, cnt, Kc)
                        _l_dot_acc(XP0[g, 0], XP0[g, 1], EQ1[g, 0], EQ1[g, 1], XP1[g, 0],
                                   XP1[g, 1], EQ0[g, 0], EQ0[g, 1], acc, t, kk, 0, off + g,
                                   cnt, Kc)
                continue
            for kk in range(nk):
                _win_load(W, slots[t, 2], B, kk, s, cnt, Q0, e0, e1, False, Z)
                _win_load(W, slots[t, 3], B, kk, s, cnt, Q1, e0, e1, False, Z)
                if unit and kk != 1:   # A = E·(q0 + q1), linear in the tables
                    for b in range(B):
                        g = _tri(b)
                        _l_addmul_acc(e0, e1, Q0[g, 0], Q0[g, 1], Q1[g, 0], Q1[g, 1], acc,
                                      t, kk, off + b, cnt, Kc, Z[0], Z[1])
                for b in range(B):
                    g = _tri(b)
                    _v_mul(e0, e1, Q0[g, 0], Q0[g, 1], EQ0[g, 0], EQ0[g, 1], cnt)
                    if not unit:   # E·Q1 too: A = P0·(E·Q1) + P1·(E·Q0), no E·P
                        _v_mul(e0, e1, Q1[g, 0], Q1[g, 1], EQ1[g, 0], EQ1[g, 1], cnt)
                _grid_extend(EQ0, i, cnt)
                _grid_extend(Q1, i, cnt)
                if not unit:
                    _win_load(W, slots[t, 0], B, kk, s, cnt, EP0, e0, e1, False, Z)
                    _win_load(W, slots[t, 1], B, kk, s, cnt, EP1, e0, e1, False, Z)
                    _grid_extend(EP0, i, cnt)
                    _grid_extend(EP1, i, cnt)
                    _grid_extend(EQ1, i, cnt)
                for g in range(n3):
                    _l_mul_acc(EQ0[g, 0], EQ0[g, 1], Q1[g, 0], Q1[g, 1], acc, t, kk, 1,
                               off + g, cnt, Kc)
                    if not unit:
                        _l_dot_acc(EP0[g, 0], EP0[g, 1], EQ1[g, 0], EQ1[g, 1], EP1[g, 0],
                                   EP1[g, 1], EQ0[g, 0], EQ0[g, 1], acc, t, kk, 0, off + g,
                                   cnt, Kc)


@njit(parallel=True, **_OPTS)
def e_gkr_window_sums(W, slots, Eall, eoff, want1, acc, nchunks):
    """One chunk's share of a window of m = len(want1) rounds (module section above):
    W (k, M, 2) the chunk's tables folded by ρ_<j0, ``slots`` as `e_gkr_sums`, round i's
    E_(j0+i) over the chunk's M/2^(i+1) values of y at Eall[eoff[i]:], ``acc`` (T, 3, 2,
    NB, 2) with NB = Σ_i 3^i (`window_offsets`), added to (canonical values)."""
    m = want1.shape[0]
    M = W.shape[1]
    T = slots.shape[0]
    NB = acc.shape[3]
    part = np.zeros((nchunks, T, 3, 2, NB, 2), dtype=np.uint64)
    for c in prange(nchunks):
        off = 0
        n3 = 1
        for i in range(m):
            ny = M >> (i + 1)
            step = (ny + nchunks - 1) // nchunks
            lo = min(ny, c * step)
            hi = min(ny, (c + 1) * step)
            if lo < hi:
                _window_round(W, slots, Eall[eoff[i]:eoff[i] + ny], i, want1[i], lo, hi,
                              part[c], off)
            off += n3
            n3 *= 3
    for c in range(nchunks):
        for t in range(T):
            for kk in range(3):
                for a in range(2):
                    for x in range(NB):
                        acc[t, kk, a, x, 0] = gl_add(acc[t, kk, a, x, 0], part[c, t, kk, a, x, 0])
                        acc[t, kk, a, x, 1] = gl_add(acc[t, kk, a, x, 1], part[c, t, kk, a, x, 1])


class Joined(list):
    """A window's tables Es[0 … m−1] (a list of (len_i, 2) arrays) that are also the
    consecutive row ranges of one C-contiguous uint64 array ``joined`` (Σ len_i, 2):
    `gkr_window_sums` / `fill_window_sums` read that instead of concatenating them (one
    copy a call: a tree and chunk).  `join` builds one."""

    joined: np.ndarray


def join(Eall: np.ndarray, lens) -> Joined:
    """`Joined` over ``Eall`` (Σ lens rows): its views Eall[o_i : o_i + lens[i]]."""
    out = Joined()
    o = 0
    for n in lens:
        out.append(Eall[o:o + int(n)])
        o += int(n)
    if o != Eall.shape[0] or Eall.dtype != np.uint64 or not Eall.flags.c_contiguous:
        raise ValueError("join: Eall must be C-contiguous uint64 of sum(lens) rows")
    out.joined = Eall
    return out


def _eall(Es) -> np.ndarray:
    """Es concatenated (uint64, C-contiguous): a `Joined`'s array as it is."""
    j = getattr(Es, "joined", None)
    if j is not None:
        return j
    return np.ascontiguousarray(np.concatenate(Es), np.uint64)


def gkr_window_sums(W, slots, Es, want1, acc) -> None:
    """`e_gkr_window_sums` for one chunk: Es[i] = E_(j0+i) over the chunk's values of y
    (length W.shape[1] / 2^(i+1)), ``acc`` added to."""
    W = np.ascontiguousarray(W, np.uint64)
    Eall = _eall(Es)
    eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
    m = len(Es)
    work = W.shape[1] * slots.shape[0] * (1 << m)
    nch = 1 if work < SMALL else max(1, min(_chunks(work), 32, W.shape[1] >> m))
    e_gkr_window_sums(W, slots, Eall, eoff, np.array(want1, dtype=np.bool_), acc, nch)


def _grid_weights(rhos):
    """w_g(ρ') = Π_k L_(g_k)(ρ'_k) for g ∈ {0, 1, ∞}^i (index Σ_k g_k·3^k), Python ints:
    L_0(r) = 1 − r, L_1(r) = r, L_∞(r) = r(r − 1)."""
    w = [(1, 0)]
    for r in rhos:
        r = (int(r[0]), int(r[1]))
        ls = (_ref_sub((1, 0), r), r, _ref_mul(r, _ref_sub(r, (1, 0))))
        w = [_ref_mul(x, ld) for ld in ls for x in w]
    return w


def window_round_sums(acc, slots, i: int, rhos) -> np.ndarray:
    """Round i's pair sums (T, 3, 2, 2), as `e_gkr_sums` gives them over the tables folded
    by ρ_<j, from a window's accumulator and ρ' = ``rhos`` (the window's first i
    challenges): Σ_g w_g(ρ')·M[g] (unit numerators' A: Σ_b eq(ρ', b)·M[b]).  Python ints
    (3^i values per form)."""
    off = window_offsets(i)[i]
    w = _grid_weights(list(rhos)[:i])
    eq = [(1, 0)]
    for r in list(rhos)[:i]:
        r = (int(r[0]), int(r[1]))
        eq = [_ref_mul(x, _ref_sub((1, 0), r)) for x in eq] + [_ref_mul(x, r) for x in eq]
    T = slots.shape[0]
    out = np.zeros((T, 3, 2, 2), dtype=np.uint64)
    for t in range(T):
        unit = slots[t, 0] < 0
        for kk in range(3):
            for a in range(2):
                tot = (0, 0)
                if unit and a == 0:
                    if kk != 1:
                        for b, wb in enumerate(eq):
                            v = acc[t, kk, 0, off + b]
                            tot = _ref_add(tot, _ref_mul(wb, (int(v[0]), int(v[1]))))
                else:
                    for g, wg in enumerate(w):
                        v = acc[t, kk, a, off + g]
                        tot = _ref_add(tot, _ref_mul(wg, (int(v[0]), int(v[1]))))
                out[t, kk, a] = tot
    return out


def ref_gkr_window_sums(W, slots, Es, want1):
    """Reference of `e_gkr_window_sums` (Python ints, from the definitions: the tables'
    values extended to the grid one point at a time): the accumulator of one chunk,
    (T, 3, 2, NB, 2)."""
    m = len(Es)
    T = len(slots)
    offs = window_offsets(m)
    acc = np.zeros((T, 3, 2, offs[m], 2), dtype=np.uint64)
    M = W.shape[1]

    def el(f, x):
        return (int(W[f, x, 0]), int(W[f, x, 1]))

    def grid(vals, i):   # vals[b] over the cube → value at every grid point
        out = []
        for g in range(3 ** i):
            d = [(g // 3 ** k) % 3 for k in range(i)]
            pts = [(0, (1, 0))]   # (cube index, sign) expansions of ∞ as 1 − 0
            for k in range(i):
                nxt = []
                for b, sg in pts:
                    if d[k] == 2:
                        nxt += [(b | 1 << k, sg), (b, _ref_sub((0, 0), sg))]
                    else:
                        nxt.append((b | d[k] << k, sg))
                pts = nxt
            v = (0, 0)
            for b, sg in pts:
                v = _ref_add(v, _ref_mul(sg, vals[b]))
            out.append(v)
        return out

    for i in range(m):
        B = 1 << i
        for t in range(T):
            p0s, p1s, q0s, q1s = (int(s) for s in slots[t])
            unit = p0s < 0
            for kk in range(3 if want1[i] else 2):
                def val(f, b, y, kk=kk, B=B):
                    lo, hi = el(f, b + 2 * B * y), el(f, b + B + 2 * B * y)
                    return (lo, _ref_sub(hi, lo), hi)[kk]

                sums: dict = {}
                for y in range(M >> (i + 1)):
                    e = (int(Es[i][y][0]), int(Es[i][y][1]))
                    q0 = [val(q0s, b, y) for b in range(B)]
                    q1 = [val(q1s, b, y) for b in range(B)]
                    if unit and kk != 1:
                        for b in range(B):
                            v = _ref_mul(e, _ref_add(q0[b], q1[b]))
                            sums[(0, b)] = _ref_add(sums.get((0, b), (0, 0)), v)
                    g0, g1 = grid(q0, i), grid(q1, i)
                    if not unit:
                        gp0 = grid([val(p0s, b, y) for b in range(B)], i)
                        gp1 = grid([val(p1s, b, y) for b in range(B)], i)
                    for g in range(3 ** i):
                        v = _ref_mul(e, _ref_mul(g0[g], g1[g]))
                        sums[(1, g)] = _ref_add(sums.get((1, g), (0, 0)), v)
                        if not unit:
                            v = _ref_mul(e, _ref_add(_ref_mul(gp0[g], g1[g]),
                                                     _ref_mul(gp1[g], g0[g])))
                            sums[(0, g)] = _ref_add(sums.get((0, g), (0, 0)), v)
                for (a, x), v in sums.items():
                    acc[t, kk, a, offs[i] + x] = v
    return acc


# -- the lookup leaves of a whole range of segments in one call ----------------------------
#
# A streamed lookup tree sums its leaves again from the request columns on every pass
# (`zklora.plugins.lookups.logup_gkr._Trees._fill`); a range of leaves spans several
# blocks ("segments") of the stacked layout, one table's request columns each, a padding
# row, or nothing (leaf 1).  `e_fill_segments` writes the leaves of every segment of a
# range in one call (the Python loop over segments and one kernel call per segment cost
# about as much as the leaves themselves on the 25m step's ~3,300 segments per pass).

#: most request columns a segment the fill kernel computes may have (wider: Python)
FILL_WIDTH = 4
#: segment kinds: leaves from the columns, a padding row's constant leaf, left to the
#: caller (wider tables, columns not contiguous uint64)
SEG_COLS, SEG_PAD, SEG_SKIP = 0, 1, 2
#: leaves per parallel block of `e_fill_segments`
FILL_BLOCK = 1 << 14
#: entries (rows × sets) per block of `e_fill_reduce` (its lanes: (2·log2(m) + 1)·4 rows)
FILL_RB = 512


@intrinsic
def _u64_ptr(typingctx, addr):
    """The address ``addr`` (an integer) as a uint64 pointer."""
    if not isinstance(addr, _nt.Integer):
        return None
    sig = _nt.CPointer(_nt.uint64)(addr)

    def codegen(context, builder, signature, args):
        return builder.inttoptr(args[0], context.get_value_type(signature.return_type))

    return sig, codegen


def col_table(cols) -> np.ndarray:
    """The plan's columns (1-D C-contiguous uint64 arrays) as an (n, 2) int64 table of
    (address, length) rows, as the fill kernels read them (`_col_at`): no copy of the
    columns and no `numba.typed.List` (whose methods numba compiles, uncached, in every
    process).  The caller keeps ``cols`` alive while the table is used."""
    T = np.zeros((max(1, len(cols)), 2), dtype=np.int64)
    for j, c in enumerate(cols):
        assert c.dtype == np.uint64 and c.ndim == 1 and c.flags.c_contiguous
        T[j, 0] = c.ctypes.data
        T[j, 1] = c.shape[0]
    return T


def _col_at(L, j):
    """Column j of the plan's columns ``L``: a list of arrays, or a `col_table`."""
    if isinstance(L, np.ndarray):
        raise TypeError("a col_table is read by the kernels only")
    return L[j]


@overload(_col_at, inline="always")
def _ov_col_at(L, j):
    if isinstance(L, _nt.Array):
        def impl(L, j):
            return numba.carray(_u64_ptr(L[j, 0]), (L[j, 1],))
        return impl

    def impl_list(L, j):
        return L[j]
    return impl_list


@njit(inline="always", **_OPTS)
def _fill_cols(L, c0, w, ap, bt, q, off, xlo, a, b, s0, s1):
    """q[x − xlo, r] = bt[r] − Σ_k ap[r, k]·L[c0 + k][x − off] for a ≤ x < b (the
    leaves of one segment piece, `BLOCK` at a time, every set r)."""
    R = q.shape[1]
    for s in range(a, b, BLOCK):
        cnt = min(BLOCK, b - s)
        for r in range(R):
            for i in range(cnt):
                s0[i] = bt[r, 0]
                s1[i] = bt[r, 1]
            for k in range(w):
                col = _col_at(L, c0 + k)
                a0 = ap[r, k, 0]
                a1 = ap[r, k, 1]
                base = s - off
                cs = col[base:base + cnt]   # indexed by the loop index (`_leaf_lanes`)
                if a1 == ZERO and a0 == ONE:   # (1, 0): c mod p = gl_mul(1, c)
                    for i in range(cnt):
                        c = cs[i]
                        if c >= P:
                            c -= P
                        s0[i] = gl_sub(s0[i], c)
                elif a1 == ZERO:               # gl_mul(0, c) = 0: s1 unchanged
                    for i in range(cnt):
                        s0[i] = gl_sub(s0[i], gl_mul(a0, cs[i]))
                else:
                    for i in range(cnt):
                        c = cs[i]
                        s0[i] = gl_sub(s0[i], gl_mul(a0, c))
                        s1[i] = gl_sub(s1[i], gl_mul(a1, c))
            qd = q[s - xlo:s - xlo + cnt, r]
            for i in range(cnt):
                qd[i, 0] = s0[i]
                qd[i, 1] = s1[i]


@njit(inline="always", **_OPTS)
def _fill_range(a0, a1, xlo, q, starts, ends, kind, tix, widths, colptr, L, AP, BT, PADV,
                s0, s1):
    """Leaves a0 … a1−1 into q[x − xlo] (`e_fill_segments`' walk over the segments)."""
    R = q.shape[1]
    S = starts.shape[0]
    i = np.searchsorted(ends, a0, side="right")   # first segment ending after a0
    pos = a0
    while pos < a1:
        if i < S and starts[i] <= pos:
            b = min(a1, ends[i])
            k = kind[i]
            if k == SEG_COLS:
                _fill_cols(L, colptr[i], widths[i], AP[tix[i]], BT[tix[i]], q,
                           starts[i], xlo, pos, b, s0, s1)
            elif k == SEG_PAD:
                qd = q[pos - xlo:b - xlo]
                for x in range(b - pos):
                    for r in range(R):
                        qd[x, r, 0] = PADV[i, r, 0]
                        qd[x, r, 1] = PADV[i, r, 1]
            pos = b
            i += 1
        else:
            nxt = a1 if i >= S else min(a1, starts[i])
            qd = q[pos - xlo:nxt - xlo]
            for x in range(nxt - pos):
                for r in range(R):
                    qd[x, r, 0] = ONE
                    qd[x, r, 1] = ZERO
            pos = nxt


@njit(parallel=True, **_OPTS)
def e_fill_segments(xlo, xhi, q, starts, ends, kind, tix, widths, colptr, L, AP, BT, PADV,
                    nblk):
    """Leaves xlo … xhi−1 of every challenge set of a lookup tree: q (xhi − xlo, R, 2),
    every entry written.  Segment i covers [starts[i], ends[i]) (sorted, disjoint):
    kind `SEG_COLS` — bt − Σ_k ap·col_k with ap = AP[tix[i]] (R, FILL_WIDTH, 2), bt =
    BT[tix[i]] (R, 2) and the widths[i] columns L[colptr[i] + k] (1-D uint64, indexed
    from the segment's start; L a `col_table` or a list of the columns); `SEG_PAD` — the
    constant PADV[i] (R, 2); `SEG_SKIP` — left unwritten (the caller's).
    Leaves no segment covers are 1."""
    n = xhi - xlo
    bs = (n + nblk - 1) // nblk
    for c in prange(nblk):
        _wide512()   # zmm lanes (`jit_util._wide512`)
        a0 = xlo + c * bs
        a1 = min(xhi, a0 + bs)
        if a0 >= a1:
            continue
        s0 = np.empty(BLOCK, np.uint64)
        s1 = np.empty(BLOCK, np.uint64)
        _fill_range(a0, a1, xlo, q, starts, ends, kind, tix, widths, colptr, L, AP, BT,
                    PADV, s0, s1)


@njit(inline="always", **_OPTS)
def _leaf_lanes(a0, cx, starts, ends, kind, tix, widths, colptr, L, AP, BT, PADV, D0, D1):
    """Leaves of rows a0 … a0+cx−1, every set r, de-interleaved into lanes: (D0, D1)[r·cx
    + x − a0] (the same values as `_fill_range`; a combiner (1, 0) — every table's
    first, `zklora.zkcore.lookup.draw_combiners` — costs a subtraction, not two products:
    gl_mul(1, c) = c mod p and gl_mul(0, c) = 0).  Each run is written through slices
    indexed by the bare loop index (no ``o + x``: numba's negative-index wraparound on a
    sum it cannot prove non-negative kept these loops scalar; s25h2, ×0.7–0.75 of the
    kernel with the output loop below)."""
    R = AP.shape[1]
    S = starts.shape[0]
    a1 = a0 + cx
    i = np.searchsorted(ends, a0, side="right")   # first segment ending after a0
    pos = a0
    while pos < a1:
        if i < S and starts[i] <= pos:
            b = min(a1, ends[i])
            k = kind[i]
            n = b - pos
            d = pos - a0
            if k == SEG_COLS:
                t = tix[i]
                base = pos - starts[i]
                for r in range(R):
                    o = r * cx + d
                    E0 = D0[o:o + n]
                    E1 = D1[o:o + n]
                    v0 = BT[t, r, 0]
                    v1 = BT[t, r, 1]
                    w = widths[i]
                    x0 = AP[t, r, 0, 0]
                    x1 = AP[t, r, 0, 1]
                    col = _col_at(L, colptr[i])[base:base + n]
                    if w >= 1 and x1 == ZERO and x0 == ONE:
                        for x in range(n):
                            c = col[x]
                            if c >= P:
                                c -= P
                            E0[x] = gl_sub(v0, c)
                            E1[x] = v1
                        k0 = 1
                    else:
                        for x in range(n):
                            E0[x] = v0
                            E1[x] = v1
                        k0 = 0
                    for kk in range(k0, w):
                        col = _col_at(L, colptr[i] + kk)[base:base + n]
                        x0 = AP[t, r, kk, 0]
                        x1 = AP[t, r, kk, 1]
                        if x1 == ZERO and x0 == ONE:
                            for x in range(n):
                                c = col[x]
                                if c >= P:
                                    c -= P
                                E0[x] = gl_sub(E0[x], c)
                        elif x1 == ZERO:
                            for x in range(n):
                                E0[x] = gl_sub(E0[x], gl_mul(x0, col[x]))
                        else:
                            for x in range(n):
                                c = col[x]
                                E0[x] = gl_sub(E0[x], gl_mul(x0, c))
                                E1[x] = gl_sub(E1[x], gl_mul(x1, c))
            else:   # SEG_PAD (the fused path has no SEG_SKIP)
                for r in range(R):
                    o = r * cx + d
                    E0 = D0[o:o + n]
                    E1 = D1[o:o + n]
                    v0 = PADV[i, r, 0]
                    v1 = PADV[i, r, 1]
                    for x in range(n):
                        E0[x] = v0
                        E1[x] = v1
            pos = b
            i += 1
        else:
            nxt = a1 if i >= S else min(a1, starts[i])
            for r in range(R):
                o = r * cx + pos - a0
                E0 = D0[o:o + nxt - pos]
                E1 = D1[o:o + nxt - pos]
                for x in range(nxt - pos):
                    E0[x] = ONE
                    E1[x] = ZERO
            pos = nxt


@njit(inline="always", **_OPTS)
def _uni_table(a0, cx, starts, ends, kind, tix, widths, AP):
    """The table index when rows a0 … a0+cx−1 lie in one column segment whose combiners
    are all base-field elements (its leaves' second components: the constants BT[t, r,
    1]), else −1."""
    i = np.searchsorted(ends, a0, side="right")
    if i >= starts.shape[0] or starts[i] > a0 or ends[i] < a0 + cx or kind[i] != SEG_COLS:
        return -1
    t = tix[i]
    for r in range(AP.shape[1]):
        for kk in range(widths[i]):
            if AP[t, r, kk, 1] != ZERO:
                return -1
    return t


@njit(**_OPTS)
def _v_leaf_pair(u0, u1, v0, v1, p0, p1, q0, q1, cnt):
    """The fraction sum of two unit leaves, lane by lane: p = u + v, q = u·v."""
    for i in range(cnt):
        p0[i] = gl_add(u0[i], v0[i])
        p1[i] = gl_add(u1[i], v1[i])
        q0[i], q1[i] = e2_mul(u0[i], u1[i], v0[i], v1[i])


@njit(**_OPTS)
def _v_leaf_pair_c(u0, v0, b1, d1, p0, p1, q0, q1, cnt):
    """`_v_leaf_pair` of leaves (u0, b1), (v0, d1) whose second components are constants
    (base-field combiners): p = (u0 + v0, b1 + d1), q = (u0·v0 + 7·b1·d1, b1·v0 + d1·u0)
    (b1 = d1: b1·(u0 + v0)) — the same field elements as `e2_mul`'s, with two or three
    products, not three and a Karatsuba's sums."""
    pp = gl_add(b1, d1)
    c7 = gl_mul7(gl_mul(b1, d1))
    if b1 == d1:
        for i in range(cnt):
            s = gl_add(u0[i], v0[i])
            p0[i] = s
            p1[i] = pp
            q0[i] = gl_add(gl_mul(u0[i], v0[i]), c7)
            q1[i] = gl_mul(b1, s)
    else:
        for i in range(cnt):
            p0[i] = gl_add(u0[i], v0[i])
            p1[i] = pp
            q0[i] = gl_add(gl_mul(u0[i], v0[i]), c7)
            q1[i] = gl_dot2(b1, v0[i], d1, u0[i])


@njit(**_OPTS)
def _v_merge(a, b, o, cnt):
    """o = the fraction sum of nodes a and b, lane by lane: each (4, ·) rows p0, p1, q0,
    q1; p = p_a·q_b + p_b·q_a, q = q_a·q_b (o distinct from a and b).  p's two Karatsuba
    products share their reductions: with (m0, m1, m2) of p_a·q_b and (n0, n1, n2) of
    p_b·q_a, s_k = m_k + n_k reduced once (`_dot2`), p = (s0 + 7·s1, s2 − s0 − s1)."""
    for i in range(cnt):
        pa0 = a[0, i]
        pa1 = a[1, i]
        qa0 = a[2, i]
        qa1 = a[3, i]
        pb0 = b[0, i]
        pb1 = b[1, i]
        qb0 = b[2, i]
        qb1 = b[3, i]
        s0 = gl_dot2(pa0, qb0, pb0, qa0)
        s1 = gl_dot2(pa1, qb1, pb1, qa1)
        s2 = gl_dot2(gl_add(pa0, pa1), gl_add(qb0, qb1), gl_add(pb0, pb1), gl_add(qa0, qa1))
        o[0, i] = gl_add(s0, gl_mul7(s1))
        o[1, i] = gl_sub(gl_sub(s2, s0), s1)
        o[2, i], o[3, i] = e2_mul(qa0, qa1, qb0, qb1)


# -- four small leaves as one polynomial (s43h4) ------------------------------------------
#
# Four unit leaves β − v_1 … β − v_4 of one table (one β; width 1, combiner (1, 0)) with
# base values v_i < 2^16 (the range checks' limbs): their fraction sum is
# (f'(β), f(β)) for f(Y) = Π (Y − v_i) = Y⁴ − e3·Y³ + e2·Y² − e1·Y + e0, whose
# coefficients are exact 64-bit integers (e0 < 2^64 − 2^50 < p, e1 < 2^50, e2 < 2^35,
# e3 < 2^18: 32 × 32-bit products, no reduction).  f(β) and f'(β) are then sums of three
# (two) products with the constants of `_poly4_consts`, each component's products summed
# as 128-bit integers and reduced once: 10 products and 4 reductions for the four leaves
# where two pairs and a merge (`_v_leaf_pair_c`, `_v_merge`) take 13 products and about
# 11 reductions.  Two such leaves (m = 2, `_v_pair2`): f = Y² − s·Y + π, two products
# and no leaf lanes.  The unreduced fraction sum of the leaves is the same field element
# (any pairing, `e_fill_reduce`), so the bytes do not change.

#: the bound below which a piece's values take `_v_poly4` (e0 = Π v_i < 2^64)
POLY_BITS = 16
#: the fill kernels' wrappers (`fill_reduce`, `fill_reduce_fold`, `fill_window_sums`,
#: `fill_gkr_sums`) sum four (two) small leaves of one table as one polynomial
#: (`_fr_block_p`; one set, m ≥ 2); False: pairs and merges (`_fr_block`), as before;
#: same values
POLY4 = True


@njit(**_OPTS)
def _poly4_consts(BT):
    """(T, 14) constants of `_v_poly4` for each table t's β = BT[t, 0] (set 0): β⁴, −β³,
    β², −β, 4β³, −3β², 2β (each (c0, c1))."""
    T = BT.shape[0]
    C = np.zeros((T, 14), np.uint64)
    for t in range(T):
        b0 = BT[t, 0, 0]
        b1 = BT[t, 0, 1]
        s0, s1 = e2_mul(b0, b1, b0, b1)
        u0, u1 = e2_mul(s0, s1, b0, b1)
        f0, f1 = e2_mul(u0, u1, b0, b1)
        C[t, 0] = f0
        C[t, 1] = f1
        C[t, 2] = gl_neg(u0)
        C[t, 3] = gl_neg(u1)
        C[t, 4] = s0
        C[t, 5] = s1
        C[t, 6] = gl_neg(b0)
        C[t, 7] = gl_neg(b1)
        C[t, 8] = gl_add(gl_add(u0, u0), gl_add(u0, u0))
        C[t, 9] = gl_add(gl_add(u1, u1), gl_add(u1, u1))
        C[t, 10] = gl_neg(gl_add(gl_add(s0, s0), s0))
        C[t, 11] = gl_neg(gl_add(gl_add(s1, s1), s1))
        C[t, 12] = gl_add(b0, b0)
        C[t, 13] = gl_add(b1, b1)
    return C


@njit(inline="always", **_OPTS)
def _macc(h, lo, a, b):
    """(h, lo) + a·b as a 128-bit integer (no overflow past 2^128 for the callers' sums)."""
    ph, pl = mul128(a, b)
    l2 = lo + pl
    return h + ph + (ONE if l2 < pl else ZERO), l2


@njit(**_OPTS)
def _v_poly4(va, vb, vc, vd, C, o0, o1, o2, o3, cnt):
    """The fraction sum of the four unit leaves β − va[i], β − vb[i], β − vc[i],
    β − vd[i] (values < 2^`POLY_BITS`; C = `_poly4_consts` of β) lane by lane into the
    node rows (o0, o1) = p = f'(β), (o2, o3) = q = f(β) (section above)."""
    _wide512()   # zmm lanes (`jit_util._wide512`)
    c0 = C[0]
    c1 = C[1]
    c2 = C[2]
    c3 = C[3]
    c4 = C[4]
    c5 = C[5]
    c6 = C[6]
    c7 = C[7]
    c8 = C[8]
    c9 = C[9]
    c10 = C[10]
    c11 = C[11]
    c12 = C[12]
    c13 = C[13]
    for i in range(cnt):
        # (the masks change no value, < 2^16: they let LLVM use 32 × 32-bit products)
        a = va[i] & M32
        b = vb[i] & M32
        c = vc[i] & M32
        d = vd[i] & M32
        sa = a + b
        pa = a * b
        sb = c + d
        pb = c * d
        e3 = sa + sb
        e2 = pa + pb + (sa & M32) * (sb & M32)
        e1 = (sa & M32) * (pb & M32) + (sb & M32) * (pa & M32)
        e0 = (pa & M32) * (pb & M32)
        h, lo = mul128(e3, c2)           # q0 = β⁴ − e3 β³ + e2 β² − e1 β + e0 (component 0)
        h, lo = _macc(h, lo, e2, c4)
        h, lo = _macc(h, lo, e1, c6)
        l2 = lo + e0
        h += ONE if l2 < e0 else ZERO
        o2[i] = gl_add(gl_reduce128(h, l2), c0)
        h, lo = mul128(e3, c3)           # q1
        h, lo = _macc(h, lo, e2, c5)
        h, lo = _macc(h, lo, e1, c7)
        o3[i] = gl_add(gl_reduce128(h, lo), c1)
        h, lo = mul128(e3, c10)          # p0 = 4β³ − 3 e3 β² + 2 e2 β − e1
        h, lo = _macc(h, lo, e2, c12)
        o0[i] = gl_sub(gl_add(gl_reduce128(h, lo), c8), e1)
        h, lo = mul128(e3, c11)          # p1
        h, lo = _macc(h, lo, e2, c13)
        o1[i] = gl_add(gl_reduce128(h, lo), c9)


@njit(**_OPTS)
def _v_pair2(va, vb, C, o0, o1, o2, o3, cnt):
    """`_v_poly4` of two leaves β − va[i], β − vb[i] (values < 2^`POLY_BITS`): f = Y² −
    s·Y + π (s = va + vb, π = va·vb exact), p = f'(β) = 2β − s, q = f(β) = β² − s·β + π:
    two products and two reductions, no leaf lanes."""
    _wide512()   # zmm lanes (`jit_util._wide512`)
    c4 = C[4]
    c5 = C[5]
    c6 = C[6]
    c7 = C[7]
    c12 = C[12]
    c13 = C[13]
    for i in range(cnt):
        a = va[i] & M32
        b = vb[i] & M32
        s = a + b
        e0 = a * b
        h, lo = mul128(s, c6)
        l2 = lo + e0
        h += ONE if l2 < e0 else ZERO
        o2[i] = gl_add(gl_reduce128(h, l2), c4)
        h, lo = mul128(s, c7)
        o3[i] = gl_add(gl_reduce128(h, lo), c5)
        o0[i] = gl_sub(c12, s)
        o1[i] = c13


def ref_poly4(vals, beta) -> tuple:
    """Reference of one lane of `_v_poly4` (Python ints from the definition): the
    fraction sum (p, q) = (f'(β), f(β)) of the leaves β − v (v in ``vals``), f(Y) =
    Π (Y − v), with f and f' evaluated by Horner in the extension."""
    f = [1]   # coefficients of f, lowest degree first
    for v in vals:
        f = [(a - int(v) * b) % P_INT for a, b in zip([0] + f, f + [0])]
    df = [(k * f[k]) % P_INT for k in range(1, len(f))]

    def ev(c):
        r = (0, 0)
        for a in reversed(c):
            r = _ref_add(_ref_mul(r, beta), (a, 0))
        return r
    return ev(df), ev(f)


@njit(inline="always", **_OPTS)
def _small_piece(a0, cx, starts, ends, kind, tix, widths, AP, L, colptr):
    """(t, i): rows a0 … a0+cx−1 lie in column segment i of width 1 whose combiner (set
    0) is (1, 0) and every value there is < 2^`POLY_BITS` (their leaves β_t − v, `_v_poly4`),
    with t its table; else t = −1."""
    i = np.searchsorted(ends, a0, side="right")
    if (i >= starts.shape[0] or starts[i] > a0 or ends[i] < a0 + cx
            or kind[i] != SEG_COLS or widths[i] != 1):
        return -1, i
    t = tix[i]
    if AP[t, 0, 0, 0] != ONE or AP[t, 0, 0, 1] != ZERO:
        return -1, i
    base = a0 - starts[i]
    col = _col_at(L, colptr[i])[base:base + cx]
    acc = ZERO
    for x in range(cx):
        acc |= col[x]
    if acc >> np.uint64(POLY_BITS):
        return -1, i
    return t, i


@njit(inline="always", **_OPTS)
def _fr_block_p(xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr, L, AP,
                BT, PADV, U, NS, NT, tabs, order, C4, sml, sseg):
    """`_fr_block` (one set, R = 1, m ≥ 2) with the pieces taken four at a time: four
    small pieces of one table (`_small_piece`) as one polynomial (`_v_poly4`, straight
    from the columns, no leaf lanes), any other four as two pairs and a merge (as
    `_fr_block`); the level-1 nodes then merged as `_fr_block`'s binary counter (m = 2:
    `_v_pair2` where both pieces are small of one table, else `_fr_block`).  The same
    values in NS[nl] (any grouping of the leaves gives the same fraction sum).  sml,
    sseg (m): scratch."""
    BIG = np.int64(1) << 40
    for j in range(m):
        a = xlo + x0 + j * stepx
        t, i = _small_piece(a, cx, starts, ends, kind, tix, widths, AP, L, colptr)
        sml[j] = t
        sseg[j] = i
        tabs[j] = t if t >= 0 else _uni_table(a, cx, starts, ends, kind, tix, widths, AP)
        order[j] = j
        k = j   # sorted by key: small pieces by table first, then the others by table
        while k > 0:
            ka = sml[order[k - 1]] if sml[order[k - 1]] >= 0 else BIG + tabs[order[k - 1]]
            kb = sml[order[k]] if sml[order[k]] >= 0 else BIG + tabs[order[k]]
            if ka <= kb:
                break
            order[k - 1], order[k] = order[k], order[k - 1]
            k -= 1
    if m == 2:   # one pair: `_v_pair2` where both pieces are small of one table
        t = sml[order[0]]
        if t >= 0 and sml[order[1]] == t:
            ja = order[0]
            jb = order[1]
            ba = xlo + x0 + ja * stepx - starts[sseg[ja]]
            bb = xlo + x0 + jb * stepx - starts[sseg[jb]]
            _v_pair2(_col_at(L, colptr[sseg[ja]])[ba:ba + cx],
                     _col_at(L, colptr[sseg[jb]])[bb:bb + cx], C4[t], NS[0, 0], NS[0, 1],
                     NS[0, 2], NS[0, 3], cx)
        else:
            _fr_block(xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr, L,
                      AP, BT, PADV, U, NS, NT, tabs, order)
        return
    for g in range(m // 4):
        dst = NT[1] if g & 1 else NS[1]
        j0 = order[4 * g]
        j1 = order[4 * g + 1]
        j2 = order[4 * g + 2]
        j3 = order[4 * g + 3]
        t = sml[j0]
        if t >= 0 and sml[j1] == t and sml[j2] == t and sml[j3] == t:
            b0 = xlo + x0 + j0 * stepx - starts[sseg[j0]]
            b1 = xlo + x0 + j1 * stepx - starts[sseg[j1]]
            b2 = xlo + x0 + j2 * stepx - starts[sseg[j2]]
            b3 = xlo + x0 + j3 * stepx - starts[sseg[j3]]
            _v_poly4(_col_at(L, colptr[sseg[j0]])[b0:b0 + cx],
                     _col_at(L, colptr[sseg[j1]])[b1:b1 + cx],
                     _col_at(L, colptr[sseg[j2]])[b2:b2 + cx],
                     _col_at(L, colptr[sseg[j3]])[b3:b3 + cx],
                     C4[t], dst[0], dst[1], dst[2], dst[3], cx)
        else:
            for h in range(2):
                ja = order[4 * g + 2 * h]
                jb = order[4 * g + 2 * h + 1]
                _leaf_lanes(xlo + x0 + ja * stepx, cx, starts, ends, kind, tix, widths,
                            colptr, L, AP, BT, PADV, U[0], U[1])
                _leaf_lanes(xlo + x0 + jb * stepx, cx, starts, ends, kind, tix, widths,
                            colptr, L, AP, BT, PADV, U[2], U[3])
                pd = NT[0] if h else NS[0]
                if tabs[ja] >= 0 and tabs[jb] >= 0:
                    _v_leaf_pair_c(U[0], U[2], BT[tabs[ja], 0, 1], BT[tabs[jb], 0, 1],
                                   pd[0], pd[1], pd[2], pd[3], cx)
                else:
                    _v_leaf_pair(U[0], U[1], U[2], U[3], pd[0], pd[1], pd[2], pd[3], cx)
            _v_merge(NS[0], NT[0], dst, cx)
        lev = 1
        while (g >> (lev - 1)) & 1:
            dst = NT[lev + 1] if (g >> lev) & 1 else NS[lev + 1]
            _v_merge(NS[lev], NT[lev], dst, cx)
            lev += 1


@njit(inline="always", **_OPTS)
def _fr_any(usep, xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr, L,
            AP, BT, PADV, U, NS, NT, tabs, order, C4, sml, sseg):
    """`_fr_block_p` where ``usep`` (`POLY4`: one set, m ≥ 2), else `_fr_block`."""
    if usep:
        _fr_block_p(xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr, L,
                    AP, BT, PADV, U, NS, NT, tabs, order, C4, sml, sseg)
    else:
        _fr_block(xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr, L,
                  AP, BT, PADV, U, NS, NT, tabs, order)


@njit(inline="always", **_OPTS)
def _fr_block(xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr, L, AP,
              BT, PADV, U, NS, NT, tabs, order):
    """One block of `e_fill_reduce`: the fraction sums of the m unit leaves of rows
    xlo + x0 + x + j·stepx (x < cx, j < m), every set, into NS[nl] (rows p0, p1, q0, q1;
    lane r·cx + x)."""
    R = AP.shape[1]
    cnt = cx * R
    # pieces with constant second components, one table's next to each other
    # (cheaper pairs, `_v_leaf_pair_c`; any pairing gives the same sums)
    for j in range(m):
        tabs[j] = _uni_table(xlo + x0 + j * stepx, cx, starts, ends, kind, tix,
                             widths, AP)
        order[j] = j
        k = j
        while k > 0 and tabs[order[k - 1]] > tabs[order[k]]:
            order[k - 1], order[k] = order[k], order[k - 1]
            k -= 1
    for t in range(m // 2):
        ja = order[2 * t]
        jb = order[2 * t + 1]
        _leaf_lanes(xlo + x0 + ja * stepx, cx, starts, ends, kind, tix, widths,
                    colptr, L, AP, BT, PADV, U[0], U[1])
        _leaf_lanes(xlo + x0 + jb * stepx, cx, starts, ends, kind, tix, widths,
                    colptr, L, AP, BT, PADV, U[2], U[3])
        dst = NT[0] if t & 1 else NS[0]
        if tabs[ja] >= 0 and tabs[jb] >= 0:
            for r in range(R):
                o = r * cx
                _v_leaf_pair_c(U[0, o:], U[2, o:], BT[tabs[ja], r, 1],
                               BT[tabs[jb], r, 1], dst[0, o:], dst[1, o:],
                               dst[2, o:], dst[3, o:], cx)
        else:
            _v_leaf_pair(U[0], U[1], U[2], U[3], dst[0], dst[1], dst[2], dst[3],
                         cnt)
        lev = 0
        while (t >> lev) & 1:
            dst = NT[lev + 1] if (t >> (lev + 1)) & 1 else NS[lev + 1]
            _v_merge(NS[lev], NT[lev], dst, cnt)
            lev += 1


@njit(parallel=True, **_OPTS)
def e_fill_reduce(xlo, wx, stepx, m, starts, ends, kind, tix, widths, colptr, L, AP, BT,
                  PADV, pout, qout, rbx, nchunks, poly=False):
    """Entries of a fraction-tree layer summed straight from the segments' leaves (no
    segment `SEG_SKIP`): with R = AP.shape[1] sets, entry x·R + r (x < wx) is the
    fraction sum of the m unit leaves of rows xlo + x + j·stepx, set r (j < m) —
    `e_fill_segments` of the m pieces then `e_frac_reduce`, ``rbx`` rows at a time in
    cache instead of m·wx rows of leaves written and read back.  pout, qout (wx·R, 2).

    The unreduced fraction sum (Σ_i Π_(k≠i) q_k, Π_k q_k) of canonical field elements
    does not depend on the pairing, so the m leaves are combined depth first — pieces
    2t and 2t + 1, then the nodes as a binary counter completes them (`_v_merge`) —
    holding log2(m) levels of nodes, not m/2: the same values as `e_frac_reduce`'s
    top-bit pairing.  Leaves go straight into de-interleaved lanes (`_leaf_lanes`)."""
    R = AP.shape[1]
    rb = rbx * R
    nl = 0
    while (2 << nl) < m:
        nl += 1   # node levels 0 … nl (level ℓ: 2^(ℓ+1) leaves), m = 2^(nl+1)
    nblocks = (wx + rbx - 1) // rbx
    per = (nblocks + nchunks - 1) // nchunks
    usep = poly and AP.shape[1] == 1 and m >= 2   # `_fr_block_p` (`POLY4`)
    C4 = _poly4_consts(BT) if usep else np.zeros((0, 14), np.uint64)
    for c in prange(nchunks):
        _wide512()   # zmm lanes (`jit_util._wide512`)
        U = np.empty((4, rb), np.uint64)
        NS = np.empty((nl + 1, 4, rb), np.uint64)   # completed node per level
        NT = np.empty((nl + 1, 4, rb), np.uint64)   # its sibling being completed
        tabs = np.empty(m, np.int64)
        order = np.empty(m, np.int64)
        sml = np.empty(m, np.int64)
        sseg = np.empty(m, np.int64)
        for blk in range(c * per, min(nblocks, (c + 1) * per)):
            x0 = blk * rbx
            cx = min(rbx, wx - x0)
            _fr_any(usep, xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr,
                    L, AP, BT, PADV, U, NS, NT, tabs, order, C4, sml, sseg)
            top = NS[nl]
            # slices indexed by the loop index (see `_leaf_lanes`): a vector copy for R = 1
            po = pout[x0 * R:(x0 + cx) * R]
            qo = qout[x0 * R:(x0 + cx) * R]
            for r in range(R):
                t0 = top[0, r * cx:(r + 1) * cx]
                t1 = top[1, r * cx:(r + 1) * cx]
                t2 = top[2, r * cx:(r + 1) * cx]
                t3 = top[3, r * cx:(r + 1) * cx]
                if R == 1:
                    for x in range(cx):
                        po[x, 0] = t0[x]
                        po[x, 1] = t1[x]
                        qo[x, 0] = t2[x]
                        qo[x, 1] = t3[x]
                else:
                    for x in range(cx):
                        po[x * R + r, 0] = t0[x]
                        po[x * R + r, 1] = t1[x]
                        qo[x * R + r, 0] = t2[x]
                        qo[x * R + r, 1] = t3[x]


@njit(inline="always", **_OPTS)
def _lanes_fold(S0, S1, rr, A0, A1, cnt, C):
    """The lanes (S0 + S1 x)[0 … cnt) folded by rr[0], rr[1], … (pairs (2i, 2i + 1) each
    time, as `_mfold_block`'s levels) into (A0 + A1 x)[0 … cnt >> j) (cnt a multiple of
    2^j; IFMA52 lanes where `whir_eq.IFMA`, `_mfold_a`, the rest by `gl_dot2`)."""
    h = cnt
    for lv in range(rr.shape[0]):
        h >>= 1
        r0 = rr[lv, 0]
        r1 = rr[lv, 1]
        r7 = _mfold_consts(C, r0, r1)
        n8 = h // IFMA_LANES if IFMA else 0
        if lv == 0:
            if n8:
                _mfold_a(S0, S1, 0, A0, A1, n8, C)
            _lanes_fold_tail(S0, S1, A0, A1, n8 * IFMA_LANES, h, r0, r1, r7)
        else:
            if n8:
                _mfold_a(A0, A1, 0, A0, A1, n8, C)
            _lanes_fold_tail(A0, A1, A0, A1, n8 * IFMA_LANES, h, r0, r1, r7)


@njit(inline="always", **_OPTS)
def _lanes_fold_tail(X0, X1, A0, A1, lo, h, r0, r1, r7):
    """`_lanes_fold`'s scalar pairs lo … h − 1 of one level: (X0 + X1 x)[2i, 2i + 1]
    folded by (r0 + r1 x) (r7 = `_mfold_consts`) into (A0 + A1 x)[i]; X may be A (each
    i reads 2i, 2i + 1 ≥ i before writing i)."""
    for i in range(lo, h):
        a0 = X0[2 * i]
        a1 = X1[2 * i]
        x0 = gl_sub(X0[2 * i + 1], a0)
        x1 = gl_sub(X1[2 * i + 1], a1)
        A0[i] = gl_add(a0, gl_dot2(x0, r0, x1, r7))
        A1[i] = gl_add(a1, gl_dot2(x0, r1, x1, r0))


@njit(parallel=True, **_OPTS)
def e_fill_reduce_fold(xlo, wx, stepx, m, starts, ends, kind, tix, widths, colptr, L, AP,
                       BT, PADV, rr, out, fp, fq, at, rbx, nchunks, poly=False):
    """`e_fill_reduce` (one set, R = 1) with its entries folded by rr[0] … rr[j−1] while
    in cache (`multi_fold`'s fold, pairs (2i, 2i + 1) each time) and written to the
    component-major stack ``out`` (k, 4, ·) (`multi_fold`'s ``soa``): p's folded entry
    at + y to row fp, q's to row fq (entry x at column x >> 1, rows 2(x & 1) and
    2(x & 1) + 1).  rbx and wx multiples of 2^(j+1), ``at`` even: no chunk of leaves'
    sums written and read back, no second kernel."""
    j = rr.shape[0]
    nl = 0
    while (2 << nl) < m:
        nl += 1
    nblocks = (wx + rbx - 1) // rbx
    per = (nblocks + nchunks - 1) // nchunks
    Cs = np.empty((nchunks, 8), np.uint64)   # `_mfold_consts` of each chunk
    usep = poly and AP.shape[1] == 1 and m >= 2   # `_fr_block_p` (`POLY4`)
    C4 = _poly4_consts(BT) if usep else np.zeros((0, 14), np.uint64)
    for c in prange(nchunks):
        _wide512()   # zmm lanes (`jit_util._wide512`)
        U = np.empty((4, rbx), np.uint64)
        NS = np.empty((nl + 1, 4, rbx), np.uint64)
        NT = np.empty((nl + 1, 4, rbx), np.uint64)
        A0 = np.empty(rbx, np.uint64)
        A1 = np.empty(rbx, np.uint64)
        tabs = np.empty(m, np.int64)
        order = np.empty(m, np.int64)
        sml = np.empty(m, np.int64)
        sseg = np.empty(m, np.int64)
        C = Cs[c]
        for blk in range(c * per, min(nblocks, (c + 1) * per)):
            x0 = blk * rbx
            cx = min(rbx, wx - x0)
            _fr_any(usep, xlo, x0, cx, stepx, m, nl, starts, ends, kind, tix, widths, colptr,
                    L, AP, BT, PADV, U, NS, NT, tabs, order, C4, sml, sseg)
            top = NS[nl]
            col = (at + (x0 >> j)) >> 1
            nc = cx >> (j + 1)
            for half in range(2):   # p's rows (0, 1) to row fp, q's (2, 3) to fq
                f = fp if half == 0 else fq
                _lanes_fold(top[2 * half], top[2 * half + 1], rr, A0, A1, cx, C)
                _soa_store(out, f, col, nc, A0, A1)


@njit(inline="always", **_OPTS)
def _soa_store(out, f, col, nc, A0, A1):
    """The folded lanes (A0 + A1 x)[0 … 2nc) to row f of the component-major stack
    ``out`` from column ``col`` (`multi_fold`'s ``soa``: entry 2i + h at column i, rows
    2h, 2h + 1)."""
    o0 = out[f, 0, col:col + nc]
    o1 = out[f, 1, col:col + nc]
    o2 = out[f, 2, col:col + nc]
    o3 = out[f, 3, col:col + nc]
    for i in range(nc):
        o0[i] = A0[2 * i]
        o1[i] = A1[2 * i]
        o2[i] = A0[2 * i + 1]
        o3[i] = A1[2 * i + 1]


@njit(parallel=True, **_OPTS)
def e_fill_fold(xlo, wx, starts, ends, kind, tix, widths, colptr, L, AP, BT, PADV, rr,
                out, fq, at, rbx, nchunks):
    """The unit leaves of rows xlo … xlo + wx − 1 (one set, R = 1; no segment
    `SEG_SKIP`) written straight into lanes (`_leaf_lanes`) and folded by rr[0] …
    rr[j−1] while in cache (`_lanes_fold`) into row fq of the component-major stack
    ``out`` from entry ``at`` (`_soa_store`): `e_fill_segments` then `multi_fold`'s
    ``soa`` fold without the leaves written and read back (a tree's leaf layer, m = 1,
    which `e_fill_reduce_fold` does not take).  rbx and wx multiples of 2^(j+1), ``at``
    even."""
    j = rr.shape[0]
    nblocks = (wx + rbx - 1) // rbx
    per = (nblocks + nchunks - 1) // nchunks
    Cs = np.empty((nchunks, 8), np.uint64)   # `_mfold_consts` of each chunk
    for c in prange(nchunks):
        _wide512()   # zmm lanes (`jit_util._wide512`)
        D0 = np.empty(rbx, np.uint64)
        D1 = np.empty(rbx, np.uint64)
        A0 = np.empty(rbx, np.uint64)
        A1 = np.empty(rbx, np.uint64)
        C = Cs[c]
        for blk in range(c * per, min(nblocks, (c + 1) * per)):
            x0 = blk * rbx
            cx = min(rbx, wx - x0)
            _leaf_lanes(xlo + x0, cx, starts, ends, kind, tix, widths, colptr, L, AP, BT,
                        PADV, D0, D1)
            _lanes_fold(D0, D1, rr, A0, A1, cx, C)
            _soa_store(out, fq, (at + (x0 >> j)) >> 1, cx >> (j + 1), A0, A1)


def fill_reduce(xlo, wx, stepx, m, plan, pout, qout) -> None:
    """`e_fill_reduce` over ``plan`` (`fill_segments`' tuple) into pout, qout (m ≥ 2)."""
    R = plan[7].shape[1]
    rbx = max(1, FILL_RB // R)
    nblocks = (wx + rbx - 1) // rbx
    nch = 1 if wx * m * R < 4 * FILL_BLOCK else max(1, min(64, nblocks))
    e_fill_reduce(xlo, wx, stepx, m, *plan, pout, qout, rbx, nch, bool(POLY4))


def fill_reduce_fold(xlo, wx, stepx, m, plan, rhos, out, fp: int, fq: int, at: int) -> bool:
    """`e_fill_reduce_fold` over ``plan``: entries xlo … xlo + wx − 1 (one set) folded by
    ``rhos`` (j ≥ 1) into rows fp, fq of the component-major ``out`` from entry ``at``;
    False (nothing written) where it does not apply (several sets, or wx, at not
    aligned to the fold)."""
    j = len(rhos)
    R = plan[7].shape[1]
    rbx = FILL_RB
    if (R != 1 or j < 1 or m < 2 or wx % (2 << j) or at % 2 or rbx % (2 << j)
            or not out.flags.c_contiguous or out.shape[1] != 4
            or out.shape[2] * 2 < at + (wx >> j)):
        return False
    rr = np.ascontiguousarray(np.asarray(rhos, dtype=np.uint64).reshape(j, 2))
    nblocks = (wx + rbx - 1) // rbx
    nch = 1 if wx * m < 4 * FILL_BLOCK else max(1, min(64, nblocks))
    e_fill_reduce_fold(xlo, wx, stepx, m, *plan, rr, out, fp, fq, at, rbx, nch, bool(POLY4))
    return True


def fill_fold(xlo, wx, plan, rhos, out, fq: int, at: int) -> bool:
    """`e_fill_fold` over ``plan``: the unit leaves xlo … xlo + wx − 1 (one set, no
    segment `SEG_SKIP`) folded by ``rhos`` (j ≥ 1) into row fq of the component-major
    ``out`` from entry ``at``; False (nothing written) where it does not apply (several
    sets, a skipped segment, or wx, at not aligned to the fold)."""
    j = len(rhos)
    R = plan[7].shape[1]
    rbx = FILL_RB
    if (R != 1 or j < 1 or wx % (2 << j) or at % 2 or rbx % (2 << j)
            or (plan[2] == SEG_SKIP).any()
            or not out.flags.c_contiguous or out.shape[1] != 4
            or out.shape[2] * 2 < at + (wx >> j)):
        return False
    rr = np.ascontiguousarray(np.asarray(rhos, dtype=np.uint64).reshape(j, 2))
    nblocks = (wx + rbx - 1) // rbx
    nch = 1 if wx < 4 * FILL_BLOCK else max(1, min(64, nblocks))
    e_fill_fold(xlo, wx, *plan, rr, out, fq, at, rbx, nch)
    return True


def ref_fill_reduce(xlo, wx, stepx, m, R, starts, ends, kind, tix, widths, cols, AP, BT,
                    PADV):
    """Reference of `e_fill_reduce`: `ref_fill_segments` of the m pieces, then
    `ref_frac_reduce` (unit numerators); returns (p, q) of wx·R entries."""
    pieces = [ref_fill_segments(xlo + j * stepx, xlo + j * stepx + wx, R, starts, ends,
                                kind, tix, widths, cols, AP, BT, PADV).reshape(wx * R, 2)
              for j in range(m)]
    return ref_frac_reduce(None, np.concatenate(pieces), m)


def fill_segments(xlo, xhi, q, plan) -> None:
    """`e_fill_segments` over ``plan`` = (starts, ends, kind, tix, widths, colptr, L, AP,
    BT, PADV) (`zklora.plugins.lookups.logup_gkr._Trees._plan`)."""
    n = xhi - xlo
    nblk = 1 if n * q.shape[1] < 4 * FILL_BLOCK else max(1, min(64, n // FILL_BLOCK))
    e_fill_segments(xlo, xhi, q, *plan, nblk)


def ref_fill_segments(xlo, xhi, R, starts, ends, kind, tix, widths, cols, AP, BT, PADV):
    """Reference of `e_fill_segments` (Python ints from the definition): (xhi − xlo, R, 2)
    with ``cols[i]`` segment i's columns; `SEG_SKIP` leaves as zeros."""
    out = np.zeros((xhi - xlo, R, 2), dtype=np.uint64)
    for x in range(xlo, xhi):
        seg = [i for i in range(len(starts)) if starts[i] <= x < ends[i]]
        for r in range(R):
            if not seg:
                v = (1, 0)
            else:
                i = seg[0]
                if kind[i] == SEG_SKIP:
                    continue
                if kind[i] == SEG_PAD:
                    v = (int(PADV[i, r, 0]), int(PADV[i, r, 1]))
                else:
                    v = (int(BT[tix[i], r, 0]), int(BT[tix[i], r, 1]))
                    for k in range(int(widths[i])):
                        a = (int(AP[tix[i], r, k, 0]), int(AP[tix[i], r, k, 1]))
                        v = _ref_sub(v, _ref_mul(a, (int(cols[i][k][x - starts[i]]), 0)))
            out[x - xlo, r] = v
    return out


#: rows a block of `e_fill_window_sums` (each of its 2 or 4 tables: 4 × 2^13 × 16 B =
#: 512 KiB in L2; round i of a window reads 2^(13−i−1) values of y of it)
FWIN_BLOCK = 1 << 13


@njit(parallel=True, **_OPTS)
def e_fill_window_sums(xa, xb, wx, stepx, m, starts, ends, kind, tix, widths, colptr, L,
                       AP, BT, PADV, lslots, Eall, eoff, want1, acc, xblk, nchunks,
                       poly=False):
    """`e_gkr_window_sums` of one planned tree's slot summed from its leaves block by
    block in cache (no chunk buffer written and read back): entries x < wx of the
    chunk's two halves are the fraction sums of the m unit leaves of rows xa + x +
    j·stepx and xb + x + j·stepx (j < m; `_fr_block`, R = 1, no `SEG_SKIP`), or for m = 1
    the unit leaves themselves (`_leaf_lanes`, q only); each block of ``xblk`` entries
    (a multiple of 2^len(want1), as wx) is written interleaved into a local table stack
    (rows p0, p1, q0, q1, or q0, q1 for m = 1: ``lslots`` (1, 4)) and every round i of
    the window summed over its y = x0/2^(i+1) … (`_window_round`, E at Eall[eoff[i] +
    y]) into per-thread accumulators, then added to ``acc`` (1, 3, 2, NB, 2)."""
    nw = want1.shape[0]
    NB = acc.shape[3]
    rbx = FILL_RB
    nl = 0
    while (2 << nl) < m:
        nl += 1
    rows = 2 if m == 1 else 4
    nblocks = (wx + xblk - 1) // xblk
    per = (nblocks + nchunks - 1) // nchunks
    part = np.zeros((nchunks, 1, 3, 2, NB, 2), dtype=np.uint64)
    usep = poly and AP.shape[1] == 1 and m >= 2   # `_fr_block_p` (`POLY4`)
    C4 = _poly4_consts(BT) if usep else np.zeros((0, 14), np.uint64)
    for c in prange(nchunks):
        _wide512()   # zmm lanes for the fill (`jit_util._wide512`; `_window_round` its own)
        Wl = np.empty((rows, xblk, 2), np.uint64)
        U = np.empty((4, rbx), np.uint64)
        NS = np.empty((nl + 1, 4, rbx), np.uint64)
        NT = np.empty((nl + 1, 4, rbx), np.uint64)
        tabs = np.empty(max(m, 1), np.int64)
        order = np.empty(max(m, 1), np.int64)
        sml = np.empty(max(m, 1), np.int64)
        sseg = np.empty(max(m, 1), np.int64)
        for blk in range(c * per, min(nblocks, (c + 1) * per)):
            x0 = blk * xblk
            cx = min(xblk, wx - x0)
            for half in range(2):
                xlo = xa if half == 0 else xb
                for s0 in range(0, cx, rbx):
                    cs = min(rbx, cx - s0)
                    if m == 1:
                        _leaf_lanes(xlo + x0 + s0, cs, starts, ends, kind, tix, widths,
                                    colptr, L, AP, BT, PADV, U[2], U[3])
                        t2 = U[2]
                        t3 = U[3]
                        qo = Wl[half, s0:s0 + cs]
                        for x in range(cs):
                            qo[x, 0] = t2[x]
                            qo[x, 1] = t3[x]
                    else:
                        _fr_any(usep, xlo, x0 + s0, cs, stepx, m, nl, starts, ends, kind,
                                tix, widths, colptr, L, AP, BT, PADV, U, NS, NT, tabs, order,
                                C4, sml, sseg)
                        top = NS[nl]
                        t0 = top[0]
                        t1 = top[1]
                        t2 = top[2]
                        t3 = top[3]
                        po = Wl[half, s0:s0 + cs]
                        qo = Wl[2 + half, s0:s0 + cs]
                        for x in range(cs):
                            po[x, 0] = t0[x]
                            po[x, 1] = t1[x]
                            qo[x, 0] = t2[x]
                            qo[x, 1] = t3[x]
            off = 0
            n3 = 1
            for i in range(nw):
                y0 = x0 >> (i + 1)
                ny = cx >> (i + 1)
                _window_round(Wl, lslots, Eall[eoff[i] + y0:eoff[i] + y0 + ny], i,
                              want1[i], 0, ny, part[c], off)
                off += n3
                n3 *= 3
    for c in range(nchunks):
        for kk in range(3):
            for a in range(2):
                for x in range(NB):
                    acc[0, kk, a, x, 0] = gl_add(acc[0, kk, a, x, 0], part[c, 0, kk, a, x, 0])
                    acc[0, kk, a, x, 1] = gl_add(acc[0, kk, a, x, 1], part[c, 0, kk, a, x, 1])


def fill_window_sums(xa, xb, wx, stepx, m, plan, Es, want1, acc, xblk: int = 0) -> bool:
    """`e_fill_window_sums` over ``plan`` (`fill_segments`' tuple): a window's sums of one
    tree's slot, its halves' entries summed from the leaves (rows xa …, xb …, m leaves
    an entry, stride ``stepx``; m = 1: the unit leaves), added to ``acc`` (1, 3, 2, NB,
    2) as `gkr_window_sums` adds that slot's; Es[i] = E_(j0+i) over the chunk's
    wx/2^(i+1) values of y.  False (nothing added) where it does not apply (several
    sets, a skipped segment, a window of one round, wx not a multiple of 2^len(Es))."""
    nw = len(Es)
    R = plan[7].shape[1]
    xblk = xblk or FWIN_BLOCK
    if (R != 1 or nw < 2 or m < 1 or m & (m - 1) or wx % (1 << nw) or xblk % (1 << nw)
            or (plan[2] == SEG_SKIP).any() or acc.shape[0] != 1
            or not acc.flags.c_contiguous or any(len(e) != wx >> (i + 1)
                                                 for i, e in enumerate(Es))):
        return False
    Eall = _eall(Es)
    eoff = np.cumsum([0] + [len(e) for e in Es[:-1]]).astype(np.int64)
    lslots = np.array([[-1, -1, 0, 1]] if m == 1 else [[0, 1, 2, 3]], np.int64)
    nblocks = (wx + xblk - 1) // xblk
    work = wx * m * (1 << nw)
    nch = 1 if work < SMALL else max(1, min(_chunks(work), 32, nblocks))
    e_fill_window_sums(xa, xb, wx, stepx, m, *plan, lslots, Eall, eoff,
                       np.array(want1, dtype=np.bool_), acc, xblk, nch, bool(POLY4))
    return True


#: entries a block of `e_fill_gkr_sums` (its local component-major stack: 2 or 4 tables
#: × 4 rows × 2^11 × 8 B = 128 / 256 KiB in L2; 2^12 ×0.96–0.98 CPU of 2^13 at 84m's
#: shapes, 2^11 no better: tests/bench/s39h3_fill_gkr_ab.py)
FGS_BLOCK = 1 << 12


@njit(parallel=True, **_OPTS)
def e_fill_gkr_sums(xa, xb, wx, stepx, m, starts, ends, kind, tix, widths, colptr, L, AP,
                    BT, PADV, lslots, E, want1, acc, xblk, nchunks, poly=False):
    """`e_gkr_sums` of one planned tree's slot over a window of ONE round, summed from its
    leaves block by block in cache (no chunk buffer written and read back; the one-round
    counterpart of `e_fill_window_sums`): entries x < wx of the chunk's two halves are
    the fraction sums of the m unit leaves of rows xa + x + j·stepx and xb + x + j·stepx
    (j < m; `_fr_block`, R = 1, no `SEG_SKIP`), or for m = 1 the unit leaves themselves
    (`_leaf_lanes`, q only).  Each block of ``xblk`` entries (even, as wx) is stored
    component-major into a local stack (`_soa_store`: tables p0, p1, q0, q1, or q0, q1
    for m = 1: ``lslots`` (1, 4)) and its pairs y = x0/2 … summed by `_gkr_sums_range_c`
    with E[y] (E over the chunk's wx/2 values of y) into per-thread sums, then added to
    ``acc`` (1, 3, 2, 2) (canonical values: the same field elements as `e_gkr_sums` over
    the chunk buffer)."""
    rbx = FILL_RB
    nl = 0
    while (2 << nl) < m:
        nl += 1
    rows = 2 if m == 1 else 4
    nblocks = (wx + xblk - 1) // xblk
    per = (nblocks + nchunks - 1) // nchunks
    part = np.zeros((nchunks, 1, 3, 2, 2), dtype=np.uint64)
    En = np.empty((0, 2), np.uint64)   # no next-round table (`_en_pairs` writes nothing)
    usep = poly and AP.shape[1] == 1 and m >= 2   # `_fr_block_p` (`POLY4`)
    C4 = _poly4_consts(BT) if usep else np.zeros((0, 14), np.uint64)
    for c in prange(nchunks):
        _wide512()   # zmm lanes for the fill (`jit_util._wide512`)
        Wl = np.empty((rows, 4, xblk >> 1), np.uint64)
        U = np.empty((4, rbx), np.uint64)
        NS = np.empty((nl + 1, 4, rbx), np.uint64)
        NT = np.empty((nl + 1, 4, rbx), np.uint64)
        tabs = np.empty(max(m, 1), np.int64)
        order = np.empty(max(m, 1), np.int64)
        sml = np.empty(max(m, 1), np.int64)
        sseg = np.empty(max(m, 1), np.int64)
        for blk in range(c * per, min(nblocks, (c + 1) * per)):
            x0 = blk * xblk
            cx = min(xblk, wx - x0)
            for half in range(2):
                xlo = xa if half == 0 else xb
                for s0 in range(0, cx, rbx):
                    cs = min(rbx, cx - s0)
                    if m == 1:
                        _leaf_lanes(xlo + x0 + s0, cs, starts, ends, kind, tix, widths,
                                    colptr, L, AP, BT, PADV, U[2], U[3])
                        _soa_store(Wl, half, s0 >> 1, cs >> 1, U[2], U[3])
                    else:
                        _fr_any(usep, xlo, x0 + s0, cs, stepx, m, nl, starts, ends, kind,
                                tix, widths, colptr, L, AP, BT, PADV, U, NS, NT, tabs, order,
                                C4, sml, sseg)
                        top = NS[nl]
                        _soa_store(Wl, half, s0 >> 1, cs >> 1, top[0], top[1])
                        _soa_store(Wl, 2 + half, s0 >> 1, cs >> 1, top[2], top[3])
            y0 = x0 >> 1
            ny = cx >> 1
            _gkr_sums_range_c(Wl, Wl, lslots, E[y0:y0 + ny], En, want1, 0, ny, part[c])
    res = _sum_parts(part)
    for kk in range(3):
        for a in range(2):
            acc[0, kk, a, 0] = gl_add(acc[0, kk, a, 0], res[0, kk, a, 0])
            acc[0, kk, a, 1] = gl_add(acc[0, kk, a, 1], res[0, kk, a, 1])


def fill_gkr_sums(xa, xb, wx, stepx, m, plan, E, want1: bool, acc, xblk: int = 0) -> bool:
    """`e_fill_gkr_sums` over ``plan`` (`fill_segments`' tuple): a one-round window's pair
    sums of one tree's slot (`gkr_sums` of its tables over the chunk), its halves'
    entries summed from the leaves (rows xa …, xb …, m leaves an entry, stride
    ``stepx``; m = 1: the unit leaves), added to ``acc`` (1, 3, 2, 2); E = E_j over the
    chunk's wx/2 values of y.  False (nothing added) where it does not apply (several
    sets, a skipped segment, wx odd, m not a power of two, E of the wrong length)."""
    R = plan[7].shape[1]
    xblk = xblk or FGS_BLOCK
    if (R != 1 or m < 1 or m & (m - 1) or wx % 2 or xblk % 2 or wx < 2
            or (plan[2] == SEG_SKIP).any() or acc.shape != (1, 3, 2, 2)
            or acc.dtype != np.uint64 or not acc.flags.c_contiguous
            or len(E) != wx >> 1):
        return False
    E = np.ascontiguousarray(E, np.uint64)
    lslots = np.array([[-1, -1, 0, 1]] if m == 1 else [[0, 1, 2, 3]], np.int64)
    nblocks = (wx + xblk - 1) // xblk
    work = wx * m * 2
    nch = 1 if work < SMALL else max(1, min(_chunks(work), 32, nblocks))
    e_fill_gkr_sums(xa, xb, wx, stepx, m, *plan, lslots, E, bool(want1), acc, xblk, nch,
                    bool(POLY4))
    return True
