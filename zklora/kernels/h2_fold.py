"""Several folds of a base-field table in one pass (the streamed WHIR sumcheck passes,
`Whir._fold_streamed` / `_reduce_streamed`: pass j binds the low j variables of a block
read from the table to the challenges drawn so far).  `fold_base_seq` gives exactly
`sumcheck.fold_into` applied j times in turn — the first fold base × extension
(`goldilocks.e_fold_base`'s arithmetic), the others extension (`e_sc_fold`'s) — but a
block of BLOCK outputs at a time through small cache-resident buffers instead of j
whole-table intermediates.  `fold_base_seq_ref` is its pure-Python twin."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .goldilocks import e2_mul, gl_add, gl_mul_s, gl_sub

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: outputs per parallel block
BLOCK = 256


@njit(**_OPTS)
def _block(t, rs, out, s, cnt, b0, b1, l0, l1, x0, x1):
    j = rs.shape[0]
    W = 1 << j
    half = cnt * (W >> 1)
    base = s * W
    r0 = rs[0, 0]
    r1 = rs[0, 1]
    for q in range(half):   # the first fold: base pairs × an extension challenge
        lo = t[base + 2 * q]
        d = gl_sub(t[base + 2 * q + 1], lo)
        b0[q] = gl_add(lo, gl_mul_s(d, r0))
        b1[q] = gl_mul_s(d, r1)
    n = half
    for lvl in range(1, j):   # the others: extension pairs (de-interleaved, vectorised)
        r0 = rs[lvl, 0]
        r1 = rs[lvl, 1]
        n >>= 1
        for q in range(n):
            a0 = b0[2 * q]
            a1 = b1[2 * q]
            l0[q] = a0
            l1[q] = a1
            x0[q] = gl_sub(b0[2 * q + 1], a0)
            x1[q] = gl_sub(b1[2 * q + 1], a1)
        for q in range(n):
            p0, p1 = e2_mul(x0[q], x1[q], r0, r1)
            x0[q] = gl_add(l0[q], p0)
            x1[q] = gl_add(l1[q], p1)
        for q in range(n):
            b0[q] = x0[q]
            b1[q] = x1[q]
    for q in range(cnt):
        out[s + q, 0] = b0[q]
        out[s + q, 1] = b1[q]


@njit(parallel=True, **_OPTS)
def _fold_base_seq_par(t, rs, out):
    m = out.shape[0]
    W = 1 << rs.shape[0]
    nb = (m + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        s = blk * BLOCK
        cnt = min(m, s + BLOCK) - s
        h = cnt * (W >> 1)
        b0 = np.empty(h, np.uint64)
        b1 = np.empty(h, np.uint64)
        l0 = np.empty(h >> 1, np.uint64)
        l1 = np.empty(h >> 1, np.uint64)
        x0 = np.empty(h >> 1, np.uint64)
        x1 = np.empty(h >> 1, np.uint64)
        _block(t, rs, out, s, cnt, b0, b1, l0, l1, x0, x1)


def fold_base_seq(t: np.ndarray, rs: np.ndarray) -> np.ndarray:
    """A base table t (2^j·M,) with its low j = len(rs) ≥ 1 variables bound to
    rs[0], rs[1], … in turn: (M, 2) extension values."""
    t = np.ascontiguousarray(t, dtype=np.uint64)
    rs = np.ascontiguousarray(np.asarray(rs, dtype=np.uint64).reshape(-1, 2))
    j = rs.shape[0]
    if j < 1 or t.ndim != 1 or t.shape[0] % (1 << j):
        raise ValueError("fold_base_seq: need a base table of a multiple of 2^len(rs)")
    out = np.empty((t.shape[0] >> j, 2), dtype=np.uint64)
    if out.shape[0]:
        _fold_base_seq_par(t, rs, out)
    return out


def fold_base_seq_ref(t, rs) -> list[tuple[int, int]]:
    """Pure-Python twin: f ↦ lo + r·(hi − lo) over F_p[x]/(x² − 7), pair by pair."""
    from .goldilocks import P_INT as p
    cur = [(int(v) % p, 0) for v in np.asarray(t).reshape(-1)]
    for r in np.asarray(rs, dtype=np.uint64).reshape(-1, 2):
        r0, r1 = int(r[0]), int(r[1])
        nxt = []
        for i in range(0, len(cur), 2):
            (a0, a1), (c0, c1) = cur[i], cur[i + 1]
            x0, x1 = (c0 - a0) % p, (c1 - a1) % p
            nxt.append(((a0 + x0 * r0 + 7 * x1 * r1) % p, (a1 + x0 * r1 + x1 * r0) % p))
        cur = nxt
    return cur
