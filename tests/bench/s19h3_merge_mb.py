"""Micro-benchmark (not a test): `_v_merge` forms on 512 lanes in cache, one core —
the old goldilocks-form merge vs lazy-reduction variants (s19 h3).

    NUMBA_NUM_THREADS=1 .venv/bin/python tests/bench/s19h3_merge_mb.py
"""
# ruff: noqa
import time, numpy as np, sys
from numba import njit
from zklora.kernels.goldilocks import gl_add, gl_sub, gl_mul7, gl_reduce128, e2_mul, M32, S32, ONE, ZERO, P_INT
from zklora.kernels.lookup_gkr import _v_merge as tree_merge
from zklora.kernels.goldilocks import gl_add as _ga


@njit(cache=False)
def _v_merge(a, b, o, cnt):   # the goldilocks-form merge (156cf3d's)
    for i in range(cnt):
        x0, x1 = e2_mul(a[0, i], a[1, i], b[2, i], b[3, i])
        y0, y1 = e2_mul(b[0, i], b[1, i], a[2, i], a[3, i])
        o[0, i] = _ga(x0, y0)
        o[1, i] = _ga(x1, y1)
        o[2, i], o[3, i] = e2_mul(a[2, i], a[3, i], b[2, i], b[3, i])

_O = dict(cache=False, nogil=True, fastmath=False)
T32 = np.uint64(1 << 32)

@njit(inline="always", **_O)
def mul128(a, b):
    a_lo = a & M32; a_hi = a >> S32; b_lo = b & M32; b_hi = b >> S32
    ll = a_lo * b_lo; lh = a_lo * b_hi; hl = a_hi * b_lo; hh = a_hi * b_hi
    mid = lh + hl
    carry_mid = ONE if mid < lh else ZERO
    lo = ll + (mid << S32)
    carry_lo = ONE if lo < ll else ZERO
    hi = hh + (mid >> S32) + (carry_mid << S32) + carry_lo
    return hi, lo

@njit(inline="always", **_O)
def dot2(a, b, c, d):
    """a·b + c·d mod p, one reduction."""
    h1, l1 = mul128(a, b)
    h2, l2 = mul128(c, d)
    lo = l1 + l2
    hi = h1 + h2 + (ONE if lo < l1 else ZERO)
    r = gl_reduce128(hi, lo)
    if hi < h1:
        r = gl_sub(r, T32)
    return r

@njit(**_O)
def merge_lazy(a, b, o, cnt):
    for i in range(cnt):
        A0 = a[0, i]; A1 = a[1, i]; C0 = a[2, i]; C1 = a[3, i]
        B0 = b[0, i]; B1 = b[1, i]; D0 = b[2, i]; D1 = b[3, i]
        s0 = dot2(A0, D0, B0, C0)
        s1 = dot2(A1, D1, B1, C1)
        s2 = dot2(gl_add(A0, A1), gl_add(D0, D1), gl_add(B0, B1), gl_add(C0, C1))
        o[0, i] = gl_add(s0, gl_mul7(s1))
        o[1, i] = gl_sub(gl_sub(s2, s0), s1)
        o[2, i], o[3, i] = e2_mul(C0, C1, D0, D1)

EPS = np.uint64(0xFFFFFFFF)
PP = np.uint64(P_INT)
S61 = np.uint64(61); S3 = np.uint64(3)

@njit(inline="always", **_O)
def mul128b(a, b):
    a_lo = a & M32; a_hi = a >> S32; b_lo = b & M32; b_hi = b >> S32
    ll = a_lo * b_lo; lh = a_lo * b_hi; hl = a_hi * b_lo; hh = a_hi * b_hi
    t = hl + (ll >> S32)
    u = lh + (t & M32)
    lo = (u << S32) | (ll & M32)
    hi = hh + (t >> S32) + (u >> S32)
    return hi, lo

@njit(inline="always", **_O)
def mul7f(a):
    t = (a >> S61) * EPS
    r = (a << S3) + t
    if r < t:
        r += EPS
    if r >= PP:
        r -= PP
    return gl_sub(r, a)

@njit(inline="always", **_O)
def red2(hi, lo):
    hi_hi = hi >> S32
    hi_lo = hi & M32
    t0 = lo - hi_hi
    if lo < hi_hi:
        t0 -= EPS
    t1 = (hi_lo << S32) - hi_lo
    r = t0 + t1
    if r < t1:
        r += EPS
    if r >= PP:
        r -= PP
    return r

@njit(inline="always", **_O)
def dot2c(a, b, c, d):
    h1, l1 = mul128b(a, b)
    h2, l2 = mul128b(c, d)
    lo = l1 + l2
    hi = h1 + h2 + (ONE if lo < l1 else ZERO)
    r = red2(hi, lo)
    if hi < h1:
        r = gl_sub(r, T32)
    return r

@njit(inline="always", **_O)
def mulc(a, b):
    h, l = mul128b(a, b)
    return red2(h, l)

@njit(inline="always", **_O)
def e2c(a0, a1, b0, b1):
    m0 = mulc(a0, b0)
    m1 = mulc(a1, b1)
    m2 = mulc(gl_add(a0, a1), gl_add(b0, b1))
    return gl_add(m0, mul7f(m1)), gl_sub(gl_sub(m2, m0), m1)

