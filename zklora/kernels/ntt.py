"""Goldilocks NTT, Reed–Solomon encoding and row-combination kernels (numba).

Reed–Solomon code used by the ``ligero`` commitment: a message ``(c_0, …, c_{k−1})``
(k a power of two) is the coefficient vector of ``f(X) = Σ_j c_j X^j``; its codeword at
rate ``2^-ρ`` is ``(f(ω^i))_{i < L}``, ``L = k·2^ρ``, ω a primitive L-th root of unity, in
natural order of i.  Writing ``i = u·2^ρ + s`` gives ``ω^i = ω^s·ω_k^u`` with ``ω_k = ω^(2^ρ)``,
so each coset s is a size-k NTT of the twisted message ``c_j·ω^(s·j)``:
`rs_encode` runs 2^ρ in-place DIF NTTs of size k per row, never touching the zero padding.

Layout: `rs_encode` takes a row-major matrix ``(rows, k)`` and writes the codewords as
**columns** of an ``(L, rows)`` array, i.e. entry ``[i, r]`` is codeword r at position i.
Column i is then contiguous (a Merkle leaf), and an extension-field row given as its two
base components ``(2, k)`` comes back as an ``(L, 2)`` extension array.

The module also holds the two matrix–vector products the ligero opening needs (base
matrix with an extension vector on either side).  Every kernel has a slow pure-Python
reference (``*_ref``) the tests compare against.
"""

from __future__ import annotations

from functools import lru_cache

import llvmlite.ir as ir
import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import goldilocks as _G
from .goldilocks import (
    P_INT,
    e2_mul,
    eq_expand,
    fin_acc128,
    gl_add,
    gl_mul,
    gl_mul_s,
    gl_reduce128,
    gl_sub,
    mul_acc128,
    nchunks_for,
)
from .goldilocks import edot as edot_par
from .jit_util import _wide512
from .whir_eq import _ifma_host

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: element count below which the serial twin of a parallel kernel is used
SERIAL_BELOW = 1 << 15

#: generator of the multiplicative group of Goldilocks; its 2-adic part has order 2^32
GENERATOR = 7
TWO_ADICITY = 32
_ROOT_2_32 = pow(GENERATOR, (P_INT - 1) >> TWO_ADICITY, P_INT)


def root_of_unity(log_n: int) -> int:
    """A primitive 2^log_n-th root of unity (compatible across sizes: ω_{2n}² = ω_n)."""
    if not 0 <= log_n <= TWO_ADICITY:
        raise ValueError(f"goldilocks has no root of unity of order 2^{log_n}")
    return pow(_ROOT_2_32, 1 << (TWO_ADICITY - log_n), P_INT)


@njit(**_OPTS)
def _powers(w, n, out):
    acc = np.uint64(1)
    for i in range(n):
        out[i] = acc
        acc = gl_mul(acc, w)


def powers(w: int, n: int) -> np.ndarray:
    """[1, w, w², …, w^(n−1)] as uint64."""
    if _G.cold(n):  # a cold verifier: Python integers (see `goldilocks.cold`)
        w = int(w) % P_INT
        vals, acc = [], 1
        for _ in range(n):
            vals.append(acc)
            acc = acc * w % P_INT
        return np.array(vals, dtype=np.uint64)
    out = np.empty(n, dtype=np.uint64)
    _powers(np.uint64(w), n, out)
    return out


def stage_twiddles(log_k: int) -> np.ndarray:
    """Stage-major twiddles of a size-2^log_k DIF transform: entry h + j (h = 1, 2, 4, …,
    k/2; j < h) is ω_{2h}^j, the factors of the stage whose butterflies are h apart, in
    one contiguous run (entry 0 unused); from k = 8 on followed by the cube tables of the
    radix-2² stage pairs (`_r4_pair`): entry k + q + j (q = 1, 2, 4, …, k/4; j < q) is
    ω_{4q}^{3j} (length max(8, 2k))."""
    k = 1 << log_k
    out = np.zeros(max(8, 2 * k if k >= 8 else k), dtype=np.uint64)
    h = 1
    while h < k:
        out[h:2 * h] = powers(root_of_unity(h.bit_length()), h)
        h <<= 1
    q = 1
    while k >= 8 and 4 * q <= k:
        out[k + q:k + 2 * q] = powers(pow(root_of_unity((4 * q).bit_length() - 1), 3, P_INT),
                                      q)
        q <<= 1
    return out


