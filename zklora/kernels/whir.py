"""Kernels of the ``whir`` commitment (numba), each with a pure-Python reference twin
(``*_ref``) the tests compare against.

Conventions (see docs/commitments_whir.md):

* A table t of 2^m Goldilocks elements is the evaluation table of a multilinear
  polynomial f̂ (variable j = bit j of the flat index).  Its **coefficient form** c
  (``f̂(x) = Σ_i c_i Π_{j ∈ bits(i)} x_j``) is the Möbius transform of t (`mobius`).
  The univariate polynomial ``p(X) = Σ_i c_i X^i`` satisfies p(z) = f̂(z, z², z⁴, …).
* The codeword of c on the domain D = ⟨ω⟩ of size 2^d (d > m, ω = `ntt.root_of_unity`)
  is (p(ω^i))_i.  It is stored as **leaves** of K = 2^k values: leaf a (a < 2^d / K)
  holds p at the K points y·ζ^j (y = ω^a, ζ = ω^(2^d/K), j < K), the K roots of
  z = y^K.  One leaf is exactly what the verifier needs to fold k variables at z.
* Extension elements are (…, 2) uint64 arrays (goldilocks-ext2, x² = 7).
"""

from __future__ import annotations

from functools import lru_cache

import llvmlite.ir as ir
import numba
import numpy as np
from numba import njit, prange, types
from numba.core import cgutils
from numba.extending import intrinsic

from . import goldilocks as G
from . import merkle as _merkle
from . import reference as R
from .blake3_numba import _IV as _B3_IV
from .blake3_numba import CHUNK_END, CHUNK_START, ROOT, _hash_one, grind_lanes
from .blake3_numba import _compress as _b3_compress
from .blake3_numba import _compress_w as _b3_compress_w
from .goldilocks import (
    ONE,
    P_INT,
    ZERO,
    e2_mul,
    e2_mul_s,
    eq_expand,
    gl_add,
    gl_mul,
    gl_mul_s,
    gl_pow,
    gl_sub,
)
from .jit_util import _wide512, _wide_codegen  # noqa: F401  (s37h2; shared, s37h5)
from .ntt import _I64 as _XI64
from .ntt import (
    _TAILS8_TWS,
    FAST_MIN,
    _bfly_run_in,
    _dif_src,
    _dif_stages,
    _edot_ser,
    _r2_stages,
    _sfence,
    _tail8_lanes,
    _transpose8,
    _v_dif8_pow2,
    _v_mul_limbs,
    fast_perm,
    mat_evec,
    powers,
    root_of_unity,
    rs_encode,
    stage_twiddles,
)
from .ntt import _arr as _x_arr
from .ntt import _v_ptr as _x_ptr
from .ntt import _vc as _xc
from .whir_eq import IFMA, IFMA_FLUSH, IFMA_LANES, IFMA_ROWS, _ifma_2, _ifma_limbs

_OPTS = dict(cache=True, nogil=True, fastmath=False)
#: element count below which serial kernels are used (a parallel region costs more)
SERIAL_BELOW = 1 << 14
INV2 = (P_INT + 1) // 2
#: `_pw_init`: the dependent chain's length (the rest are runs of products this long)
PW_RUN = 64


# -- evaluation form -> coefficient form -------------------------------------------------


@njit(**_OPTS)
def _mobius_ser(a, n):
    half = a.shape[0] >> 1
    for j in range(n):
        h = 1 << j
        for idx in range(half):
            lo = ((idx >> j) << (j + 1)) | (idx & (h - 1))
            a[lo + h] = gl_sub(a[lo + h], a[lo])


@njit(inline="always", **_OPTS)
def _sub_run(lo, hi, n):
    """hi[j] −= lo[j] for j < n on unit-stride runs (vectorised)."""
    for j in range(n):
        hi[j] = gl_sub(hi[j], lo[j])


@njit(inline="always", **_OPTS)
def _mobius_block(src, a, base, lo, sh):
    """a[base : base + 2^lo] = src's block with the passes of flat-index bits sh … lo−1
    done (the block stays in cache for all of them; the passes of different variables
    commute; src may be a itself).  Bits sh … sh+2 in one register-resident pass over
    runs of 8 words 2^sh apart (for each of the 2^sh offsets) that reads src and writes
    a, the others on unit-stride runs of a.  sh = 0: a plain table; sh = 1: the two
    components of an interleaved (N, 2) table (flat bit 0 is the component)."""
    B = 1 << lo
    j0 = sh
    if lo >= sh + 3:
        j0 = sh + 3
        s = 1 << sh
        for st0 in range(base, base + B, 8 * s):
            for c in range(s):
                st = st0 + c
                x0 = src[st]
                x1 = gl_sub(src[st + s], x0)
                x2 = gl_sub(src[st + 2 * s], x0)
                x3 = gl_sub(gl_sub(src[st + 3 * s], src[st + 2 * s]), x1)
                x4 = src[st + 4 * s]
                x5 = gl_sub(src[st + 5 * s], x4)
                x6 = gl_sub(src[st + 6 * s], x4)
                x7 = gl_sub(gl_sub(src[st + 7 * s], src[st + 6 * s]), x5)
                a[st] = x0
                a[st + s] = x1
                a[st + 2 * s] = x2
                a[st + 3 * s] = x3
                a[st + 4 * s] = gl_sub(x4, x0)
                a[st + 5 * s] = gl_sub(x5, x1)
                a[st + 6 * s] = gl_sub(x6, x2)
                a[st + 7 * s] = gl_sub(x7, x3)
    else:
        for i in range(base, base + B):
            a[i] = src[i]
    for j in range(j0, lo):
        h = 1 << j
        for st in range(base, base + B, 2 * h):
            _sub_run(a[st:st + h], a[st + h:st + 2 * h], h)


@njit(parallel=True, **_OPTS)
def _mobius_blocks(a, lo):
    """The passes of the lo low variables, block by block (`_mobius_block`, in place)."""
    for blk in prange(a.shape[0] >> lo):
        _wide512()  # zmm: x0.94 CPU (s37h7)
        _mobius_block(a, a, blk << lo, lo, 0)


@njit(parallel=True, **_OPTS)
def _mobius_blocks_from(src, a, lo, sh):
    """a = src with the passes of flat bits sh … lo−1 done, block by block
    (`_mobius_block`: the copy is the first pass's reads; src may be a, or strided)."""
    for blk in prange(a.shape[0] >> lo):
        _wide512()  # zmm: x0.94 CPU (s37h7)
        _mobius_block(src, a, blk << lo, lo, sh)


#: run length of `_mobius_hi`'s parallel pieces
MOBIUS_RUN = 4096


@njit(inline="always", **_OPTS)
def _sub_run4(x0, x1, x2, x3, n):
    """The passes of two variables (h, 2h apart) on four unit-stride runs, each word read
    and written once: x1 −= x0, x3 −= x2, then x2 −= x0, x3 −= x1 (the same operations
    in the same order per word as two `_sub_run` passes)."""
    for j in range(n):
        a0 = x0[j]
        a1 = gl_sub(x1[j], a0)
        a2 = x2[j]
        a3 = gl_sub(x3[j], a2)
        x1[j] = a1
        x2[j] = gl_sub(a2, a0)
        x3[j] = gl_sub(a3, a1)