@njit(**_O)
def merge_lazy4(a, b, o, cnt):
    for i in range(cnt):
        A0 = a[0, i]; A1 = a[1, i]; C0 = a[2, i]; C1 = a[3, i]
        B0 = b[0, i]; B1 = b[1, i]; D0 = b[2, i]; D1 = b[3, i]
        s0 = dot2c(A0, D0, B0, C0)
        s1 = dot2c(A1, D1, B1, C1)
        s2 = dot2c(gl_add(A0, A1), gl_add(D0, D1), gl_add(B0, B1), gl_add(C0, C1))
        o[0, i] = gl_add(s0, mul7f(s1))
        o[1, i] = gl_sub(gl_sub(s2, s0), s1)
        o[2, i], o[3, i] = e2c(C0, C1, D0, D1)

@njit(**_O)
def merge_e2b(a, b, o, cnt):
    for i in range(cnt):
        x0, x1 = e2b(a[0, i], a[1, i], b[2, i], b[3, i])
        y0, y1 = e2b(b[0, i], b[1, i], a[2, i], a[3, i])
        o[0, i] = gl_add(x0, y0)
        o[1, i] = gl_add(x1, y1)
        o[2, i], o[3, i] = e2b(a[2, i], a[3, i], b[2, i], b[3, i])

@njit(inline="always", **_O)
def dot2b(a, b, c, d):
    h1, l1 = mul128b(a, b)
    h2, l2 = mul128b(c, d)
    lo = l1 + l2
    hi = h1 + h2 + (ONE if lo < l1 else ZERO)
    r = gl_reduce128(hi, lo)
    if hi < h1:
        r = gl_sub(r, T32)
    return r

@njit(inline="always", **_O)
def mulb(a, b):
    h, l = mul128b(a, b)
    return gl_reduce128(h, l)

@njit(inline="always", **_O)
def e2b(a0, a1, b0, b1):
    m0 = mulb(a0, b0)
    m1 = mulb(a1, b1)
    m2 = mulb(gl_add(a0, a1), gl_add(b0, b1))
    return gl_add(m0, mul7f(m1)), gl_sub(gl_sub(m2, m0), m1)

@njit(**_O)
def merge_lazy2(a, b, o, cnt):
    for i in range(cnt):
        A0 = a[0, i]; A1 = a[1, i]; C0 = a[2, i]; C1 = a[3, i]
        B0 = b[0, i]; B1 = b[1, i]; D0 = b[2, i]; D1 = b[3, i]
        s0 = dot2b(A0, D0, B0, C0)
        s1 = dot2b(A1, D1, B1, C1)
        s2 = dot2b(gl_add(A0, A1), gl_add(D0, D1), gl_add(B0, B1), gl_add(C0, C1))
        o[0, i] = gl_add(s0, mul7f(s1))
        o[1, i] = gl_sub(gl_sub(s2, s0), s1)
        o[2, i], o[3, i] = e2b(C0, C1, D0, D1)

@njit(**_O)
def merge_lazy3(a, b, o, cnt):
    for i in range(cnt):
        A0 = a[0, i]; A1 = a[1, i]; C0 = a[2, i]; C1 = a[3, i]
        B0 = b[0, i]; B1 = b[1, i]; D0 = b[2, i]; D1 = b[3, i]
        s0 = dot2(A0, D0, B0, C0)
        s1 = dot2(A1, D1, B1, C1)
        s2 = dot2(gl_add(A0, A1), gl_add(D0, D1), gl_add(B0, B1), gl_add(C0, C1))
        o[0, i] = gl_add(s0, mul7f(s1))
        o[1, i] = gl_sub(gl_sub(s2, s0), s1)
        h, l = mul128(C0, D0)
        m0 = gl_reduce128(h, l)
        h, l = mul128(C1, D1)
        m1 = gl_reduce128(h, l)
        h, l = mul128(gl_add(C0, C1), gl_add(D0, D1))
        m2 = gl_reduce128(h, l)
        o[2, i] = gl_add(m0, mul7f(m1))
        o[3, i] = gl_sub(gl_sub(m2, m0), m1)

@njit(**_O)
def loop(f, a, b, o, cnt, reps):
    for _ in range(reps):
        f(a, b, o, cnt)
        f(o, b, a, cnt)

P = P_INT
rng = np.random.default_rng(1)
cnt = 512
a = rng.integers(0, P, (4, cnt), dtype=np.uint64); b = rng.integers(0, P, (4, cnt), dtype=np.uint64)
a[:, :64] = P - 1; b[:, :32] = P - 1
o1 = np.empty_like(a); o2 = np.empty_like(a)
_v_merge(a, b, o1, cnt); merge_lazy(a, b, o2, cnt)
assert (o1 == o2).all(), "mismatch"
reps = 20000
V = {"old": _v_merge, "lazy": merge_lazy, "lazy2": merge_lazy2, "lazy3": merge_lazy3, "lazy4": merge_lazy4, "e2b": merge_e2b, "tree": tree_merge}
for n, f in V.items():
    oo = np.empty_like(a); f(a, b, oo, cnt); assert (oo == o1).all(), n
res = {k: [] for k in V}
for k in range(7):
    for name, f in V.items():
        aa = a.copy(); oo = np.empty_like(a)
        loop(f, aa, b, oo, cnt, 1)
        t = time.perf_counter(); loop(f, aa, b, oo, cnt, reps); dt = time.perf_counter() - t
        res[name].append(dt / (2 * reps * cnt) * 1e9)
for n, v in res.items():
    print(n, "ns/node median %.2f" % np.median(v), ["%.2f" % x for x in v])
for n in V: print(n, "ratio", np.median(res[n]) / np.median(res["old"]))
