"""Numba kernels of the LogUp arguments over goldilocks-ext2 (see `zklora.kernels.goldilocks`).

Extension elements are ``(n, 2)`` uint64 arrays.  Each kernel has a pure-Python twin
(``ref_*``) on Python ints used by the tests.

* `e_leaf_denoms` — the leaves β − Σ_k α^k·col_k(i) of a fraction tree (cols in the base field);
* `e_frac_up` — one layer of the fraction-sum tree, halves paired by the top index bit:
  (p', q')[i] = (p[i]·q[i+h] + p[i+h]·q[i],  q[i]·q[i+h]);
* `e_frac_up_unit` — the same for numerators all 1: (q[i] + q[i+h], q[i]·q[i+h]).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from .goldilocks import P_INT, e2_mul, gl_add, gl_mul, gl_sub

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(parallel=True, **_OPTS)
def e_leaf_denoms(cols, apow, beta, out):
    """out[i] = β − Σ_k apow[k]·cols[k, i]; cols (w, N) base, apow (w, 2), beta (2,)."""
    w = cols.shape[0]
    n = cols.shape[1]
    for i in prange(n):
        s0 = beta[0]
        s1 = beta[1]
        for k in range(w):
            c = cols[k, i]
            s0 = gl_sub(s0, gl_mul(apow[k, 0], c))
            s1 = gl_sub(s1, gl_mul(apow[k, 1], c))
        out[i, 0] = s0
        out[i, 1] = s1


@njit(parallel=True, **_OPTS)
def e_frac_up(p, q, pout, qout):
    """One fraction-tree layer: pout[i] = p[i]q[i+h] + p[i+h]q[i], qout[i] = q[i]q[i+h]."""
    h = pout.shape[0]
    for i in prange(h):
        a0, a1 = e2_mul(p[i, 0], p[i, 1], q[i + h, 0], q[i + h, 1])
        b0, b1 = e2_mul(p[i + h, 0], p[i + h, 1], q[i, 0], q[i, 1])
        pout[i, 0] = gl_add(a0, b0)
        pout[i, 1] = gl_add(a1, b1)
        c0, c1 = e2_mul(q[i, 0], q[i, 1], q[i + h, 0], q[i + h, 1])
        qout[i, 0] = c0
        qout[i, 1] = c1


@njit(parallel=True, **_OPTS)
def e_frac_up_unit(q, pout, qout):
    """One layer above leaves with numerator 1: pout[i] = q[i] + q[i+h], qout[i] = q[i]q[i+h]."""
    h = pout.shape[0]
    for i in prange(h):
        pout[i, 0] = gl_add(q[i, 0], q[i + h, 0])
        pout[i, 1] = gl_add(q[i, 1], q[i + h, 1])
        c0, c1 = e2_mul(q[i, 0], q[i, 1], q[i + h, 0], q[i + h, 1])
        qout[i, 0] = c0
        qout[i, 1] = c1


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


def leaf_denoms(E, cols, apow, beta):
    """β − Σ_k apow[k]·cols[k] for base-field columns ``cols`` (list of flat arrays)."""
    n = len(cols[0])
    if _fast(E):
        out = np.empty((n, 2), dtype=np.uint64)
        e_leaf_denoms(np.ascontiguousarray(np.stack(cols), np.uint64),
                      np.ascontiguousarray(apow, np.uint64),
                      np.ascontiguousarray(beta, np.uint64), out)
        return out
    acc = E.sub(E.zeros(n), E.mul(E.embed(np.asarray(cols[0])), apow[0]))
    for k in range(1, len(cols)):
        acc = E.sub(acc, E.mul(E.embed(np.asarray(cols[k])), apow[k]))
    return E.add(acc, beta)


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