@njit(parallel=True, **_OPTS)
def _mobius_hi(a, j0, n):
    """The passes of variables j0 … n−1, two variables a sweep (`_sub_run4`: half the
    memory traffic of one sweep a variable), a last single pass when their count is
    odd; runs of MOBIUS_RUN words in parallel.  The same values as `_mobius_hi_ref`."""
    N = a.shape[0]
    j = j0
    while j + 1 < n:
        h = 1 << j
        nc = (h + MOBIUS_RUN - 1) // MOBIUS_RUN
        for t in prange((N // (4 * h)) * nc):
            st = (t // nc) * 4 * h + (t % nc) * MOBIUS_RUN
            m = min(MOBIUS_RUN, h - (t % nc) * MOBIUS_RUN)
            _sub_run4(a[st:st + m], a[st + h:st + h + m], a[st + 2 * h:st + 2 * h + m],
                      a[st + 3 * h:st + 3 * h + m], m)
        j += 2
    if j < n:
        h = 1 << j
        nc = (h + MOBIUS_RUN - 1) // MOBIUS_RUN
        for t in prange((N // (2 * h)) * nc):
            st = (t // nc) * 2 * h + (t % nc) * MOBIUS_RUN
            m = min(MOBIUS_RUN, h - (t % nc) * MOBIUS_RUN)
            _sub_run(a[st:st + m], a[st + h:st + h + m], m)


@njit(inline="always", **_OPTS)
def _sub_run8v(y0, y1, y2, y3, y4, y5, y6, y7, n):
    """The passes of three variables on eight unit-stride runs y0 … y7 (y_k holds the
    entries with the variables' bits = k), each word read and written once (s39h2)."""
    for j in range(n):
        x0, x1, x2, x3 = y0[j], y1[j], y2[j], y3[j]
        x4, x5, x6, x7 = y4[j], y5[j], y6[j], y7[j]
        x1 = gl_sub(x1, x0)
        x3 = gl_sub(x3, x2)
        x5 = gl_sub(x5, x4)
        x7 = gl_sub(x7, x6)
        x2 = gl_sub(x2, x0)
        x3 = gl_sub(x3, x1)
        x6 = gl_sub(x6, x4)
        x7 = gl_sub(x7, x5)
        x4 = gl_sub(x4, x0)
        x5 = gl_sub(x5, x1)
        x6 = gl_sub(x6, x2)
        x7 = gl_sub(x7, x3)
        y1[j] = x1
        y2[j] = x2
        y3[j] = x3
        y4[j] = x4
        y5[j] = x5
        y6[j] = x6
        y7[j] = x7


@njit(inline="always", **_OPTS)
def _sub_run8(a, s0, h, n):
    """`_sub_run8v` on the runs a[s0 + k·h : s0 + k·h + n], k < 8."""
    _sub_run8v(a[s0:s0 + n], a[s0 + h:s0 + h + n], a[s0 + 2 * h:s0 + 2 * h + n],
               a[s0 + 3 * h:s0 + 3 * h + n], a[s0 + 4 * h:s0 + 4 * h + n],
               a[s0 + 5 * h:s0 + 5 * h + n], a[s0 + 6 * h:s0 + 6 * h + n],
               a[s0 + 7 * h:s0 + 7 * h + n], n)


@njit(inline="always", **_OPTS)
def _sub_run16v(y0, y1, y2, y3, y4, y5, y6, y7, y8, y9, y10, y11, y12, y13, y14, y15, n):
    """`_sub_run8v` for four variables on sixteen runs (s39h2)."""
    for j in range(n):
        x0, x1, x2, x3 = y0[j], y1[j], y2[j], y3[j]
        x4, x5, x6, x7 = y4[j], y5[j], y6[j], y7[j]
        x8, x9, x10, x11 = y8[j], y9[j], y10[j], y11[j]
        x12, x13, x14, x15 = y12[j], y13[j], y14[j], y15[j]
        x1 = gl_sub(x1, x0)
        x3 = gl_sub(x3, x2)
        x5 = gl_sub(x5, x4)
        x7 = gl_sub(x7, x6)
        x9 = gl_sub(x9, x8)
        x11 = gl_sub(x11, x10)
        x13 = gl_sub(x13, x12)
        x15 = gl_sub(x15, x14)
        x2 = gl_sub(x2, x0)
        x3 = gl_sub(x3, x1)
        x6 = gl_sub(x6, x4)
        x7 = gl_sub(x7, x5)
        x10 = gl_sub(x10, x8)
        x11 = gl_sub(x11, x9)
        x14 = gl_sub(x14, x12)
        x15 = gl_sub(x15, x13)
        x4 = gl_sub(x4, x0)
        x5 = gl_sub(x5, x1)
        x6 = gl_sub(x6, x2)
        x7 = gl_sub(x7, x3)
        x12 = gl_sub(x12, x8)
        x13 = gl_sub(x13, x9)
        x14 = gl_sub(x14, x10)
        x15 = gl_sub(x15, x11)
        x8 = gl_sub(x8, x0)
        x9 = gl_sub(x9, x1)
        x10 = gl_sub(x10, x2)
        x11 = gl_sub(x11, x3)
        x12 = gl_sub(x12, x4)
        x13 = gl_sub(x13, x5)
        x14 = gl_sub(x14, x6)
        x15 = gl_sub(x15, x7)
        y1[j] = x1
        y2[j] = x2
        y3[j] = x3
        y4[j] = x4
        y5[j] = x5
        y6[j] = x6
        y7[j] = x7
        y8[j] = x8
        y9[j] = x9
        y10[j] = x10
        y11[j] = x11
        y12[j] = x12
        y13[j] = x13
        y14[j] = x14
        y15[j] = x15


@njit(inline="always", **_OPTS)
def _sub_run16(a, s0, h, n):
    """`_sub_run16v` on the runs a[s0 + k·h : s0 + k·h + n], k < 16."""
    _sub_run16v(a[s0:s0 + n], a[s0 + h:s0 + h + n], a[s0 + 2 * h:s0 + 2 * h + n],
                a[s0 + 3 * h:s0 + 3 * h + n], a[s0 + 4 * h:s0 + 4 * h + n],
                a[s0 + 5 * h:s0 + 5 * h + n], a[s0 + 6 * h:s0 + 6 * h + n],
                a[s0 + 7 * h:s0 + 7 * h + n], a[s0 + 8 * h:s0 + 8 * h + n],
                a[s0 + 9 * h:s0 + 9 * h + n], a[s0 + 10 * h:s0 + 10 * h + n],
                a[s0 + 11 * h:s0 + 11 * h + n], a[s0 + 12 * h:s0 + 12 * h + n],
                a[s0 + 13 * h:s0 + 13 * h + n], a[s0 + 14 * h:s0 + 14 * h + n],
                a[s0 + 15 * h:s0 + 15 * h + n], n)


@njit(parallel=True, **_OPTS)
def _mobius_hi8(a, j0, plan):
    """The passes of variables j0, j0 + 1, … in sweeps of plan[i] ∈ {1, 2, 3, 4}
    variables each (`_sub_run` / `_sub_run4` / `_sub_run8` / `_sub_run16`: each word read
    and written once a sweep), runs of MOBIUS_RUN words in parallel (s39h2).  The
    passes commute and each is exact: the same values as `_mobius_hi_ref`."""
    N = a.shape[0]
    j = j0
    for i in range(plan.shape[0]):
        nv = plan[i]
        h = 1 << j
        sp = h << nv
        nc = (h + MOBIUS_RUN - 1) // MOBIUS_RUN
        for t in prange((N // sp) * nc):
            _wide512()
            st = (t // nc) * sp + (t % nc) * MOBIUS_RUN
            m = min(MOBIUS_RUN, h - (t % nc) * MOBIUS_RUN)
            if nv == 4:
                _sub_run16(a, st, h, m)
            elif nv == 3:
                _sub_run8(a, st, h, m)
            elif nv == 2:
                _sub_run4(a[st:st + m], a[st + h:st + h + m], a[st + 2 * h:st + 2 * h + m],
                          a[st + 3 * h:st + 3 * h + m], m)
            else:
                _sub_run(a[st:st + m], a[st + h:st + h + m], m)
        j += nv


#: `mobius_plan`: 16-stream sweeps (four variables) only while the streams are closer
#: than this many words (further apart they share L1 sets: 16 > its 12 ways)
MOBIUS_V4_BELOW = 512


def mobius_plan(j0: int, n: int) -> np.ndarray:
    """Sweeps for `_mobius_hi8` over variables j0 … n−1: three variables a sweep, the
    remainder as one sweep of 2 (or, for a remainder of 1, one first sweep of 4 where its
    streams are close, else a last sweep of 1).  Measured (s39h2, 2^20 words, 2 threads,
    CPU): j0 = 7 1.42 ms against `_mobius_hi`'s 2.2, j0 = 8, 9 1.3 against 1.9."""
    nvar = n - j0
    if nvar <= 0:
        return np.zeros(0, dtype=np.int64)
    plan = []
    rem = nvar % 3
    if rem == 1 and nvar >= 4 and (1 << j0) < MOBIUS_V4_BELOW:
        plan.append(4)
        nvar -= 4
        rem = 0
    plan += [3] * (nvar // 3)
    if rem:
        plan.append(rem)
    return np.array(plan, dtype=np.int64)


@njit(parallel=True, **_OPTS)
def _mobius_hi_ref(a, j0, n):
    """Twin of `_mobius_hi`: one sweep a variable."""
    N = a.shape[0]
    for j in range(j0, n):
        h = 1 << j
        nc = (h + MOBIUS_RUN - 1) // MOBIUS_RUN
        for t in prange((N // (2 * h)) * nc):
            st = (t // nc) * 2 * h + (t % nc) * MOBIUS_RUN
            m = min(MOBIUS_RUN, h - (t % nc) * MOBIUS_RUN)
            _sub_run(a[st:st + m], a[st + h:st + h + m], m)


#: variables whose Möbius passes run inside one cache-resident block (2^12 words)
MOBIUS_BLOCK_VARS = 12


def mobius(t: np.ndarray) -> np.ndarray:
    """Coefficient form of a base-field evaluation table of 2^m entries (a new array)."""
    t = np.asarray(t, dtype=np.uint64).reshape(-1)
    n = t.shape[0].bit_length() - 1
    if G.cold(t.shape[0]) or t.shape[0] < SERIAL_BELOW:
        a = t.copy()
        if G.cold(a.shape[0]):  # a cold verifier (`goldilocks.cold`): numpy passes
            for j in range(n):
                v = a.reshape(-1, 2, 1 << j)
                v[:, 1, :] = G.np_sub(v[:, 1, :], v[:, 0, :])
            return a
        _mobius_ser(a, n)
        return a
    lo = min(n, MOBIUS_BLOCK_VARS)
    if t.flags.c_contiguous:   # a memcpy, then the passes in place (less CPU than fused)
        a = t.copy()
        _mobius_blocks(a, lo)
    else:   # a strided view: the gather fused into the blocked passes
        a = np.empty(t.shape[0], dtype=np.uint64)
        _mobius_blocks_from(t, a, lo, 0)
    if lo < n:
        _mobius_hi8(a, lo, mobius_plan(lo, n))
    return a


def mobius_pairs(t: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Coefficient form of both components of an extension evaluation table t (N, 2),
    N = 2^m: the same values as ``out[:, c] = mobius(t[:, c])`` for c = 0, 1, computed on
    the interleaved words (component = flat bit 0; variable j = flat bit j + 1) without
    de-interleaving.  ``out``: a C-contiguous (N, 2) uint64 array to write (may be t
    itself: in place); default a new array."""
    t = np.asarray(t, dtype=np.uint64)
    N = t.shape[0]
    if out is None:
        out = np.empty((N, 2), dtype=np.uint64)
    if out.shape != (N, 2) or out.dtype != np.uint64 or not out.flags.c_contiguous:
        raise ValueError("mobius_pairs: out must be a C-contiguous (N, 2) uint64 array")
    n = N.bit_length() - 1
    if G.cold(N) or N < SERIAL_BELOW:
        for c in range(2):
            out[:, c] = mobius(t[:, c])
        return out
    a = out.reshape(-1)
    lo = min(n, MOBIUS_BLOCK_VARS) + 1
    _mobius_blocks_from(t.reshape(-1), a, lo, 1)
    if lo < n + 1:
        _mobius_hi8(a, lo, mobius_plan(lo, n + 1))
    return out


def mobius_ref(t) -> list[int]:
    a = [int(x) % P_INT for x in np.asarray(t).reshape(-1)]
    n = len(a).bit_length() - 1
    for j in range(n):
        for i in range(len(a)):
            if i >> j & 1:
                a[i] = (a[i] - a[i ^ (1 << j)]) % P_INT
    return a


# -- encoding into leaves ----------------------------------------------------------------


@lru_cache(maxsize=32)
def _twist_steps(log_domain: int, log_split: int) -> np.ndarray:
    """ω^t for t < T = 2^log_split (ω the domain's root): one row's twist factors times
    these are the next row's."""
    wt = powers(root_of_unity(log_domain), 1 << log_split)
    wt.setflags(write=False)
    return wt


@lru_cache(maxsize=32)
def _dft_tables(k: int) -> tuple[np.ndarray, np.ndarray]:
    """(`stage_twiddles` of 2^k, `fast_perm` of the bit reversal of 2^k: where
    `ntt._dif_src` leaves each bit-reversed output)."""
    K = 1 << k
    tw = stage_twiddles(k)
    rev = np.zeros(K, dtype=np.int64)
    for b in range(k):
        rev |= ((np.arange(K) >> b) & 1) << (k - 1 - b)
    rev = np.array(fast_perm(rev))
    for a in (tw, rev):
        a.setflags(write=False)
    return tw, rev


@njit(parallel=True, **_OPTS)
def _split_rows(c, T, ncomp, M):
    """M[comp·T + t, v] = c[t + T·v] (component comp): the coefficient vectors of the
    q_t, written a block of 8 t's (one cache line of c) at a time."""
    n = M.shape[1]
    for bi in prange((T + 7) // 8):
        t0 = bi * 8
        nt = min(8, T - t0)
        for v in range(n):
            base = t0 + T * v
            for comp in range(ncomp):
                for b in range(nt):
                    M[comp * T + t0 + b, v] = c[(base + b) * ncomp + comp]


@njit(inline="always", **_OPTS)
def _pw_init(pw, w):
    """pw[t] = w^t: a dependent chain over the first PW_RUN entries only, then
    pw[t] = pw[t − PW_RUN]·w^PW_RUN (a dependence PW_RUN apart: vectorised)."""
    n = pw.shape[0]
    acc = ONE
    for t in range(min(n, PW_RUN)):
        pw[t] = acc
        acc = gl_mul_s(acc, w)
    if n > PW_RUN:
        _pw_runs(pw, acc, n)


@njit(**_OPTS)
def _pw_runs(pw, wr, n):
    """pw[t] = pw[t − PW_RUN]·wr for t ≥ PW_RUN (wr = w^PW_RUN), run by run (views: the
    products vectorise)."""
    for t0 in range(PW_RUN, n, PW_RUN):
        _mul_const(pw[t0 - PW_RUN:t0], wr, pw[t0:t0 + PW_RUN], min(PW_RUN, n - t0))


@njit(inline="always", **_OPTS)
def _mul_const(x, w, out, n):
    """out[t] = x[t]·w on unit-stride runs."""
    for t in range(n):
        out[t] = gl_mul(x[t], w)


def _pw_init_ref(n: int, w: int) -> list[int]:
    """Twin of `_pw_init`: [w^t for t < n] (Python integers)."""
    return [pow(int(w), t, P_INT) for t in range(n)]


@njit(inline="always", **_OPTS)
def _mul_runs(x, y, out, n):
    """out[t] = x[t]·y[t] on unit-stride runs (vectorised; out may be x)."""
    for t in range(n):
        out[t] = gl_mul(x[t], y[t])


@njit(inline="always", **_OPTS)
def _twist_dft_leaves_rows(enc, ncomp, T, K, S, wa, wt, tw, rev, lo, hi, buf, pw, out):
    """Rows lo … hi − 1 of enc twisted by y^t (y = ω^a) and DFT'd into their leaves.
    The twist factors pw[t] = ω^(a·t) are advanced from row to row by one product with
    wt[t] = ω^t (a vectorised pass instead of a chain of dependent products)."""
    G = T // K
    if lo < hi:
        _pw_init(pw, wa[lo])
    for a in range(lo, hi):
        for comp in range(ncomp):
            # twist product fused into the first stage; output in the lane layout
            _dif_src(buf, enc[a, comp * T:(comp + 1) * T], pw, tw)
            # j' = g + j·G: leaf a + g·S, slot j (each leaf written in one sweep)
            for g in range(G):
                row = a + g * S
                for j in range(K):
                    out[row, j * ncomp + comp] = buf[rev[g + j * G]]
        _mul_runs(pw, wt, pw, T)


@njit(parallel=True, **_OPTS)
def _twist_dft_leaves_par(enc, ncomp, T, K, wa, wt, tw, rev, out, nch):
    S = enc.shape[0]
    step = (S + nch - 1) // nch
    for ch in prange(nch):
        buf = np.empty(T, dtype=np.uint64)
        pw = np.empty(T, dtype=np.uint64)
        _twist_dft_leaves_rows(enc, ncomp, T, K, S, wa, wt, tw, rev, ch * step,
                               min(S, (ch + 1) * step), buf, pw, out)


@njit(**_OPTS)
def _twist_dft_leaves_ser(enc, ncomp, T, K, wa, wt, tw, rev, out):
    buf = np.empty(T, dtype=np.uint64)
    pw = np.empty(T, dtype=np.uint64)
    _twist_dft_leaves_rows(enc, ncomp, T, K, enc.shape[0], wa, wt, tw, rev, 0, enc.shape[0],
                           buf, pw, out)


def _split_log(m: int, d: int, k: int) -> int:
    """log T of `encode_leaves`' split: about half the domain's log, between k and m (a
    four-step transform: both passes then work on rows that stay in cache)."""
    return max(k, min(m, d // 2))


def encode_leaves(c: np.ndarray, log_domain: int, k: int,
                  log_split: int | None = None) -> np.ndarray:
    """Leaves of the codeword of coefficients ``c`` (base (2^m,) or extension (2^m, 2))
    on the domain of size 2^log_domain, grouped in leaves of K = 2^k (module doc):
    (2^d/K, K) for base, (2^d/K, K, 2) for extension input.

    With T = 2^log_split (k ≤ log_split ≤ m; default `_split_log`) and
    p(X) = Σ_{t<T} X^t q_t(X^T) (q_t has coefficients c[t + T·v]), the T values of p at
    the roots of y^T (y = ω^a, a < S = 2^d/T) are Σ_t (y^t q_t(y^T)) ζ_T^(j't): the q_t
    are Reed–Solomon encoded on the subgroup of size S (`ntt.rs_encode`, T rows), each
    output row is twisted by y^t and transformed by a size-T DFT, and the value at
    y·ζ_T^j' = ω^(a + j'·S) lands in leaf a + (j' mod T/K)·S, slot j' div (T/K).  The
    values do not depend on T; the default split keeps both transforms in cache."""
    ext = c.ndim == 2
    N = c.shape[0]
    m = N.bit_length() - 1
    K = 1 << k
    if not (0 <= k <= m < log_domain):
        raise ValueError(f"encode_leaves: need k ≤ m < d, got k={k}, m={m}, d={log_domain}")
    lt = _split_log(m, log_domain, k) if log_split is None else log_split
    if not (k <= lt <= m):
        raise ValueError(f"encode_leaves: need k ≤ log_split ≤ m, got {lt}")
    if log_domain <= COLD_NTT_LOG and G.cold(1 << log_domain):  # a cold verifier:
        # one numpy NTT per component (the small tables a verifier commits again)
        return _encode_leaves_cold(np.ascontiguousarray(c, dtype=np.uint64), log_domain, k)
    T = 1 << lt
    ncomp = 2 if ext else 1
    M = np.empty((ncomp * T, N // T), dtype=np.uint64)
    _split_rows(np.ascontiguousarray(c, dtype=np.uint64).reshape(-1), T, ncomp, M)
    enc = rs_encode(M, log_domain - m)  # (S, ncomp·T): enc[a, comp·T + t] = q_t(y^T)
    del M
    S = enc.shape[0]
    rows = (1 << log_domain) // K
    out = np.empty((rows, K * ncomp), dtype=np.uint64)
    wa = powers(root_of_unity(log_domain), S)
    wt = _twist_steps(log_domain, lt)
    tw, rev = _dft_tables(lt)
    if enc.size < SERIAL_BELOW:
        _twist_dft_leaves_ser(enc, ncomp, T, K, wa, wt, tw, rev, out)
    else:
        _twist_dft_leaves_par(enc, ncomp, T, K, wa, wt, tw, rev, out, 64)
    return out.reshape(rows, K, 2) if ext else out


# -- streamed encoding (a prover whose codeword lives in a scratch file) -------------------
#
# `encode_leaves` in three passes that each hold one block: with the coefficient matrix
# C[v, t] = c[t + T·v] (T = 2^log_split), (1) every column t of C is Reed–Solomon
# encoded (`ntt.rs_encode` of a block of columns at a time), giving rows of enc (S, T);
# (2) every row a of enc is twisted and transformed (`twist_dft_block`), filling the
# leaves a + g·S.  A committed table's coefficient form is itself computed in two
# passes: the Möbius passes of the low log_split variables act inside each row of the
# table seen as (2^m / T, T) (`mobius_low`), those of the high variables inside each
# column (`mobius_high` on a contiguous block of columns).


def split_log(m: int, d: int, k: int) -> int:
    """log T of `encode_leaves`' default split (the streamed encoder uses the same)."""
    return _split_log(m, d, k)


def mobius_low(a: np.ndarray, lo: int) -> None:
    """In place: the Möbius passes of variables 0 … lo−1 of a (2^m,) uint64 array (each
    run of 2^lo entries on its own)."""
    n = a.shape[0].bit_length() - 1
    lo = min(lo, n)
    if a.shape[0] < SERIAL_BELOW:
        for j in range(lo):
            v = a.reshape(-1, 2, 1 << j)
            v[:, 1, :] = G.np_sub(v[:, 1, :], v[:, 0, :])
        return
    _mobius_blocks(a, lo)


@njit(parallel=True, **_OPTS)
def _mobius_rows_tiles(src, out, lt, cb, nch):
    """`_mobius_rows_tiles_ref` (the maxima of the chunks' source entries in ``mx``)."""
    T = 1 << lt
    rows = src.shape[0] >> lt
    nt = T // cb
    step = (rows + nch - 1) // nch
    mx = np.zeros(nch, dtype=np.uint64)
    for ch in prange(nch):
        buf = np.empty(T, dtype=np.uint64)
        m = np.uint64(0)
        for r in range(ch * step, min(rows, (ch + 1) * step)):
            row = src[r * T:(r + 1) * T]
            for i in range(T):
                if row[i] > m:
                    m = row[i]
            _mobius_block(row, buf, 0, lt, 0)
            for j in range(nt):
                o = out[j, r]
                for c in range(cb):
                    o[c] = buf[j * cb + c]
        mx[ch] = m
    return mx.max()


def mobius_rows_tiles(src: np.ndarray, out: np.ndarray, lt: int, cb: int) -> int:
    """The Möbius passes of variables 0 … lt−1 of each run of T = 2^lt entries of
    ``src`` (rows × T uint64, flat C-contiguous; not changed), written as tiles of cb
    columns: ``out[j, v, c]`` = row v's transformed entry j·cb + c, ``out`` a
    C-contiguous (T / cb, rows, cb) uint64 array (`mobius_low` then the tile
    transpose, in one pass from the source: no copy of the block, no separate
    transpose and maximum passes).  Returns the largest source entry (0 when empty)."""
    T = 1 << lt
    rows = src.shape[0] >> lt
    if src.shape[0] != rows * T or cb < 1 or T % cb or out.shape != (T // cb, rows, cb) \
            or not (src.flags.c_contiguous and out.flags.c_contiguous):
        raise ValueError("mobius_rows_tiles: shapes do not match")
    if rows == 0:
        return 0
    if src.shape[0] < SERIAL_BELOW or lt < 3:
        return _mobius_rows_tiles_ref(src, out, lt, cb)
    nch = max(1, min(64, rows))
    if XMOB and lt >= 6:
        return int(_mobius_rows_tiles_x(src, out, lt, cb, nch))
    return int(_mobius_rows_tiles(src, out, lt, cb, nch))


def _mobius_rows_tiles_ref(src: np.ndarray, out: np.ndarray, lt: int, cb: int) -> int:
    """Twin of `mobius_rows_tiles` (numpy: copy, `mobius_low`'s small path, transpose)."""
    T = 1 << lt
    rows = src.shape[0] >> lt
    x = np.array(src, dtype=np.uint64, copy=True)
    for j in range(lt):
        v = x.reshape(-1, 2, 1 << j)
        v[:, 1, :] = G.np_sub(v[:, 1, :], v[:, 0, :])
    out[...] = x.reshape(rows, T // cb, cb).transpose(1, 0, 2)
    return int(src.max()) if src.size else 0


def mobius_high(a: np.ndarray, j0: int) -> None:
    """In place: the Möbius passes of variables j0 … m−1 of a (2^m,) uint64 array."""
    n = a.shape[0].bit_length() - 1
    if j0 < n:
        _mobius_hi8(a, j0, mobius_plan(j0, n))


@njit(inline="always", **_OPTS)
def _twist_chunk(ch, step, rows, T, wa, a0):
    """A twisting DFT kernel's chunk ch of ``step`` block rows: its work buffer, the
    twist powers pw[t] = ω^((a0 + r_lo)·t) of its first row, and its rows [r_lo, r_hi)."""
    buf = np.empty(T, dtype=np.uint64)
    pw = np.empty(T, dtype=np.uint64)
    r_lo = ch * step
    r_hi = min(rows, (ch + 1) * step)
    if r_lo < r_hi:
        _pw_init(pw, wa[a0 + r_lo])
    return buf, pw, r_lo, r_hi


@njit(parallel=True, **_OPTS)
def _twist_dft_block(enc, a0, ncomp, T, K, S, wa, wt, tw, rev, out, nch, local):
    rows = enc.shape[0]
    G = T // K
    stride = rows if local else S
    first = 0 if local else a0
    step = (rows + nch - 1) // nch
    for ch in prange(nch):
        buf, pw, r_lo, r_hi = _twist_chunk(ch, step, rows, T, wa, a0)
        for r in range(r_lo, r_hi):
            for comp in range(ncomp):
                _dif_src(buf, enc[r, comp * T:(comp + 1) * T], pw, tw)
                for g in range(G):
                    row = first + r + g * stride
                    for j in range(K):
                        out[row, j * ncomp + comp] = buf[rev[g + j * G]]
            _mul_runs(pw, wt, pw, T)


def twist_dft_block(enc: np.ndarray, a0: int, log_domain: int, k: int, log_split: int,
                    wa: np.ndarray, out: np.ndarray, local: bool = False) -> None:
    """Rows a0 … a0 + len(enc) − 1 of enc (S, ncomp·T) (the column codewords of the
    split, see `encode_leaves`) twisted by y^t (y = ω^a, ``wa`` = ω^a for every a < S)
    and DFT'd: their values written into ``out`` (2^d/K, K·ncomp), the leaves
    a + g·S.  Every row of enc once gives exactly `encode_leaves`' leaves.  With
    ``local``, ``out`` is (G·len(enc), K·ncomp) (G = T/K) and leaf a + g·S lands in its
    row (a − a0) + g·len(enc): the block's G runs of leaves, each contiguous."""
    T = 1 << log_split
    ncomp = enc.shape[1] // T
    S = (1 << log_domain) >> log_split
    tw, rev = _dft_tables(log_split)
    wt = _twist_steps(log_domain, log_split)
    enc = np.ascontiguousarray(enc, dtype=np.uint64)
    nch = 1 if enc.size < SERIAL_BELOW else max(1, min(64, enc.shape[0]))
    _twist_dft_block(enc, a0, ncomp, T, 1 << k, S, wa, wt, tw, rev, out, nch, local)


@njit(inline="always", **_OPTS)
def _tile_seg(ram, piece, a0, r, j, comp, cb):
    """Tile j's cb entries of component comp of block row r: from the RAM tiles (row
    a0 + r) for j < len(ram), else from the block's file pieces (row r)."""
    held = ram.shape[0]
    if j < held:
        return ram[j, a0 + r, comp * cb:(comp + 1) * cb]
    return piece[j - held, r, comp * cb:(comp + 1) * cb]


@njit(inline="always", **_OPTS)
def _leaf_tails(buf, tw, rev, out, r, rows, ncomp, comp):
    """For leaves of K = 16 and T = len(buf) ≥ FAST_MIN whose radix-2 DIF stages down to
    8 apart are done: the radix-8 tails of each run of 64 entries (`_transpose8`,
    `_tail8_lanes`, as `_dif_stages`) with the run's 4 leaves written straight into out
    (the same values and places as `_twist_dft_tiles`' scatter through ``rev``).  Run
    64·g' (g' = bitrev(u0) on log T − 6 bits: rev[u0] = 64·g', `fast_perm` leaves such
    entries in place) holds leaves bg = 4g' + c, c < 4, i.e. g = u0 + bitrev2(c)·T/64,
    whose slot j = 2·bitrev3(i) + β sits at v[8i + 2c + β]; the runs go in u0 order,
    so the 4 leaf streams advance one out row block (``rows``) at a time."""
    T = buf.shape[0]
    G4 = T >> 6
    w81 = tw[5]
    w82 = tw[6]
    w83 = tw[7]
    w4 = tw[3]
    for u0 in range(G4):
        o = rev[u0]
        v = buf[o:o + 64]
        _transpose8(v, 0)
        _tail8_lanes(v, 0, w81, w82, w83, w4)
        for c in range(4):
            g = u0 + (((c & 1) << 1) | (c >> 1)) * G4
            orow = out[r + g * rows]
            for i in range(8):
                ji = 2 * (((i & 1) << 2) | (i & 2) | (i >> 2))
                orow[ji * ncomp + comp] = v[8 * i + 2 * c]
                orow[(ji + 1) * ncomp + comp] = v[8 * i + 2 * c + 1]


@njit(parallel=True, **_OPTS)
def _twist_dft_tiles(ram, piece, a0, rows, ncomp, T, K, S, cb, wa, wt, tw, rev, out, nch):
    """`_twist_dft_block` (``local``) of the block rows a0 … a0 + rows − 1 of enc whose
    row r, component comp, is the concatenation over the tiles j < T/cb of
    `_tile_seg`: read in place, without the assembled block.  From FAST_MIN entries on
    with two tiles or more, the first DIF stage pairs tile j with tile j + T/(2cb)
    (`_bfly_run_in`, the twist product fused in), the rest is `_dif_stages` — for
    leaves of K = 16 the radix-2 stages (`_r2_stages`) and `_leaf_tails`, which writes
    each run's leaves itself; else the row is gathered into a local buffer and
    `_dif_src` runs on it (the same values)."""
    G = T // K
    nt = T // cb
    half = T >> 1
    step = (rows + nch - 1) // nch
    for ch in prange(nch):
        _wide512()
        buf, pw, r_lo, r_hi = _twist_chunk(ch, step, rows, T, wa, a0)
        row_buf = np.empty(T, dtype=np.uint64)
        for r in range(r_lo, r_hi):
            for comp in range(ncomp):
                if nt == 1:
                    _dif_src(buf, _tile_seg(ram, piece, a0, r, 0, comp, cb), pw, tw)
                elif T >= FAST_MIN:
                    hb = nt >> 1
                    for jj in range(hb):
                        o = jj * cb
                        _bfly_run_in(_tile_seg(ram, piece, a0, r, jj, comp, cb),
                                     _tile_seg(ram, piece, a0, r, jj + hb, comp, cb),
                                     pw[o:o + cb], pw[half + o:half + o + cb],
                                     buf[o:o + cb], buf[half + o:half + o + cb],
                                     tw[half + o:half + o + cb], cb)
                    if K == 16:   # the tails write the leaves themselves
                        _r2_stages(buf, tw, half >> 1)
                        _leaf_tails(buf, tw, rev, out, r, rows, ncomp, comp)
                        continue
                    _dif_stages(buf, tw, half >> 1, False)
                else:
                    for j in range(nt):
                        seg = _tile_seg(ram, piece, a0, r, j, comp, cb)
                        for t in range(cb):
                            row_buf[j * cb + t] = seg[t]
                    _dif_src(buf, row_buf, pw, tw)
                for g in range(G):
                    orow = r + g * rows
                    for j in range(K):
                        out[orow, j * ncomp + comp] = buf[rev[g + j * G]]
            _mul_runs(pw, wt, pw, T)


def twist_dft_tiles(ram: np.ndarray, piece: np.ndarray, a0: int, rows: int,
                    log_domain: int, k: int, log_split: int, cb: int, wa: np.ndarray,
                    out: np.ndarray) -> None:
    """`twist_dft_block`(enc[a0 : a0 + rows], a0, …, local=True) where enc (S, ncomp·T)
    is held as column-codeword tiles of cb columns (ncomp·cb words a row, component
    comp at [comp·cb, (comp + 1)·cb)): tiles j < len(ram) are ``ram[j]`` (S rows), the
    others ``piece[j − len(ram)]`` (the block's rows only).  Both C-contiguous uint64
    3-D arrays (an empty one of shape (0, ·, ncomp·cb) for none)."""
    T = 1 << log_split
    w = ram.shape[2]
    ncomp = w // cb
    nt = T // cb
    S = (1 << log_domain) >> log_split
    if ram.shape[0] + piece.shape[0] != nt or piece.shape[2] != w or \
            (piece.shape[0] and piece.shape[1] < rows) or a0 + rows > S:
        raise ValueError("twist_dft_tiles: tiles do not match the split")
    tw, rev = _dft_tables(log_split)
    wt = _twist_steps(log_domain, log_split)
    size = rows * T * ncomp
    nch = 1 if size < SERIAL_BELOW else max(1, min(64, rows))
    if XDFT and T >= FAST_MIN and nt >= 2 and cb % 8 == 0 and tw.shape[0] == 2 * T:
        # K = 16 / 32 one-component leaves by `_x_leaf16` / `_x_leaf32` (s42h1):
        # non-temporal stores where out's rows are whole aligned lines
        lx = 0
        if XLEAF and k in (4, 5) and ncomp == 1 and out.flags.c_contiguous and \
                out.dtype == np.uint64 and out.shape[1] == 1 << k:
            lx = 2 if XLEAF_NT and out.ctypes.data % 64 == 0 else 1
        _twist_dft_tiles_x(ram, piece, a0, rows, ncomp, T, 1 << k, S, cb, wa, wt, tw, rev,
                           out, nch, lx)
        return
    _twist_dft_tiles(ram, piece, a0, rows, ncomp, T, 1 << k, S, cb, wa, wt, tw, rev, out,
                     nch)


# -- the tile DFT's radix-2 stages as explicit <8 x i64> IR (s38h3) ------------------------
#
# `_twist_dft_tiles` autovectorised runs its butterflies as `gl_*` loops over unit-stride
# runs (numba's loop vectoriser: run-length bookkeeping, canonical compares written as
# branches).  `_twist_dft_tiles_x` runs the same stages (and the twist powers' update) as
# llvmlite IR on <8 x i64> vectors of 8 neighbouring entries of a row (`_x_first`,
# `_x_r4`, `_x_stage`, `_x_mulrun`) with leaner canonical arithmetic: an addition as
# a − (p − b) plus a masked p (4 ops), a subtraction with a masked p (3), a product's
# 32-bit limb products (vpmuludq) then `gl_reduce128`'s steps with the high limb times
# 2^32 − 1 as one more vpmuludq and the final canonical step as an unsigned minimum
# (min(r, r − p mod 2^64)).  Every value stays canonical, so the outputs are the old
# kernel's exactly.  The radix-8 tails and the leaves' scatter are the old kernel's code.

#: `twist_dft_tiles` takes `_twist_dft_tiles_x` where its shape allows (tests toggle it):
#: on AVX-512 IFMA hosts (`whir_eq.IFMA`), where it was measured; its IR is plain <8 x i64> and
#: compiles on any host
XDFT = IFMA
#: `mobius_rows_tiles` takes `_mobius_rows_tiles_x` (s39h2; tests toggle it)
XMOB = True

_XP = P_INT
_XEPS = (1 << 32) - 1


def _x_add(b, x, y):
    """a + b mod p of canonical vectors: s = a − (p − b), plus p where a < p − b."""
    nb = b.sub(_xc(_XP), y)
    s = b.sub(x, nb)
    return b.select(b.icmp_unsigned("<", x, nb), b.add(s, _xc(_XP)), s)


def _x_sub(b, x, y):
    """a − b mod p of canonical vectors."""
    d = b.sub(x, y)
    return b.select(b.icmp_unsigned("<", x, y), b.add(d, _xc(_XP)), d)


def _x_canon(b, r):
    """r mod p for any uint64 r: min(r, r − p mod 2^64)."""
    t = b.add(r, _xc(_XEPS))
    return b.select(b.icmp_unsigned("<", t, r), t, r)


def _x_reduce(b, hi, lo):
    """(hi·2^64 + lo) mod p (canonical): `gl_reduce128`, hi's low limb times 2^32 − 1 as
    a 32-bit product."""
    m32 = _xc(0xFFFFFFFF)
    hh = b.lshr(hi, _xc(32))
    t0 = b.sub(lo, hh)
    t0 = b.select(b.icmp_unsigned("<", lo, hh), b.sub(t0, _xc(_XEPS)), t0)
    t1 = b.mul(b.and_(hi, m32), _xc(_XEPS))
    r = b.add(t0, t1)
    r = b.select(b.icmp_unsigned("<", r, t1), b.add(r, _xc(_XEPS)), r)
    return _x_canon(b, r)


def _x_mul(b, x, w):
    """x·w mod p (canonical) of canonical vectors: `mul128`'s 32-bit limb products."""
    return _x_reduce(b, *_v_mul_limbs(b, x, w))


def _x_mul_2_48(b, x):
    """x·2^48 mod p (canonical): (x >> 16)·2^64 + (x << 48) reduced."""
    return _x_reduce(b, b.lshr(x, _xc(16)), b.shl(x, _xc(48)))


def _x_ld(b, base, off):
    return b.load(_x_ptr(b, base, off), align=8)


def _x_st(b, v, base, off):
    b.store(v, _x_ptr(b, base, off), align=8)


def _x_prefetch(b, base, off):
    """A prefetch of base[off]'s line into L2 (`llvm.prefetch`, read, locality 2)."""
    i32 = ir.IntType(32)
    p8 = ir.IntType(8).as_pointer()
    fn = cgutils.get_or_insert_function(
        b.module, ir.FunctionType(ir.VoidType(), [p8, i32, i32, i32]), "llvm.prefetch.p0")
    b.call(fn, [b.bitcast(b.gep(base, [off]), p8), ir.Constant(i32, 0),
                ir.Constant(i32, 2), ir.Constant(i32, 1)])


def _x_first_codegen(context, builder, sig, args):
    s0 = _x_arr(context, builder, sig, args, 0)
    o0 = args[1]
    s1 = _x_arr(context, builder, sig, args, 2)
    o1 = args[3]
    f = _x_arr(context, builder, sig, args, 4)
    fo0, fo1 = args[5], args[6]
    buf = _x_arr(context, builder, sig, args, 7)
    bo0, bo1 = args[8], args[9]
    tw = _x_arr(context, builder, sig, args, 10)
    two, n, pd = args[11], args[12], args[13]
    b = builder
    with cgutils.for_range(b, b.lshr(n, ir.Constant(_XI64, 3))) as loop:
        i = b.shl(loop.index, ir.Constant(_XI64, 3))
        _x_prefetch(b, s0, b.add(b.add(o0, i), pd))
        _x_prefetch(b, s1, b.add(b.add(o1, i), pd))
        x0 = _x_mul(b, _x_ld(b, s0, b.add(o0, i)), _x_ld(b, f, b.add(fo0, i)))
        x1 = _x_mul(b, _x_ld(b, s1, b.add(o1, i)), _x_ld(b, f, b.add(fo1, i)))
        _x_st(b, _x_add(b, x0, x1), buf, b.add(bo0, i))
        _x_st(b, _x_mul(b, _x_sub(b, x0, x1), _x_ld(b, tw, b.add(two, i))), buf,
              b.add(bo1, i))
    return context.get_dummy_value()


@intrinsic
def _x_first(typingctx, s0, o0, s1, o1, f, fo0, fo1, buf, bo0, bo1, tw, two, n, pd):
    """The first DIF stage read from two sources with the twist product fused in
    (`ntt._bfly_run_in`) on vectors: for i < n (n % 8 = 0), x0 = s0[o0 + i]·f[fo0 + i],
    x1 = s1[o1 + i]·f[fo1 + i], buf[bo0 + i] ← x0 + x1, buf[bo1 + i] ← (x0 − x1)·tw[two + i]
    (flat C-contiguous uint64 arrays); the sources' words pd further on (the next row's)
    are prefetched into L2."""
    i64 = types.int64
    return types.void(s0, i64, s1, i64, f, i64, i64, buf, i64, i64, tw, i64, i64, i64), \
        _x_first_codegen


def _x_stage_codegen(context, builder, sig, args):
    buf = _x_arr(context, builder, sig, args, 0)
    k, h = args[1], args[2]
    tw = _x_arr(context, builder, sig, args, 3)
    b = builder
    three = ir.Constant(_XI64, 3)
    h2 = b.shl(h, ir.Constant(_XI64, 1))
    with cgutils.for_range(b, b.udiv(k, h2)) as outer:
        st = b.mul(outer.index, h2)
        with cgutils.for_range(b, b.lshr(h, three)) as loop:
            j = b.shl(loop.index, three)
            pl = b.add(st, j)
            ph = b.add(pl, h)
            x = _x_ld(b, buf, pl)
            y = _x_ld(b, buf, ph)
            _x_st(b, _x_add(b, x, y), buf, pl)
            _x_st(b, _x_mul(b, _x_sub(b, x, y), _x_ld(b, tw, b.add(h, j))), buf, ph)
    return context.get_dummy_value()


@intrinsic
def _x_stage(typingctx, buf, k, h, tw):
    """One radix-2 DIF stage of buf (k entries) with butterflies h apart (h % 8 = 0),
    twiddle tw[h + j] (`stage_twiddles`), on vectors of 8 neighbouring entries."""
    return types.void(buf, types.int64, types.int64, tw), _x_stage_codegen


def _x_r4_codegen(context, builder, sig, args):
    buf = _x_arr(context, builder, sig, args, 0)
    k, q = args[1], args[2]
    tw = _x_arr(context, builder, sig, args, 3)
    b = builder
    three = ir.Constant(_XI64, 3)
    q4 = b.shl(q, ir.Constant(_XI64, 2))
    q2 = b.shl(q, ir.Constant(_XI64, 1))
    with cgutils.for_range(b, b.udiv(k, q4)) as outer:
        st = b.mul(outer.index, q4)
        with cgutils.for_range(b, b.lshr(q, three)) as loop:
            jj = b.shl(loop.index, three)
            p0 = b.add(st, jj)
            p1 = b.add(p0, q)
            p2 = b.add(p1, q)
            p3 = b.add(p2, q)
            x0, x1, x2, x3 = (_x_ld(b, buf, p) for p in (p0, p1, p2, p3))
            u0 = _x_add(b, x0, x2)
            u2 = _x_sub(b, x0, x2)
            u1 = _x_add(b, x1, x3)
            u3 = _x_mul_2_48(b, _x_sub(b, x1, x3))
            _x_st(b, _x_add(b, u0, u1), buf, p0)
            _x_st(b, _x_mul(b, _x_sub(b, u0, u1), _x_ld(b, tw, b.add(q, jj))), buf, p1)
            _x_st(b, _x_mul(b, _x_add(b, u2, u3), _x_ld(b, tw, b.add(q2, jj))), buf, p2)
            _x_st(b, _x_mul(b, _x_sub(b, u2, u3), _x_ld(b, tw, b.add(b.add(k, q), jj))),
                  buf, p3)
    return context.get_dummy_value()


@intrinsic
def _x_r4(typingctx, buf, k, q, tw):
    """The DIF stages 2q and q apart (q % 8 = 0) of buf (k entries) as one radix-2² pass
    (`ntt._r4_pair`'s arithmetic; ``tw`` = `stage_twiddles` of k with its cube tables),
    on vectors of 8 neighbouring entries."""
    return types.void(buf, types.int64, types.int64, tw), _x_r4_codegen


def _x_mulrun_codegen(context, builder, sig, args):
    x = _x_arr(context, builder, sig, args, 0)
    y = _x_arr(context, builder, sig, args, 1)
    b = builder
    with cgutils.for_range(b, b.lshr(args[2], ir.Constant(_XI64, 3))) as loop:
        i = b.shl(loop.index, ir.Constant(_XI64, 3))
        _x_st(b, _x_mul(b, _x_ld(b, x, i), _x_ld(b, y, i)), x, i)
    return context.get_dummy_value()


@intrinsic
def _x_mulrun(typingctx, x, y, n):
    """x[i] ← x[i]·y[i] for i < n (n % 8 = 0), on vectors (`_mul_runs`)."""
    return types.void(x, y, types.int64), _x_mulrun_codegen


def _x_mob6_codegen(context, builder, sig, args):
    src = _x_arr(context, builder, sig, args, 0)
    so = args[1]
    dst = _x_arr(context, builder, sig, args, 2)
    do = args[3]
    b = builder
    v = [_x_ld(b, src, b.add(so, ir.Constant(_XI64, 8 * k))) for k in range(8)]
    i32 = ir.IntType(32)
    for j in range(3):   # variables 0-2: lanes l with bit j minus lane l ^ 2^j
        idx = ir.Constant(ir.VectorType(i32, 8), [lane ^ (1 << j) for lane in range(8)])
        msk = ir.Constant(ir.VectorType(ir.IntType(1), 8),
                          [(lane >> j) & 1 for lane in range(8)])
        for k in range(8):
            sh = b.shuffle_vector(v[k], v[k], idx)
            v[k] = b.select(msk, _x_sub(b, v[k], sh), v[k])
    for j in range(3):   # variables 3-5: vector k with bit j minus vector k ^ 2^j
        for k in range(8):
            if k >> j & 1:
                v[k] = _x_sub(b, v[k], v[k ^ (1 << j)])
    for k in range(8):
        _x_st(b, v[k], dst, b.add(do, ir.Constant(_XI64, 8 * k)))
    return context.get_dummy_value()


@intrinsic
def _x_mob6(typingctx, src, so, dst, do):
    """dst[do : do + 64] = src[so : so + 64] with the Möbius passes of its six variables
    (flat bits 0-5) done, on eight <8 x i64> vectors: bits 0-2 by lane shuffles, bits 3-5
    across the vectors (s39h2; canonical `_x_sub`: the same values as the scalar passes)."""
    return types.void(src, types.int64, dst, types.int64), _x_mob6_codegen


@njit(**_OPTS)
def _x_mob6_call(src, so, dst, do):
    """`_x_mob6` as a real call (tests)."""
    _x_mob6(src, so, dst, do)


@njit(parallel=True, **_OPTS)
def _mobius_rows_tiles_x(src, out, lt, cb, nch):
    """`_mobius_rows_tiles` with each row's variables 0-5 by `_x_mob6` on runs of 64
    words (read from src), the others (6 … lt − 1) three at a time on the buffer
    (`_sub_run8`, then `_sub_run4` / `_sub_run`); lt ≥ 6 (s39h2).  The same values."""
    T = 1 << lt
    rows = src.shape[0] >> lt
    nt = T // cb
    step = (rows + nch - 1) // nch
    mx = np.zeros(nch, dtype=np.uint64)
    for ch in prange(nch):
        _wide512()
        buf = np.empty(T, dtype=np.uint64)
        m = np.uint64(0)
        for r in range(ch * step, min(rows, (ch + 1) * step)):
            row = src[r * T:(r + 1) * T]
            for i in range(T):
                if row[i] > m:
                    m = row[i]
            for c in range(0, T, 64):
                _x_mob6(src, r * T + c, buf, c)
            j = 6
            while j + 2 < lt:
                h = 1 << j
                for st in range(0, T, 8 * h):
                    _sub_run8(buf, st, h, h)
                j += 3
            if j + 1 < lt:
                h = 1 << j
                for st in range(0, T, 4 * h):
                    _sub_run4(buf[st:st + h], buf[st + h:st + 2 * h],
                              buf[st + 2 * h:st + 3 * h], buf[st + 3 * h:st + 4 * h], h)
                j += 2
            if j < lt:
                h = 1 << j
                for st in range(0, T, 2 * h):
                    _sub_run(buf[st:st + h], buf[st + h:st + 2 * h], h)
            for j in range(nt):
                o = out[j, r]
                for c in range(cb):
                    o[c] = buf[j * cb + c]
        mx[ch] = m
    return mx.max()


@njit(inline="always", **_OPTS)
def _x_r2_stages(buf, tw, half):
    """`ntt._r2_stages` (stages ``half`` … 8 apart; radix-2² pairs: ``tw`` has the cube
    tables) with the vector passes."""
    k = buf.shape[0]
    while half >= 16:
        _x_r4(buf, k, half >> 1, tw)
        half >>= 2
    while half >= 8:
        _x_stage(buf, k, half, tw)
        half >>= 1


@njit(inline="always", **_OPTS)
def _x_tails(buf, tw):
    """`ntt._dif_stages`' radix-8 tails of every run of 64 entries (lane layout, not
    transposed back)."""
    k = buf.shape[0]
    w81 = tw[5]
    w82 = tw[6]
    w83 = tw[7]
    w4 = tw[3]
    for g in range(0, k, 64):
        v = buf[g:g + 64]
        _transpose8(v, 0)
        _tail8_lanes(v, 0, w81, w82, w83, w4)


@njit(**_OPTS)
def _x_tails_call(buf, tw):
    """`_x_tails` as a real call (tests)."""
    _x_tails(buf, tw)


# -- the K = 16 leaves' tails and stores as vector IR (s42h1) -------------------------------
#
# `_leaf_tails` (scalar transposes, the autovectorised radix-8 tails, 64 scalar stores a
# run into four leaf rows 128 KiB apart) measured 3.9 ns a codeword element of one
# thread at T = 2^11, of the tile DFT's ~8: `_x_leaf16` keeps a run's 64 entries in eight
# <8 x i64> registers: an 8 × 8 transpose by shuffles, the radix-8 tails by shifts
# (`ntt._v_dif8_pow2`, canonical outputs: the same values), a 4 × 4 transpose of 128-bit
# pairs that assembles each leaf row, and each leaf row stored as two whole 64-byte lines
# (non-temporal where ``out`` is 64-byte aligned: no read for ownership of lines that are
# written whole and not read again before the leaves' write and hash).

#: `_twist_dft_tiles_x` writes K = 16 and K = 32 one-component leaves through `_x_leaf16`
#: / `_x_leaf32` (tests toggle it)
XLEAF = True
#: ... with non-temporal stores where ``out`` is 64-byte aligned (tests toggle it)
XLEAF_NT = True


def _x_shuffle_pairs(b, v, s, unit):
    """One round of a block transpose of the vectors v (lists of <8 x i64>): for each pair
    (v[j], v[j + s]) (j & s = 0) the lane groups of ``unit`` words with group bit s set
    in v[j] swapped with those with it clear in v[j + s] (bit s of the vector index
    exchanged with bit s of the group index)."""
    i32 = ir.IntType(32)
    n = len(v)
    for j in range(n):
        if j & s:
            continue
        lo, hi = [], []
        for lane in range(8):
            u, w = lane // unit, lane % unit
            if u & s:
                lo.append(8 + (u - s) * unit + w)
                hi.append(8 + lane)
            else:
                lo.append(lane)
                hi.append((u + s) * unit + w)
        x, y = v[j], v[j + s]
        v[j] = b.shuffle_vector(x, y, ir.Constant(ir.VectorType(i32, 8), lo))
        v[j + s] = b.shuffle_vector(x, y, ir.Constant(ir.VectorType(i32, 8), hi))
    return v


def _x_leaf16_codegen(context, builder, sig, args, nt=False, K=16):
    buf = _x_arr(context, builder, sig, args, 0)
    bo = args[1]
    out = _x_arr(context, builder, sig, args, 2)
    offs = args[3:3 + 64 // K]
    b = builder
    i32 = ir.IntType(32)
    x = [_x_ld(b, buf, b.add(bo, ir.Constant(_XI64, 8 * i))) for i in range(8)]
    for s in (1, 2, 4):   # x[i][l] = entry 8l + i of the run: block l's entry i
        x = _x_shuffle_pairs(b, x, s, 1)
    y = _v_dif8_pow2(b, x, *_TAILS8_TWS)   # `_radix8`'s outputs, canonical
    rows = []
    if K == 16:
        # leaf row c: words 2s, 2s + 1 = y[bitrev3(s)] lanes 2c, 2c + 1
        lines = []
        for grp in ((0, 4, 2, 6), (1, 5, 3, 7)):
            v = [y[i] for i in grp]
            for s in (1, 2):
                v = _x_shuffle_pairs(b, v, s, 2)
            lines.append(v)   # v[c]: leaf row c's line
        rows = [(lines[0][c], lines[1][c]) for c in range(4)]
    else:
        # leaf row h (K = 32): word 4s + t = y[bitrev3(s)] lane 4h + bitrev2(t)
        br3 = (0, 4, 2, 6, 1, 5, 3, 7)
        for h in range(2):
            idx = [4 * h + t for t in (0, 2, 1, 3)]
            idx = ir.Constant(ir.VectorType(i32, 8), idx + [8 + i for i in idx])
            rows.append(tuple(b.shuffle_vector(y[br3[2 * L]], y[br3[2 * L + 1]], idx)
                              for L in range(4)))
    md = b.module.add_metadata([ir.Constant(ir.IntType(32), 1)]) if nt else None
    for c, lines_c in enumerate(rows):
        for h, v in enumerate(lines_c):
            p_ = _x_ptr(b, out, b.add(offs[c], ir.Constant(_XI64, 8 * h)))
            st = b.store(v, p_, align=64 if nt else 8)
            if nt:
                st.set_metadata("nontemporal", md)
    return context.get_dummy_value()


@intrinsic
def _x_leaf16(typingctx, buf, bo, out, o0, o1, o2, o3):
    """`_leaf_tails`' work on one run of 64 entries buf[bo : bo + 64] (its stages down to
    8 apart done): the radix-8 tails of its 8 blocks, and leaf row c (c < 4; 16 words:
    slots 2i', 2i' + 1 = output bitrev3(i') of blocks 2c, 2c + 1) stored at out's words
    oc … oc + 15 (flat uint64 arrays)."""
    i64 = types.int64
    return types.void(buf, i64, out, i64, i64, i64, i64), _x_leaf16_codegen


def _x_leaf16_nt_codegen(context, builder, sig, args):
    return _x_leaf16_codegen(context, builder, sig, args, nt=True)


@intrinsic
def _x_leaf16_nt(typingctx, buf, bo, out, o0, o1, o2, o3):
    """`_x_leaf16` with non-temporal stores (out's rows oc 64-byte aligned)."""
    i64 = types.int64
    return types.void(buf, i64, out, i64, i64, i64, i64), _x_leaf16_nt_codegen


def _x_leaf32_codegen(context, builder, sig, args):
    return _x_leaf16_codegen(context, builder, sig, args, K=32)


@intrinsic
def _x_leaf32(typingctx, buf, bo, out, o0, o1):
    """`_x_leaf16` for leaves of K = 32: the run's two leaf rows h < 2 (32 words: slot
    4s + t = output bitrev3(s) of block 4h + bitrev2(t)) stored at out's words
    oh … oh + 31."""
    i64 = types.int64
    return types.void(buf, i64, out, i64, i64), _x_leaf32_codegen


def _x_leaf32_nt_codegen(context, builder, sig, args):
    return _x_leaf16_codegen(context, builder, sig, args, nt=True, K=32)


@intrinsic
def _x_leaf32_nt(typingctx, buf, bo, out, o0, o1):
    """`_x_leaf32` with non-temporal stores (out's rows oh 64-byte aligned)."""
    i64 = types.int64
    return types.void(buf, i64, out, i64, i64), _x_leaf32_nt_codegen


@njit(**_OPTS)
def _x_leaf32_call(buf, bo, out, o0, o1, nt):
    """`_x_leaf32` / `_x_leaf32_nt` as a real call (tests)."""
    if nt:
        _x_leaf32_nt(buf, bo, out, o0, o1)
        _sfence()
    else:
        _x_leaf32(buf, bo, out, o0, o1)


@njit(**_OPTS)
def _x_leaf16_call(buf, bo, out, o0, o1, o2, o3, nt):
    """`_x_leaf16` / `_x_leaf16_nt` as a real call (tests)."""
    if nt:
        _x_leaf16_nt(buf, bo, out, o0, o1, o2, o3)
        _sfence()
    else:
        _x_leaf16(buf, bo, out, o0, o1, o2, o3)


@njit(inline="always", **_OPTS)
def _x_leaf_rows(buf, rev, of, r, rows, nt):
    """`_leaf_tails` for one component (ncomp = 1) by `_x_leaf16` (out flat, 16 words a
    leaf row): run u0 (at rev[u0]) holds leaves g = u0 + bitrev2(c)·T/64 (c < 4)."""
    G4 = buf.shape[0] >> 6
    for u0 in range(G4):
        o = rev[u0]
        q0 = (r + u0 * rows) * 16
        q1 = (r + (u0 + 2 * G4) * rows) * 16
        q2 = (r + (u0 + G4) * rows) * 16
        q3 = (r + (u0 + 3 * G4) * rows) * 16
        if nt:
            _x_leaf16_nt(buf, o, of, q0, q1, q2, q3)
        else:
            _x_leaf16(buf, o, of, q0, q1, q2, q3)


@njit(inline="always", **_OPTS)
def _x_leaf_rows32(buf, rev, of, r, rows, nt):
    """`_x_leaf_rows` for leaves of K = 32 (`_x_leaf32`; 32 words a leaf row): run u0
    (at rev[u0]) holds leaves g = u0 + h·T/64 (h < 2)."""
    G2 = buf.shape[0] >> 6
    for u0 in range(G2):
        o = rev[u0]
        q0 = (r + u0 * rows) * 32
        q1 = (r + (u0 + G2) * rows) * 32
        if nt:
            _x_leaf32_nt(buf, o, of, q0, q1)
        else:
            _x_leaf32(buf, o, of, q0, q1)


@njit(parallel=True, **_OPTS)
def _twist_dft_tiles_x(ram, piece, a0, rows, ncomp, T, K, S, cb, wa, wt, tw, rev, out, nch,
                       lx=0):
    """`_twist_dft_tiles` for T ≥ FAST_MIN, two tiles or more, cb % 8 = 0 and ``tw`` with
    its cube tables, the radix-2 stages and the twist powers' update as vector IR
    (`_x_first`, `_x_r2_stages`, `_x_mulrun`): the same values."""
    G = T // K
    nt = T // cb
    half = T >> 1
    hb = nt >> 1
    held = ram.shape[0]
    Sr = ram.shape[1]
    Sp = piece.shape[1]
    w = ram.shape[2]
    rf = ram.reshape(-1)
    pf = piece.reshape(-1)
    of = out.reshape(-1)
    step = (rows + nch - 1) // nch
    for ch in prange(nch):
        _wide512()
        buf, pw, r_lo, r_hi = _twist_chunk(ch, step, rows, T, wa, a0)
        for r in range(r_lo, r_hi):
            for comp in range(ncomp):
                for jj in range(hb):
                    o = jj * cb
                    j1 = jj + hb
                    if j1 < held:   # jj < j1: both tiles in RAM
                        _x_first(rf, ((jj * Sr + a0 + r) * w + comp * cb), rf,
                                 ((j1 * Sr + a0 + r) * w + comp * cb), pw, o, half + o,
                                 buf, o, half + o, tw, half + o, cb, w)
                    elif jj < held:
                        _x_first(rf, ((jj * Sr + a0 + r) * w + comp * cb), pf,
                                 (((j1 - held) * Sp + r) * w + comp * cb), pw, o,
                                 half + o, buf, o, half + o, tw, half + o, cb, w)
                    else:
                        _x_first(pf, (((jj - held) * Sp + r) * w + comp * cb), pf,
                                 (((j1 - held) * Sp + r) * w + comp * cb), pw, o,
                                 half + o, buf, o, half + o, tw, half + o, cb, w)
                _x_r2_stages(buf, tw, half >> 1)
                if lx:   # vector tails and whole-line leaf rows (s42h1)
                    if K == 16:
                        _x_leaf_rows(buf, rev, of, r, rows, lx == 2)
                    else:
                        _x_leaf_rows32(buf, rev, of, r, rows, lx == 2)
                    continue
                if K == 16:   # the tails write the leaves themselves
                    _leaf_tails(buf, tw, rev, out, r, rows, ncomp, comp)
                    continue
                _x_tails(buf, tw)
                for g in range(G):
                    orow = r + g * rows
                    for j in range(K):
                        out[orow, j * ncomp + comp] = buf[rev[g + j * G]]
            _x_mulrun(pw, wt, T)
        if lx == 2:
            _sfence()


#: a cold process encodes domains of at most 2^COLD_NTT_LOG points without numba
COLD_NTT_LOG = 13


@lru_cache(maxsize=32)
def _bitrev(log_n: int) -> np.ndarray:
    n = 1 << log_n
    rev = np.zeros(n, dtype=np.int64)
    for b in range(log_n):
        rev |= ((np.arange(n) >> b) & 1) << (log_n - 1 - b)
    rev.setflags(write=False)
    return rev


@lru_cache(maxsize=32)
def _stage_twiddles(s: int) -> np.ndarray:
    """ω_{2^s}^j for j < 2^(s−1) (one butterfly stage of `np_ntt`)."""
    w = root_of_unity(s)
    vals, acc = [], 1
    for _ in range(1 << (s - 1)):
        vals.append(acc)
        acc = acc * w % P_INT
    out = np.array(vals, dtype=np.uint64)
    out.setflags(write=False)
    return out


def np_ntt(c: np.ndarray, log_n: int) -> np.ndarray:
    """(p(ω^i))_{i < 2^log_n} for the coefficients c (at most 2^log_n, zero-padded),
    ω = `ntt.root_of_unity` (log_n): radix-2 decimation in time, numpy butterflies."""
    n = 1 << log_n
    x = np.zeros(n, dtype=np.uint64)
    x[:c.shape[0]] = c
    x = x[_bitrev(log_n)]
    for s in range(1, log_n + 1):
        half = 1 << (s - 1)
        x = x.reshape(-1, 2 * half)
        u = x[:, :half]
        v = G.np_mul(x[:, half:], _stage_twiddles(s)[None, :])
        x = np.concatenate([G.np_add(u, v), G.np_sub(u, v)], axis=1)
    return x.reshape(-1)


def _encode_leaves_cold(c: np.ndarray, log_domain: int, k: int) -> np.ndarray:
    """`encode_leaves` by a full-length NTT: leaf a, slot j is p(ω^(a + j·rows))."""
    K = 1 << k
    rows = (1 << log_domain) // K
    if c.ndim == 1:
        return np.ascontiguousarray(np_ntt(c, log_domain).reshape(K, rows).T)
    parts = [np_ntt(np.ascontiguousarray(c[:, i]), log_domain).reshape(K, rows).T
             for i in range(2)]
    return np.ascontiguousarray(np.stack(parts, axis=-1))


def _epow_ref(z, e):
    out = (1, 0)
    for _ in range(e):
        out = R.e2_mul(*out, *z)
    return out


def encode_leaves_ref(c, log_domain: int, k: int) -> np.ndarray:
    """Naive evaluation of p at every domain point (tiny sizes only)."""
    c = np.asarray(c, dtype=np.uint64)
    ext = c.ndim == 2
    coeffs = [(int(x[0]), int(x[1])) for x in c] if ext else [(int(x), 0) for x in c]
    D = 1 << log_domain
    K = 1 << k
    w = root_of_unity(log_domain)
    rows = D // K
    out = np.zeros((rows, K, 2), dtype=np.uint64)
    for a in range(rows):
        for j in range(K):
            x = (pow(w, a + j * rows, P_INT), 0)
            acc = (0, 0)
            for cf in reversed(coeffs):  # Horner
                acc = R.e2_mul(*acc, *x)
                acc = ((acc[0] + cf[0]) % P_INT, (acc[1] + cf[1]) % P_INT)
            out[a, j] = acc
    return out if ext else out[:, :, 0].copy()


# -- folding a leaf (verifier) -------------------------------------------------------------


@njit(**_OPTS)
def _fold_leaves(vals, idx, wd, D, zinv0, alphas, out):
    q = vals.shape[0]
    K = vals.shape[1]
    k = alphas.shape[0]
    inv2 = np.uint64(INV2)
    buf = np.empty((K, 2), dtype=np.uint64)
    for i in range(q):
        for j in range(K):
            buf[j, 0] = vals[i, j, 0]
            buf[j, 1] = vals[i, j, 1]
        yinv = gl_pow(wd, np.uint64((D - idx[i]) % D))
        zinv = zinv0
        size = K
        for r in range(k):
            half = size >> 1
            x = yinv
            for j in range(half):
                lo0 = buf[j, 0]
                lo1 = buf[j, 1]
                hi0 = buf[j + half, 0]
                hi1 = buf[j + half, 1]
                s0 = gl_mul(gl_add(lo0, hi0), inv2)
                s1 = gl_mul(gl_add(lo1, hi1), inv2)
                dx = gl_mul(inv2, x)
                d0 = gl_mul(gl_sub(lo0, hi0), dx)
                d1 = gl_mul(gl_sub(lo1, hi1), dx)
                p0, p1 = e2_mul(d0, d1, alphas[r, 0], alphas[r, 1])
                buf[j, 0] = gl_add(s0, p0)
                buf[j, 1] = gl_add(s1, p1)
                x = gl_mul(x, zinv)
            yinv = gl_mul(yinv, yinv)
            zinv = gl_mul(zinv, zinv)
            size = half
        out[i, 0] = buf[0, 0]
        out[i, 1] = buf[0, 1]


def fold_leaves(vals: np.ndarray, idx: np.ndarray, log_domain: int,
                alphas: np.ndarray) -> np.ndarray:
    """For each opened leaf a (values of p at the K roots of z = ω^(aK), as an
    extension array (q, K, 2)), the value at z of the polynomial whose coefficients are
    those of p with the first k multilinear variables bound to ``alphas`` (k, 2):
    k FRI-style halvings f ↦ (f(x) + f(−x))/2 + α·(f(x) − f(−x))/(2x).  (q, 2)."""
    vals = np.ascontiguousarray(vals, dtype=np.uint64)
    alphas = np.ascontiguousarray(alphas, dtype=np.uint64).reshape(-1, 2)
    k = alphas.shape[0]
    if vals.shape[1] != 1 << k:
        raise ValueError("fold_leaves: leaf size is not 2^len(alphas)")
    zinv0 = pow(root_of_unity(k), P_INT - 2, P_INT)
    if G.cold(vals.size):
        return _fold_leaves_cold(vals, idx, log_domain, alphas, zinv0)
    out = np.empty((vals.shape[0], 2), dtype=np.uint64)
    _fold_leaves(vals, np.ascontiguousarray(idx, dtype=np.int64),
                 np.uint64(root_of_unity(log_domain)), 1 << log_domain, np.uint64(zinv0),
                 alphas, out)
    return out


def _fold_leaves_cold(vals, idx, log_domain: int, alphas, zinv: int) -> np.ndarray:
    """`_fold_leaves` in numpy, all leaves at once (the same halvings)."""
    D = 1 << log_domain
    wd = root_of_unity(log_domain)
    yinv = [pow(wd, (D - int(a)) % D, P_INT) for a in np.asarray(idx).reshape(-1)]
    b0 = vals[:, :, 0].copy()
    b1 = vals[:, :, 1].copy()
    inv2 = np.array([INV2], dtype=np.uint64)
    size = vals.shape[1]
    for r in range(alphas.shape[0]):
        half = size >> 1
        zp = [1] * half
        for j in range(1, half):
            zp[j] = zp[j - 1] * zinv % P_INT
        x = np.array([[y * z % P_INT for z in zp] for y in yinv], dtype=np.uint64)
        x = x.reshape(len(yinv), half)
        lo0, lo1, hi0, hi1 = b0[:, :half], b1[:, :half], b0[:, half:size], b1[:, half:size]
        s0 = G.np_mul(G.np_add(lo0, hi0), inv2)
        s1 = G.np_mul(G.np_add(lo1, hi1), inv2)
        dx = G.np_mul(inv2, x)
        d0 = G.np_mul(G.np_sub(lo0, hi0), dx)
        d1 = G.np_mul(G.np_sub(lo1, hi1), dx)
        p0, p1 = G.np_e2_mul(d0, d1, alphas[r:r + 1, 0], alphas[r:r + 1, 1])
        b0[:, :half] = G.np_add(s0, p0)
        b1[:, :half] = G.np_add(s1, p1)
        yinv = [y * y % P_INT for y in yinv]
        zinv = zinv * zinv % P_INT
        size = half
    return np.ascontiguousarray(np.stack([b0[:, 0], b1[:, 0]], axis=-1))


def fold_leaves_ref(vals, idx, log_domain: int, alphas) -> np.ndarray:
    """Independent formula: inverse DFT of the leaf gives y^t·q_t(z), then
    Σ_t mono(α, t)·q_t(z) (mono(α, t) = Π_{j ∈ bits(t)} α_j)."""
    vals = np.asarray(vals, dtype=np.uint64)
    alphas = [(int(a[0]), int(a[1])) for a in np.asarray(alphas).reshape(-1, 2)]
    k = len(alphas)
    K = 1 << k
    D = 1 << log_domain
    zeta_inv = pow(root_of_unity(k), P_INT - 2, P_INT)
    kinv = pow(K, P_INT - 2, P_INT)
    w = root_of_unity(log_domain)
    out = np.zeros((vals.shape[0], 2), dtype=np.uint64)
    for i, a in enumerate(np.asarray(idx).reshape(-1)):
        yinv = pow(w, (D - int(a)) % D, P_INT)
        acc = (0, 0)
        for t in range(K):
            s = (0, 0)
            for j in range(K):
                f = (int(vals[i, j, 0]), int(vals[i, j, 1]))
                e = pow(zeta_inv, j * t, P_INT)
                s = ((s[0] + f[0] * e) % P_INT, (s[1] + f[1] * e) % P_INT)
            scale = kinv * pow(yinv, t, P_INT) % P_INT
            qt = (s[0] * scale % P_INT, s[1] * scale % P_INT)
            mono = (1, 0)
            for j in range(k):
                if t >> j & 1:
                    mono = R.e2_mul(*mono, *alphas[j])
            prod = R.e2_mul(*mono, *qt)
            acc = ((acc[0] + prod[0]) % P_INT, (acc[1] + prod[1]) % P_INT)
        out[i] = acc
    return out


# -- prover helpers ------------------------------------------------------------------------


@njit(**_OPTS)
def _mono(r, out):
    out[0, 0] = ONE
    out[0, 1] = ZERO
    size = 1
    for j in range(r.shape[0]):
        for i in range(size):
            h0, h1 = e2_mul(out[i, 0], out[i, 1], r[j, 0], r[j, 1])
            out[i + size, 0] = h0
            out[i + size, 1] = h1
        size *= 2


def mono_table(r: np.ndarray) -> np.ndarray:
    """Π_{j ∈ bits(i)} r_j for i < 2^len(r) (monomials of a multilinear point): (2^m, 2)."""
    r = np.ascontiguousarray(r, dtype=np.uint64).reshape(-1, 2)
    out = np.empty((1 << r.shape[0], 2), dtype=np.uint64)
    _mono(r, out)
    return out


def mono_table_ref(r) -> np.ndarray:
    r = [(int(x[0]), int(x[1])) for x in np.asarray(r).reshape(-1, 2)]
    out = np.zeros((1 << len(r), 2), dtype=np.uint64)
    for i in range(1 << len(r)):
        v = (1, 0)
        for j, rj in enumerate(r):
            if i >> j & 1:
                v = R.e2_mul(*v, *rj)
        out[i] = v
    return out


@njit(parallel=True, **_OPTS)
def _fold_coeffs_base(c, mono, out):
    """Loop-carried sums (not vectorised): the scalar 128-bit products (≈ 1.5× the
    32-bit-limb form, here and in `_fold_coeffs_ext`)."""
    K = mono.shape[0]
    for v in prange(out.shape[0]):
        s0 = ZERO
        s1 = ZERO
        for t in range(K):
            x = c[t + K * v]
            s0 = gl_add(s0, gl_mul_s(mono[t, 0], x))
            s1 = gl_add(s1, gl_mul_s(mono[t, 1], x))
        out[v, 0] = s0
        out[v, 1] = s1


@njit(parallel=True, **_OPTS)
def _fold_coeffs_ext(c, mono, out):
    K = mono.shape[0]
    for v in prange(out.shape[0]):
        s0 = ZERO
        s1 = ZERO
        for t in range(K):
            p0, p1 = e2_mul_s(mono[t, 0], mono[t, 1], c[t + K * v, 0], c[t + K * v, 1])
            s0 = gl_add(s0, p0)
            s1 = gl_add(s1, p1)
        out[v, 0] = s0
        out[v, 1] = s1


def fold_coeffs(c: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """Coefficient form with the first k variables bound to ``alphas``:
    c'_v = Σ_{t < 2^k} mono(α, t)·c[t + 2^k·v] (base or extension c; extension out)."""
    mono = mono_table(alphas)
    K = mono.shape[0]
    out = np.empty((c.shape[0] // K, 2), dtype=np.uint64)
    (_fold_coeffs_ext if c.ndim == 2 else _fold_coeffs_base)(
        np.ascontiguousarray(c, dtype=np.uint64), mono, out)
    return out


def fold_coeffs_ref(c, alphas) -> np.ndarray:
    mono = mono_table_ref(alphas)
    c = np.asarray(c, dtype=np.uint64)
    if c.ndim == 1:
        c = np.stack([c, np.zeros_like(c)], axis=-1)
    K = mono.shape[0]
    out = np.zeros((c.shape[0] // K, 2), dtype=np.uint64)
    for v in range(out.shape[0]):
        acc = (0, 0)
        for t in range(K):
            p = R.e2_mul(int(mono[t, 0]), int(mono[t, 1]), int(c[t + K * v, 0]),
                         int(c[t + K * v, 1]))
            acc = ((acc[0] + p[0]) % P_INT, (acc[1] + p[1]) % P_INT)
        out[v] = acc
    return out


@njit(inline="always", **_OPTS)
def _e2_pow(z0, z1, e):
    r0 = ONE
    r1 = ZERO
    b0 = z0
    b1 = z1
    while e > 0:
        if e & 1:
            r0, r1 = e2_mul(r0, r1, b0, b1)
        b0, b1 = e2_mul(b0, b1, b0, b1)
        e >>= 1
    return r0, r1


@njit(**_OPTS)
def _e2_pow_call(z0, z1, e):
    """`_e2_pow` as a real call (run once per chunk; inlining only costs compile time)."""
    return _e2_pow(z0, z1, e)


#: lanes of `_horner`: coefficient i goes to lane i mod HORNER_LANES
HORNER_LANES = 64


@njit(parallel=True, **_OPTS)
def _horner(c0, c1, z0, z1, nch, part, B):
    """part[ch] = Σ_{i in chunk ch} c_i z^i.  Chunks are whole runs of B lanes
    (`HORNER_LANES`; a run-time argument, so LLVM does not unroll the lane loop fully:
    compile time) coefficients; lane l runs Horner in z^B over the coefficients ≡ l mod
    B (lanes independent: one vectorised pass per run of B, no dependent chain), then
    Σ_l lane_l·z^l."""
    n = c0.shape[0]
    nb = (n + B - 1) // B
    step = ((nb + nch - 1) // nch) * B
    for ch in prange(nch):
        lo = ch * step
        hi = min(n, lo + step)
        if lo >= hi:
            part[ch, 0] = ZERO
            part[ch, 1] = ZERO
            continue
        zb0, zb1 = _e2_pow_call(z0, z1, B)
        acc0 = np.zeros(B, dtype=np.uint64)
        acc1 = np.zeros(B, dtype=np.uint64)
        top = lo + ((hi - lo - 1) // B) * B  # start of the last (maybe partial) run
        for l in range(hi - top):
            acc0[l] = c0[top + l]
            acc1[l] = c1[top + l]
        for st in range(top - B, lo - 1, -B):
            for l in range(B):
                a0, a1 = e2_mul(acc0[l], acc1[l], zb0, zb1)
                acc0[l] = gl_add(a0, c0[st + l])
                acc1[l] = gl_add(a1, c1[st + l])
        s0 = ZERO
        s1 = ZERO
        p0 = ONE
        p1 = ZERO
        for l in range(B):  # once per chunk: real calls (compile time)
            t0, t1 = G.e2_mul_call(acc0[l], acc1[l], p0, p1)
            s0 = gl_add(s0, t0)
            s1 = gl_add(s1, t1)
            p0, p1 = G.e2_mul_call(p0, p1, z0, z1)
        w0, w1 = _e2_pow_call(z0, z1, lo)
        part[ch, 0], part[ch, 1] = G.e2_mul_call(s0, s1, w0, w1)


@njit(**_OPTS)
def _epowers(x0, x1, start, out):
    c0, c1 = _e2_pow(x0, x1, start)
    for i in range(out.shape[0]):
        out[i, 0] = c0
        out[i, 1] = c1
        c0, c1 = e2_mul(c0, c1, x0, x1)


def epowers(x: np.ndarray, start: int, count: int) -> np.ndarray:
    """x^start, …, x^(start+count−1) for x ∈ E: (count, 2)."""
    if G.cold(count):  # a cold verifier: Python integers (`goldilocks.cold`)
        x0, x1 = int(x[0]), int(x[1])
        c = _py_epow(x0, x1, start)
        vals = []
        for _ in range(count):
            vals.append(c)
            c = G._py_e2(c[0], c[1], x0, x1)
        return np.array(vals, dtype=np.uint64).reshape(count, 2)
    out = np.empty((count, 2), dtype=np.uint64)
    _epowers(np.uint64(x[0]), np.uint64(x[1]), start, out)
    return out


def _py_epow(x0: int, x1: int, e: int) -> tuple[int, int]:
    r, b = (1, 0), (x0, x1)
    while e > 0:
        if e & 1:
            r = G._py_e2(*r, *b)
        b = G._py_e2(*b, *b)
        e >>= 1
    return r


@njit(**_OPTS)
def _esquares(zs, out):
    for i in range(zs.shape[0]):
        c0 = zs[i, 0]
        c1 = zs[i, 1]
        for j in range(out.shape[1]):
            out[i, j, 0] = c0
            out[i, j, 1] = c1
            c0, c1 = e2_mul(c0, c1, c0, c1)


def esquares(zs: np.ndarray, m: int) -> np.ndarray:
    """(z, z², z⁴, …, z^(2^(m−1))) for every z of ``zs`` (q, 2): (q, m, 2)."""
    zs = np.ascontiguousarray(zs, dtype=np.uint64).reshape(-1, 2)
    if G.cold(zs.shape[0] * m):
        vals = []
        for c in zs.tolist():
            for _ in range(m):
                vals.append(c)
                c = G._py_e2(c[0], c[1], c[0], c[1])
        return np.array(vals, dtype=np.uint64).reshape(zs.shape[0], m, 2)
    out = np.empty((zs.shape[0], m, 2), dtype=np.uint64)
    _esquares(zs, out)
    return out


@njit(**_OPTS)
def _horner_many(c, zs, out):
    for q in range(zs.shape[0]):
        a0 = ZERO
        a1 = ZERO
        for i in range(c.shape[0] - 1, -1, -1):
            a0, a1 = e2_mul(a0, a1, zs[q, 0], zs[q, 1])
            a0 = gl_add(a0, c[i, 0])
            a1 = gl_add(a1, c[i, 1])
        out[q, 0] = a0
        out[q, 1] = a1


def horner_many(c: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """p(z) for every z of ``zs`` (q, 2), extension coefficients c (serial; small c)."""
    zs = np.ascontiguousarray(zs, dtype=np.uint64).reshape(-1, 2)
    c = np.ascontiguousarray(c, dtype=np.uint64).reshape(-1, 2)
    if G.cold(zs.shape[0] * c.shape[0]):
        return _horner_cold(c[:, 0], c[:, 1], zs)
    out = np.empty((zs.shape[0], 2), dtype=np.uint64)
    _horner_many(c, zs, out)
    return out


def _np_powers(zs: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """z^i for every z of ``zs`` (q, 2) and i < n, by doubling: two (q, n) arrays."""
    q = zs.shape[0]
    size = 1
    while size < n:
        size *= 2
    p0 = np.zeros((q, size), dtype=np.uint64)
    p1 = np.zeros((q, size), dtype=np.uint64)
    p0[:, 0] = 1
    s0 = zs[:, 0:1].copy()
    s1 = zs[:, 1:2].copy()
    h = 1
    while h < size:
        p0[:, h:2 * h], p1[:, h:2 * h] = G.np_e2_mul(p0[:, :h], p1[:, :h], s0, s1)
        s0, s1 = G.np_e2_mul(s0, s1, s0, s1)
        h *= 2
    return p0[:, :n], p1[:, :n]


#: block length of `_horner_one_cold`
HORNER_BLOCK = 64


def _horner_one_cold(c0: np.ndarray, c1: np.ndarray, z0: int, z1: int,
                     ext: bool) -> np.ndarray:
    """p(z) for one z: p(z) = Σ_h z^(B·h) Σ_l c[B·h + l]·z^l, the inner sums in numpy
    against the powers z^l (l < B), the outer Horner in Python integers."""
    n = c0.shape[0]
    B = HORNER_BLOCK
    pw = [(1, 0)]
    for _ in range(B):
        pw.append(G._py_e2(*pw[-1], z0, z1))
    zB = pw.pop()
    nb = -(-n // B)
    pad0 = np.zeros(nb * B, dtype=np.uint64)
    pad0[:n] = c0
    p0 = np.array([x for x, _ in pw], dtype=np.uint64)[None, :]
    p1 = np.array([y for _, y in pw], dtype=np.uint64)[None, :]
    if ext:
        pad1 = np.zeros(nb * B, dtype=np.uint64)
        pad1[:n] = c1
        t0, t1 = G.np_e2_mul(pad0.reshape(nb, B), pad1.reshape(nb, B), p0, p1)
    else:
        t0 = G.np_mul(pad0.reshape(nb, B), p0)
        t1 = G.np_mul(pad0.reshape(nb, B), p1)
    inner = zip(G.np_sum(t0, axis=1).tolist(), G.np_sum(t1, axis=1).tolist())
    a0, a1 = 0, 0
    for s0, s1 in reversed(list(inner)):
        a0, a1 = G._py_e2(a0, a1, *zB)
        a0, a1 = (a0 + s0) % P_INT, (a1 + s1) % P_INT
    return np.array((a0, a1), dtype=np.uint64)


def _horner_cold(c0: np.ndarray, c1: np.ndarray, zs: np.ndarray) -> np.ndarray:
    """Σ_i c_i z^i for each z of ``zs`` (q, 2) in numpy (powers, then sums): (q, 2)."""
    n = c0.shape[0]
    if n == 0:
        return np.zeros((zs.shape[0], 2), dtype=np.uint64)
    p0, p1 = _np_powers(zs, n)
    t0, t1 = G.np_e2_mul(p0, p1, c0[None, :], c1[None, :])
    return np.stack([G.np_sum(t0, axis=1), G.np_sum(t1, axis=1)], axis=-1)


def horner(c: np.ndarray, z: np.ndarray) -> np.ndarray:
    """p(z) = Σ_i c_i z^i for base or extension coefficients c and z ∈ E: (2,)."""
    c = np.asarray(c, dtype=np.uint64)
    if c.ndim == 2:  # strided views: `_horner` reads them as fast as de-interleaved copies
        c0, c1 = c[:, 0], c[:, 1]
    else:
        c0, c1 = np.ascontiguousarray(c), np.zeros(c.shape[0], dtype=np.uint64)
    if G.cold(c0.shape[0]):
        return _horner_one_cold(c0, c1, int(z[0]), int(z[1]), c.ndim == 2)
    nch = 1 if c0.shape[0] < SERIAL_BELOW else 64
    part = np.zeros((nch, 2), dtype=np.uint64)
    _horner(c0, c1, np.uint64(z[0]), np.uint64(z[1]), nch, part, HORNER_LANES)
    s = [0, 0]
    for p0, p1 in part:
        s = [(s[0] + int(p0)) % P_INT, (s[1] + int(p1)) % P_INT]
    return np.array(s, dtype=np.uint64)


def horner_ref(c, z) -> np.ndarray:
    c = np.asarray(c, dtype=np.uint64)
    coeffs = [(int(x[0]), int(x[1])) for x in c] if c.ndim == 2 else [(int(x), 0) for x in c]
    zz = (int(z[0]), int(z[1]))
    acc = (0, 0)
    for cf in reversed(coeffs):
        acc = R.e2_mul(*acc, *zz)
        acc = ((acc[0] + cf[0]) % P_INT, (acc[1] + cf[1]) % P_INT)
    return np.array(acc, dtype=np.uint64)


@njit(**_OPTS)
def _eq_scaled(r, c0, c1, tmp):
    """tmp = c·eq(r, ·) (serial doubling; the layers are cheap next to the add)."""
    tmp[0, 0] = c0
    tmp[0, 1] = c1
    size = 1
    for j in range(r.shape[0]):
        r0 = r[j, 0]
        r1 = r[j, 1]
        for i in range(size):
            h0, h1 = e2_mul(tmp[i, 0], tmp[i, 1], r0, r1)
            tmp[i + size, 0] = h0
            tmp[i + size, 1] = h1
            tmp[i, 0] = gl_sub(tmp[i, 0], h0)
            tmp[i, 1] = gl_sub(tmp[i, 1], h1)
        size *= 2


@njit(parallel=True, **_OPTS)
def _eq_accumulate(points, coefs, out, nch):
    """out += Σ_l coefs[l]·eq(points[l], ·); the points are split among the threads,
    each accumulating into its own table, and the tables are added at the end."""
    q = points.shape[0]
    n = out.shape[0]
    acc = np.zeros((nch, n, 2), dtype=np.uint64)
    step = (q + nch - 1) // nch
    for ch in prange(nch):
        tmp = np.empty((n, 2), dtype=np.uint64)
        for l in range(ch * step, min(q, (ch + 1) * step)):
            _eq_scaled(points[l], coefs[l, 0], coefs[l, 1], tmp)
            for i in range(n):
                acc[ch, i, 0] = gl_add(acc[ch, i, 0], tmp[i, 0])
                acc[ch, i, 1] = gl_add(acc[ch, i, 1], tmp[i, 1])
    for ch in range(nch):
        for i in range(n):
            out[i, 0] = gl_add(out[i, 0], acc[ch, i, 0])
            out[i, 1] = gl_add(out[i, 1], acc[ch, i, 1])


@njit(parallel=True, **_OPTS)
def _axpy_ext(out, c0, c1, x):
    for i in prange(out.shape[0]):
        p0, p1 = e2_mul(x[i, 0], x[i, 1], c0, c1)
        out[i, 0] = gl_add(out[i, 0], p0)
        out[i, 1] = gl_add(out[i, 1], p1)


#: table size from which each point's eq table is built with all threads
PER_POINT_FROM = 1 << 18


@njit(parallel=True, **_OPTS)
def _scale_ext(out, c0, c1):
    for i in prange(out.shape[0]):
        out[i, 0], out[i, 1] = e2_mul(out[i, 0], out[i, 1], c0, c1)


def eq_accumulate(out: np.ndarray, points: np.ndarray, coefs: np.ndarray,
                  overwrite: bool = False) -> None:
    """out (2^m, 2) += Σ_l coefs[l]·eq(points[l], x) (points (q, m, 2), coefs (q, 2));
    with ``overwrite`` the sum replaces out's contents (out need not be initialised)."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    coefs = np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2)
    if overwrite and (points.shape[0] == 0 or out.shape[0] < PER_POINT_FROM):
        out[...] = 0
        overwrite = False
    if points.shape[0] == 0:
        return
    if out.shape[0] >= PER_POINT_FROM:
        if overwrite:  # the first table is built in place
            eq_expand(points[0], out)
            if not (coefs[0, 0] == 1 and coefs[0, 1] == 0):
                _scale_ext(out, np.uint64(coefs[0, 0]), np.uint64(coefs[0, 1]))
            points, coefs = points[1:], coefs[1:]
        tmp = np.empty_like(out) if points.shape[0] else out
        for pt, cf in zip(points, coefs):
            eq_expand(pt, tmp)  # parallel doubling layers
            _axpy_ext(out, np.uint64(cf[0]), np.uint64(cf[1]), tmp)
        return
    nch = 1 if points.shape[0] == 1 or out.shape[0] * points.shape[0] < SERIAL_BELOW else 2
    _eq_accumulate(points, coefs, out, nch)


def eq_accumulate_ref(out, points, coefs) -> np.ndarray:
    res = [(int(a), int(b)) for a, b in np.asarray(out)]
    for pt, cf in zip(np.asarray(points), np.asarray(coefs)):
        tab = R.eq_expand(pt)
        for i in range(len(res)):
            p = R.e2_mul(int(tab[i][0]), int(tab[i][1]), int(cf[0]), int(cf[1]))
            res[i] = ((res[i][0] + p[0]) % P_INT, (res[i][1] + p[1]) % P_INT)
    return np.array(res, dtype=np.uint64)


# -- verifier helpers over many constraint points -----------------------------------------


@njit(**_OPTS)
def _eq_prefix(points, alphas, out):
    k = alphas.shape[0]
    for i in range(points.shape[0]):
        v0 = ONE
        v1 = ZERO
        for j in range(k):
            p0 = points[i, j, 0]
            p1 = points[i, j, 1]
            a0 = alphas[j, 0]
            a1 = alphas[j, 1]
            # eq(p, a) = 1 − p − a + 2·p·a
            q0, q1 = e2_mul(p0, p1, a0, a1)
            e0 = gl_sub(gl_add(ONE, gl_add(q0, q0)), gl_add(p0, a0))
            e1 = gl_sub(gl_add(q1, q1), gl_add(p1, a1))
            v0, v1 = e2_mul(v0, v1, e0, e1)
        out[i, 0] = v0
        out[i, 1] = v1


def eq_prefix(points: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """eq(points[i, :k], alphas) for every point (points (T, m, 2), alphas (k, 2)): (T, 2)."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    alphas = np.ascontiguousarray(alphas, dtype=np.uint64).reshape(-1, 2)
    if G.cold(points.size):
        return _eq_prefix_cold(points, alphas)
    out = np.empty((points.shape[0], 2), dtype=np.uint64)
    _eq_prefix(points, alphas, out)
    return out


def _eq_prefix_cold(points: np.ndarray, alphas: np.ndarray) -> np.ndarray:
    """`_eq_prefix` in numpy over all points at once (the same formula)."""
    T = points.shape[0]
    k = alphas.shape[0]
    if T * k < 4 * G.PY_BELOW:  # few points: Python integers
        W, P = 7, P_INT
        al = alphas.tolist()
        out = []
        for pt in points[:, :k].tolist():
            v0, v1 = 1, 0
            for (p0, p1), (a0, a1) in zip(pt, al):
                q0 = (p0 * a0 + W * p1 * a1) % P
                q1 = (p0 * a1 + p1 * a0) % P
                e0 = (1 + 2 * q0 - p0 - a0) % P
                e1 = (2 * q1 - p1 - a1) % P
                v0, v1 = (v0 * e0 + W * v1 * e1) % P, (v0 * e1 + v1 * e0) % P
            out.append((v0, v1))
        return np.array(out, dtype=np.uint64).reshape(T, 2)
    v0 = np.ones(T, dtype=np.uint64)
    v1 = np.zeros(T, dtype=np.uint64)
    one = np.ones(1, dtype=np.uint64)
    for j in range(alphas.shape[0]):
        p0, p1 = points[:, j, 0], points[:, j, 1]
        a0, a1 = alphas[j:j + 1, 0], alphas[j:j + 1, 1]
        q0, q1 = G.np_e2_mul(p0, p1, a0, a1)
        e0 = G.np_sub(G.np_add(one, G.np_add(q0, q0)), G.np_add(p0, a0))
        e1 = G.np_sub(G.np_add(q1, q1), G.np_add(p1, a1))
        v0, v1 = G.np_e2_mul(v0, v1, e0, e1)
    return np.stack([v0, v1], axis=-1).reshape(T, 2)


def eq_prefix_ref(points, alphas) -> np.ndarray:
    k = len(alphas)
    out = []
    for pt in np.asarray(points):
        v = (1, 0)
        for j in range(k):
            p = (int(pt[j][0]), int(pt[j][1]))
            a = (int(alphas[j][0]), int(alphas[j][1]))
            pa = R.e2_mul(*p, *a)
            v = R.e2_mul(*v, (1 - p[0] - a[0] + 2 * pa[0]) % P_INT,
                         (-p[1] - a[1] + 2 * pa[1]) % P_INT)
        out.append(v)
    return np.array(out, dtype=np.uint64).reshape(-1, 2)


@njit(**_OPTS)
def _mono_eval(points, coefs, c, tmp):
    s0 = ZERO
    s1 = ZERO
    for i in range(points.shape[0]):
        _mono(points[i], tmp)
        d0 = ZERO
        d1 = ZERO
        for j in range(c.shape[0]):
            p0, p1 = e2_mul(tmp[j, 0], tmp[j, 1], c[j, 0], c[j, 1])
            d0 = gl_add(d0, p0)
            d1 = gl_add(d1, p1)
        p0, p1 = e2_mul(d0, d1, coefs[i, 0], coefs[i, 1])
        s0 = gl_add(s0, p0)
        s1 = gl_add(s1, p1)
    out = np.empty(2, dtype=np.uint64)
    out[0] = s0
    out[1] = s1
    return out


def mono_eval(points: np.ndarray, coefs: np.ndarray, c: np.ndarray) -> np.ndarray:
    """Σ_i coefs[i]·f̂(points[i]) for the multilinear f̂ with coefficient form c (2^m, 2)
    and points (T, m, 2): (2,)."""
    points = np.ascontiguousarray(points, dtype=np.uint64)
    c = np.ascontiguousarray(c, dtype=np.uint64).reshape(-1, 2)
    if G.cold(points.shape[0] * c.shape[0]):
        return _mono_eval_cold(points, np.ascontiguousarray(coefs, dtype=np.uint64)
                               .reshape(-1, 2), c)
    tmp = np.empty((c.shape[0], 2), dtype=np.uint64)
    return _mono_eval(points, np.ascontiguousarray(coefs, dtype=np.uint64).reshape(-1, 2),
                      c, tmp)


def _mono_eval_cold(points: np.ndarray, coefs: np.ndarray, c: np.ndarray) -> np.ndarray:
    """`_mono_eval` in numpy: the monomial tables of all points by doubling, then sums."""
    T = points.shape[0]
    m = c.shape[0].bit_length() - 1
    lo = m // 2
    if T == 0:
        return np.zeros(2, dtype=np.uint64)
    # f̂(p) = Σ_h mono(p_hi, h)·Σ_l mono(p_lo, l)·c[l + 2^lo·h]: the inner sums are one
    # extension matrix product (T, 2^lo)·(2^lo, 2^(m−lo))
    lo0, lo1 = _np_mono(points[:, :lo])
    hi0, hi1 = _np_mono(points[:, lo:m])
    C = c.reshape(1 << (m - lo), 1 << lo, 2)
    a0, a1 = G.np_e2_matmul(lo0, lo1, np.ascontiguousarray(C[:, :, 0].T),
                            np.ascontiguousarray(C[:, :, 1].T))
    t0, t1 = G.np_e2_mul(hi0, hi1, a0, a1)
    d0, d1 = G.np_sum(t0, axis=1), G.np_sum(t1, axis=1)
    s0, s1 = G.np_e2_mul(d0, d1, coefs[:, 0], coefs[:, 1])
    return np.array([G.np_sum(s0), G.np_sum(s1)], dtype=np.uint64)


def _np_mono(points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`mono_table` of every point of ``points`` (T, j, 2), by doubling: two (T, 2^j)."""
    T, j = points.shape[0], points.shape[1]
    m0 = np.zeros((T, 1 << j), dtype=np.uint64)
    m1 = np.zeros((T, 1 << j), dtype=np.uint64)
    m0[:, 0] = 1
    size = 1
    for v in range(j):
        m0[:, size:2 * size], m1[:, size:2 * size] = G.np_e2_mul(
            m0[:, :size], m1[:, :size], points[:, v, 0:1], points[:, v, 1:2])
        size *= 2
    return m0, m1


def mono_eval_ref(points, coefs, c) -> np.ndarray:
    acc = (0, 0)
    for pt, cf in zip(np.asarray(points), np.asarray(coefs)):
        mono = mono_table_ref(pt)
        for j in range(mono.shape[0]):
            p = R.e2_mul(int(mono[j, 0]), int(mono[j, 1]), int(c[j][0]), int(c[j][1]))
            p = R.e2_mul(*p, int(cf[0]), int(cf[1]))
            acc = ((acc[0] + p[0]) % P_INT, (acc[1] + p[1]) % P_INT)
    return np.array(acc, dtype=np.uint64)


# -- Merkle multi-proof verification (BLAKE3, the format of `merkle.open_multi`) -------------


@njit(cache=True)
def _count_siblings(idx, depth):
    known = idx.copy()
    cnt = known.shape[0]
    total = 0
    for _ in range(depth):
        i = 0
        c2 = 0
        while i < cnt:
            x = known[i]
            if x % 2 == 0 and i + 1 < cnt and known[i + 1] == x + 1:
                i += 2
            else:
                total += 1
                i += 1
            if c2 == 0 or known[c2 - 1] != x >> 1:
                known[c2] = x >> 1
                c2 += 1
        cnt = c2
    return total


@njit(cache=True)
def _multi_root(idx, digests, depth, proof, root):
    w = digests.shape[1]
    known = idx.copy()
    cur = digests.copy()
    nxt = np.empty_like(cur)
    buf = np.empty(1 + 2 * w, dtype=np.uint8)
    full = np.empty(32, dtype=np.uint8)
    buf[0] = 1
    cnt = known.shape[0]
    pos = 0
    for _ in range(depth):
        i = 0
        c2 = 0
        while i < cnt:
            x = known[i]
            if x % 2 == 0 and i + 1 < cnt and known[i + 1] == x + 1:
                for b in range(w):
                    buf[1 + b] = cur[i, b]
                    buf[1 + w + b] = cur[i + 1, b]
                i += 2
            else:
                if pos >= proof.shape[0]:
                    return -1
                for b in range(w):
                    if x % 2 == 0:
                        buf[1 + b] = cur[i, b]
                        buf[1 + w + b] = proof[pos, b]
                    else:
                        buf[1 + b] = proof[pos, b]
                        buf[1 + w + b] = cur[i, b]
                pos += 1
                i += 1
            _hash_one(buf, 1 + 2 * w, full)
            for b in range(w):
                nxt[c2, b] = full[b]
            known[c2] = x >> 1
            c2 += 1
        cnt = c2
        cur, nxt = nxt, cur
    for b in range(w):
        root[b] = cur[0, b]
    return pos


@njit(cache=True)
def _hash_rows_ser(data, out):
    for i in range(data.shape[0]):
        _hash_one(data[i], data.shape[1], out[i])


def hash_leaves_serial(rows: np.ndarray) -> np.ndarray:
    """BLAKE3 of each row's little-endian bytes (= `merkle.hash_leaves` with blake3),
    serially: the verifier's few leaves are not worth a parallel region."""
    data = np.ascontiguousarray(rows, dtype="<u8")
    data = data.reshape(data.shape[0], -1).view(np.uint8)
    if data.shape[1] > 1024:
        raise ValueError("hash_leaves_serial: rows of at most 1024 bytes")
    if G.cold(0):  # a cold verifier: the blake3 package (`goldilocks.cold`)
        return _merkle.hash_leaves(np.ascontiguousarray(rows, dtype="<u8")
                                   .reshape(data.shape[0], -1), "blake3")
    out = np.empty((data.shape[0], 32), dtype=np.uint8)
    _hash_rows_ser(data, out)
    return out


def _check_indices(idx: np.ndarray, depth: int) -> np.ndarray:
    idx = np.ascontiguousarray(idx, dtype=np.int64).reshape(-1)
    if (idx.size == 0 or np.any(idx[1:] <= idx[:-1]) or int(idx[0]) < 0
            or int(idx[-1]) >= 1 << depth):
        raise ValueError("multi-proof: need non-empty sorted distinct indices in range")
    return idx


def num_siblings(idx: np.ndarray, depth: int) -> int:
    """Digests in the multi-proof of sorted distinct leaf indices (= `merkle.num_siblings`)."""
    idx = _check_indices(idx, depth)
    if G.cold(0):
        return _merkle.num_siblings(idx.tolist(), depth)
    return int(_count_siblings(idx, depth))


def multi_root(idx: np.ndarray, digests: np.ndarray, depth: int, proof: bytes,
               digest: int = 32) -> bytes:
    """Root of a BLAKE3 Merkle tree (node = H(0x01 ‖ left ‖ right)[:digest]) from the
    leaf digests (the first ``digest`` bytes of each row of ``digests``) at sorted
    distinct ``idx`` and their multi-proof (`merkle.open_multi`'s format); `ValueError`
    if the proof has the wrong length (= `merkle.root_from_multi`)."""
    idx = _check_indices(idx, depth)
    if not 16 <= digest <= 32:
        raise ValueError("multi-proof: digest length in 16..32")
    dig = np.ascontiguousarray(np.asarray(digests, dtype=np.uint8)
                               .reshape(idx.shape[0], -1)[:, :digest])
    if len(proof) % digest:
        raise ValueError(f"multi-proof: length is not a multiple of {digest}")
    if G.cold(0):  # a cold verifier: `merkle.root_from_multi` (the same format)
        return _merkle.root_from_multi([bytes(d) for d in dig], idx.tolist(), depth,
                                       proof, "blake3", digest)
    pr = np.frombuffer(proof, dtype=np.uint8).reshape(-1, digest)
    root = np.empty(digest, dtype=np.uint8)
    used = _multi_root(idx, dig, depth, pr, root)
    if used != pr.shape[0]:
        raise ValueError("multi-proof: length does not match the index set")
    return root.tobytes()


# -- batched opening: random linear combination of base-field tables ----------------------


@njit(parallel=True, **_OPTS)
def _lincomb_base_par(tabs, mu, out):
    """Blocks of 256 entries in parallel, each sweeping the T rows into two contiguous
    accumulators (unit stride: the products vectorise).  Rows as slices of the flat
    table: indexed ``tabs[t, lo + j]`` inside the ``prange`` body the loop did not
    vectorise (s23h6, as `ntt._evec_mat_par`)."""
    T = tabs.shape[0]
    N = tabs.shape[1]
    flat = tabs.reshape(-1)
    for b in prange((N + 255) // 256):
        lo = b * 256
        cnt = min(N, lo + 256) - lo
        a0 = np.zeros(256, np.uint64)
        a1 = np.zeros(256, np.uint64)
        for t in range(T):
            m0 = mu[t, 0]
            m1 = mu[t, 1]
            row = flat[t * N + lo:t * N + lo + cnt]
            for j in range(cnt):
                x = row[j]
                a0[j] = gl_add(a0[j], gl_mul(m0, x))
                a1[j] = gl_add(a1[j], gl_mul(m1, x))
        for j in range(cnt):
            out[lo + j, 0] = a0[j]
            out[lo + j, 1] = a1[j]


@njit(**_OPTS)
def _lincomb_base_ser(tabs, mu, out):
    T = tabs.shape[0]
    for i in range(tabs.shape[1]):
        s0 = ZERO
        s1 = ZERO
        for t in range(T):
            x = tabs[t, i]
            s0 = gl_add(s0, gl_mul(mu[t, 0], x))
            s1 = gl_add(s1, gl_mul(mu[t, 1], x))
        out[i, 0] = s0
        out[i, 1] = s1


def lincomb_base(tabs: np.ndarray, mu: np.ndarray) -> np.ndarray:
    """Σ_t mu[t]·tabs[t] for base-field rows ``tabs`` (T, N) and extension coefficients
    ``mu`` (T, 2): (N, 2) extension elements."""
    tabs = np.ascontiguousarray(tabs, dtype=np.uint64)
    mu = np.ascontiguousarray(mu, dtype=np.uint64).reshape(-1, 2)
    if tabs.ndim != 2 or tabs.shape[0] != mu.shape[0]:
        raise ValueError("lincomb_base: need (T, N) rows and (T, 2) coefficients")
    if 0 < tabs.shape[0] <= G.MATMUL_MAX_INNER and G.cold(tabs.size):
        return np.ascontiguousarray(G.np_matmul(np.ascontiguousarray(mu.T), tabs).T)
    out = np.empty((tabs.shape[1], 2), dtype=np.uint64)
    (_lincomb_base_ser if tabs.size < SERIAL_BELOW else _lincomb_base_par)(tabs, mu, out)
    return out


def lincomb_base_ref(tabs, mu) -> np.ndarray:
    tabs = np.asarray(tabs, dtype=np.uint64)
    mu = [(int(a), int(b)) for a, b in np.asarray(mu).reshape(-1, 2)]
    out = np.zeros((tabs.shape[1], 2), dtype=np.uint64)
    for i in range(tabs.shape[1]):
        acc = (0, 0)
        for t, m in enumerate(mu):
            x = int(tabs[t, i])
            acc = ((acc[0] + m[0] * x) % P_INT, (acc[1] + m[1] * x) % P_INT)
        out[i] = acc
    return out


# -- proof of work (BLAKE3) ----------------------------------------------------------------


@njit(cache=True)
def _pack_block(buf, start, length, m):
    """Block words of ``buf[start:start + 64]`` (bytes past ``length`` read as zero)."""
    for w in range(16):
        v = np.uint64(0)
        for k in range(4):
            pos = start + 4 * w + k
            if pos < length:
                v |= np.uint64(buf[pos]) << np.uint64(8 * k)
        m[w] = v


_M32W = np.uint64(0xFFFFFFFF)


@njit(cache=True)
def _grind_blake3(buf, plen, mask, start):
    """Least nonce ≥ ``start`` (8 little-endian bytes after the ``plen`` prefix bytes of ``buf``)
    whose BLAKE3 digest's first 8 bytes are ≡ 0 mod mask + 1.  The chaining value after
    the blocks holding only prefix bytes, and the words of the (at most two) blocks
    holding the nonce, are computed once; per nonce the nonce, shifted to its byte
    offset, is or-ed into (at most three) words of a copy of those words and the last
    blocks compressed by the register-resident `blake3_numba._compress_w`, with no
    allocation (the same digests as `_hash_one`; `grind_ref` is the Python twin)."""
    length = plen + 8
    nblocks = max(1, (length + 63) // 64)
    fixed = plen // 64  # blocks before the one holding the nonce's first byte
    nvar = nblocks - fixed
    for b in range(8):
        buf[plen + b] = 0
    cv0 = _B3_IV.copy()
    m = np.zeros(16, dtype=np.uint64)
    s = np.zeros(16, dtype=np.uint64)
    tmp = np.zeros(16, dtype=np.uint64)
    for b in range(fixed):
        _pack_block(buf, b * 64, length, m)
        _b3_compress(cv0, m, np.uint64(64), np.uint64(CHUNK_START if b == 0 else 0), s, tmp)
    # words of the nonce's blocks, flat (16 per block), plus 2 spare words
    base = np.zeros(16 * nvar + 2, dtype=np.uint64)
    for j in range(nvar):
        _pack_block(buf, (fixed + j) * 64, length, base[16 * j:16 * j + 16])
    blen = np.zeros(nvar, dtype=np.int64)
    flg = np.zeros(nvar, dtype=np.int64)
    for j in range(nvar):
        b = fixed + j
        blen[j] = min(64, length - 64 * b)
        f = 0
        if b == 0:
            f |= CHUNK_START
        if b == nblocks - 1:
            f |= CHUNK_END | ROOT
        flg[j] = f
    w0 = (plen - 64 * fixed) // 4  # flat word holding the nonce's first byte
    sh = np.uint64(8 * (plen % 4))
    rsh = np.uint64(32 - 8 * (plen % 4))
    mw = base.copy()
    nonce = np.uint64(start)
    while True:
        # the nonce shifted by sh bits spans words w0, w0 + 1 and (sh > 0) w0 + 2; only
        # those words of mw differ from base
        mw[w0] = base[w0] | ((nonce << sh) & _M32W)
        mw[w0 + 1] = base[w0 + 1] | ((nonce >> rsh) & _M32W)
        if sh:
            mw[w0 + 2] = base[w0 + 2] | (nonce >> (rsh + np.uint64(32)))
        c0, c1, c2, c3, c4, c5, c6, c7 = cv0[0], cv0[1], cv0[2], cv0[3], cv0[4], cv0[5], \
            cv0[6], cv0[7]
        for j in range(nvar):
            o = 16 * j
            c0, c1, c2, c3, c4, c5, c6, c7 = _b3_compress_w(
                c0, c1, c2, c3, c4, c5, c6, c7, mw[o], mw[o + 1], mw[o + 2], mw[o + 3],
                mw[o + 4], mw[o + 5], mw[o + 6], mw[o + 7], mw[o + 8], mw[o + 9],
                mw[o + 10], mw[o + 11], mw[o + 12], mw[o + 13], mw[o + 14], mw[o + 15],
                blen[j], flg[j])
        if (c0 | (c1 << np.uint64(32))) & mask == 0:
            return nonce
        nonce += np.uint64(1)


def grind_blake3(prefix: bytes, bits: int) -> int:
    """The least nonce whose BLAKE3(prefix ‖ nonce as 8 little-endian bytes) has its
    first 8 bytes, read little-endian, ≡ 0 mod 2^bits (0 ≤ bits ≤ 63; messages of at most
    1024 bytes, one BLAKE3 chunk)."""
    if not 0 <= bits <= 63 or len(prefix) + 8 > 1024:
        raise ValueError("grind_blake3: bits in 0..63 and a prefix of at most 1016 bytes")
    buf = np.zeros(len(prefix) + 8, dtype=np.uint8)
    buf[:len(prefix)] = np.frombuffer(prefix, dtype=np.uint8)
    # 16 nonces a compression (`blake3_numba.grind_lanes`: the same least nonce as the
    # one-message search `_grind_blake3`, kept as its twin)
    return int(grind_lanes(buf, len(prefix), np.uint64((1 << bits) - 1), np.uint64(0)))


def grind_ref(prefix: bytes, bits: int, hash_fn) -> int:
    """The same search with any hash function (bytes -> digest), in Python."""
    nonce = 0
    while int.from_bytes(hash_fn(prefix + nonce.to_bytes(8, "little"))[:8], "little") \
            & ((1 << bits) - 1):
        nonce += 1
    return nonce


# -- out-of-domain evaluation of a tiled coefficient file (s37h2) -------------------------
#
# `Whir._horner_tiles` evaluates p(z) = Σ_i c_i z^i at q (= 2) extension points from the
# tiles of the coefficient matrix C[v, t] = c[t + T·v] (tile j: columns [j·cb, (j+1)·cb)).
# Tile j adds z^(j·cb) · Σ_t' z^t' · Σ_v C[v, j·cb + t'] (z^T)^v.  `TileOod` sums the inner
# Σ_v for all q points in one pass over the tile (each entry read once): base entries
# times the broadcast components of (z_p^T)^v, on AVX-512 IFMA52 limbs
# (`whir_eq._ifma_2`: 8 columns a vector, the 2q = 4 constant components of a row summed
# into limbs without carries, flushed every `whir_eq.IFMA_FLUSH` rows), then the
# cb-long extension dot with z^t'.  Exact field sums: the same values as the old
# `ntt.mat_evec` + `horner` path, which stays the fallback (no IFMA host, widths not a
# multiple of 8, more than two points).


@njit(parallel=True, **_OPTS)
def _tile_ood_ifma(Yf, R, C, Bc, S, nch):
    """S[k, t] = Σ_{v<R} Y[v, t]·B[v, k] mod p for the tile Y (R, C) given flat as Yf and
    the 4 constants a row B[v, k] = Bc[v, 2k] (Bc[v, 2k + 1] = B[v, k] >> 52), C % 8 ==
    0: column blocks of 8 in ``nch`` parallel chunks; each chunk runs `IFMA_ROWS` rows at
    a time through all its blocks (`_ifma_2`: limbs kept in Kc), the limbs reduced
    (`_ifma_limbs`) into S every `IFMA_FLUSH` rows."""
    nb = C // IFMA_LANES
    step = (nb + nch - 1) // nch
    KB = 12 * IFMA_LANES
    for ch in prange(nch):
        b0 = ch * step
        b1 = min(nb, b0 + step)
        if b0 >= b1:
            continue
        Kc = np.zeros(KB * (b1 - b0), dtype=np.uint64)
        for f0 in range(0, R, IFMA_FLUSH):
            f1 = min(R, f0 + IFMA_FLUSH)
            for r0 in range(f0, f1, IFMA_ROWS):
                nr = min(IFMA_ROWS, f1 - r0)
                for b in range(b0, b1):
                    _ifma_2(Yf, r0 * C + b * IFMA_LANES, C, nr, Bc, r0 * 8, 8, Kc,
                            (b - b0) * KB)
            for b in range(b0, b1):
                o = (b - b0) * KB
                for k in range(4):
                    for e in range(IFMA_LANES):
                        t = b * IFMA_LANES + e
                        S[k, t] = gl_add(S[k, t], _ifma_limbs(Kc, o + 3 * IFMA_LANES * k + e))
                for i in range(KB):
                    Kc[o + i] = ZERO


def _tile_ood_ref(Y, B) -> np.ndarray:
    """Twin of `_tile_ood_ifma` (Python integers): S[k, t] = Σ_v Y[v, t]·B[v, k] mod p."""
    Y = np.asarray(Y, dtype=np.uint64)
    B = np.asarray(B, dtype=np.uint64)
    S = np.zeros((B.shape[1], Y.shape[1]), dtype=np.uint64)
    for k in range(B.shape[1]):
        for t in range(Y.shape[1]):
            S[k, t] = sum(int(Y[v, t]) * int(B[v, k]) for v in range(Y.shape[0])) % P_INT
    return S


def tile_ood_sums(Y: np.ndarray, Bc: np.ndarray) -> np.ndarray:
    """S (4, C): S[k, t] = Σ_v Y[v, t]·B[v, k] for a C-contiguous base tile Y (R, C),
    C % 8 == 0, and Bc (R, 8) = the 4 constants a row as (B, B >> 52) pairs
    (`_tile_ood_ifma`; IFMA hosts only)."""
    R, C = Y.shape
    if C % IFMA_LANES or Bc.shape != (R, 8) or not Y.flags.c_contiguous:
        raise ValueError(f"tile_ood_sums: tile {Y.shape}, constants {Bc.shape}")
    S = np.zeros((4, C), dtype=np.uint64)
    # one chunk a thread: a chunk's column run as wide as it can be (64 chunks of one
    # 8-column block each read one 64-byte line a row: 1.9 against 0.77 ns an entry at
    # R × C = 2^11 × 512, even on one thread)
    nch = max(1, min(C // IFMA_LANES, numba.get_num_threads() if R * C >= SERIAL_BELOW
                     else 1))
    _tile_ood_ifma(Y.reshape(-1), R, C, Bc, S, nch)
    return S


class TileOod:
    """p(z) for q extension points from the tiles of a coefficient matrix C (R, T)
    (tile j = columns [j·cb, (j+1)·cb), as `Whir._horner_tiles` reads them): ``tile(Y,
    j)`` is the (q, 2) contribution of tile j, z^(j·cb)·Σ_t z^t Σ_v Y[v, t] (z^T)^v,
    for each point — the sum of the contributions over the tiles is p(z).  Two points
    and cb % 8 == 0 on an IFMA host: one pass over the tile (`tile_ood_sums`); otherwise
    the old per-point `ntt.mat_evec` and `horner`.  Same values either way."""

    def __init__(self, zs, T: int, cb: int, R: int, ifma: bool | None = None):
        self.zs = [np.asarray(z, dtype=np.uint64).reshape(2) for z in zs]
        self.T, self.cb, self.R = T, cb, R
        self.zp = [epowers(z, 0, cb) for z in self.zs]
        self.zT = [epowers(z, T, 1)[0] for z in self.zs]
        use = IFMA if ifma is None else ifma
        self.fast = bool(use and len(self.zs) == 2 and cb % IFMA_LANES == 0 and R >= 1)
        if self.fast:
            Bc = np.empty((R, 8), dtype=np.uint64)
            for i, zt in enumerate(self.zT):
                pw = epowers(zt, 0, R)
                Bc[:, 4 * i] = pw[:, 0]
                Bc[:, 4 * i + 2] = pw[:, 1]
            Bc[:, 1::2] = Bc[:, 0::2] >> np.uint64(52)
            self.Bc = Bc

    def tile(self, Y: np.ndarray, j: int) -> np.ndarray:
        Y = np.ascontiguousarray(Y, dtype=np.uint64)
        if Y.shape != (self.R, self.cb):
            raise ValueError(f"TileOod.tile: {Y.shape}, expected {(self.R, self.cb)}")
        out = np.empty((len(self.zs), 2), dtype=np.uint64)
        if self.fast:
            S = tile_ood_sums(Y, self.Bc)
            for i in range(2):
                u = np.empty((self.cb, 2), dtype=np.uint64)
                u[:, 0] = S[2 * i]
                u[:, 1] = S[2 * i + 1]
                v = _edot_ser(u, self.zp[i])
                out[i] = _e2_mul_arr(epowers(self.zs[i], j * self.cb, 1)[0], v)
        else:
            for i, z in enumerate(self.zs):
                v = horner(mat_evec(Y, self.zp[i]), self.zT[i])
                out[i] = _e2_mul_arr(epowers(z, j * self.cb, 1)[0], v)
        return out


def _e2_mul_arr(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """a·b in E for (2,) arrays (Python integers: one product a tile)."""
    return np.array(G._py_e2(int(a[0]), int(a[1]), int(b[0]), int(b[1])), dtype=np.uint64)