@lru_cache(maxsize=64)
def _tables(log_k: int, rate_log: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(`stage_twiddles` of k, twist[s, j] = ω_L^(s·j), bit-reversal permutation of k)."""
    k = 1 << log_k
    R = 1 << rate_log
    tw = stage_twiddles(log_k)
    wl = root_of_unity(log_k + rate_log)
    twist = np.empty((R, k), dtype=np.uint64)
    for s in range(R):
        twist[s] = powers(pow(wl, s, P_INT), k)
    rev = np.zeros(k, dtype=np.int64)
    for b in range(log_k):
        rev |= ((np.arange(k) >> b) & 1) << (log_k - 1 - b)
    for a in (tw, twist, rev):
        a.setflags(write=False)
    return tw, twist, rev


@lru_cache(maxsize=64)
def _twist_first(log_k: int, rate_log: int) -> tuple[np.ndarray, np.ndarray]:
    """The first DIF stage's tables of the twisted transforms (`_bfly_run_tw`): (g, c)
    with g[s, j] = twist[s, j]·ω_k^j = ω_L^((s + R)·j) (j < k/2) and
    c[s] = twist[s, k/2] = ω_{2R}^s (R = 2^rate_log, L = k·R; k ≥ 2)."""
    k = 1 << log_k
    R = 1 << rate_log
    wl = root_of_unity(log_k + rate_log)
    g = np.empty((R, k >> 1), dtype=np.uint64)
    for s in range(R):
        g[s] = powers(pow(wl, s + R, P_INT), k >> 1)
    c = np.array([pow(wl, s * (k >> 1), P_INT) for s in range(R)], dtype=np.uint64)
    for a in (g, c):
        a.setflags(write=False)
    return g, c


@lru_cache(maxsize=64)
def _fast_rev(log_k: int) -> np.ndarray:
    """`fast_perm` of the bit reversal of 2^log_k (`_rs_encode_par`'s read order)."""
    return fast_perm(_tables(log_k, 0)[2])


@njit(inline="always", **_OPTS)
def _bfly_run(lo, hi, tw, n):
    """n butterflies (lo, hi) ← (lo + hi, (lo − hi)·tw) on three unit-stride runs (views:
    LLVM vectorises this loop)."""
    for j in range(n):
        a = lo[j]
        b = hi[j]
        lo[j] = gl_add(a, b)
        hi[j] = gl_mul(gl_sub(a, b), tw[j])


#: shift amounts of the products by powers of two below (uint64 constants for numba)
_SH16 = np.uint64(16)
_SH24 = np.uint64(24)
_SH40 = np.uint64(40)
_SH48 = np.uint64(48)


@njit(inline="always", **_OPTS)
def _mul_2_24(x):
    """x·2^24 mod p (canonical) for any uint64 x: the 88-bit product is
    (x >> 40)·2^64 + (x << 24 mod 2^64), reduced by `gl_reduce128` (its high word is
    < 2^24, so LLVM folds the 2^96 part away) — shifts and adds, no multiply."""
    return gl_reduce128(x >> _SH40, x << _SH24)


@njit(inline="always", **_OPTS)
def _mul_2_48(x):
    """x·2^48 mod p (canonical) for any uint64 x: (x >> 16)·2^64 + (x << 48 mod 2^64)
    reduced by `gl_reduce128` — shifts and adds, no multiply."""
    return gl_reduce128(x >> _SH16, x << _SH48)


#: the radix-8 tails' roots are powers of two: ω8 = 2^120 = −2^24, ω4 = ω8² = 2^48,
#: ω8³ = 2^168 = −2^72 (2^96 ≡ −1), so `_radix8` multiplies by shifts (`_mul_2_24`,
#: `_mul_2_48`); tests/test_s24h1_pow2_tail.py checks these against `root_of_unity`
OMEGA8_EXP = 120
OMEGA4_EXP = 48


@njit(inline="always", **_OPTS)
def _radix8(x0, x1, x2, x3, x4, x5, x6, x7, w81, w82, w83, w4, vec):
    """The last three DIF stages of one block of 8 (butterflies 4, 2, 1 apart) for the
    forward roots ω8 = w81, ω8² = w82 = ω4 = w4, ω8³ = w83 of `stage_twiddles` (every
    caller passes those): the 8 outputs in place order.  The roots are ±powers of two
    (ω8 = −2^24, ω4 = 2^48, ω8³ = −2^72), so each product is a shift-and-reduce
    (`_mul_2_24`, `_mul_2_48`; a negative root by swapping the subtraction) instead of a
    general product — the same canonical values; the w and ``vec`` arguments are
    unused (kept for the callers' signatures)."""
    a0 = gl_add(x0, x4)
    a4 = gl_sub(x0, x4)
    a1 = gl_add(x1, x5)
    a5 = _mul_2_24(gl_sub(x5, x1))                   # (x1 − x5)·ω8
    a2 = gl_add(x2, x6)
    a6 = _mul_2_48(gl_sub(x2, x6))                   # (x2 − x6)·ω8²
    a3 = gl_add(x3, x7)
    a7 = _mul_2_48(_mul_2_24(gl_sub(x7, x3)))        # (x3 − x7)·ω8³
    b0 = gl_add(a0, a2)
    b2 = gl_sub(a0, a2)
    b1 = gl_add(a1, a3)
    b3 = _mul_2_48(gl_sub(a1, a3))                   # ·ω4
    b4 = gl_add(a4, a6)
    b6 = gl_sub(a4, a6)
    b5 = gl_add(a5, a7)
    b7 = _mul_2_48(gl_sub(a5, a7))                   # ·ω4
    return (gl_add(b0, b1), gl_sub(b0, b1), gl_add(b2, b3), gl_sub(b2, b3),
            gl_add(b4, b5), gl_sub(b4, b5), gl_add(b6, b7), gl_sub(b6, b7))


@njit(**_OPTS)
def _dif_tail8(buf, tw):
    """The last three DIF stages (butterflies 4, 2, 1 apart) fused into one
    register-resident pass over blocks of 8 (ω8^j = tw[4 + j], ω4 = tw[3]); a real call
    (one per transform), so its body is compiled once, not into every caller.  Its
    products are shifts (`_radix8`: the roots are powers of two)."""
    k = buf.shape[0]
    w81 = tw[5]
    w82 = tw[6]
    w83 = tw[7]
    w4 = tw[3]
    for st in range(0, k, 8):
        buf[st], buf[st + 1], buf[st + 2], buf[st + 3], buf[st + 4], buf[st + 5], \
            buf[st + 6], buf[st + 7] = _radix8(
                buf[st], buf[st + 1], buf[st + 2], buf[st + 3], buf[st + 4], buf[st + 5],
                buf[st + 6], buf[st + 7], w81, w82, w83, w4, False)


@njit(inline="always", **_OPTS)
def _dif_inplace(buf, tw):
    """In-place radix-2 decimation-in-frequency NTT of size len(buf): natural order in,
    bit-reversed order out.  ``tw`` = `stage_twiddles` of len(buf).  Stages whose
    butterflies are ≥ 8 apart run on unit-stride views (vectorised); the last three are
    fused into one register-resident pass over blocks of 8 (ω8^j = tw[4 + j],
    ω4 = tw[3]).  A product by the twiddle 1 is the identity on canonical values, so
    every output is the plain radix-2 transform's."""
    k = buf.shape[0]
    half = k >> 1
    while half >= 8:
        t = tw[half:2 * half]
        for start in range(0, k, 2 * half):
            _bfly_run(buf[start:start + half], buf[start + half:start + 2 * half], t, half)
        half >>= 1
    if k >= 8:
        _dif_tail8(buf, tw)
    else:
        while half >= 1:
            for start in range(0, k, 2 * half):
                for j in range(half):
                    a = buf[start + j]
                    b = buf[start + j + half]
                    buf[start + j] = gl_add(a, b)
                    buf[start + j + half] = gl_mul(gl_sub(a, b), tw[half + j])
            half >>= 1


#: `_dif_fast` transforms of at least this size finish in the lane layout below
FAST_MIN = 64


@njit(inline="always", **_OPTS)
def _transpose8(buf, o):
    """In place: the 8×8 block buf[o : o + 64] transposed (entry 8b + i ↔ 8i + b)."""
    for i in range(8):
        for b in range(i + 1, 8):
            x = buf[o + 8 * i + b]
            buf[o + 8 * i + b] = buf[o + 8 * b + i]
            buf[o + 8 * b + i] = x


@njit(inline="always", **_OPTS)
def _tail8_lanes(buf, o, w81, w82, w83, w4):
    """`_dif_tail8` on the 8 blocks of 8 of buf[o : o + 64] side by side, each block's
    entry i at o + 8i + lane (after `_transpose8`): constant offsets, so LLVM turns the
    lane loop into vector (zmm) operations."""
    for b in range(8):
        y0, y1, y2, y3, y4, y5, y6, y7 = _radix8(
            buf[o + b], buf[o + 8 + b], buf[o + 16 + b], buf[o + 24 + b], buf[o + 32 + b],
            buf[o + 40 + b], buf[o + 48 + b], buf[o + 56 + b], w81, w82, w83, w4, True)
        buf[o + b] = y0
        buf[o + 8 + b] = y1
        buf[o + 16 + b] = y2
        buf[o + 24 + b] = y3
        buf[o + 32 + b] = y4
        buf[o + 40 + b] = y5
        buf[o + 48 + b] = y6
        buf[o + 56 + b] = y7


@njit(inline="always", **_OPTS)
def _bfly_run_1(lo, hi, n):
    """n butterflies with the twiddle 1: (lo, hi) ← (lo + hi, lo − hi)."""
    for j in range(n):
        a = lo[j]
        b = hi[j]
        lo[j] = gl_add(a, b)
        hi[j] = gl_sub(a, b)


@njit(inline="always", **_OPTS)
def _bfly_run_w4(lo, hi, n):
    """n butterflies with the twiddle ω4 = 2^48: (lo, hi) ← (lo + hi, (lo − hi)·2^48),
    the product a shift-and-reduce (`_mul_2_48`)."""
    for j in range(n):
        a = lo[j]
        b = hi[j]
        lo[j] = gl_add(a, b)
        hi[j] = _mul_2_48(gl_sub(a, b))


@njit(inline="always", **_OPTS)
def _bfly_run_2tw(lo, hi, w1, w3, n):
    """n butterflies with a product on both outputs: (lo, hi) ← ((lo + hi)·w1,
    (lo − hi)·w3)."""
    for j in range(n):
        a = lo[j]
        b = hi[j]
        lo[j] = gl_mul(gl_add(a, b), w1[j])
        hi[j] = gl_mul(gl_sub(a, b), w3[j])


@njit(inline="always", **_OPTS)
def _r4_pair(buf, tw, q):
    """The two radix-2 DIF stages 2q and q apart as one radix-2² pair, in two passes of
    unit-stride two-run loops like `_bfly_run`'s.  With ω = ω_{4q} and a block's
    quarters x0 … x3 (entry j < q of each), the radix-2 stages give y2 = (x0 − x2)·ω^j,
    y3 = (x1 − x3)·ω^(j+q), then (y2 + y3, (y2 − y3)·ω^(2j)); since ω^q = ω4 = 2^48:
    pass A: (x0, x2) ← (x0 + x2, x0 − x2), (x1, x3) ← (x1 + x3, (x1 − x3)·2^48);
    pass B: quarters 0, 1 the ordinary stage q (twiddles ω_{2q}^j = tw[q + j]), quarters
    2, 3 → ((u2 + u3)·ω^j, (u2 − u3)·ω^(3j)) (ω^j = tw[2q + j], ω^(3j) = tw[k + q + j],
    the cube table of `stage_twiddles`).  3 general products and one shift per 4 points
    instead of 4 products; the same canonical values."""
    k = buf.shape[0]
    t2 = tw[q:2 * q]
    w1 = tw[2 * q:3 * q]
    w3 = tw[k + q:k + 2 * q]
    for st in range(0, k, 4 * q):
        _bfly_run_1(buf[st:st + q], buf[st + 2 * q:st + 3 * q], q)
        _bfly_run_w4(buf[st + q:st + 2 * q], buf[st + 3 * q:st + 4 * q], q)
        _bfly_run(buf[st:st + q], buf[st + q:st + 2 * q], t2, q)
        _bfly_run_2tw(buf[st + 2 * q:st + 3 * q], buf[st + 3 * q:st + 4 * q], w1, w3, q)


@njit(inline="always", **_OPTS)
def _r2_stages(buf, tw, half):
    """The radix-2 DIF stages of buf whose butterflies are ``half``, half/2, …, 8 apart
    (unit-stride views, vectorised): pairs of stages as radix-2² passes (`_r4_pair`)
    when ``tw`` holds the cube tables (`stage_twiddles` of len(buf)), the last stage on
    its own when their number is odd."""
    k = buf.shape[0]
    if tw.shape[0] == 2 * k:   # `stage_twiddles` of exactly len(buf)
        while half >= 16:
            _r4_pair(buf, tw, half >> 1)
            half >>= 2
    _r2_stages_plain(buf, tw, half)


@njit(inline="always", **_OPTS)
def _r2_stages_plain(buf, tw, half):
    """`_r2_stages` one radix-2 stage at a time (`_bfly_run`): `_rs_encode_cols_par`'s
    form — there the radix-2² pairs measured ×1.10–1.18 slower (k = 2^11, 2^12; s24h1),
    while `whir._twist_dft_tiles` gains ×0.95 from them."""
    k = buf.shape[0]
    while half >= 8:
        t = tw[half:2 * half]
        for start in range(0, k, 2 * half):
            _bfly_run(buf[start:start + half], buf[start + half:start + 2 * half], t, half)
        half >>= 1


@njit(inline="always", **_OPTS)
def _dif_stages(buf, tw, half, back):
    """`_dif_fast`'s radix-2 stages from block half-size ``half`` down to 8, then the
    vectorised radix-8 tails of every run of 64 entries (transposed back if ``back``)."""
    k = buf.shape[0]
    _r2_stages(buf, tw, half)
    w81 = tw[5]
    w82 = tw[6]
    w83 = tw[7]
    w4 = tw[3]
    for g in range(0, k, 64):
        # a view per run: its indices are then provably non-negative constants plus the
        # lane (no wraparound selects), which is what lets LLVM vectorise the lanes
        v = buf[g:g + 64]
        _transpose8(v, 0)
        _tail8_lanes(v, 0, w81, w82, w83, w4)
        if back:
            _transpose8(v, 0)


@njit(**_OPTS)
def _dif_fast(buf, tw, back):
    """`_dif_inplace` for len(buf) = k ≥ FAST_MIN, the last three stages vectorised: each
    run of 64 entries (8 blocks of 8) is transposed in place and the blocks' fused radix-8
    tails run side by side as 8-word vectors (`_tail8_lanes`), ~1.4× faster than the
    scalar `_dif_tail8`.  The output is left in that layout: bit-reversed position p sits
    at `lane_pos`(p) (read it through `fast_perm`).  A real call, compiled once."""
    _dif_stages(buf, tw, buf.shape[0] >> 1, back)


def lane_pos(p: np.ndarray) -> np.ndarray:
    """Where `_dif_fast` leaves entry p of `_dif_inplace`'s output (p = 64g + 8b + i →
    64g + 8i + b)."""
    p = np.asarray(p, dtype=np.int64)
    return (p & ~63) | ((p & 7) << 3) | ((p >> 3) & 7)


def fast_perm(rev: np.ndarray) -> np.ndarray:
    """A bit-reversal table ``rev`` (u → position of output u in `_dif_inplace`'s result)
    for `_dif_fast`'s result (`lane_pos` of it; unchanged below FAST_MIN entries, where
    the kernels run `_dif_inplace`)."""
    if rev.shape[0] < FAST_MIN:
        return rev
    out = lane_pos(rev)
    out.setflags(write=False)
    return out


@njit(inline="always", **_OPTS)
def _dif_any(buf, tw):
    """`_dif_fast` from FAST_MIN entries on, `_dif_inplace` below (read through
    `fast_perm`)."""
    if buf.shape[0] >= FAST_MIN:
        _dif_fast(buf, tw, False)
    else:
        _dif_inplace(buf, tw)


@njit(inline="always", **_OPTS)
def _bfly_run_in(s0, s1, f0, f1, lo, hi, tw, n):
    """The first DIF stage read from a source with the twist product fused in:
    x = s·f, then (lo, hi) ← (x0 + x1, (x0 − x1)·tw) (the same values as the product
    pass followed by `_bfly_run`)."""
    for j in range(n):
        a = gl_mul(s0[j], f0[j])
        b = gl_mul(s1[j], f1[j])
        lo[j] = gl_add(a, b)
        hi[j] = gl_mul(gl_sub(a, b), tw[j])


@njit(**_OPTS)
def _dif_fast_src(buf, src, fac, tw):
    """`_dif_fast` (lane layout, not transposed back) of x[j] = src[j]·fac[j] into buf
    (len(src) = len(fac) = len(buf) = k ≥ FAST_MIN): the first stage reads src and fac,
    so the twisted copy is never written on its own.  A real call."""
    k = buf.shape[0]
    half = k >> 1
    _bfly_run_in(src[0:half], src[half:k], fac[0:half], fac[half:k], buf[0:half],
                 buf[half:k], tw[half:k], half)
    _dif_stages(buf, tw, half >> 1, False)


@njit(inline="always", **_OPTS)
def _dif_src(buf, src, fac, tw):
    """`_dif_any` of x[j] = src[j]·fac[j] written into buf (read the result through
    `fast_perm`): `whir.twist_dft_block`'s twisted rows."""
    k = buf.shape[0]
    if k >= FAST_MIN:
        _dif_fast_src(buf, src, fac, tw)
    else:
        for j in range(k):
            buf[j] = gl_mul(src[j], fac[j])
        _dif_inplace(buf, tw)


@njit(inline="always", **_OPTS)
def _dif_nat(buf, tw):
    """`_dif_inplace` (the same values in the same, bit-reversed, order) through
    `_dif_fast` from FAST_MIN entries on (its runs transposed back)."""
    if buf.shape[0] >= FAST_MIN:
        _dif_fast(buf, tw, True)
    else:
        _dif_inplace(buf, tw)


@njit(inline="always", **_OPTS)
def _rs_encode_row(M, r, tw, twist, rev, out, buf):
    k = M.shape[1]
    R = twist.shape[0]
    for s in range(R):
        if s == 0:
            for j in range(k):
                buf[j] = M[r, j]
        else:
            for j in range(k):
                buf[j] = gl_mul(M[r, j], twist[s, j])
        _dif_nat(buf, tw)
        for u in range(k):
            out[u * R + s, r] = buf[rev[u]]


#: rows encoded together by one thread of `_rs_encode_par`: the output is written a
#: block of rows at a time (8 words, one cache line per codeword position), not one word
#: per position and row (measured 1.4–1.5× faster at 2^11–2^12 rows of 2^11–2^12)
ROW_BLOCK = 8


@njit(parallel=True, **_OPTS)
def _rs_encode_par(M, tw, twist, rev, out):
    """Blocks of ROW_BLOCK rows a thread, each row's transforms by `_dif_any`: ``rev`` is
    `fast_perm` of the bit reversal (`_fast_rev`), so codeword position u·R + s of row
    r is the transform's entry rev[u] (the same codewords as `_rs_encode_ser`)."""
    rows, k = M.shape
    R = twist.shape[0]
    for bi in prange((rows + ROW_BLOCK - 1) // ROW_BLOCK):
        r0 = bi * ROW_BLOCK
        nr = min(ROW_BLOCK, rows - r0)
        buf = np.empty((ROW_BLOCK, k), dtype=np.uint64)
        for s in range(R):
            for b in range(nr):
                if s == 0:
                    for j in range(k):
                        buf[b, j] = M[r0 + b, j]
                    _dif_any(buf[b], tw)
                else:   # the twist product fused into the first stage
                    _dif_src(buf[b], M[r0 + b], twist[s], tw)
            for u in range(k):
                ru = rev[u]
                for b in range(nr):
                    out[u * R + s, r0 + b] = buf[b, ru]


@njit(inline="always", **_OPTS)
def _bfly_run_cp(s0, s1, lo, hi, tw, n):
    """The first DIF stage read from a source: (lo, hi) ← (s0 + s1, (s0 − s1)·tw) (the
    same values as the copy into lo/hi followed by `_bfly_run`)."""
    for j in range(n):
        a = s0[j]
        b = s1[j]
        lo[j] = gl_add(a, b)
        hi[j] = gl_mul(gl_sub(a, b), tw[j])


#: 2^48 = ω4 and −2^24 = ω8 mod p (`_bfly_run_tw`'s shift cases)
_C48 = np.uint64(1 << 48)
_CM24 = np.uint64(P_INT - (1 << 24))


@njit(inline="always", **_OPTS)
def _bfly_run_tw(s0, s1, f0, g, lo, hi, c, n):
    """The first DIF stage of a twisted transform read from a source: with x = s·f
    (f the twist, f[j + n] = f[j]·c), (lo, hi) ← (x0 + x1, (x0 − x1)·tw) as
    lo = f0·(s0 + c·s1), hi = g·(s0 − c·s1) (g = f0·tw, `_twist_first`): two general
    products a butterfly instead of three, c·s1 a shift-and-reduce when c = 2^48 (rate
    1/2: c = ω4) or −2^24 (ω8), else a product.  The same values as `_bfly_run_in`."""
    if c == _C48:
        for j in range(n):
            a = s0[j]
            u = _mul_2_48(s1[j])
            lo[j] = gl_mul(gl_add(a, u), f0[j])
            hi[j] = gl_mul(gl_sub(a, u), g[j])
    elif c == _CM24:
        for j in range(n):
            a = s0[j]
            u = _mul_2_24(s1[j])
            lo[j] = gl_mul(gl_sub(a, u), f0[j])
            hi[j] = gl_mul(gl_add(a, u), g[j])
    else:
        for j in range(n):
            a = s0[j]
            u = gl_mul(s1[j], c)
            lo[j] = gl_mul(gl_add(a, u), f0[j])
            hi[j] = gl_mul(gl_sub(a, u), g[j])


@njit(inline="always", **_OPTS)
def _tails_out(buf, t, tw, rev, out, R, s, r0):
    """The radix-8 DIF tails (butterflies 4, 2, 1 apart) of the ROW_BLOCK = 8 rows of buf
    (8, k) side by side, written straight into the codewords: block g = 8·q of the 8
    rows is gathered as an 8×8 tile t (entry 8i + b = row b, position g + i), its tails
    run on 8-word lanes (`_tail8_lanes`), and position g + i of every row — the
    transform's output u = bitrev3(i)·k/8 + u0 with g = bitrev(u0) — is one cache line
    of out (row u·R + s, columns r0 … r0 + 7).  The blocks run in u0 order, so the 8
    written rows advance by R.  ``rev`` is `fast_perm` of the bit reversal: g is
    `lane_pos` (an involution) of rev[u0] from FAST_MIN entries on, rev[u0] below."""
    k = buf.shape[1]
    k8 = k >> 3
    w81 = tw[5]
    w82 = tw[6]
    w83 = tw[7]
    w4 = tw[3]
    for u0 in range(k8):
        g = rev[u0]
        if k >= FAST_MIN:
            g = (g & ~63) | ((g & 7) << 3) | ((g >> 3) & 7)
        for i in range(8):
            t[8 * i] = buf[0, g + i]
            t[8 * i + 1] = buf[1, g + i]
            t[8 * i + 2] = buf[2, g + i]
            t[8 * i + 3] = buf[3, g + i]
            t[8 * i + 4] = buf[4, g + i]
            t[8 * i + 5] = buf[5, g + i]
            t[8 * i + 6] = buf[6, g + i]
            t[8 * i + 7] = buf[7, g + i]
        _tail8_lanes(t, 0, w81, w82, w83, w4)
        for i in range(8):
            ri = ((i & 1) << 2) | (i & 2) | (i >> 2)
            o = out[(ri * k8 + u0) * R + s, r0:r0 + 8]
            v = t[8 * i:8 * i + 8]
            for b in range(8):
                o[b] = v[b]


@njit(parallel=True, **_OPTS)
def _rs_encode_cols_par(Y, col, tw, twist, tg, tc, rev, out):
    """`_rs_encode_par` of the messages M[r, j] = Y[j, col[r]] (columns of Y (k, W), r <
    len(col)): each thread gathers its block of ROW_BLOCK messages from Y (one cache line
    of a row of Y holds 8 neighbouring columns) into a block-local buffer, so the caller
    makes no transposed copy of Y (the same codewords as `rs_encode` of M).  A full block
    with k ≥ 8: each row's radix-2 stages down to 8 apart (the first read from the gathered
    messages, the twist product fused in for s ≠ 0, `_bfly_run_cp` / `_bfly_run_tw` with
    ``tg``, ``tc`` = `_twist_first`), then the 8 rows' radix-8 tails side by side, written
    straight into out (`_tails_out`); else — and for 128 ≤ k ≤ 256 when the 8 output
    streams would lie ≥ 2 MiB apart, (k/8)·R·rows ≥ 2^18 words, where the L1-resident
    block's scatter measured ×0.85–0.88 of `_tails_out` (s23h2) — each row by `_dif_any`
    read through ``rev`` (`fast_perm` of the bit reversal)."""
    k = Y.shape[0]
    rows = col.shape[0]
    R = twist.shape[0]
    half = k >> 1
    for bi in prange((rows + ROW_BLOCK - 1) // ROW_BLOCK):
        r0 = bi * ROW_BLOCK
        nr = min(ROW_BLOCK, rows - r0)
        src = np.empty((ROW_BLOCK, k), dtype=np.uint64)
        buf = np.empty((ROW_BLOCK, k), dtype=np.uint64)
        if nr == ROW_BLOCK:
            c0 = col[r0]
            c1 = col[r0 + 1]
            c2 = col[r0 + 2]
            c3 = col[r0 + 3]
            c4 = col[r0 + 4]
            c5 = col[r0 + 5]
            c6 = col[r0 + 6]
            c7 = col[r0 + 7]
            for j in range(k):
                src[0, j] = Y[j, c0]
                src[1, j] = Y[j, c1]
                src[2, j] = Y[j, c2]
                src[3, j] = Y[j, c3]
                src[4, j] = Y[j, c4]
                src[5, j] = Y[j, c5]
                src[6, j] = Y[j, c6]
                src[7, j] = Y[j, c7]
        else:
            for j in range(k):
                for b in range(nr):
                    src[b, j] = Y[j, col[r0 + b]]
        tails = k >= 8 and not (128 <= k <= 256 and (k >> 3) * R * rows >= 1 << 18)
        if nr == ROW_BLOCK and tails:
            t = np.empty(64, dtype=np.uint64)
            for s in range(R):
                for b in range(ROW_BLOCK):
                    bb = buf[b]
                    sb = src[b]
                    if k >= 16:
                        if s == 0:
                            _bfly_run_cp(sb[0:half], sb[half:k], bb[0:half], bb[half:k],
                                         tw[half:k], half)
                        else:
                            _bfly_run_tw(sb[0:half], sb[half:k], twist[s, 0:half],
                                         tg[s], bb[0:half], bb[half:k], tc[s], half)
                        _r2_stages_plain(bb, tw, half >> 1)
                    elif s == 0:
                        for j in range(k):
                            bb[j] = sb[j]
                    else:
                        for j in range(k):
                            bb[j] = gl_mul(sb[j], twist[s, j])
                _tails_out(buf, t, tw, rev, out, R, s, r0)
        else:
            for s in range(R):
                for b in range(nr):
                    if s == 0:
                        for j in range(k):
                            buf[b, j] = src[b, j]
                        _dif_any(buf[b], tw)
                    else:   # the twist product fused into the first stage
                        _dif_src(buf[b], src[b], twist[s], tw)
                for u in range(k):
                    ru = rev[u]
                    for b in range(nr):
                        out[u * R + s, r0 + b] = buf[b, ru]


# -- lane layout: 8 messages side by side as <8 x i64> vectors (s29h3) --------------------
#
# `_rs_encode_lane_par` holds a block of 8 messages as one (k, 8) array: row j is
# coefficient j of the 8 messages, one 64-byte vector.  Every DIF stage is then a run of
# vector butterflies whose twiddle is one broadcast scalar; the first stage loads the
# messages straight from Y's rows (8 neighbouring columns, or 8 columns a constant
# stride apart, a gather); the last three stages run on 8 rows in registers and each
# output row is one vector store into the codewords (no 8×8 transposes, no column
# copy).  numba's loop vectoriser does not vectorise this form (s28h3: 8-lane loops stay
# scalar), so the kernels below are llvmlite IR on <8 x i64> (`_lane_*`), the same
# field arithmetic as `gl_add`, `gl_sub`, `gl_mul` (32-bit limb products) lane-wise.

_I64 = ir.IntType(64)
_VT = ir.VectorType(_I64, 8)
_EPS_INT = (1 << 32) - 1


def _vc(x: int) -> ir.Constant:
    """An <8 x i64> splat of the uint64 x."""
    x &= (1 << 64) - 1
    return ir.Constant(_VT, [x - (1 << 64) if x >= 1 << 63 else x] * 8)


def _v_add(b, x, y, canon=True):
    """`gl_add` lane-wise (x + y < 2^64 + p: one of x, y canonical).  ``canon=False``:
    the sum ≡ x + y left in [0, 2^64), not canonicalised (s39h1's lazy outputs)."""
    s = b.add(x, y)
    s = b.select(b.icmp_unsigned("<", s, x), b.add(s, _vc(_EPS_INT)), s)
    if not canon:
        return s
    t = b.add(s, _vc(_EPS_INT))            # s − p mod 2^64, below s iff s ≥ p
    return b.select(b.icmp_unsigned("<", t, s), t, s)


def _v_sub(b, x, y):
    """`gl_sub` lane-wise."""
    d = b.sub(x, y)
    return b.select(b.icmp_unsigned("<", x, y), b.sub(d, _vc(_EPS_INT)), d)


def _v_reduce128(b, hi, lo, canon=True):
    """`gl_reduce128` lane-wise.  ``canon=False``: the result ≡ hi·2^64 + lo left in
    [0, 2^64), not canonicalised (s39h1's lazy outputs)."""
    hh = b.lshr(hi, _vc(32))
    hl = b.and_(hi, _vc(0xFFFFFFFF))
    t0 = b.sub(lo, hh)
    t0 = b.select(b.icmp_unsigned("<", lo, hh), b.sub(t0, _vc(_EPS_INT)), t0)
    t1 = b.sub(b.shl(hl, _vc(32)), hl)
    r = b.add(t0, t1)
    r = b.select(b.icmp_unsigned("<", r, t1), b.add(r, _vc(_EPS_INT)), r)
    if not canon:
        return r
    t = b.add(r, _vc(_EPS_INT))
    return b.select(b.icmp_unsigned("<", t, r), t, r)


def _v_mul_limbs(b, x, w):
    """The 128-bit product x·w lane-wise as (hi, lo) words: `mul128`'s 32-bit limb
    products (shared with `whir`'s tile DFT, which reduces it its own way)."""
    m32 = _vc(0xFFFFFFFF)
    s32 = _vc(32)
    a_lo = b.and_(x, m32)
    a_hi = b.lshr(x, s32)
    b_lo = b.and_(w, m32)
    b_hi = b.lshr(w, s32)
    ll = b.mul(a_lo, b_lo)
    t = b.add(b.mul(a_hi, b_lo), b.lshr(ll, s32))
    u = b.add(b.mul(a_lo, b_hi), b.and_(t, m32))
    hi = b.add(b.add(b.mul(a_hi, b_hi), b.lshr(t, s32)), b.lshr(u, s32))
    return hi, b.or_(b.shl(u, s32), b.and_(ll, m32))


def _v_mul(b, x, w):
    """`gl_mul` lane-wise (`mul128`'s 32-bit limb products, then `gl_reduce128`)."""
    return _v_reduce128(b, *_v_mul_limbs(b, x, w))


def _v_mul_2_24(b, x):
    """`_mul_2_24` lane-wise."""
    return _v_reduce128(b, b.lshr(x, _vc(40)), b.shl(x, _vc(24)))


def _v_mul_2_48(b, x):
    """`_mul_2_48` lane-wise."""
    return _v_reduce128(b, b.lshr(x, _vc(16)), b.shl(x, _vc(48)))


def _v_splat(b, x):
    i32 = ir.IntType(32)
    und = ir.Constant(_VT, ir.Undefined)
    v = b.insert_element(und, x, ir.Constant(i32, 0))
    return b.shuffle_vector(v, und, ir.Constant(ir.VectorType(i32, 8), [0] * 8))


def _v_ptr(b, base, off):
    return b.bitcast(b.gep(base, [off]), _VT.as_pointer())


def _v_load_cols(b, base, off, cs):
    """The 8 words base[off + b·cs] (b < 8) as a vector: one load when cs = 1, else a
    gather of the 8 lanes."""
    one = b.icmp_signed("==", cs, ir.Constant(_I64, 1))
    with b.if_else(one) as (then, other):
        with then:
            bb1 = b.block
            v1 = b.load(_v_ptr(b, base, off), align=8)
        with other:
            bb2 = b.block
            v2 = ir.Constant(_VT, ir.Undefined)
            for lane in range(8):
                x = b.load(b.gep(base, [b.add(off, b.mul(cs, ir.Constant(_I64, lane)))]))
                v2 = b.insert_element(v2, x, ir.Constant(ir.IntType(32), lane))
    phi = b.phi(_VT)
    phi.add_incoming(v1, bb1)
    phi.add_incoming(v2, bb2)
    return phi


def _arr(context, builder, sig, args, i):
    return context.make_array(sig.args[i])(context, builder, args[i]).data


def _lane_first_codegen(context, builder, sig, args):
    Y = _arr(context, builder, sig, args, 0)
    yoff, W, cs = args[1], args[2], args[3]
    buf = _arr(context, builder, sig, args, 4)
    T1 = _arr(context, builder, sig, args, 5)
    t1o = args[6]
    T2 = _arr(context, builder, sig, args, 7)
    t2o = args[8]
    c, half, mode = args[9], args[10], args[11]
    b = builder
    with cgutils.for_range(b, half) as loop:
        j = loop.index
        x0 = _v_load_cols(b, Y, b.add(yoff, b.mul(j, W)), cs)
        x1 = _v_load_cols(b, Y, b.add(yoff, b.mul(b.add(j, half), W)), cs)
        f0 = _v_splat(b, b.load(b.gep(T1, [b.add(t1o, j)])))
        pl = _v_ptr(b, buf, b.shl(j, ir.Constant(_I64, 3)))
        ph = _v_ptr(b, buf, b.shl(b.add(j, half), ir.Constant(_I64, 3)))
        is0 = b.icmp_signed("==", mode, ir.Constant(_I64, 0))
        with b.if_else(is0) as (m0, mt):
            with m0:     # (x0 + x1, (x0 − x1)·tw)
                b.store(_v_add(b, x0, x1), pl, align=8)
                b.store(_v_mul(b, _v_sub(b, x0, x1), f0), ph, align=8)
            with mt:     # `_bfly_run_tw`: lo = f0·(x0 + c·x1), hi = g·(x0 − c·x1)
                g = _v_splat(b, b.load(b.gep(T2, [b.add(t2o, j)])))
                is1 = b.icmp_signed("==", mode, ir.Constant(_I64, 1))
                is2 = b.icmp_signed("==", mode, ir.Constant(_I64, 2))
                with b.if_else(is1) as (m1, mr):
                    with m1:
                        u = _v_mul_2_48(b, x1)
                        b.store(_v_mul(b, _v_add(b, x0, u), f0), pl, align=8)
                        b.store(_v_mul(b, _v_sub(b, x0, u), g), ph, align=8)
                    with mr:
                        with b.if_else(is2) as (m2, m3):
                            with m2:
                                u = _v_mul_2_24(b, x1)
                                b.store(_v_mul(b, _v_sub(b, x0, u), f0), pl, align=8)
                                b.store(_v_mul(b, _v_add(b, x0, u), g), ph, align=8)
                            with m3:
                                u = _v_mul(b, x1, _v_splat(b, c))
                                b.store(_v_mul(b, _v_add(b, x0, u), f0), pl, align=8)
                                b.store(_v_mul(b, _v_sub(b, x0, u), g), ph, align=8)
    return context.get_dummy_value()


@intrinsic
def _lane_first(typingctx, Y, yoff, W, cs, buf, T1, t1o, T2, t2o, c, half, mode):
    """The first DIF stage of 8 messages into the lane block buf (k, 8) (flat): message b's
    coefficient j is Y's word yoff + j·W + b·cs; for j < half = k/2, x0 = row j, x1 = row
    j + half: mode 0 → (x0 + x1, (x0 − x1)·T1[t1o + j]); modes 1, 2, 3 the twisted stage
    of `_bfly_run_tw` with f0 = T1[t1o + j], g = T2[t2o + j] and c = 2^48 (1), −2^24 (2),
    any (3)."""
    i64 = types.int64
    sig = types.void(Y, i64, i64, i64, buf, T1, i64, T2, i64, types.uint64, i64, i64)
    return sig, _lane_first_codegen


def _lane_load_codegen(context, builder, sig, args):
    Y = _arr(context, builder, sig, args, 0)
    yoff, W, cs = args[1], args[2], args[3]
    buf = _arr(context, builder, sig, args, 4)
    b = builder
    with cgutils.for_range(b, args[5]) as loop:
        j = loop.index
        x = _v_load_cols(b, Y, b.add(yoff, b.mul(j, W)), cs)
        b.store(x, _v_ptr(b, buf, b.shl(j, ir.Constant(_I64, 3))), align=8)
    return context.get_dummy_value()


@intrinsic
def _lane_load(typingctx, Y, yoff, W, cs, buf, k):
    """Row j < k of the lane block buf (flat, 8 words a row) ← Y's words yoff + j·W +
    b·cs (b < 8): the 8 messages' coefficients, read once a block."""
    i64 = types.int64
    return types.void(Y, i64, i64, i64, buf, i64), _lane_load_codegen


def _lane_stage_codegen(context, builder, sig, args):
    buf = _arr(context, builder, sig, args, 0)
    k, h = args[1], args[2]
    tw = _arr(context, builder, sig, args, 3)
    b = builder
    three = ir.Constant(_I64, 3)
    nblk = b.udiv(k, b.shl(h, ir.Constant(_I64, 1)))
    with cgutils.for_range(b, nblk) as outer:
        st = b.mul(outer.index, b.shl(h, ir.Constant(_I64, 1)))
        with cgutils.for_range(b, h) as loop:
            j = loop.index
            pl = _v_ptr(b, buf, b.shl(b.add(st, j), three))
            ph = _v_ptr(b, buf, b.shl(b.add(b.add(st, j), h), three))
            x = b.load(pl, align=8)
            y = b.load(ph, align=8)
            w = _v_splat(b, b.load(b.gep(tw, [b.add(h, j)])))
            b.store(_v_add(b, x, y), pl, align=8)
            b.store(_v_mul(b, _v_sub(b, x, y), w), ph, align=8)
    return context.get_dummy_value()


@intrinsic
def _lane_stage(typingctx, buf, k, h, tw):
    """One radix-2 DIF stage (butterflies h apart, twiddle tw[h + j] = ω_{2h}^j) of the
    lane block buf (k rows of 8 lanes, flat)."""
    return types.void(buf, types.int64, types.int64, tw), _lane_stage_codegen


def _lane_r4_codegen(context, builder, sig, args):
    buf = _arr(context, builder, sig, args, 0)
    k, q = args[1], args[2]
    tw = _arr(context, builder, sig, args, 3)
    b = builder
    three = ir.Constant(_I64, 3)
    q4 = b.shl(q, ir.Constant(_I64, 2))
    with cgutils.for_range(b, b.udiv(k, q4)) as outer:
        st = b.mul(outer.index, q4)
        with cgutils.for_range(b, q) as loop:
            j = b.add(st, loop.index)
            ps = [_v_ptr(b, buf, b.shl(b.add(j, b.mul(q, ir.Constant(_I64, i))), three))
                  for i in range(4)]
            x0, x1, x2, x3 = (b.load(p_, align=8) for p_ in ps)
            jj = loop.index

            def w(off):
                return _v_splat(b, b.load(b.gep(tw, [b.add(off, jj)])))
            u0 = _v_add(b, x0, x2)
            u2 = _v_sub(b, x0, x2)
            u1 = _v_add(b, x1, x3)
            u3 = _v_mul_2_48(b, _v_sub(b, x1, x3))
            b.store(_v_add(b, u0, u1), ps[0], align=8)
            b.store(_v_mul(b, _v_sub(b, u0, u1), w(q)), ps[1], align=8)
            b.store(_v_mul(b, _v_add(b, u2, u3), w(b.shl(q, ir.Constant(_I64, 1)))),
                    ps[2], align=8)
            b.store(_v_mul(b, _v_sub(b, u2, u3), w(b.add(k, q))), ps[3], align=8)
    return context.get_dummy_value()


@intrinsic
def _lane_r4(typingctx, buf, k, q, tw):
    """The radix-2 DIF stages 2q and q apart of the lane block buf (k rows of 8 lanes,
    flat) as one radix-2² register pass (`_r4_pair`'s arithmetic: 3 general products and
    a shift per 4 rows, one read and write of the block for two stages); ``tw`` =
    `stage_twiddles` of k with its cube tables."""
    return types.void(buf, types.int64, types.int64, tw), _lane_r4_codegen


def _store_rows(b, y, g, rev, out, R, s, ostride, r0, nt):
    """Store the 8 finished rows y[i] of block row g + i at their output rows rev[g + i]·R
    + s (lane word r0 of a row ``ostride`` words long), whole 64-byte lines with a
    non-temporal hint when ``nt`` (the tails of `_lane_tails` and `_lane_tail64`)."""
    for i in range(8):
        u = b.load(b.gep(rev, [b.add(g, ir.Constant(_I64, i))]))
        row = b.add(b.mul(u, R), s)
        p_ = _v_ptr(b, out, b.add(b.mul(row, ostride), r0))
        if nt:
            st = b.store(y[i], p_, align=64)
            st.set_metadata("nontemporal", b.module.add_metadata(
                [ir.Constant(ir.IntType(32), 1)]))
        else:
            b.store(y[i], p_, align=8)


def _lane_tails_codegen(context, builder, sig, args, nt=False):
    buf = _arr(context, builder, sig, args, 0)
    k = args[1]
    rev = _arr(context, builder, sig, args, 2)
    out = _arr(context, builder, sig, args, 3)
    ostride, R, s, r0 = args[4], args[5], args[6], args[7]
    b = builder
    with cgutils.for_range(b, b.lshr(k, ir.Constant(_I64, 3))) as loop:
        g = b.shl(loop.index, ir.Constant(_I64, 3))
        x = [b.load(_v_ptr(b, buf, b.shl(b.add(g, ir.Constant(_I64, i)),
                                         ir.Constant(_I64, 3))), align=8)
             for i in range(8)]
        # `_radix8`
        a0 = _v_add(b, x[0], x[4])
        a4 = _v_sub(b, x[0], x[4])
        a1 = _v_add(b, x[1], x[5])
        a5 = _v_mul_2_24(b, _v_sub(b, x[5], x[1]))
        a2 = _v_add(b, x[2], x[6])
        a6 = _v_mul_2_48(b, _v_sub(b, x[2], x[6]))
        a3 = _v_add(b, x[3], x[7])
        a7 = _v_mul_2_48(b, _v_mul_2_24(b, _v_sub(b, x[7], x[3])))
        b0 = _v_add(b, a0, a2)
        b2 = _v_sub(b, a0, a2)
        b1 = _v_add(b, a1, a3)
        b3 = _v_mul_2_48(b, _v_sub(b, a1, a3))
        b4 = _v_add(b, a4, a6)
        b6 = _v_sub(b, a4, a6)
        b5 = _v_add(b, a5, a7)
        b7 = _v_mul_2_48(b, _v_sub(b, a5, a7))
        y = [_v_add(b, b0, b1), _v_sub(b, b0, b1), _v_add(b, b2, b3), _v_sub(b, b2, b3),
             _v_add(b, b4, b5), _v_sub(b, b4, b5), _v_add(b, b6, b7), _v_sub(b, b6, b7)]
        _store_rows(b, y, g, rev, out, R, s, ostride, r0, nt)
    return context.get_dummy_value()


@intrinsic
def _lane_tails(typingctx, buf, k, rev, out, ostride, R, s, r0):
    """The radix-8 DIF tails (`_radix8`) of the lane block buf (k rows of 8 lanes, flat),
    8 rows at a time in registers; row p of the finished transform (output rev[p], the
    natural bit reversal) is stored as one vector at out's word
    (rev[p]·R + s)·ostride + r0 (codeword position rev[p]·R + s of messages r0 … r0 + 7)."""
    i64 = types.int64
    return types.void(buf, i64, rev, out, i64, i64, i64, i64), _lane_tails_codegen


def _lane_tails_nt_codegen(context, builder, sig, args):
    return _lane_tails_codegen(context, builder, sig, args, nt=True)


@intrinsic
def _lane_tails_nt(typingctx, buf, k, rev, out, ostride, R, s, r0):
    """`_lane_tails` with non-temporal stores (``!nontemporal``, vmovntdq: each output
    row is one whole 64-byte line written past the caches, no read for ownership);
    out's vectors must be 64-byte aligned (out's address and ostride·8, r0·8 multiples
    of 64: `_rs_encode_lane_par`'s caller checks).  The same values in out."""
    i64 = types.int64
    return types.void(buf, i64, rev, out, i64, i64, i64, i64), _lane_tails_nt_codegen


def _sfence_codegen(context, builder, sig, args):
    fn = builder.module.declare_intrinsic("llvm.x86.sse.sfence", (),
                                          ir.FunctionType(ir.VoidType(), []))
    builder.call(fn, [])
    return context.get_dummy_value()


@intrinsic
def _sfence(typingctx):
    """An sfence: the non-temporal stores before it are globally visible before any
    store after it (`_lane_tails_nt`'s writes ordered before the kernel returns)."""
    return types.void(), _sfence_codegen


# -- the stages 32, 16 and 8 apart by shifts (s39h1) ---------------------------------------
#
# ω64 = `root_of_unity(6)` = 2^39, and 2 has order 192 in Goldilocks (2^96 ≡ −1), so every
# twiddle of the stages 32, 16, 8, 4, 2 and 1 apart (ω64^t, ω32^t = ω64^2t, …) is ±2^e with
# 0 ≤ e < 96: those six stages of a block of 64 rows are products by shifts, with the
# exponents compile-time constants of the IR (`_lane_tail64`).

#: ω64 = 2^OMEGA64_EXP (tests/test_s39h1_pow2_stages.py checks it against `root_of_unity`)
OMEGA64_EXP = 39
#: `_lane_tail64` leaves the values non-canonical where their next butterfly takes that
#: (`_lazy_ok`; fixed at compile time)
LAZY64 = True


def _v_mul_pow2(b, x, e, canon=True, neg=False):
    """x·2^e mod p lane-wise (``neg``: −x·2^e), canonical, for a compile-time 0 ≤ e < 96
    and any 64-bit x (e = 0: x itself; ``neg`` needs 64 ≤ e).  e < 64: the 128-bit
    product (x >> (64 − e))·2^64 + (x << e mod 2^64) reduced by `_v_reduce128` (e ≤ 32:
    its high word < 2^32, LLVM folds the 2^96 part away; ``canon=False``: left in
    [0, 2^64)).  64 ≤ e < 96, m = 96 − e ≤ 32: x = q·2^m + r gives x·2^e = −q + r·2^e
    (2^96 ≡ −1) and r·2^e = s·2^64 with s = r << (32 − m) < 2^32, s·2^64 ≡ s·2^32 − s
    (< p): x·2^e = (s·2^32 − s) − q, one subtraction of two canonical words (−x·2^e
    the other way round)."""
    if e == 0:
        return x
    if e < 64:
        return _v_reduce128(b, b.lshr(x, _vc(64 - e)), b.shl(x, _vc(e)), canon)
    m = 96 - e
    q = b.lshr(x, _vc(m))
    s = b.shl(b.and_(x, _vc((1 << m) - 1)), _vc(32 - m))
    t = b.sub(b.shl(s, _vc(32)), s)
    return _v_sub(b, q, t) if neg else _v_sub(b, t, q)


def _lazy_ok(t):
    """A butterfly with twiddle 2^t (t compile-time) takes a non-canonical x (any 64-bit
    word ≡ x): its sum x + y needs only y canonical, and its difference x − y
    (y canonical) goes to a product that takes any word — 2^t ≠ ±1, and for
    t mod 192 ≥ 96 (−2^e) only where −(x − y)·2^e is `_v_mul_pow2`'s ``neg`` form
    (e ≥ 64)."""
    t %= 192
    return 0 < t < 96 or t >= 160


def _v_bfly_pow2(b, x, y, t, lazy_lo=False, lazy_hi=False):
    """The DIF butterfly (x + y, (x − y)·2^t) lane-wise for a compile-time t (mod 192;
    2^t = −2^(t − 96) for t mod 192 ≥ 96: the subtraction swapped, or for t − 96 ≥ 64
    `_v_mul_pow2`'s ``neg`` form).  y canonical; x canonical unless `_lazy_ok(t)`.
    ``lazy_lo`` / ``lazy_hi``: that output may be left non-canonical (in [0, 2^64))."""
    t %= 192
    lo = _v_add(b, x, y, not lazy_lo)
    if t < 96:
        return lo, _v_mul_pow2(b, _v_sub(b, x, y), t, not lazy_hi)
    if t >= 160:
        return lo, _v_mul_pow2(b, _v_sub(b, x, y), t - 96, neg=True)
    return lo, _v_mul_pow2(b, _v_sub(b, y, x), t - 96, not lazy_hi)


def _v_dif8_pow2(b, x, tw4, tw2, tw1, lazy=None):
    """Three DIF stages of the 8 vectors x (butterflies 4, 2, 1 apart in x's order) in
    registers, in place; the twiddle exponents (of 2, mod 192) of the butterfly at x[i]:
    tw4[i] (i < 4), tw2[i % 4] (i % 4 < 2), tw1 (every even i).  x canonical.  Where the
    next stage takes a value as the x of a `_lazy_ok` butterfly it is left
    non-canonical; ``lazy[i]``: output i may be too (the caller's next stage)."""
    lz2 = [i % 4 < 2 and _lazy_ok(tw2[i % 4]) for i in range(8)]
    lz1 = [i % 2 == 0 and _lazy_ok(tw1) for i in range(8)]
    lz0 = lazy or [False] * 8
    for i in range(4):
        x[i], x[i + 4] = _v_bfly_pow2(b, x[i], x[i + 4], tw4[i], lz2[i], lz2[i + 4])
    for i in (0, 1, 4, 5):
        x[i], x[i + 2] = _v_bfly_pow2(b, x[i], x[i + 2], tw2[i % 4], lz1[i], lz1[i + 2])
    for i in (0, 2, 4, 6):
        x[i], x[i + 1] = _v_bfly_pow2(b, x[i], x[i + 1], tw1, lz0[i], lz0[i + 1])
    return x


def _tail64_tws(j):
    """`_v_dif8_pow2`'s (tw4, tw2, tw1, lazy) for `_lane_tail64`'s pass over the rows
    j + 8i (i < 8) of a block of 64: the stages 32, 16, 8 apart, twiddles ω64^(j + 8i)
    (i < 4), ω32^(j + 8i) (i < 2), ω16^j; row j of every group of 8 is the x of the
    tails' first butterfly (j < 4), left non-canonical where that one is `_lazy_ok`."""
    e = OMEGA64_EXP
    return ([e * (j + 8 * i) for i in range(4)], [2 * e * (j + 8 * i) for i in range(2)],
            4 * e * j, [j < 4 and _lazy_ok(8 * e * j)] * 8 if LAZY64 else None)


#: `_v_dif8_pow2`'s twiddles of `_radix8` (ω8^i = ω64^8i, ω4^i, 1): canonical outputs
_TAILS8_TWS = ([8 * OMEGA64_EXP * i for i in range(4)],
               [16 * OMEGA64_EXP * i for i in range(2)], 0)


def _lane_tail64_codegen(context, builder, sig, args, nt=False):
    buf = _arr(context, builder, sig, args, 0)
    k = args[1]
    rev = _arr(context, builder, sig, args, 2)
    out = _arr(context, builder, sig, args, 3)
    ostride, R, s, r0 = args[4], args[5], args[6], args[7]
    b = builder
    three = ir.Constant(_I64, 3)
    with cgutils.for_range(b, b.lshr(k, ir.Constant(_I64, 6))) as blk:
        base = b.shl(blk.index, ir.Constant(_I64, 6))
        # the stages 32, 16, 8 apart: rows base + j + 8i (i < 8) for each j < 8, whose
        # twiddles are ω64^(j + 8i) (i < 4), ω32^(j + 8i) (i < 2), ω16^j
        for j in range(8):
            ps = [_v_ptr(b, buf, b.shl(b.add(base, ir.Constant(_I64, j + 8 * i)), three))
                  for i in range(8)]
            x = [b.load(p_, align=8) for p_ in ps]
            # row j of every group of 8 is the x of the tails' first butterfly (j < 4)
            x = _v_dif8_pow2(b, x, *_tail64_tws(j))
            for i in range(8):
                b.store(x[i], ps[i], align=8)
        # the stages 4, 2, 1 apart (`_radix8`'s twiddles ω8^i = ω64^8i, ω4^i, 1) on 8
        # consecutive rows, stored as `_lane_tails` stores them
        with cgutils.for_range(b, ir.Constant(_I64, 8)) as loop:
            g = b.add(base, b.shl(loop.index, three))
            x = [b.load(_v_ptr(b, buf, b.shl(b.add(g, ir.Constant(_I64, i)), three)),
                        align=8) for i in range(8)]
            y = _v_dif8_pow2(b, x, *_TAILS8_TWS)
            _store_rows(b, y, g, rev, out, R, s, ostride, r0, nt)
    return context.get_dummy_value()


@intrinsic
def _lane_tail64(typingctx, buf, k, rev, out, ostride, R, s, r0):
    """The last six DIF stages (butterflies 32 … 1 apart) of the lane block buf (k rows of
    8 lanes, flat; k % 64 = 0), a block of 64 rows at a time: the stages 32, 16, 8 apart
    as 8 radix-8 register passes over the rows 8 apart, then the stages 4, 2, 1 on 8
    consecutive rows (`_radix8`), every product a shift (`_v_mul_pow2`; the block stays
    in L1 between the two); row p of the finished transform stored as `_lane_tails`
    stores it.  The same values as `_lane_stage` (32, 16, 8) then `_lane_tails`."""
    i64 = types.int64
    return types.void(buf, i64, rev, out, i64, i64, i64, i64), _lane_tail64_codegen


def _lane_tail64_nt_codegen(context, builder, sig, args):
    return _lane_tail64_codegen(context, builder, sig, args, nt=True)


@intrinsic
def _lane_tail64_nt(typingctx, buf, k, rev, out, ostride, R, s, r0):
    """`_lane_tail64` with `_lane_tails_nt`'s non-temporal stores (out 64-byte aligned)."""
    i64 = types.int64
    return types.void(buf, i64, rev, out, i64, i64, i64, i64), _lane_tail64_nt_codegen


def _v_dif_pow2(b, x, tws, lazy_out):
    """The DIF stages of the 2^r vectors x (butterflies n/2 … 1 apart in x's order) in
    registers, in place; tws(h, t): the twiddle exponent (of 2, mod 192) of the butterfly
    at x[t] of the stage h apart.  x canonical; a value the next stage takes as the x of
    a `_lazy_ok` butterfly is left non-canonical, output t where lazy_out[t]."""
    n = len(x)
    h = n >> 1
    while h >= 1:
        nx = h >> 1
        lz = [lazy_out[t] if nx == 0 else (t & nx) == 0 and _lazy_ok(tws(nx, t))
              for t in range(n)]
        for t in range(n):
            if not t & h:
                x[t], x[t + h] = _v_bfly_pow2(b, x[t], x[t + h], tws(h, t), lz[t], lz[t + h])
        h = nx
    return x


def _rev4(p):
    return int(f"{p:04b}"[::-1], 2)


@lru_cache(maxsize=1)
def _r16_table() -> np.ndarray:
    """`_lane_r16`'s outer twiddles: entry 16·j + t = ω1024^(j·rev4(t)) (j < 64, t < 16)."""
    w = root_of_unity(10)
    t = np.array([[pow(w, j * _rev4(p), P_INT) for p in range(16)] for j in range(64)],
                 dtype=np.uint64).reshape(-1)
    t.setflags(write=False)
    return t


def _r16_tw(h, t):
    """`_lane_r16`'s inner twiddle exponents (`_v_dif_pow2`'s tws): the stage h apart of a
    16-point DIF, ω_{2h}^(t mod 2h) = 2^(39·(32 / h)·(t mod 2h))."""
    return OMEGA64_EXP * (32 // h) * (t % (2 * h))


#: `_lane_r16`'s inner outputs but the first go to a general product (any word)
_R16_LAZY = [t > 0 for t in range(16)]


def _lane_r16_codegen(context, builder, sig, args):
    buf = _arr(context, builder, sig, args, 0)
    k = args[1]
    T = _arr(context, builder, sig, args, 2)
    b = builder
    three = ir.Constant(_I64, 3)
    with cgutils.for_range(b, b.lshr(k, ir.Constant(_I64, 10))) as blk:
        base = b.shl(blk.index, ir.Constant(_I64, 10))
        with cgutils.for_range(b, ir.Constant(_I64, 64)) as loop:
            j = loop.index
            ps = [_v_ptr(b, buf, b.shl(b.add(base, b.add(j, ir.Constant(_I64, 64 * m))),
                                       three)) for m in range(16)]
            x = [b.load(p_, align=8) for p_ in ps]
            x = _v_dif_pow2(b, x, _r16_tw, _R16_LAZY)
            tj = b.shl(j, ir.Constant(_I64, 4))
            for t in range(16):
                v = x[t]
                if t:
                    v = _v_mul(b, v, _v_splat(b, b.load(b.gep(T, [b.add(
                        tj, ir.Constant(_I64, t))]))))
                b.store(v, ps[t], align=8)
    return context.get_dummy_value()


@intrinsic
def _lane_r16(typingctx, buf, k, T):
    """The DIF stages 512, 256, 128, 64 apart of the lane block buf (k rows of 8 lanes,
    flat; k % 1024 = 0) as one radix-2⁴ register pass over the rows j + 64·m (m < 16) of
    each block of 1024: a 16-point DIF of ω16's powers (shifts, `_v_dif_pow2`), then
    output t times ω1024^(j·rev4(t)) (``T`` = `_r16_table`): 15 general products a 16
    rows for four stages.  The same values as `_lane_r4` (512, 128)."""
    return types.void(buf, types.int64, T), _lane_r16_codegen


# -- the first four stages with the twist folded in, generic middle passes (s43h1) ---------
#
# A transform of k ≥ 1024 at rate 2^-ρ ≥ 1/4 (coset 0 from k = 2^F16_S0_LOGK on) runs as:
# one radix-2⁴ pass over the stages k/2 … k/16 apart that reads the messages (`src`) and
# folds coset s's twist in (`_lane_f16`), radix-2^b passes over the stages k/32 … 64
# apart (`_lane_mid`), then `_lane_tail64`.  Coset s's twisted message is
# x'_n = x_n·ω_L^(s·n); with n = j + m·q (q = k/16, m < 16),
# ω_L^(s·n) = ω_L^(s·j)·ω_(16R)^(s·m), and ω_(16R) (16R ≤ 64) is a power of two:
# x_(j + mq)·2^(E_s·m) by shifts, the 16-point DIF by shifts, then output t times
# ω_L^(s·j)·ω_k^(j·rev4(t)) = ω_L^(j·(s + R·rev4(t))), one table entry: the twist costs
# no product of its own (coset 0: 15 products a 16 rows, as `_lane_r16`; coset s ≠ 0:
# 16; the old first stage took 8 / 16 a 16 rows and the stage below it 8 more).

#: ω_(16R)^s = 2^(E_s): the pre-shift exponents of `_lane_f16` (R = 1, 2, 4)
F16_EXPS = (0, 39, 78, 117)


def _v_mul_pow2_any(b, x, e):
    """x·2^e mod p lane-wise, canonical, for a compile-time e (mod 192) and a canonical
    x: 2^e = −2^(e − 96) for e ≥ 96 (`_v_mul_pow2`'s ``neg`` form where e − 96 ≥ 64, else
    the product negated, 0 − y by `_v_sub`)."""
    e %= 192
    if e < 96:
        return _v_mul_pow2(b, x, e)
    e -= 96
    if e >= 64:
        return _v_mul_pow2(b, x, e, neg=True)
    return _v_sub(b, _vc(0), _v_mul_pow2(b, x, e))


def _lane_fx_codegen_for(a, E):
    n = 1 << a

    def codegen(context, builder, sig, args):
        src = _arr(context, builder, sig, args, 0)
        buf = _arr(context, builder, sig, args, 1)
        k = args[2]
        T = _arr(context, builder, sig, args, 3)
        toff = args[4]
        b = builder
        three = ir.Constant(_I64, 3)
        q = b.lshr(k, ir.Constant(_I64, a))
        with cgutils.for_range(b, q) as loop:
            j = loop.index
            offs = [b.shl(b.add(j, b.mul(q, ir.Constant(_I64, m))), three)
                    for m in range(n)]
            x = [b.load(_v_ptr(b, src, o), align=8) for o in offs]
            if E:
                x = [_v_mul_pow2_any(b, x[m], E * m) for m in range(n)]
            x = _v_dif_pow2(b, x, _r16_tw, [t > 0 or E > 0 for t in range(n)])
            tj = b.add(toff, b.shl(j, ir.Constant(_I64, a)))
            for t in range(n):
                v = x[t]
                if t or E:
                    v = _v_mul(b, v, _v_splat(b, b.load(b.gep(T, [b.add(
                        tj, ir.Constant(_I64, t))]))))
                b.store(v, _v_ptr(b, buf, offs[t]), align=8)
        return context.get_dummy_value()
    return codegen


def _lane_fx_for(a, E):
    cg = _lane_fx_codegen_for(a, E)

    def typer(typingctx, src, buf, k, T, toff):
        return types.void(src, buf, types.int64, T, types.int64), cg
    typer.__name__ = f"_lane_f{1 << a}_{E}"
    typer.__doc__ = (
        f"The DIF stages k/2 … k/{1 << a} apart of coset s's twisted messages (E_s = {E}) "
        f"from src (k rows of 8 lanes, flat) into buf, {1 << a} rows j + m·k/{1 << a} at "
        f"a time: x_m·2^({E}·m) (shifts), a {1 << a}-point DIF by shifts, output t times "
        f"T[toff + {1 << a}·j + t] (`_fx_table`; skipped for t = 0 when E_s = 0).")
    return intrinsic(typer)


def _lane_f16_for(E):
    return _lane_fx_for(4, E)


_lane_f16_0, _lane_f16_39, _lane_f16_78, _lane_f16_117 = (_lane_f16_for(e)
                                                          for e in F16_EXPS)


def _v_prefetch(b, base, off):
    """A prefetch of base[off]'s line (`llvm.prefetch`: read, locality 3, data; never
    faults, so it may run past the array's end)."""
    i32 = ir.IntType(32)
    p8 = ir.IntType(8).as_pointer()
    fn = cgutils.get_or_insert_function(
        b.module, ir.FunctionType(ir.VoidType(), [p8, i32, i32, i32]), "llvm.prefetch.p0")
    b.call(fn, [b.bitcast(b.gep(base, [off]), p8), ir.Constant(i32, 0),
                ir.Constant(i32, 3), ir.Constant(i32, 1)])


#: `_lane_first_keep` prefetches the message rows this many rows ahead when > 0 (Y's
#: rows are W words apart; measured no faster at 4, 8, 16, 32 for stride-1 columns, s43h1)
KEEP_PF = 0


def _lane_first_keep_codegen_for(pf):
    def codegen(context, builder, sig, args):
        Y = _arr(context, builder, sig, args, 0)
        yoff, W, cs = args[1], args[2], args[3]
        buf = _arr(context, builder, sig, args, 4)
        src = _arr(context, builder, sig, args, 5)
        tw = _arr(context, builder, sig, args, 6)
        half = args[7]
        b = builder
        three = ir.Constant(_I64, 3)
        last = b.mul(cs, ir.Constant(_I64, 7))
        with cgutils.for_range(b, half) as loop:
            j = loop.index
            jh = b.add(j, half)
            if pf:
                for r in (j, jh):
                    o = b.add(yoff, b.mul(b.add(r, ir.Constant(_I64, pf)), W))
                    _v_prefetch(b, Y, o)
                    _v_prefetch(b, Y, b.add(o, last))
            x0 = _v_load_cols(b, Y, b.add(yoff, b.mul(j, W)), cs)
            x1 = _v_load_cols(b, Y, b.add(yoff, b.mul(jh, W)), cs)
            b.store(x0, _v_ptr(b, src, b.shl(j, three)), align=8)
            b.store(x1, _v_ptr(b, src, b.shl(jh, three)), align=8)
            w = _v_splat(b, b.load(b.gep(tw, [jh])))
            b.store(_v_add(b, x0, x1), _v_ptr(b, buf, b.shl(j, three)), align=8)
            b.store(_v_mul(b, _v_sub(b, x0, x1), w), _v_ptr(b, buf, b.shl(jh, three)),
                    align=8)
        return context.get_dummy_value()
    return codegen


def _lane_first_keep_for(pf):
    cg = _lane_first_keep_codegen_for(pf)

    def typer(typingctx, Y, yoff, W, cs, buf, src, tw, half):
        i64 = types.int64
        return types.void(Y, i64, i64, i64, buf, src, tw, i64), cg
    typer.__name__ = "_lane_first_keep"
    typer.__doc__ = (
        "`_lane_load` into src fused with coset 0's first DIF stage (`_lane_first` mode "
        "0, butterflies half = k/2 apart, twiddles tw[half + j]) into buf: the messages "
        "read from Y once, kept in src for the other cosets (s43h1: one pass over the "
        "block fewer, Y's reads overlapped with the stage)" +
        (f"; each row's lines prefetched {pf} rows ahead." if pf else "."))
    return intrinsic(typer)


_lane_first_keep = _lane_first_keep_for(KEEP_PF)


@njit(inline="always", **_OPTS)
def _lane_mids(buf, k, mp, MT):
    """The `_lane_mid` passes of the plan ``mp`` (rows (b, q, table offset),
    `_mid_plan`) on the lane block buf, tables ``MT``."""
    for p in range(mp.shape[0]):
        nb = mp[p, 0]
        if nb == 4:
            _lane_mid4(buf, k, mp[p, 1], MT, mp[p, 2])
        elif nb == 3:
            _lane_mid3(buf, k, mp[p, 1], MT, mp[p, 2])
        elif nb == 2:
            _lane_mid2(buf, k, mp[p, 1], MT, mp[p, 2])
        else:
            _lane_mid1(buf, k, mp[p, 1], MT, mp[p, 2])


@lru_cache(maxsize=64)
def _f16_table(log_k: int, rate_log: int) -> np.ndarray:
    """`_lane_f16`'s outer twiddles: entry s·k + 16·j + t = ω_L^(j·(s + R·rev4(t)))
    (s < R = 2^rate_log, j < k/16, t < 16, L = k·R)."""
    k, R = 1 << log_k, 1 << rate_log
    wl = root_of_unity(log_k + rate_log)
    out = np.empty((R, k >> 4, 16), dtype=np.uint64)
    for s in range(R):
        for t in range(16):
            out[s, :, t] = powers(pow(wl, s + R * _rev4(t), P_INT), k >> 4)
    out = out.reshape(-1)
    out.setflags(write=False)
    return out


#: with `LANE_F16`, where coset 0 takes the old stages its first one also loads the
#: messages (`_lane_first_keep`; fixed at compile time)
FIRST_KEEP = True

#: coset 0 (no twist) takes `_lane_f16` from k = 2^F16_S0_LOGK on; below, the old stages
#: (`_lane_first`, `_lane_stage` / `_lane_r4`, `_lane_r16`) measured faster for it
F16_S0_LOGK = 13


def _f16_exps(log_k: int, rate_log: int) -> np.ndarray:
    """E_s (s < R) with ω_(16R)^s = 2^(E_s) (ω_64 = 2^39: E_s = 39·(4/R)·s mod 192); −1
    for coset 0 below k = 2^F16_S0_LOGK (`_rs_encode_lane_par`: the old stages)."""
    R = 1 << rate_log
    out = np.array([(OMEGA64_EXP * (64 // (16 * R)) * s) % 192 for s in range(R)],
                   dtype=np.int64)
    if log_k < F16_S0_LOGK:
        out[0] = -1
    out.setflags(write=False)
    return out


def _rev_bits(p: int, nb: int) -> int:
    return int(f"{p:0{nb}b}"[::-1], 2) if nb else 0


def _lane_mid_codegen_for(nb):
    n = 1 << nb

    def codegen(context, builder, sig, args):
        buf = _arr(context, builder, sig, args, 0)
        k, q = args[1], args[2]
        T = _arr(context, builder, sig, args, 3)
        toff = args[4]
        b = builder
        three = ir.Constant(_I64, 3)
        N = b.shl(q, ir.Constant(_I64, nb))
        with cgutils.for_range(b, b.udiv(k, N)) as blk:
            base = b.mul(blk.index, N)
            with cgutils.for_range(b, q) as loop:
                j = loop.index
                ps = [_v_ptr(b, buf, b.shl(b.add(base, b.add(j, b.mul(
                    q, ir.Constant(_I64, m)))), three)) for m in range(n)]
                x = [b.load(p_, align=8) for p_ in ps]
                x = _v_dif_pow2(b, x, _r16_tw, [t > 0 for t in range(n)])
                tj = b.add(toff, b.shl(j, ir.Constant(_I64, nb)))
                for t in range(n):
                    v = x[t]
                    if t:
                        v = _v_mul(b, v, _v_splat(b, b.load(b.gep(T, [b.add(
                            tj, ir.Constant(_I64, t))]))))
                    b.store(v, ps[t], align=8)
        return context.get_dummy_value()
    return codegen


def _lane_mid_for(nb):
    cg = _lane_mid_codegen_for(nb)

    def typer(typingctx, buf, k, q, T, toff):
        return types.void(buf, types.int64, types.int64, T, types.int64), cg
    typer.__name__ = f"_lane_mid{nb}"
    typer.__doc__ = (
        f"The DIF stages {1 << (nb - 1)}·q … q apart of the lane block buf (k rows of 8 "
        f"lanes, flat) as one radix-2^{nb} register pass over the rows j + q·m of each "
        f"block of N = {1 << nb}·q: a {1 << nb}-point DIF by shifts, then output t times "
        f"T[toff + {1 << nb}·j + t] = ω_N^(j·rev(t)) (`_mid_table`; `_lane_r16` for "
        "any radix and q).")
    return intrinsic(typer)


_lane_mid1, _lane_mid2, _lane_mid3, _lane_mid4 = (_lane_mid_for(nb) for nb in (1, 2, 3, 4))


@lru_cache(maxsize=64)
def _mid_plan(log_k: int) -> tuple[np.ndarray, np.ndarray]:
    """The middle passes of `_lane_f16`'s transforms of 2^log_k (≥ 2^10): the stages
    k/32 … 64 apart, radix 2^4 from the top while four are left, then one pass of the
    rest — rows (b, q, offset) of the radix 2^b pass over the stages 2^(b−1)·q … q apart
    and its table's offset in the concatenated tables (entry offset + 2^b·j + t =
    ω_N^(j·rev_b(t)), N = 2^b·q, j < q)."""
    plan, tabs, off = [], [], 0
    top = log_k - 4           # log2 of the next pass's block (twice its top distance)
    while top > 6:
        nb = 1 if top - 6 == 2 else min(4, top - 6)   # 2 + 2 measured below 4
        q = 1 << (top - nb)
        N = q << nb
        w = root_of_unity(top)
        t = np.empty((q, 1 << nb), dtype=np.uint64)
        for p in range(1 << nb):
            t[:, p] = powers(pow(w, _rev_bits(p, nb), P_INT), q)
        plan.append((nb, q, off))
        tabs.append(t.reshape(-1))
        off += N
        top -= nb
    p_ = np.array(plan, dtype=np.int64).reshape(-1, 3)
    T = np.concatenate(tabs) if tabs else np.zeros(1, dtype=np.uint64)
    for a in (p_, T):
        a.setflags(write=False)
    return p_, T


#: the lane kernel pairs its middle stages as radix-2² passes (`_lane_r4`)
R4 = True

#: the lane kernel ends each transform of k ≥ 128 with `_lane_tail64` (the stages 32 … 1
#: apart by shifts, s39h1; tests toggle it)
LANE64 = True
#: with it, the stages 512 … 64 apart of k ≥ 2048 as one radix-2⁴ pass (`_lane_r16`)
LANE16 = True


@njit(parallel=True, **_OPTS)
def _rs_encode_lane_par(Y, col, tw, twist, tg, tc, rev, out, wk, t16, F, fe, mp, MT,
                        r4, nt=False):
    """`_rs_encode_cols_par` in the lane layout (`_lane_first`, `_lane_stage`,
    `_lane_tails`): every block of 8 messages r0 … r0 + 7 has col[r0 + b] = col[r0] +
    b·(col[r0 + 1] − col[r0]) (`rs_encode_cols` checks), len(col) % 8 = 0, k ≥ 16;
    ``rev`` the natural bit reversal of k.  ``r4``: bit 0 — the middle stages as
    radix-2² passes (`_lane_r4`); bit 1 (k ≥ 128) — the last six stages by
    `_lane_tail64` (shift products, s39h1) instead of `_lane_r4` / `_lane_stage` /
    `_lane_tails`.  ``nt``: the codewords written by non-temporal stores
    (`_lane_tails_nt` / `_lane_tail64_nt`; out 64-byte aligned), an sfence a block.
    ``wk``: the work array (uint64, ≥ 2·len(col)·k elements, C-contiguous): block bi's
    two 8·k-element buffers are its slice [16·k·bi, 16·k·(bi + 1)) — a caller's reused
    array, not two fresh arrays a block (256 KiB each at k = 2^12, more at larger k:
    above glibc's initial mmap threshold, so in a process's first prove every block's
    pages were mapped, faulted in, zeroed and unmapped again).  ``fe`` non-empty (s43h1;
    `rs_encode_cols` passes it for k ≥ 1024, R ≤ 4 with `LANE64`): each coset s with
    fe[s] ≥ 0 runs its stages k/2 … k/16 apart by `_lane_f16` (its twist folded in;
    ``fe`` = `_f16_exps`, ``F`` = `_f16_table`), the stages k/32 … 64 apart by
    `_lane_mid` passes (``mp``, ``MT`` = `_mid_plan`), then `_lane_tail64`; fe[0] = −1
    (k < 2^F16_S0_LOGK): coset 0 by the stages above, its first one loading the messages
    itself (`_lane_first_keep`, no `_lane_load` pass).  ``fe`` empty: the stages above
    only (``F``, ``mp``, ``MT`` unused).  The same codewords."""
    k = Y.shape[0]
    W = Y.shape[1]
    rows = col.shape[0]
    R = twist.shape[0]
    half = k >> 1
    Yf = Y.reshape(-1)
    of = out.reshape(-1)
    for bi in prange(rows // 8):
        r0 = bi * 8
        cs = col[r0 + 1] - col[r0]
        buf = wk[16 * k * bi:16 * k * bi + 8 * k]
        src = wk[16 * k * bi + 8 * k:16 * k * (bi + 1)]
        keep = fe.shape[0] > 0 and fe[0] < 0 and FIRST_KEEP
        if not keep:
            _lane_load(Yf, col[r0], W, cs, src, k)
        for s in range(R):
            e = fe[s] if fe.shape[0] else -1
            if e >= 0:      # `_lane_f16`, `_lane_mid` passes, `_lane_tail64`
                if e == 0:
                    _lane_f16_0(src, buf, k, F, s * k)
                elif e == 39:
                    _lane_f16_39(src, buf, k, F, s * k)
                elif e == 78:
                    _lane_f16_78(src, buf, k, F, s * k)
                else:
                    _lane_f16_117(src, buf, k, F, s * k)
                _lane_mids(buf, k, mp, MT)
                if nt:
                    _lane_tail64_nt(buf, k, rev, of, rows, R, s, r0)
                else:
                    _lane_tail64(buf, k, rev, of, rows, R, s, r0)
                continue
            if s == 0 and keep:     # the messages' load fused in
                _lane_first_keep(Yf, col[r0], W, cs, buf, src, tw, half)
            elif s == 0:
                _lane_first(src, 0, 8, 1, buf, tw, half, tw, half, tc[0], half, 0)
            else:
                c = tc[s]
                mode = 1 if c == _C48 else (2 if c == _CM24 else 3)
                _lane_first(src, 0, 8, 1, buf, twist[s], 0, tg[s], 0, c, half, mode)
            h = half >> 1
            if r4 & 2:      # the stages above 32 apart, then `_lane_tail64`
                stop = 1024 if r4 & 4 and k >= 2048 else 64
                while h >= 2 * stop and r4 & 1:
                    _lane_r4(buf, k, h >> 1, tw)
                    h >>= 2
                while h >= stop:
                    _lane_stage(buf, k, h, tw)
                    h >>= 1
                if h == 512 and r4 & 4:
                    _lane_r16(buf, k, t16)
                    h = 32
                while h >= 64:
                    _lane_stage(buf, k, h, tw)
                    h >>= 1
                if nt:
                    _lane_tail64_nt(buf, k, rev, of, rows, R, s, r0)
                else:
                    _lane_tail64(buf, k, rev, of, rows, R, s, r0)
                continue
            while h >= 16 and r4 & 1:
                _lane_r4(buf, k, h >> 1, tw)
                h >>= 2
            while h >= 8:
                _lane_stage(buf, k, h, tw)
                h >>= 1
            if nt:
                _lane_tails_nt(buf, k, rev, of, rows, R, s, r0)
            else:
                _lane_tails(buf, k, rev, of, rows, R, s, r0)
        if nt:
            _sfence()


#: `rs_encode_cols` takes the lane-layout kernel (`_rs_encode_lane_par`) where its shape
#: allows (tests toggle it): on AVX-512 IFMA hosts (`whir_eq._ifma_host`), where it was
#: measured (×0.78–0.86 of `_rs_encode_cols_par` at the proves' shapes, s29h3); its IR
#: is plain <8 x i64> and compiles on any host
LANE = _ifma_host()


#: `_rs_encode_lane_par` writes the codewords by non-temporal stores (`_lane_tails_nt`)
#: when out is 64-byte aligned (tests toggle it): each block's output rows are single
#: 64-byte lines scattered over out (bit-reversed positions, rows·8 bytes apart), whose
#: reads for ownership cost ≈ 0.35–0.4 of the kernel with ordinary stores (s38h2)
LANE_NT = True

#: `_rs_encode_lane_par` runs each transform of k ≥ 1024 at rate 2^-ρ ≥ 1/4 (with
#: `LANE64`) as `_lane_f16` (the first four stages, the twist folded in), `_lane_mid`
#: passes and `_lane_tail64`, coset 0 below k = 2^F16_S0_LOGK by the old stages with
#: the messages' load fused into the first (`_lane_first_keep`) (s43h1: ×0.91–0.93 CPU
#: at the 84m shapes; tests and A/B toggle it)
LANE_F16 = True


#: `rs_encode_cols`' placeholders of `_rs_encode_lane_par`'s unused tables
_EMPTY_U64 = np.zeros(1, dtype=np.uint64)
_EMPTY_I64 = np.zeros(0, dtype=np.int64)
_EMPTY_PLAN = np.zeros((0, 3), dtype=np.int64)
for _a in (_EMPTY_U64, _EMPTY_I64, _EMPTY_PLAN):
    _a.setflags(write=False)


def _lane_ok(col: np.ndarray, k: int, rate_log: int) -> bool:
    """`_rs_encode_lane_par` takes this call: every block of 8 columns a constant stride
    apart, whole blocks, k ≥ 16, and the shapes where `_rs_encode_cols_par` writes its
    tails straight into out."""
    rows = col.shape[0]
    if not LANE or k < 16 or rows % 8 or \
            (128 <= k <= 256 and ((k >> 3) << rate_log) * rows >= 1 << 18):
        return False
    c = col.reshape(-1, 8)
    d = c[:, 1:2] - c[:, 0:1]
    return bool(np.array_equal(c, c[:, 0:1] + d * np.arange(8, dtype=np.int64)))


def rs_work_size(k: int, rows: int) -> int:
    """Elements of `rs_encode_cols`' ``work`` for ``rows`` messages of length k."""
    return 2 * int(k) * (int(rows) - int(rows) % 8)


def _codeword_out(out: np.ndarray | None, shape: tuple[int, int], who: str,
                  align: int = 0) -> np.ndarray:
    """The codewords' output array: a fresh (n, rows) uint64 one (at an ``align``-byte
    aligned address if given), or the caller's reused buffer ``out`` once checked to be
    C-contiguous uint64 of that shape."""
    if out is None:
        if not align:
            return np.empty(shape, dtype=np.uint64)
        n = shape[0] * shape[1]
        raw = np.empty(n + align // 8, dtype=np.uint64)
        skip = (-raw.ctypes.data % align) // 8
        return raw[skip:skip + n].reshape(shape)
    if out.shape != shape or out.dtype != np.uint64 or not out.flags.c_contiguous:
        raise ValueError(f"{who}: out must be C-contiguous uint64 of shape {shape}")
    return out


def rs_encode_cols(Y: np.ndarray, col: np.ndarray, rate_log: int,
                   out: np.ndarray | None = None, work: np.ndarray | None = None
                   ) -> np.ndarray:
    """`rs_encode` of the matrix M (len(col), k) with M[r, j] = Y[j, col[r]] (messages
    that are columns of a C-contiguous uint64 ``Y`` (k, W), e.g. a tile of a streamed
    commitment's coefficient matrix), without the transposed copy of Y: the kernel
    gathers each block of messages itself (`_rs_encode_cols_par`).  ``col`` (int64,
    each < W).  ``work``: a reused uint64 work array of at least `rs_work_size`
    elements for the lane kernel's buffers (a streamed commitment's, reused across
    its tiles); else a fresh one.  The same codewords either way."""
    col = np.ascontiguousarray(col, dtype=np.int64)
    if Y.ndim != 2 or Y.dtype != np.uint64 or not Y.flags.c_contiguous:
        raise ValueError("rs_encode_cols: Y must be C-contiguous uint64 (k, W)")
    k = Y.shape[0]
    rows = col.shape[0]
    if rows and (int(col.min()) < 0 or int(col.max()) >= Y.shape[1]):
        raise ValueError("rs_encode_cols: a column index is out of range")
    if rows == 0 or (k << rate_log) * rows < SERIAL_BELOW or rows == 1 or k < 1 \
            or (1 << (k.bit_length() - 1)) != k:
        return rs_encode(np.ascontiguousarray(Y[:, col].T), rate_log, out)
    log_k = k.bit_length() - 1
    tw, twist, _ = _tables(log_k, rate_log)
    out = _codeword_out(out, (k << rate_log, rows), "rs_encode_cols", align=64)
    tg, tc = _twist_first(log_k, rate_log)
    if _lane_ok(col, k, rate_log):
        plan = int(R4) | (2 if LANE64 and k >= 128 else 0) | (4 if LANE16 else 0)
        if LANE_F16 and LANE64 and k >= 1024 and rate_log <= 2:
            F, fe = _f16_table(log_k, rate_log), _f16_exps(log_k, rate_log)
            mp, MT = _mid_plan(log_k)
        else:
            F = MT = _EMPTY_U64
            fe, mp = _EMPTY_I64, _EMPTY_PLAN
        need = rs_work_size(k, rows)
        if work is None or work.dtype != np.uint64 or work.ndim != 1 or \
                work.shape[0] < need or not work.flags.c_contiguous:
            work = np.empty(need, dtype=np.uint64)
        _rs_encode_lane_par(Y, col, tw, twist, tg, tc, _tables(log_k, 0)[2], out,
                            work, _r16_table(), F, fe, mp, MT, plan,
                            LANE_NT and out.ctypes.data % 64 == 0)
    else:
        _rs_encode_cols_par(Y, col, tw, twist, tg, tc, _fast_rev(log_k), out)
    return out


@njit(**_OPTS)
def _rs_encode_ser(M, tw, twist, rev, out):
    buf = np.empty(M.shape[1], dtype=np.uint64)
    for r in range(M.shape[0]):
        _rs_encode_row(M, r, tw, twist, rev, out, buf)


def rs_encode(M: np.ndarray, rate_log: int, out: np.ndarray | None = None) -> np.ndarray:
    """Reed–Solomon codewords of the rows of ``M`` (rows, k) at rate 2^-rate_log, as the
    columns of an (k·2^rate_log, rows) uint64 array (see module doc); written into
    ``out`` when given (C-contiguous uint64 of that shape: a caller's reused buffer)."""
    M = np.ascontiguousarray(M, dtype=np.uint64)
    rows, k = M.shape
    log_k = k.bit_length() - 1
    if k < 1 or (1 << log_k) != k:
        raise ValueError(f"message length {k} is not a power of two")
    tw, twist, rev = _tables(log_k, rate_log)
    out = _codeword_out(out, (k << rate_log, rows), "rs_encode")
    if rows:
        if out.size < SERIAL_BELOW or rows == 1:
            _rs_encode_ser(M, tw, twist, rev, out)
        else:   # `_dif_any`'s output order
            _rs_encode_par(M, tw, twist, _fast_rev(log_k), out)
    return out


def rs_encode_ext(w: np.ndarray, rate_log: int) -> np.ndarray:
    """Codeword of an extension-field message w (k, 2): (L, 2) (the code is F-linear, so
    each base component is encoded on its own)."""
    w = np.asarray(w, dtype=np.uint64).reshape(-1, 2)
    return rs_encode(np.ascontiguousarray(w.T), rate_log)


def ntt(a: np.ndarray) -> np.ndarray:
    """Evaluations of Σ a_j X^j at ω^i, i < len(a), natural order (rate-1 encoding)."""
    return rs_encode(np.asarray(a, dtype=np.uint64).reshape(1, -1), 0)[:, 0].copy()


# -- matrix/vector products: base matrix, extension vector ------------------------------
# Small inputs run serial kernels: a parallel region costs a thread-pool barrier, which on
# a loaded machine can take a scheduler quantum — far more than the work itself.


@njit(inline="always", **_OPTS)
def _row_evec(M, e, i):
    """Row i of M·e: a loop-carried sum, which LLVM leaves scalar, so the scalar
    128-bit product (`gl_mul_s`: ≈ 1.8× the 32-bit-limb form here)."""
    s0 = np.uint64(0)
    s1 = np.uint64(0)
    for j in range(M.shape[1]):
        m = M[i, j]
        s0 = gl_add(s0, gl_mul_s(m, e[j, 0]))
        s1 = gl_add(s1, gl_mul_s(m, e[j, 1]))
    return s0, s1


@njit(**_OPTS)
def _mat_evec_ser(M, e, out):
    for i in range(M.shape[0]):
        out[i, 0], out[i, 1] = _row_evec(M, e, i)


def mat_evec(M: np.ndarray, e: np.ndarray) -> np.ndarray:
    """M·e for a base matrix M (R, C) and an extension vector e (C, 2): (R, 2)."""
    M = np.ascontiguousarray(M, dtype=np.uint64)
    e = np.ascontiguousarray(e, dtype=np.uint64).reshape(-1, 2)
    if M.ndim != 2 or M.shape[1] != e.shape[0]:
        raise ValueError(f"mat_evec: {M.shape} times {e.shape[0]}")
    out = np.zeros((M.shape[0], 2), dtype=np.uint64)
    if M.size:
        if M.size < SERIAL_BELOW:
            _mat_evec_ser(M, e, out)
        else:   # rows in parallel, each summed in vector lanes (`goldilocks.e_matvec_base`)
            _G.e_matvec_base(e, M, out)
    return out


@njit(inline="always", **_OPTS)
def _evec_mat_block(e, Mf, C, out, lo, hi):
    """out[lo:hi] += eᵀ·M[:, lo:hi], M (R, C) given flat as ``Mf`` (row i =
    ``Mf[i·C:(i + 1)·C]``), through de-interleaved accumulators (unit stride: the products
    vectorise; ≈ 2.5× the interleaved form), each an unreduced 192-bit sum (`mul_acc128`:
    no reduction mod p per product, one at the end; x0.9-0.95 CPU vs
    `gl_add(acc, gl_mul(..))`, the same values).  Flat rows: indexed ``M[i, lo + j]``
    inside the ``prange`` body of `_evec_mat_par` the loop did not vectorise (≈ 3× the
    serial kernel's time at every shape; s23h6)."""
    _wide512()  # zmm code in the function it inlines into (s37h5: x0.66-0.99 CPU)
    cnt = hi - lo
    l0 = np.zeros(cnt, np.uint64)
    h0 = np.zeros(cnt, np.uint64)
    t0 = np.zeros(cnt, np.uint64)
    l1 = np.zeros(cnt, np.uint64)
    h1 = np.zeros(cnt, np.uint64)
    t1 = np.zeros(cnt, np.uint64)
    for i in range(e.shape[0]):
        e0 = e[i, 0]
        e1 = e[i, 1]
        row = Mf[i * C + lo:i * C + hi]
        for j in range(cnt):
            m = row[j]
            l0[j], h0[j], t0[j] = mul_acc128(e0, m, l0[j], h0[j], t0[j])
            l1[j], h1[j], t1[j] = mul_acc128(e1, m, l1[j], h1[j], t1[j])
    for j in range(cnt):
        out[lo + j, 0] = gl_add(out[lo + j, 0], fin_acc128(l0[j], h0[j], t0[j]))
        out[lo + j, 1] = gl_add(out[lo + j, 1], fin_acc128(l1[j], h1[j], t1[j]))


@njit(parallel=True, **_OPTS)
def _evec_mat_par(e, M, out, block):
    """`_evec_mat_block` over blocks of ``block`` columns in parallel (M C-contiguous)."""
    C = M.shape[1]
    Mf = M.reshape(-1)
    for b in prange((C + block - 1) // block):
        _evec_mat_block(e, Mf, C, out, b * block, min(C, (b + 1) * block))


@njit(**_OPTS)
def _evec_mat_ser(e, M, out):
    _evec_mat_block(e, M.reshape(-1), M.shape[1], out, 0, M.shape[1])


#: columns a thread of `_evec_mat_par` sweeps; a matrix of at most this many columns runs
#: serial (one block: a parallel region would only add its barrier)
EVEC_MAT_BLOCK = 1024


def evec_mat(e: np.ndarray, M: np.ndarray) -> np.ndarray:
    """eᵀ·M for an extension vector e (R, 2) and a base matrix M (R, C): (C, 2).
    Cache-friendly: each thread sweeps the rows over one block of columns."""
    M = np.ascontiguousarray(M, dtype=np.uint64)
    e = np.ascontiguousarray(e, dtype=np.uint64).reshape(-1, 2)
    if M.ndim != 2 or M.shape[0] != e.shape[0]:
        raise ValueError(f"evec_mat: {e.shape[0]} times {M.shape}")
    if 0 < M.shape[0] <= _G.MATMUL_MAX_INNER and _G.cold(M.size):
        # a cold verifier: an exact float64 BLAS product (`goldilocks.np_matmul`)
        return np.ascontiguousarray(_G.np_matmul(np.ascontiguousarray(e.T), M).T)
    out = np.zeros((M.shape[1], 2), dtype=np.uint64)
    if M.size:
        if M.size < SERIAL_BELOW or M.shape[1] <= EVEC_MAT_BLOCK:
            _evec_mat_ser(e, M, out)
        else:
            _evec_mat_par(e, M, out, EVEC_MAT_BLOCK)
    return out


@njit(**_OPTS)
def _eq_ser(r, out):
    out[0, 0] = np.uint64(1)
    out[0, 1] = np.uint64(0)
    size = 1
    for j in range(r.shape[0]):
        r0 = r[j, 0]
        r1 = r[j, 1]
        for i in range(size):
            h0, h1 = e2_mul(out[i, 0], out[i, 1], r0, r1)
            out[i + size, 0] = h0
            out[i + size, 1] = h1
            out[i, 0] = gl_sub(out[i, 0], h0)
            out[i, 1] = gl_sub(out[i, 1], h1)
        size *= 2


def eq_table(r: np.ndarray) -> np.ndarray:
    """eq(r, x) for x ∈ {0,1}^n over goldilocks-ext2 (bit j of x ↔ r_j): (2^n, 2).
    Serial for small n; the field's parallel kernel otherwise."""
    r = np.ascontiguousarray(r, dtype=np.uint64).reshape(-1, 2)
    out = np.zeros((1 << r.shape[0], 2), dtype=np.uint64)
    if _G.cold(out.shape[0]):
        _G.eq_expand.cold(r, out)
    else:
        (_eq_ser if out.shape[0] < SERIAL_BELOW else eq_expand)(r, out)
    return out


@njit(**_OPTS)
def _edot_ser(a, b):
    s0 = np.uint64(0)
    s1 = np.uint64(0)
    for i in range(a.shape[0]):
        c0, c1 = e2_mul(a[i, 0], a[i, 1], b[i, 0], b[i, 1])
        s0 = gl_add(s0, c0)
        s1 = gl_add(s1, c1)
    out = np.empty(2, dtype=np.uint64)
    out[0] = s0
    out[1] = s1
    return out


def edot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Σ a_i·b_i for two extension vectors (n, 2): a scalar (2,)."""
    a = np.ascontiguousarray(a, dtype=np.uint64).reshape(-1, 2)
    b = np.ascontiguousarray(b, dtype=np.uint64).reshape(-1, 2)
    if a.shape != b.shape:
        raise ValueError(f"edot: {a.shape} with {b.shape}")
    if _G.cold(a.shape[0]):
        return _G.edot.cold(a, b)
    if a.shape[0] < SERIAL_BELOW:
        return _edot_ser(a, b)
    return edot_par(a, b, nchunks_for(a.shape[0]))


# -- slow references (tests) ------------------------------------------------------------


def rs_encode_ref(row, rate_log: int) -> list[int]:
    """Naive O(L·k) evaluation of one message at the L-th roots of unity."""
    row = [int(x) for x in row]
    k = len(row)
    L = k << rate_log
    w = root_of_unity(L.bit_length() - 1)
    out = []
    for i in range(L):
        x = pow(w, i, P_INT)
        acc = 0
        for c in reversed(row):
            acc = (acc * x + c) % P_INT
        out.append(acc)
    return out


def mat_evec_ref(M, e) -> list[tuple[int, int]]:
    out = []
    for row in M:
        s0 = s1 = 0
        for m, (e0, e1) in zip(row, e):
            s0 += int(m) * int(e0)
            s1 += int(m) * int(e1)
        out.append((s0 % P_INT, s1 % P_INT))
    return out


def evec_mat_ref(e, M) -> list[tuple[int, int]]:
    cols = len(M[0]) if len(M) else 0
    return mat_evec_ref([[M[i][j] for i in range(len(M))] for j in range(cols)], e)
