"""Numba CPU kernels for the Goldilocks field p = 2^64 − 2^32 + 1 and its quadratic
extension F_p[x]/(x² − 7).

Element kernels are ``inline='always'`` scalar functions on ``uint64``; vector kernels
are fused ``@njit(parallel=True, cache=True)`` loops over flat arrays.  Extension
elements are stored as ``(n, 2)`` arrays ``[a0, a1]`` meaning ``a0 + a1·x``.
Every kernel has a pure-Python twin in `zklora.kernels.reference` used by the tests.

Each element-wise kernel ``k`` used on short vectors also has a serial twin ``k_s``
(same body, no thread launch): a parallel launch costs ~10–20 µs, which dominates the
verifier's scalar arithmetic.  The field classes pick ``k_s`` below `SMALL` elements.

Extension products use Karatsuba (3 base products) and 7·t as 8t − t (additions), so
one extension product costs 3 base products.  The extension multiply kernels work on
blocks: a block is de-interleaved into contiguous lanes, multiplied in a loop LLVM
vectorises, and interleaved back.

Care with numba typing: mixing uint64 with int64 promotes to float64, so every
constant here is an explicit ``np.uint64``.
"""

from __future__ import annotations

import os

import numpy as np
from llvmlite import ir as _ir
from numba import njit, prange, types
from numba.extending import intrinsic, overload

from .jit_util import _wide512

P_INT = 0xFFFFFFFF00000001
P = np.uint64(P_INT)
EPS = np.uint64(0xFFFFFFFF)  # 2^64 mod p = 2^32 − 1
M32 = np.uint64(0xFFFFFFFF)
S32 = np.uint64(32)
ONE = np.uint64(1)
ZERO = np.uint64(0)
T32 = np.uint64(1 << 32)
S61 = np.uint64(61)
S3 = np.uint64(3)
NR = np.uint64(7)  # x² = 7, a quadratic non-residue mod p

#: below this many elements the field classes call the serial ``*_s`` kernels
SMALL = 1 << 12
#: block length of the de-interleaving extension kernels
BLOCK = 512

_OPTS = dict(cache=True, nogil=True, fastmath=False)


@njit(inline="always", **_OPTS)
def gl_add(a, b):
    s = a + b
    # overflow past 2^64: add 2^64 mod p
    if s < a:
        s += EPS
    if s >= P:
        s -= P
    return s


@njit(inline="always", **_OPTS)
def gl_sub(a, b):
    d = a - b
    if a < b:
        d -= EPS  # borrow: subtract 2^64 mod p, i.e. add p
    return d


@njit(inline="always", **_OPTS)
def gl_neg(a):
    if a == ZERO:
        return ZERO
    return P - a


@njit(inline="always", **_OPTS)
def gl_reduce128(hi, lo):
    """(hi·2^64 + lo) mod p using 2^64 ≡ 2^32 − 1 and 2^96 ≡ −1."""
    hi_hi = hi >> S32
    hi_lo = hi & M32
    t0 = lo - hi_hi
    if lo < hi_hi:
        t0 -= EPS
    t1 = hi_lo * EPS  # < 2^64
    r = t0 + t1
    if r < t1:
        r += EPS
    if r >= P:
        r -= P
    return r


@njit(inline="always", **_OPTS)
def mul128(a, b):
    """(hi, lo) of the 128-bit product a·b of any two uint64, from 32-bit limbs with the
    carries folded into the middle sums (t, u < 2^64: no compares).  32-bit limbs rather
    than a 128-bit product: LLVM vectorises this form (AVX2/AVX-512 vpmuludq), ~1.5× faster
    on vectors than a scalar 64×64→128 multiply."""
    a_lo = a & M32
    a_hi = a >> S32
    b_lo = b & M32
    b_hi = b >> S32
    ll = a_lo * b_lo
    t = a_hi * b_lo + (ll >> S32)
    u = a_lo * b_hi + (t & M32)
    return a_hi * b_hi + (t >> S32) + (u >> S32), (u << S32) | (ll & M32)


@njit(inline="always", **_OPTS)
def gl_mul(a, b):
    """a·b mod p for any uint64 a, b (canonical result)."""
    hi, lo = mul128(a, b)
    return gl_reduce128(hi, lo)


@njit(inline="always", **_OPTS)
def mul_acc128(a, b, lo, hi, top):
    """(lo, hi, top) + a·b as a 192-bit integer top·2^128 + hi·2^64 + lo: the full
    product (`mul128`) added without any reduction mod p (`fin_acc128` reduces once at
    the end).  top grows by at most 1 a call."""
    ph, pl = mul128(a, b)   # ph ≤ 2^64 − 2: a·b < 2^128 − 2^65
    s = lo + pl
    u = ph + (ONE if s < pl else ZERO)
    v = hi + u
    return s, v, top + (ONE if v < u else ZERO)


@njit(inline="always", **_OPTS)
def fin_acc128(lo, hi, top):
    """top·2^128 + hi·2^64 + lo mod p (canonical), for top < 2^32 − 1: 2^128 ≡ −2^32."""
    return gl_sub(gl_reduce128(hi, lo), top << S32)


@njit(inline="always", **_OPTS)
def gl_dot2(a, b, c, d):
    """a·b + c·d mod p with one reduction: the two 128-bit products added (a carry out of
    bit 128 is 2^128 ≡ −2^32), canonical result."""
    h1, l1 = mul128(a, b)
    h2, l2 = mul128(c, d)
    lo = l1 + l2
    hi = h1 + (h2 + (ONE if lo < l1 else ZERO))   # h2 + carry < 2^64 (h2 ≤ 2^64 − 2)
    r = gl_reduce128(hi, lo)
    if hi < h1:
        r = gl_sub(r, T32)
    return r


@intrinsic
def _mul_hilo(typingctx, a, b):
    """(hi, lo) of the full 128-bit product of two uint64 (one scalar ``mul``)."""
    if a != types.uint64 or b != types.uint64:
        return None
    sig = types.UniTuple(types.uint64, 2)(types.uint64, types.uint64)

    def codegen(context, builder, signature, args):
        i128 = _ir.IntType(128)
        prod = builder.mul(builder.zext(args[0], i128), builder.zext(args[1], i128))
        lo = builder.trunc(prod, _ir.IntType(64))
        hi = builder.trunc(builder.lshr(prod, _ir.Constant(i128, 64)), _ir.IntType(64))
        return context.make_tuple(builder, signature.return_type, (hi, lo))

    return sig, codegen


