"""Numba kernels of the LogUp arguments over goldilocks-ext2 (see `zklora.kernels.goldilocks`).

Extension elements are ``(n, 2)`` uint64 arrays.  Each kernel has a pure-Python twin
(``ref_*``) on Python ints used by the tests.

* `e_leaf_denoms` — the leaves β − Σ_k a_k·col_k(i) of a fraction tree (cols in the base field,
  a the combiners, `zklora.zkcore.lookup.draw_combiners`); `e_leaf_denoms_sets` the same
  for several challenge sets at once, interleaved;
* `e_frac_up` — one layer of the fraction-sum tree, halves paired by the top index bit:
  (p', q')[i] = (p[i]·q[i+h] + p[i+h]·q[i],  q[i]·q[i+h]);
* `e_frac_up_unit` — the same for numerators all 1: (q[i] + q[i+h], q[i]·q[i+h]);
* `e_gkr_sums`, `e_gkr_message`, `e_quad_eval` — one round of a GKR layer sumcheck with
  the eq factor split off (see the section below and `zklora.plugins.lookups.logup_gkr`).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .goldilocks import (
    BLOCK,
    M32,
    ONE,
    P_INT,
    S32,
    SMALL,
    ZERO,
    P,
    _chunks,
    _sc_fold_block,
    e2_mul,
    e2_mul_call,
    e_sc_fold,
    e_sc_fold_s,
    gl_add,
    gl_mul,
    gl_mul7,
    gl_neg,
    gl_pow,
    gl_sub,
)

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(inline="always", **_OPTS)
def _leaf_block(cols, apow, beta, out, s, cnt, s0, s1):
    """out[i] for s ≤ i < s+cnt: both components accumulated in lanes (s0, s1), one
    column at a time (loops LLVM vectorises), then interleaved into ``out``."""
    for i in range(cnt):
        s0[i] = beta[0]
        s1[i] = beta[1]
    for k in range(cols.shape[0]):
        a0 = apow[k, 0]
        a1 = apow[k, 1]
        for i in range(cnt):
            c = cols[k, s + i]
            s0[i] = gl_sub(s0[i], gl_mul(a0, c))
            s1[i] = gl_sub(s1[i], gl_mul(a1, c))
    for i in range(cnt):
        out[s + i, 0] = s0[i]
        out[s + i, 1] = s1[i]


@njit(parallel=True, **_OPTS)
def e_leaf_denoms(cols, apow, beta, out):
    """out[i] = β − Σ_k apow[k]·cols[k, i]; cols (w, N) base, apow (w, 2), beta (2,)."""
    n = cols.shape[1]
    nb = (n + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        s0 = np.empty(BLOCK, np.uint64)
        s1 = np.empty(BLOCK, np.uint64)
        s = blk * BLOCK
        _leaf_block(cols, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(**_OPTS)
def e_leaf_denoms_s(cols, apow, beta, out):
    """Serial `e_leaf_denoms` (short ranges: the prover's streamed passes call it on many
    short segments, where a thread launch costs more than the work)."""
    n = cols.shape[1]
    s0 = np.empty(BLOCK, np.uint64)
    s1 = np.empty(BLOCK, np.uint64)
    for s in range(0, n, BLOCK):
        _leaf_block(cols, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(inline="always", **_OPTS)
def _leaf_sets_block(cols, apow, beta, out, s, cnt, s0, s1):
    """`_leaf_block` for every challenge set r: out[s+i, r] for i < cnt (the columns'
    block is read once per set from cache, not once per set from memory)."""
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
        s0 = np.empty(BLOCK, np.uint64)
        s1 = np.empty(BLOCK, np.uint64)
        s = blk * BLOCK
        _leaf_sets_block(cols, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(**_OPTS)
def e_leaf_denoms_sets_s(cols, apow, beta, out):
    """Serial `e_leaf_denoms_sets` (short ranges)."""
    n = cols.shape[1]
    s0 = np.empty(BLOCK, np.uint64)
    s1 = np.empty(BLOCK, np.uint64)
    for s in range(0, n, BLOCK):
        _leaf_sets_block(cols, apow, beta, out, s, min(n, s + BLOCK) - s, s0, s1)


@njit(**_OPTS)
def _v_mul(a0, a1, b0, b1, o0, o1, cnt):
    """(o0 + o1 x)[i] = (a0 + a1 x)[i]·(b0 + b1 x)[i] for i < cnt, one extension component
    per lane array (o distinct from a and b).  A plain call, compiled once and vectorised:
    `e2_mul` inlined (numba IR) into every block kernel made cold compiles take minutes."""
    for i in range(cnt):
        o0[i], o1[i] = e2_mul(a0[i], a1[i], b0[i], b1[i])


@njit(**_OPTS)
def _v_add(a, b, o, cnt):
    """o[i] = a[i] + b[i] for i < cnt (base field lanes)."""
    for i in range(cnt):
        o[i] = gl_add(a[i], b[i])


@njit(**_OPTS)
def _v_sub(a, b, o, cnt):
    """o[i] = a[i] − b[i] for i < cnt (base field lanes)."""
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
        L = np.empty((_NL, BLOCK), np.uint64)
        _frac_block(p, q, pout, qout, blk * BLOCK, min(h, (blk + 1) * BLOCK) - blk * BLOCK,
                    False, L)


@njit(parallel=True, **_OPTS)
def e_frac_up_unit(q, pout, qout):
    """One layer above leaves with numerator 1: pout[i] = q[i] + q[i+h], qout[i] = q[i]q[i+h]."""
    h = pout.shape[0]
    for blk in prange((h + BLOCK - 1) // BLOCK):
        L = np.empty((_NL, BLOCK), np.uint64)
        _frac_block(q, q, pout, qout, blk * BLOCK, min(h, (blk + 1) * BLOCK) - blk * BLOCK,
                    True, L)


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
        kern = e_leaf_denoms if n * len(cols) >= SMALL else e_leaf_denoms_s
        kern(cs, np.ascontiguousarray(apow, np.uint64), np.ascontiguousarray(beta, np.uint64),
             out)
        return out
    acc = E.sub(E.zeros(n), E.mul(E.embed(np.asarray(cols[0])), apow[0]))
    for k in range(1, len(cols)):
        acc = E.sub(acc, E.mul(E.embed(np.asarray(cols[k])), apow[k]))
    acc = E.add(acc, beta)
    if out is None:
        return acc
    out[...] = acc
    return out


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
    c0 = cols[0]
    if len(cols) == 1 and c0.dtype == np.uint64 and c0.flags.c_contiguous:
        cs = c0.reshape(1, n)
    else:
        cs = np.ascontiguousarray(np.stack(cols), np.uint64)
    ap = np.ascontiguousarray(np.stack([np.asarray(a, np.uint64) for a in apows]), np.uint64)
    bt = np.ascontiguousarray(np.stack([np.asarray(b, np.uint64) for b in betas]), np.uint64)
    kern = e_leaf_denoms_sets if n * len(cols) * R >= SMALL else e_leaf_denoms_sets_s
    kern(cs, ap.reshape(R, len(cols), 2), bt.reshape(R, 2), out)
    return out


def frac_up(E, p, q):
    """One fraction-tree layer (``p is None``: numerators all 1); returns (p', q')."""
    h = E.length(q) // 2
    if _fast(E):
        pout = np.empty((h, 2), dtype=np.uint64)
        qout = np.empty((h, 2), dtype=np.uint64)
        q = np.ascontiguousarray(q, np.uint64)
        if p is None:
            e_frac_up_unit(q, pout, qout)
        else:
            e_frac_up(np.ascontiguousarray(p, np.uint64), q, pout, qout)
        return pout, qout
    q0, q1 = q[:h], q[h:]
    pout = E.add(q0, q1) if p is None else E.add(E.mul(p[:h], q1), E.mul(p[h:], q0))
    return pout, E.mul(q0, q1)


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

#: lane rows of the block kernel's products: (k, a, component) → row 4k + 2a + component
_NY = 12


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
def _lane_sum(Y, row, cnt):
    """Σ_i Y[row, i] mod p over cnt ≤ `GBLOCK` lanes: the 32-bit halves summed as plain
    integers (a reduction LLVM vectorises; each sum < 2^40), reduced once."""
    slo = ZERO
    shi = ZERO
    for i in range(cnt):
        v = Y[row, i]
        slo += v & M32
        shi += v >> S32
    return gl_add(gl_mul(shi, np.uint64(1 << 32)), slo)


@njit(**_OPTS)
def _gkr_sums_range(WP, WQ, slots, E, En, want1, lo, hi, acc):
    """acc[t, k, a] += Σ_{lo ≤ i < hi} E[i]·X_{t,k,a}(i): k = 0 (t = 0), 1 (X² coefficient),
    2 (t = 1, only when ``want1``); a = 0 (A), 1 (B).  En[i/2] = E[i] + E[i+1] (even i).
    Works on blocks of `GBLOCK` pairs: each table's pairs are de-interleaved into lane
    arrays, the products computed lane by lane (a loop LLVM vectorises) into ``Y`` and
    summed per row (`_lane_sum`)."""
    T = slots.shape[0]
    nn = En.shape[0]
    for i in range(lo + (lo & 1), hi, 2):
        if (i >> 1) < nn:
            En[i >> 1, 0] = gl_add(E[i, 0], E[i + 1, 0])
            En[i >> 1, 1] = gl_add(E[i, 1], E[i + 1, 1])
    e0 = np.empty(GBLOCK, np.uint64)
    e1 = np.empty(GBLOCK, np.uint64)
    lanes = np.empty((16, GBLOCK), np.uint64)
    Y = np.empty((_NY, GBLOCK), np.uint64)
    # scratch rows: X 0-1, Δq0 2-3, Δq1 4-5, U 6-7, V 8-9, S 10-11, Δp 12-13
    Z = np.empty((14, GBLOCK), np.uint64)
    nk = 3 if want1 else 2
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
            # B(0) = q0·q1 and B's X² coefficient Δq0·Δq1 (rows 2-3, 6-7)
            _v_mul(lanes[0], lanes[1], lanes[4], lanes[5], Z[0], Z[1], cnt)
            _v_mul(e0, e1, Z[0], Z[1], Y[2], Y[3], cnt)
            _v_sub(lanes[2], lanes[0], Z[2], cnt)
            _v_sub(lanes[3], lanes[1], Z[3], cnt)
            _v_sub(lanes[6], lanes[4], Z[4], cnt)
            _v_sub(lanes[7], lanes[5], Z[5], cnt)
            _v_mul(Z[2], Z[3], Z[4], Z[5], Z[0], Z[1], cnt)
            _v_mul(e0, e1, Z[0], Z[1], Y[6], Y[7], cnt)
            if want1:  # B(1) = q0'·q1' (rows 10-11)
                _v_mul(lanes[2], lanes[3], lanes[6], lanes[7], Z[0], Z[1], cnt)
                _v_mul(e0, e1, Z[0], Z[1], Y[10], Y[11], cnt)
            if unit:
                # A(0) = q0 + q1 (rows 0-1), A(1) = q0' + q1' (rows 8-9)
                _v_add(lanes[0], lanes[4], Z[10], cnt)
                _v_add(lanes[1], lanes[5], Z[11], cnt)
                _v_mul(e0, e1, Z[10], Z[11], Y[0], Y[1], cnt)
                if want1:
                    _v_add(lanes[2], lanes[6], Z[10], cnt)
                    _v_add(lanes[3], lanes[7], Z[11], cnt)
                    _v_mul(e0, e1, Z[10], Z[11], Y[8], Y[9], cnt)
                for k in range(nk):
                    for row in range(4 * k, 4 * k + 4):
                        if k == 1 and row < 6:
                            continue  # A = q0 + q1 is linear: no X² coefficient
                        a = (row >> 1) & 1
                        c = row & 1
                        acc[t, k, a, c] = gl_add(acc[t, k, a, c], _lane_sum(Y, row, cnt))
                continue
            _lanes(WP, slots[t, 0], s, cnt, lanes[8], lanes[9], lanes[10], lanes[11])
            _lanes(WP, slots[t, 1], s, cnt, lanes[12], lanes[13], lanes[14], lanes[15])
            # A(0) = p0·q1 + p1·q0 (rows 0-1)
            _v_mul(lanes[8], lanes[9], lanes[4], lanes[5], Z[6], Z[7], cnt)
            _v_mul(lanes[12], lanes[13], lanes[0], lanes[1], Z[8], Z[9], cnt)
            _v_add(Z[6], Z[8], Z[10], cnt)
            _v_add(Z[7], Z[9], Z[11], cnt)
            _v_mul(e0, e1, Z[10], Z[11], Y[0], Y[1], cnt)
            # A's X² coefficient Δp0·Δq1 + Δp1·Δq0 (rows 4-5)
            _v_sub(lanes[10], lanes[8], Z[12], cnt)
            _v_sub(lanes[11], lanes[9], Z[13], cnt)
            _v_mul(Z[12], Z[13], Z[4], Z[5], Z[6], Z[7], cnt)
            _v_sub(lanes[14], lanes[12], Z[12], cnt)
            _v_sub(lanes[15], lanes[13], Z[13], cnt)
            _v_mul(Z[12], Z[13], Z[2], Z[3], Z[8], Z[9], cnt)
            _v_add(Z[6], Z[8], Z[10], cnt)
            _v_add(Z[7], Z[9], Z[11], cnt)
            _v_mul(e0, e1, Z[10], Z[11], Y[4], Y[5], cnt)
            if want1:  # A(1) = p0'·q1' + p1'·q0' (rows 8-9)
                _v_mul(lanes[10], lanes[11], lanes[6], lanes[7], Z[6], Z[7], cnt)
                _v_mul(lanes[14], lanes[15], lanes[2], lanes[3], Z[8], Z[9], cnt)
                _v_add(Z[6], Z[8], Z[10], cnt)
                _v_add(Z[7], Z[9], Z[11], cnt)
                _v_mul(e0, e1, Z[10], Z[11], Y[8], Y[9], cnt)
            for k in range(nk):
                for row in range(4 * k, 4 * k + 4):
                    a = (row >> 1) & 1
                    c = row & 1
                    acc[t, k, a, c] = gl_add(acc[t, k, a, c], _lane_sum(Y, row, cnt))


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
    out = np.zeros((T, 3, 2, 2), dtype=np.uint64)
    for c in range(nchunks):
        for t in range(T):
            for k in range(3):
                for a in range(2):
                    out[t, k, a, 0] = gl_add(out[t, k, a, 0], part[c, t, k, a, 0])
                    out[t, k, a, 1] = gl_add(out[t, k, a, 1], part[c, t, k, a, 1])
    return out


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
    res = np.zeros((T, 3, 2, 2), dtype=np.uint64)
    for c in range(nchunks):
        for t in range(T):
            for k in range(3):
                for a in range(2):
                    res[t, k, a, 0] = gl_add(res[t, k, a, 0], part[c, t, k, a, 0])
                    res[t, k, a, 1] = gl_add(res[t, k, a, 1], part[c, t, k, a, 1])
    return res


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


def fold_into(stack, r, out) -> None:
    """out[f, i] = lo + r·(hi − lo) over the pairs (2i, 2i+1) of every table f of the
    (k, 2m, 2) ``stack`` (`zklora.kernels.goldilocks.e_sc_fold`); ``out`` (k, m, 2)."""
    kern = e_sc_fold if stack.shape[0] * stack.shape[1] >= SMALL else e_sc_fold_s
    kern(stack, np.uint64(r[0]), np.uint64(r[1]), out)