@njit(inline="always", **_OPTS)
def gl_mul_s(a, b):
    """`gl_mul` for scalar code (same value): one 64×64→128 multiply instead of four
    32-bit ones — ~1.5× lower latency in dependent chains and loops LLVM does not
    vectorise (loop-carried reductions); slower than `gl_mul` in vectorised loops."""
    hi, lo = _mul_hilo(a, b)
    return gl_reduce128(hi, lo)


@njit(inline="always", **_OPTS)
def e2_mul_s(a0, a1, b0, b1):
    """`e2_mul` on `gl_mul_s` (scalar code; same value)."""
    m0 = gl_mul_s(a0, b0)
    m1 = gl_mul_s(a1, b1)
    m2 = gl_mul_s(gl_add(a0, a1), gl_add(b0, b1))
    return gl_add(m0, gl_mul7(m1)), gl_sub(gl_sub(m2, m0), m1)


@njit(inline="always", **_OPTS)
def gl_mul7(a):
    """7·a mod p for canonical a: 8a as a 67-bit value reduced (2^64 ≡ 2^32 − 1) minus a."""
    t = (a >> S61) * EPS
    r = (a << S3) + t
    if r < t:
        r += EPS
    if r >= P:
        r -= P
    return gl_sub(r, a)


@njit(**_OPTS)
def gl_pow(a, e):
    e = np.uint64(e)
    r = ONE
    b = a
    while e > ZERO:
        if (e & ONE) == ONE:
            r = gl_mul(r, b)
        b = gl_mul(b, b)
        e = e >> ONE
    return r


@njit(inline="always", **_OPTS)
def gl_inv(a):
    return gl_pow(a, P - np.uint64(2))


# --- extension element kernels ----------------------------------------------------


@njit(inline="always", **_OPTS)
def e2_mul(a0, a1, b0, b1):
    """(a0 + a1 x)(b0 + b1 x) mod x² − 7, Karatsuba: 3 base products."""
    m0 = gl_mul(a0, b0)
    m1 = gl_mul(a1, b1)
    m2 = gl_mul(gl_add(a0, a1), gl_add(b0, b1))
    return gl_add(m0, gl_mul7(m1)), gl_sub(gl_sub(m2, m0), m1)


@njit(**_OPTS)
def e2_mul_call(a0, a1, b0, b1):
    """`e2_mul` as a real call: for code run once per kernel call, where inlining would
    only cost compile time (numba's IR inlining makes cold compiles slow)."""
    return e2_mul(a0, a1, b0, b1)


# --- base vector kernels ----------------------------------------------------------


@njit(parallel=True, **_OPTS)
def vadd(a, b, out):
    for i in prange(a.shape[0]):
        out[i] = gl_add(a[i], b[i])


@njit(**_OPTS)
def vadd_s(a, b, out):
    for i in range(a.shape[0]):
        out[i] = gl_add(a[i], b[i])


@njit(parallel=True, **_OPTS)
def vsub(a, b, out):
    for i in prange(a.shape[0]):
        out[i] = gl_sub(a[i], b[i])


@njit(**_OPTS)
def vsub_s(a, b, out):
    for i in range(a.shape[0]):
        out[i] = gl_sub(a[i], b[i])


@njit(parallel=True, **_OPTS)
def vmul(a, b, out):
    for i in prange(a.shape[0]):
        out[i] = gl_mul(a[i], b[i])


@njit(**_OPTS)
def vmul_s(a, b, out):
    for i in range(a.shape[0]):
        out[i] = gl_mul(a[i], b[i])


@njit(parallel=True, **_OPTS)
def vneg(a, out):
    for i in prange(a.shape[0]):
        out[i] = gl_neg(a[i])


@njit(**_OPTS)
def vneg_s(a, out):
    for i in range(a.shape[0]):
        out[i] = gl_neg(a[i])


@njit(parallel=True, **_OPTS)
def vreduce(a, out):
    """Canonicalise arbitrary uint64 values (x mod p)."""
    for i in prange(a.shape[0]):
        x = a[i]
        out[i] = x - P if x >= P else x


#: the sign bit of an int64 read as uint64
SIGN64 = np.uint64(1 << 63)


@njit(parallel=True, **_OPTS)
def vsigned(a, out):
    """Signed 64-bit integers (``a``: their two's-complement bits as uint64) → their
    canonical residues mod p: u for v = u ≥ 0, v + p = u − (2^64 − p) = u − EPS for
    v < 0 (u ≥ 2^63 > EPS).  One pass; twin: ``signed_ref``."""
    for i in prange(a.shape[0]):
        u = a[i]
        out[i] = u - EPS if u >= SIGN64 else u


def signed_ref(a: np.ndarray) -> np.ndarray:
    """Twin of `vsigned` (numpy, from the integers' values)."""
    v = np.asarray(a, np.uint64).view(np.int64)
    return np.array([int(x) % P_INT for x in v.tolist()], dtype=np.uint64)


def _chunks(n, per=1 << 14):
    return max(1, min(256, (n + per - 1) // per))


@njit(parallel=True, **_OPTS)
def vsum(a, nchunks):
    n = a.shape[0]
    part = np.zeros(nchunks, dtype=np.uint64)
    step = (n + nchunks - 1) // nchunks
    for c in prange(nchunks):
        acc = ZERO
        for i in range(c * step, min(n, (c + 1) * step)):
            acc = gl_add(acc, a[i])
        part[c] = acc
    acc = ZERO
    for c in range(nchunks):
        acc = gl_add(acc, part[c])
    return acc


@njit(**_OPTS)
def vsum_s(a):
    acc = ZERO
    for i in range(a.shape[0]):
        acc = gl_add(acc, a[i])
    return acc


@njit(parallel=True, **_OPTS)
def vdot(a, b, nchunks):
    n = a.shape[0]
    part = np.zeros(nchunks, dtype=np.uint64)
    step = (n + nchunks - 1) // nchunks
    for c in prange(nchunks):
        acc = ZERO
        for i in range(c * step, min(n, (c + 1) * step)):
            acc = gl_add(acc, gl_mul_s(a[i], b[i]))
        part[c] = acc
    acc = ZERO
    for c in range(nchunks):
        acc = gl_add(acc, part[c])
    return acc


@njit(**_OPTS)
def vdot_s(a, b):
    acc = ZERO
    for i in range(a.shape[0]):
        acc = gl_add(acc, gl_mul_s(a[i], b[i]))
    return acc


@njit(**_OPTS)
def vinv(a, out):
    """Montgomery batch inversion; returns the index of a zero, or -1."""
    n = a.shape[0]
    acc = ONE
    for i in range(n):
        if a[i] == ZERO:
            return i
        out[i] = acc
        acc = gl_mul(acc, a[i])
    inv = gl_inv(acc)
    for i in range(n - 1, -1, -1):
        out[i] = gl_mul(out[i], inv)
        inv = gl_mul(inv, a[i])
    return -1


# --- extension vector kernels -------------------------------------------------------


@njit(parallel=True, **_OPTS)
def eadd(a, b, out):
    for i in prange(a.shape[0]):
        out[i, 0] = gl_add(a[i, 0], b[i, 0])
        out[i, 1] = gl_add(a[i, 1], b[i, 1])


@njit(**_OPTS)
def eadd_s(a, b, out):
    for i in range(a.shape[0]):
        out[i, 0] = gl_add(a[i, 0], b[i, 0])
        out[i, 1] = gl_add(a[i, 1], b[i, 1])


@njit(parallel=True, **_OPTS)
def esub(a, b, out):
    for i in prange(a.shape[0]):
        out[i, 0] = gl_sub(a[i, 0], b[i, 0])
        out[i, 1] = gl_sub(a[i, 1], b[i, 1])


@njit(**_OPTS)
def esub_s(a, b, out):
    for i in range(a.shape[0]):
        out[i, 0] = gl_sub(a[i, 0], b[i, 0])
        out[i, 1] = gl_sub(a[i, 1], b[i, 1])


@njit(**_OPTS)
def _emul_block(a, b, out, s, m, x0, x1, y0, y1):
    """out[s:s+m] = a[s:s+m]·b[s:s+m] through contiguous lanes (vectorisable)."""
    for i in range(m):
        x0[i] = a[s + i, 0]
        x1[i] = a[s + i, 1]
        y0[i] = b[s + i, 0]
        y1[i] = b[s + i, 1]
    for i in range(m):
        c0, c1 = e2_mul(x0[i], x1[i], y0[i], y1[i])
        x0[i] = c0
        x1[i] = c1
    for i in range(m):
        out[s + i, 0] = x0[i]
        out[s + i, 1] = x1[i]


@njit(parallel=True, **_OPTS)
def emul(a, b, out):
    n = a.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        s = blk * BLOCK
        m = min(n, s + BLOCK) - s
        x0 = np.empty(BLOCK, np.uint64)
        x1 = np.empty(BLOCK, np.uint64)
        y0 = np.empty(BLOCK, np.uint64)
        y1 = np.empty(BLOCK, np.uint64)
        _emul_block(a, b, out, s, m, x0, x1, y0, y1)


@njit(**_OPTS)
def emul_s(a, b, out):
    n = a.shape[0]
    _emul_block(a, b, out, 0, n, np.empty(n, np.uint64), np.empty(n, np.uint64),
                np.empty(n, np.uint64), np.empty(n, np.uint64))


@njit(**_OPTS)
def _emul_scalar_block(a, s0, s1, out, s, m):
    """out[s:s+m] = a[s:s+m]·(s0 + s1 x) through contiguous lanes (vectorisable)."""
    x0 = np.empty(m, np.uint64)
    x1 = np.empty(m, np.uint64)
    for i in range(m):
        x0[i] = a[s + i, 0]
        x1[i] = a[s + i, 1]
    for i in range(m):
        c0, c1 = e2_mul(x0[i], x1[i], s0, s1)
        x0[i] = c0
        x1[i] = c1
    for i in range(m):
        out[s + i, 0] = x0[i]
        out[s + i, 1] = x1[i]


@njit(parallel=True, **_OPTS)
def emul_scalar(a, s0, s1, out):
    n = a.shape[0]
    nb = (n + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        s = blk * BLOCK
        m = min(n, s + BLOCK) - s
        _emul_scalar_block(a, s0, s1, out, s, m)


@njit(**_OPTS)
def emul_scalar_s(a, s0, s1, out):
    _emul_scalar_block(a, s0, s1, out, 0, a.shape[0])


@njit(parallel=True, **_OPTS)
def emul_base(a, b, out):
    """Extension × base, element-wise."""
    for i in prange(a.shape[0]):
        out[i, 0] = gl_mul(a[i, 0], b[i])
        out[i, 1] = gl_mul(a[i, 1], b[i])


@njit(**_OPTS)
def emul_base_s(a, b, out):
    for i in range(a.shape[0]):
        out[i, 0] = gl_mul(a[i, 0], b[i])
        out[i, 1] = gl_mul(a[i, 1], b[i])


@njit(parallel=True, **_OPTS)
def esum(a, nchunks):
    n = a.shape[0]
    part = np.zeros((nchunks, 2), dtype=np.uint64)
    step = (n + nchunks - 1) // nchunks
    for c in prange(nchunks):
        s0 = ZERO
        s1 = ZERO
        for i in range(c * step, min(n, (c + 1) * step)):
            s0 = gl_add(s0, a[i, 0])
            s1 = gl_add(s1, a[i, 1])
        part[c, 0] = s0
        part[c, 1] = s1
    out = np.zeros(2, dtype=np.uint64)
    for c in range(nchunks):
        out[0] = gl_add(out[0], part[c, 0])
        out[1] = gl_add(out[1], part[c, 1])
    return out


@njit(**_OPTS)
def esum_s(a):
    out = np.zeros(2, dtype=np.uint64)
    for i in range(a.shape[0]):
        out[0] = gl_add(out[0], a[i, 0])
        out[1] = gl_add(out[1], a[i, 1])
    return out


@njit(**_OPTS)
def _edot_range(a, b, lo, hi):
    """Σ a[i]·b[i] over lo..hi (loop-carried sums: the scalar 128-bit products, as in
    `vdot` and `_sc_round_range`)."""
    s0 = ZERO
    s1 = ZERO
    for i in range(lo, hi):
        c0, c1 = e2_mul_s(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        s0 = gl_add(s0, c0)
        s1 = gl_add(s1, c1)
    return s0, s1


@njit(parallel=True, **_OPTS)
def edot(a, b, nchunks):
    n = a.shape[0]
    part = np.zeros((nchunks, 2), dtype=np.uint64)
    step = (n + nchunks - 1) // nchunks
    for c in prange(nchunks):
        s0, s1 = _edot_range(a, b, c * step, min(n, (c + 1) * step))
        part[c, 0] = s0
        part[c, 1] = s1
    out = np.zeros(2, dtype=np.uint64)
    for c in range(nchunks):
        out[0] = gl_add(out[0], part[c, 0])
        out[1] = gl_add(out[1], part[c, 1])
    return out


@njit(**_OPTS)
def edot_s(a, b):
    out = np.zeros(2, dtype=np.uint64)
    out[0], out[1] = _edot_range(a, b, 0, a.shape[0])
    return out


@njit(**_OPTS)
def einv(a, out):
    """Batch inverse in the extension: 1/(a0 + a1 x) = (a0 − a1 x)/(a0² − 7 a1²)."""
    n = a.shape[0]
    norms = np.empty(n, dtype=np.uint64)
    for i in range(n):
        a0 = a[i, 0]
        a1 = a[i, 1]
        norms[i] = gl_sub(gl_mul(a0, a0), gl_mul7(gl_mul(a1, a1)))
    inv_norms = np.empty(n, dtype=np.uint64)
    bad = vinv(norms, inv_norms)
    if bad >= 0:
        return bad
    for i in range(n):
        out[i, 0] = gl_mul(a[i, 0], inv_norms[i])
        out[i, 1] = gl_neg(gl_mul(a[i, 1], inv_norms[i]))
    return -1


@njit(**_OPTS)
def _eq_layer(out, size, r0, r1, lo, hi):
    """Entries lo..hi of one doubling step: out[i + size] = out[i]·r, out[i] −= that."""
    for i in range(lo, hi):
        v0 = out[i, 0]
        v1 = out[i, 1]
        h0, h1 = e2_mul(v0, v1, r0, r1)
        out[i + size, 0] = h0
        out[i + size, 1] = h1
        out[i, 0] = gl_sub(v0, h0)
        out[i, 1] = gl_sub(v1, h1)


@njit(**_OPTS)
def _eq_expand_ser(r, out):
    """Serial `eq_expand` (doubling, one layer per variable)."""
    n = r.shape[0]
    out[0, 0] = ONE
    out[0, 1] = ZERO
    size = 1
    for j in range(n):
        _eq_layer(out, size, r[j, 0], r[j, 1], 0, size)
        size *= 2


#: `eq_expand` expands this many low variables serially, the rest as an outer product
EQ_SPLIT = 12


@njit(parallel=True, **_OPTS)
def eq_expand(r, out):
    """eq table over the extension: out[x] = Π_j (r_j x_j + (1−r_j)(1−x_j)),
    variable j = bit j of x.  ``r`` has shape (n, 2), ``out`` (2^n, 2).

    eq(r, x) = eq(r_lo, x_lo)·eq(r_hi, x_hi): the low `EQ_SPLIT` variables are expanded
    serially into out[0:2^l], the high ones into a table of their own, and every row
    of 2^l entries is one product per entry (two thread launches, not one per
    variable)."""
    n = r.shape[0]
    lo_n = min(n, EQ_SPLIT)
    _eq_expand_ser(r[:lo_n], out)
    hi_n = n - lo_n
    if hi_n == 0:
        return
    L = 1 << lo_n
    hi = np.empty((1 << hi_n, 2), dtype=np.uint64)
    _eq_expand_ser(r[lo_n:], hi)
    for row in prange(1, 1 << hi_n):  # row 0 last: every row reads it
        e0 = hi[row, 0]
        e1 = hi[row, 1]
        b = row * L
        for x in range(L):
            p0, p1 = e2_mul(out[x, 0], out[x, 1], e0, e1)
            out[b + x, 0] = p0
            out[b + x, 1] = p1
    e0 = hi[0, 0]
    e1 = hi[0, 1]
    nb = (L + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        for x in range(blk * BLOCK, min(L, (blk + 1) * BLOCK)):
            p0, p1 = e2_mul(out[x, 0], out[x, 1], e0, e1)
            out[x, 0] = p0
            out[x, 1] = p1


@njit(**_OPTS)
def e_interpolate(g, inv_den, r0, r1):
    """Value at r of the polynomial of degree ≤ d with values g[i] at i = 0..d:
    Σ_i g_i · inv_den[i] · Π_{j≠i} (r − j), with inv_den[i] = 1/Π_{j≠i}(i − j)."""
    npts = g.shape[0]
    pre = np.empty((npts + 1, 2), dtype=np.uint64)
    suf = np.empty((npts + 1, 2), dtype=np.uint64)
    pre[0, 0] = ONE
    pre[0, 1] = ZERO
    for i in range(npts):
        c0, c1 = e2_mul_call(pre[i, 0], pre[i, 1], gl_sub(r0, np.uint64(i)), r1)
        pre[i + 1, 0] = c0
        pre[i + 1, 1] = c1
    suf[npts, 0] = ONE
    suf[npts, 1] = ZERO
    for i in range(npts - 1, -1, -1):
        c0, c1 = e2_mul_call(suf[i + 1, 0], suf[i + 1, 1], gl_sub(r0, np.uint64(i)), r1)
        suf[i, 0] = c0
        suf[i, 1] = c1
    out = np.zeros(2, dtype=np.uint64)
    for i in range(npts):
        w0, w1 = e2_mul_call(pre[i, 0], pre[i, 1], suf[i + 1, 0], suf[i + 1, 1])
        w0 = gl_mul(w0, inv_den[i])
        w1 = gl_mul(w1, inv_den[i])
        c0, c1 = e2_mul_call(g[i, 0], g[i, 1], w0, w1)
        out[0] = gl_add(out[0], c0)
        out[1] = gl_add(out[1], c1)
    return out


# --- sumcheck kernels -----------------------------------------------------------------


@njit(**_OPTS)
def _sc_round_range(stack, starts, factors, npts, lo_i, hi_i, vals, acc):
    """acc[j, t] += Σ_{lo_i ≤ i < hi_i} Π_{f ∈ term j} (lo_f + t·(hi_f − lo_f))."""
    k = stack.shape[0]
    nterms = starts.shape[0] - 1
    for i in range(lo_i, hi_i):
        for f in range(k):
            lo0 = stack[f, 2 * i, 0]
            lo1 = stack[f, 2 * i, 1]
            d0 = gl_sub(stack[f, 2 * i + 1, 0], lo0)
            d1 = gl_sub(stack[f, 2 * i + 1, 1], lo1)
            v0 = lo0
            v1 = lo1
            for t in range(npts):
                vals[f, t, 0] = v0
                vals[f, t, 1] = v1
                v0 = gl_add(v0, d0)
                v1 = gl_add(v1, d1)
        for j in range(nterms):
            q0 = starts[j]
            q1 = starts[j + 1]
            for t in range(npts):
                if q0 == q1:
                    p0 = ONE
                    p1 = ZERO
                else:
                    f = factors[q0]
                    p0 = vals[f, t, 0]
                    p1 = vals[f, t, 1]
                for q in range(q0 + 1, q1):
                    f = factors[q]
                    p0, p1 = e2_mul_s(p0, p1, vals[f, t, 0], vals[f, t, 1])
                acc[j, t, 0] = gl_add(acc[j, t, 0], p0)
                acc[j, t, 1] = gl_add(acc[j, t, 1], p1)


@njit(**_OPTS)
def _sc_round_finish(part, coeffs, npts):
    """out[t] = Σ_c Σ_j coeffs[j] · part[c, j, t] (coefficients applied once)."""
    nchunks = part.shape[0]
    nterms = part.shape[1]
    out = np.zeros((npts, 2), dtype=np.uint64)
    for j in range(nterms):
        for t in range(npts):
            s0 = ZERO
            s1 = ZERO
            for c in range(nchunks):
                s0 = gl_add(s0, part[c, j, t, 0])
                s1 = gl_add(s1, part[c, j, t, 1])
            p0, p1 = e2_mul_call(s0, s1, coeffs[j, 0], coeffs[j, 1])
            out[t, 0] = gl_add(out[t, 0], p0)
            out[t, 1] = gl_add(out[t, 1], p1)
    return out


@njit(parallel=True, **_OPTS)
def e_sc_round(stack, starts, factors, coeffs, degree, nchunks):
    """See `Field.sc_round`; stack (k, 2m, 2), coeffs (T, 2); returns (degree+1, 2).
    Each term is summed without its coefficient, which is applied once at the end."""
    k = stack.shape[0]
    m = stack.shape[1] // 2
    nterms = starts.shape[0] - 1
    npts = degree + 1
    part = np.zeros((nchunks, nterms, npts, 2), dtype=np.uint64)
    step = (m + nchunks - 1) // nchunks
    for c in prange(nchunks):
        vals = np.empty((k, npts, 2), dtype=np.uint64)
        acc = np.zeros((nterms, npts, 2), dtype=np.uint64)
        _sc_round_range(stack, starts, factors, npts, c * step, min(m, (c + 1) * step),
                        vals, acc)
        part[c] = acc
    return _sc_round_finish(part, coeffs, npts)


@njit(**_OPTS)
def e_sc_round_s(stack, starts, factors, coeffs, degree):
    """Serial `e_sc_round` for small tables."""
    k = stack.shape[0]
    m = stack.shape[1] // 2
    nterms = starts.shape[0] - 1
    npts = degree + 1
    part = np.zeros((1, nterms, npts, 2), dtype=np.uint64)
    vals = np.empty((k, npts, 2), dtype=np.uint64)
    _sc_round_range(stack, starts, factors, npts, 0, m, vals, part[0])
    return _sc_round_finish(part, coeffs, npts)


@njit(**_OPTS)
def _sc_fold_block(stack, r0, r1, out, s, cnt):
    """Fold pairs s..s+cnt of every table (de-interleave, vectorised product, back)."""
    l0 = np.empty(cnt, np.uint64)
    l1 = np.empty(cnt, np.uint64)
    x0 = np.empty(cnt, np.uint64)
    x1 = np.empty(cnt, np.uint64)
    for f in range(stack.shape[0]):
        for i in range(cnt):
            a0 = stack[f, 2 * (s + i), 0]
            a1 = stack[f, 2 * (s + i), 1]
            l0[i] = a0
            l1[i] = a1
            x0[i] = gl_sub(stack[f, 2 * (s + i) + 1, 0], a0)
            x1[i] = gl_sub(stack[f, 2 * (s + i) + 1, 1], a1)
        for i in range(cnt):
            p0, p1 = e2_mul(x0[i], x1[i], r0, r1)
            x0[i] = gl_add(l0[i], p0)
            x1[i] = gl_add(l1[i], p1)
        for i in range(cnt):
            out[f, s + i, 0] = x0[i]
            out[f, s + i, 1] = x1[i]


@njit(parallel=True, **_OPTS)
def e_sc_fold(stack, r0, r1, out):
    """out[f, i] = lo + r·(hi − lo) with lo = stack[f, 2i], hi = stack[f, 2i+1]."""
    m = out.shape[1]
    nb = (m + BLOCK - 1) // BLOCK
    for blk in prange(nb):
        s = blk * BLOCK
        _sc_fold_block(stack, r0, r1, out, s, min(m, s + BLOCK) - s)


@njit(**_OPTS)
def e_sc_fold_s(stack, r0, r1, out):
    _sc_fold_block(stack, r0, r1, out, 0, out.shape[1])


@njit(parallel=True, **_OPTS)
def e_fold_base(table, r0, r1, out):
    """Bind the lowest variable of a base-field table to an extension challenge.  The
    scalar product (`gl_mul_s`): this strided loop is not vectorised (measured 13.2 ->
    7.6 ns per pair at 2^22 against `gl_mul`)."""
    m = out.shape[0]
    for i in prange(m):
        lo = table[2 * i]
        d = gl_sub(table[2 * i + 1], lo)
        out[i, 0] = gl_add(lo, gl_mul_s(d, r0))
        out[i, 1] = gl_mul_s(d, r1)


def nchunks_for(n: int) -> int:
    """Chunk count for parallel reductions over n items."""
    return _chunks(n)


@njit(parallel=True, **_OPTS)
def e_vecmat_base(e, M, out):
    """out[j] = Σ_i e[i]·M[i, j] with e extension (R, 2), M base (R, C), out (C, 2).
    Blocks of columns in parallel; each sweeps M's rows over its block into two
    de-interleaved accumulators (unit-stride, vectorised products: ≈ 2.7× the
    column-at-a-time loop at R × C = 2^22)."""
    R = M.shape[0]
    C = M.shape[1]
    block = 256
    while block > 8 and (C + block - 1) // block < 4:
        block //= 2
    for b in prange((C + block - 1) // block):
        _wide512()  # zmm code (s37h5: x0.7-0.85 at the models' shapes)
        lo = b * block
        cnt = min(C, lo + block) - lo
        a0 = np.zeros(block, np.uint64)
        a1 = np.zeros(block, np.uint64)
        for i in range(R):
            e0 = e[i, 0]
            e1 = e[i, 1]
            for j in range(cnt):
                m = M[i, lo + j]
                a0[j] = gl_add(a0[j], gl_mul(e0, m))
                a1[j] = gl_add(a1[j], gl_mul(e1, m))
        for j in range(cnt):
            out[lo + j, 0] = a0[j]
            out[lo + j, 1] = a1[j]


#: `e_matvec_base`: products accumulated in this many independent lanes a row
MATVEC_LANES = 16


@njit(parallel=True, **_OPTS)
def e_matvec_base(e, M, out):
    """out[p] = Σ_q M[p, q]·e[q] with M base (P, Q) C-contiguous, e extension (Q, 2),
    out (P, 2): `e_vecmat_base` of Mᵀ without a transposed copy of M.  Rows in parallel
    (blocks of rows a task); each row's products summed in `MATVEC_LANES` lanes over
    unit-stride runs of the row (vectorised like `e_vecmat_base`'s columns), the lanes
    then added.  Twin: ``matvec_ref``."""
    P = M.shape[0]
    Q = M.shape[1]
    L = MATVEC_LANES
    e0 = np.empty(Q, np.uint64)
    e1 = np.empty(Q, np.uint64)
    for q in range(Q):
        e0[q] = e[q, 0]
        e1[q] = e[q, 1]
    rb = max(1, min(64, P // 64))
    for b in prange((P + rb - 1) // rb):
        _wide512()  # zmm code (s37h5: x0.7-0.85 at the models' shapes)
        a0 = np.empty(L, np.uint64)
        a1 = np.empty(L, np.uint64)
        for p in range(b * rb, min(P, (b + 1) * rb)):
            for j in range(L):
                a0[j] = ZERO
                a1[j] = ZERO
            q = 0
            while q + L <= Q:
                for j in range(L):
                    m = M[p, q + j]
                    a0[j] = gl_add(a0[j], gl_mul(e0[q + j], m))
                    a1[j] = gl_add(a1[j], gl_mul(e1[q + j], m))
                q += L
            s0 = ZERO
            s1 = ZERO
            for j in range(L):
                s0 = gl_add(s0, a0[j])
                s1 = gl_add(s1, a1[j])
            for k in range(q, Q):
                m = M[p, k]
                s0 = gl_add(s0, gl_mul(e0[k], m))
                s1 = gl_add(s1, gl_mul(e1[k], m))
            out[p, 0] = s0
            out[p, 1] = s1


@njit(parallel=True, **_OPTS)
def e_vecmat_rows(e, M, out, nchunks):
    """`e_vecmat_base` (out[j] = Σ_i e[i]·M[i, j]; e (R, 2), M base (R, C) C-contiguous,
    out (C, 2)) streaming M's rows: ``nchunks`` runs of rows in parallel, each summed
    into its own de-interleaved row of partial sums (unit stride, vectorised like
    `e_vecmat_base`), the partial sums then added column by column.  The column blocks
    of `e_vecmat_base` read every row per block (a page per row on wide tables: ×3–4
    slower at 4096 × 1024).  Same values.  Twin: ``vecmat_ref``."""
    R = M.shape[0]
    C = M.shape[1]
    part = np.zeros((nchunks, 2, C), np.uint64)
    step = (R + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _wide512()  # zmm code (s37h5: x0.7-0.85 at the models' shapes)
        a0 = part[c, 0]
        a1 = part[c, 1]
        for i in range(c * step, min(R, (c + 1) * step)):
            e0 = e[i, 0]
            e1 = e[i, 1]
            for j in range(C):
                m = M[i, j]
                a0[j] = gl_add(a0[j], gl_mul(e0, m))
                a1[j] = gl_add(a1[j], gl_mul(e1, m))
    nb = (C + 1023) // 1024
    for b in prange(nb):
        for j in range(b * 1024, min(C, (b + 1) * 1024)):
            s0 = part[0, 0, j]
            s1 = part[0, 1, j]
            for c in range(1, nchunks):
                s0 = gl_add(s0, part[c, 0, j])
                s1 = gl_add(s1, part[c, 1, j])
            out[j, 0] = s0
            out[j, 1] = s1


def vecmat_ref(e, M) -> np.ndarray:
    """Twin of `e_vecmat_rows` / `e_vecmat_base` (Python integers, the definition)."""
    return matvec_ref(e, np.ascontiguousarray(np.asarray(M, np.uint64).T))


def matvec_ref(e, M) -> np.ndarray:
    """Twin of `e_matvec_base` (Python integers, from the definition)."""
    M = np.asarray(M, np.uint64)
    e = np.asarray(e, np.uint64).reshape(-1, 2)
    out = np.zeros((M.shape[0], 2), np.uint64)
    for p in range(M.shape[0]):
        row = [int(v) for v in M[p].tolist()]
        out[p, 0] = sum(int(e[q, 0]) * row[q] for q in range(len(row))) % P_INT
        out[p, 1] = sum(int(e[q, 1]) * row[q] for q in range(len(row))) % P_INT
    return out


# --- a cold process: numpy and Python-integer twins -------------------------------------
#
# Loading a cached kernel costs milliseconds, and the first one of a process costs
# numba's runtime start-up (a few hundred milliseconds: its target registries and NRT).
# A verifier does little field work, on short vectors, so in a process where numba has
# not started yet the field-facing kernels below run as numpy (long vectors) or Python
# integers (short ones) instead.  Once anything has started numba (a prover always
# does, at its first kernel) every call goes to the compiled kernel as before.  The
# twins compute exactly mod p, like the kernels on canonical inputs (the only inputs a
# field hands them), so the results are the same bytes either way (tests compare).

#: a cold process runs a field kernel on at most this many elements without numba
COLD_LIMIT = 1 << 18
#: below this many elements the cold twins use Python integers, numpy above
PY_BELOW = 96

_P = P_INT
_W = 7
_U64_EPS = EPS
_U64_P = P


try:
    from numba.core.runtime import rtsys as _rtsys
except ImportError:  # pragma: no cover - numba internals moved: always compiled
    _rtsys = None

#: ``ZKLORA_COLD_TWINS=0`` turns the cold twins off (every call compiled; A/B timing)
COLD_TWINS = os.environ.get("ZKLORA_COLD_TWINS", "1") != "0"


def numba_started() -> bool:
    """Whether numba's runtime has started in this process (any compiled function
    loaded or compiled); a cold process avoids starting it for small work."""
    return not COLD_TWINS or bool(getattr(_rtsys, "_init", True))


def cold(n: int) -> bool:
    """Whether ``n`` elements of field work should bypass numba (see above)."""
    return n <= COLD_LIMIT and not numba_started()


def np_add(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`gl_add` element-wise on uint64 arrays (same formula, so the same bits)."""
    s = a + b
    s = np.where(s < a, s + _U64_EPS, s)
    return np.where(s >= _U64_P, s - _U64_P, s)


def np_sub(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`gl_sub` element-wise."""
    d = a - b
    return np.where(a < b, d - _U64_EPS, d)


def np_mul(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """`gl_mul` element-wise (32-bit limbs, then `gl_reduce128`)."""
    a_lo = a & M32
    a_hi = a >> S32
    b_lo = b & M32
    b_hi = b >> S32
    ll = a_lo * b_lo
    lh = a_lo * b_hi
    hl = a_hi * b_lo
    mid = lh + hl
    lo = ll + (mid << S32)
    hi = a_hi * b_hi + (mid >> S32) + ((mid < lh).astype(np.uint64) << S32) \
        + (lo < ll).astype(np.uint64)
    hi_hi = hi >> S32
    t0 = lo - hi_hi
    t0 = np.where(lo < hi_hi, t0 - _U64_EPS, t0)
    t1 = (hi & M32) * _U64_EPS
    r = t0 + t1
    r = np.where(r < t1, r + _U64_EPS, r)
    return np.where(r >= _U64_P, r - _U64_P, r)


def np_e2_mul(a0, a1, b0, b1):
    """`e2_mul` element-wise (Karatsuba, 7·t as 8t − t): (c0, c1)."""
    m0 = np_mul(a0, b0)
    m1 = np_mul(a1, b1)
    m2 = np_mul(np_add(a0, a1), np_add(b0, b1))
    m1_2 = np_add(m1, m1)
    m1_4 = np_add(m1_2, m1_2)
    m1_7 = np_sub(np_add(m1_4, m1_4), m1)
    return np_add(m0, m1_7), np_sub(np_sub(m2, m0), m1)


def np_sum(a: np.ndarray, axis: int = 0) -> np.ndarray:
    """Σ mod p along ``axis`` of canonical entries (fewer than 2^32 of them): the two
    32-bit halves are summed without overflow and recombined."""
    lo = np.sum(a & M32, axis=axis, dtype=np.uint64, keepdims=True)
    hi = np.sum(a >> S32, axis=axis, dtype=np.uint64, keepdims=True)
    lo = np.where(lo >= _U64_P, lo - _U64_P, lo)
    hi = np.where(hi >= _U64_P, hi - _U64_P, hi)
    return np.squeeze(np_add(np_mul(hi, np.uint64(1 << 32)), lo), axis=axis)


#: `np_matmul` sums at most this many products exactly in float64 (n·2^32 < 2^53)
MATMUL_MAX_INNER = 1 << 20
_SHIFTS = [np.array([pow(2, 16 * s, P_INT)], dtype=np.uint64) for s in range(7)]


def np_matmul(X: np.ndarray, Y: np.ndarray) -> np.ndarray:
    """X·Y mod p for canonical base matrices X (T, n), Y (n, k) in float64: each entry
    is cut into four 16-bit limbs, the 16 limb products are summed as float64 (every
    partial sum an integer below 2^53, so exact) and recombined mod p."""
    T, n = X.shape
    k = Y.shape[1]
    if n > MATMUL_MAX_INNER:
        raise ValueError(f"np_matmul: inner dimension {n} > {MATMUL_MAX_INNER}")
    xl = np.ascontiguousarray(X, dtype="<u8").view(np.uint16).reshape(T, n, 4)
    yl = np.ascontiguousarray(Y, dtype="<u8").view(np.uint16).reshape(n, k, 4)
    xl = xl.transpose(2, 0, 1).reshape(4 * T, n).astype(np.float64)
    yl = yl.transpose(0, 2, 1).reshape(n, 4 * k).astype(np.float64)
    # numpy's own single-threaded loop (a BLAS thread pool costs more than these
    # small products on a busy machine)
    S = np.einsum("ti,ij->tj", xl, yl).astype(np.uint64).reshape(4, T, 4, k)  # S[a,t,b,j]
    acc = np.zeros((T, k), dtype=np.uint64)
    for sh in range(7):
        t = None
        for a in range(max(0, sh - 3), min(3, sh) + 1):
            t = S[a, :, sh - a, :] if t is None else t + S[a, :, sh - a, :]
        acc = np_add(acc, np_mul(t, _SHIFTS[sh]))  # t < 2^55 < p
    return acc


def np_e2_matmul(x0, x1, y0, y1):
    """The extension matrix product (x0 + x1·X)(y0 + y1·X) (X² = 7) by `np_matmul`."""
    T = x0.shape[0]
    k = y0.shape[1]
    Z = np_matmul(np.concatenate([x0, x1]), np.concatenate([y0, y1], axis=1))
    z00, z01, z10, z11 = Z[:T, :k], Z[:T, k:], Z[T:, :k], Z[T:, k:]
    z11_2 = np_add(z11, z11)
    z11_4 = np_add(z11_2, z11_2)
    return np_add(z00, np_sub(np_add(z11_4, z11_4), z11)), np_add(z01, z10)


def _one(x) -> np.ndarray:
    """A scalar as a 1-element array (numpy warns on uint64 scalar wrap-around)."""
    return np.array([x], dtype=np.uint64)


def _py_e2(x0: int, x1: int, y0: int, y1: int) -> tuple[int, int]:
    return (x0 * y0 + _W * x1 * y1) % _P, (x0 * y1 + x1 * y0) % _P


def _cold_eadd(a, b, out):
    if a.shape[0] < PY_BELOW:
        out[...] = [((x0 + y0) % _P, (x1 + y1) % _P)
                    for (x0, x1), (y0, y1) in zip(a.tolist(), b.tolist())] or out
    else:
        out[...] = np_add(a, b)


def _cold_esub(a, b, out):
    if a.shape[0] < PY_BELOW:
        out[...] = [((x0 - y0) % _P, (x1 - y1) % _P)
                    for (x0, x1), (y0, y1) in zip(a.tolist(), b.tolist())] or out
    else:
        out[...] = np_sub(a, b)


def _cold_emul(a, b, out):
    if a.shape[0] < PY_BELOW:
        out[...] = [_py_e2(x0, x1, y0, y1)
                    for (x0, x1), (y0, y1) in zip(a.tolist(), b.tolist())] or out
    else:
        out[:, 0], out[:, 1] = np_e2_mul(a[:, 0], a[:, 1], b[:, 0], b[:, 1])


def _cold_emul_scalar(a, s0, s1, out):
    if a.shape[0] < PY_BELOW:
        y0, y1 = int(s0), int(s1)
        out[...] = [_py_e2(x0, x1, y0, y1) for x0, x1 in a.tolist()] or out
    else:
        out[:, 0], out[:, 1] = np_e2_mul(a[:, 0], a[:, 1], _one(s0), _one(s1))


def _cold_emul_base(a, b, out):
    if a.shape[0] < PY_BELOW:
        out[...] = [(x0 * y % _P, x1 * y % _P)
                    for (x0, x1), y in zip(a.tolist(), b.tolist())] or out
    else:
        out[:, 0] = np_mul(a[:, 0], b)
        out[:, 1] = np_mul(a[:, 1], b)


def _cold_esum(a, *_):
    if a.shape[0] < PY_BELOW:
        s0 = s1 = 0
        for x0, x1 in a.tolist():
            s0 += x0
            s1 += x1
        return np.array((s0 % _P, s1 % _P), dtype=np.uint64)
    return np_sum(a, axis=0)


def _cold_edot(a, b, *_):
    if a.shape[0] < PY_BELOW:
        s0 = s1 = 0
        for (x0, x1), (y0, y1) in zip(a.tolist(), b.tolist()):
            s0 += x0 * y0 + _W * x1 * y1
            s1 += x0 * y1 + x1 * y0
        return np.array((s0 % _P, s1 % _P), dtype=np.uint64)
    if a.shape[0] <= MATMUL_MAX_INNER:
        z0, z1 = np_e2_matmul(a[None, :, 0], a[None, :, 1], b[:, 0:1], b[:, 1:2])
        return np.array((z0[0, 0], z1[0, 0]), dtype=np.uint64)
    c0, c1 = np_e2_mul(a[:, 0], a[:, 1], b[:, 0], b[:, 1])
    return np.array((np_sum(c0), np_sum(c1)), dtype=np.uint64)


def _cold_einv(a, out):
    """Batch inverse in Python integers (Montgomery's trick over the norms); the index
    of the first zero element, or −1."""
    xs = a.tolist()
    norms = []
    for i, (x0, x1) in enumerate(xs):
        nm = (x0 * x0 - _W * x1 * x1) % _P
        if nm == 0:
            return i
        norms.append(nm)
    acc = 1
    pref = []
    for nm in norms:
        pref.append(acc)
        acc = acc * nm % _P
    inv = pow(acc, _P - 2, _P)
    res = [None] * len(xs)
    for i in range(len(xs) - 1, -1, -1):
        ni = pref[i] * inv % _P
        inv = inv * norms[i] % _P
        res[i] = (xs[i][0] * ni % _P, -xs[i][1] * ni % _P)
    if res:
        out[...] = res
    return -1


def _cold_eq_expand(r, out):
    """Doubling, one layer per variable: Python integers while short, numpy after."""
    rs = r.tolist()
    tab = [(1, 0)]
    j = 0
    while j < len(rs) and len(tab) < PY_BELOW:
        r0, r1 = rs[j]
        hs = [_py_e2(v0, v1, r0, r1) for v0, v1 in tab]
        tab = [((v0 - h0) % _P, (v1 - h1) % _P) for (v0, v1), (h0, h1) in zip(tab, hs)] + hs
        j += 1
    size = len(tab)
    out[:size] = tab
    for r0, r1 in rs[j:]:
        h0, h1 = np_e2_mul(out[:size, 0], out[:size, 1], _one(r0), _one(r1))
        out[size:2 * size, 0] = h0
        out[size:2 * size, 1] = h1
        out[:size, 0] = np_sub(out[:size, 0], h0)
        out[:size, 1] = np_sub(out[:size, 1], h1)
        size *= 2


def _cold_e_interpolate(g, inv_den, r0, r1):
    """`e_interpolate` in Python integers (prefix and suffix products of r − j)."""
    P_, W_ = _P, _W
    gs = g.tolist()
    dens = inv_den.tolist()
    r0 = int(r0)
    r1 = int(r1)
    n = len(gs)
    ds = [r0 - i for i in range(n)]  # r − i = (ds[i], r1), reduced lazily
    pre = [(1, 0)]
    x0, x1 = 1, 0
    for i in range(n - 1):
        d = ds[i]
        x0, x1 = (x0 * d + W_ * x1 * r1) % P_, (x0 * r1 + x1 * d) % P_
        pre.append((x0, x1))
    s0 = s1 = 0
    y0, y1 = 1, 0  # the suffix product Π_{j > i} (r − j)
    for i in range(n - 1, -1, -1):
        p0, p1 = pre[i]
        w0 = (p0 * y0 + W_ * p1 * y1) % P_ * dens[i] % P_
        w1 = (p0 * y1 + p1 * y0) % P_ * dens[i] % P_
        g0, g1 = gs[i]
        s0 += g0 * w0 + W_ * g1 * w1
        s1 += g0 * w1 + g1 * w0
        d = ds[i]
        y0, y1 = (y0 * d + W_ * y1 * r1) % P_, (y0 * r1 + y1 * d) % P_
    return np.array((s0 % P_, s1 % P_), dtype=np.uint64)


def _cold_first(kernel, twin, arg: int = 0, axis: int = 0):
    """A callable with ``kernel``'s signature: ``twin`` while numba is cold and the
    array argument ``arg`` has at most `COLD_LIMIT` entries along ``axis``, else the
    kernel.  ``.kernel`` and ``.cold`` give both (tests)."""

    def call(*args):
        if not numba_started() and args[arg].shape[axis] <= COLD_LIMIT:
            return twin(*args)
        return kernel(*args)

    call.__name__ = call.__qualname__ = kernel.__name__
    call.__doc__ = kernel.__doc__
    call.kernel = kernel
    call.cold = twin
    return call


eadd = _cold_first(eadd, _cold_eadd)
eadd_s = _cold_first(eadd_s, _cold_eadd)
esub = _cold_first(esub, _cold_esub)
esub_s = _cold_first(esub_s, _cold_esub)
emul = _cold_first(emul, _cold_emul)
emul_s = _cold_first(emul_s, _cold_emul)
emul_scalar = _cold_first(emul_scalar, _cold_emul_scalar)
emul_scalar_s = _cold_first(emul_scalar_s, _cold_emul_scalar)
emul_base = _cold_first(emul_base, _cold_emul_base)
emul_base_s = _cold_first(emul_base_s, _cold_emul_base)
esum = _cold_first(esum, _cold_esum)
esum_s = _cold_first(esum_s, _cold_esum)
edot = _cold_first(edot, _cold_edot)
edot_s = _cold_first(edot_s, _cold_edot)
einv = _cold_first(einv, _cold_einv)
eq_expand = _cold_first(eq_expand, _cold_eq_expand, arg=1)
eq_expand_s = _cold_first(_eq_expand_ser, _cold_eq_expand, arg=1)
_e_interpolate_kernel = e_interpolate
e_interpolate = _cold_first(e_interpolate, _cold_e_interpolate)


@overload(e_interpolate, jit_options=dict(cache=True))
def _e_interpolate_in_numba(g, inv_den, r0, r1):
    """Inside compiled code `e_interpolate` is the kernel itself."""
    return lambda g, inv_den, r0, r1: _e_interpolate_kernel(g, inv_den, r0, r1)
