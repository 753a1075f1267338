"""Numba int64 matrix product for the witness (`zklora.plugins.ops.matmul.MatMul.forward`):
the same integers as torch's int64 ``matmul`` (two's-complement wrap-around included:
a sum of int64 products mod 2^64 does not depend on the order it is added in), for thin
left operands (the bench shapes have 32-64 token rows).  torch's int64 matmul has no
BLAS; ``gemm_nt`` (Y = X·Wᵀ, W stored (N, K): the projections' layout) vectorises the k
loop (``vpmullq``) with 4×4 output blocks held in registers, so every loaded element
serves 4 products: about 0.35-0.45× torch's CPU at the 84m shapes; blocks whose entries
fit in int32 multiply with ``vpmuldq`` instead (s40h4: x0.64-0.90).  Serial on purpose:
the outputs are small and process CPU is what counts (a prange version spent more CPU
than torch on this 2-core box).  X·W with W stored (K, N) stays with torch, whose loop
for that layout is twice as fast as for Xᵀ and beat a transposed-panel version of this
kernel (and, s40h4, 32-bit-product kernels over W's rows: 1.2-1.8× torch's CPU).
Twin: `gemm_nt_ref` (numpy int64 matmul, which wraps the same way).

``minmax_i64``: the (min, max) of a flat int64 array in one vectorised pass, for the
witness's declared-bound checks (`zklora.zkcore.graph._check_declared`): ~2.5× cheaper
than ``torch.aminmax`` at 32k-131k entries on one thread (s36h5).  Twin: `minmax_ref`."""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .goldilocks import gl_add, gl_mul
from .jit_util import _wide512


@njit(cache=True, nogil=True, inline="always")
def _rows_nt(x, k0, K, w, r0, out, n0, T):
    """out[t, n0 + i] += Σ_{k<K} x[t, k0 + k]·w[r0 + i, k] for i < 4, every t < T
    (4 rows of x at a time, then one)."""
    w0 = w[r0]
    w1 = w[r0 + 1]
    w2 = w[r0 + 2]
    w3 = w[r0 + 3]
    t = 0
    while t + 4 <= T:
        x0 = x[t, k0:k0 + K]
        x1 = x[t + 1, k0:k0 + K]
        x2 = x[t + 2, k0:k0 + K]
        x3 = x[t + 3, k0:k0 + K]
        a00 = a01 = a02 = a03 = np.int64(0)
        a10 = a11 = a12 = a13 = np.int64(0)
        a20 = a21 = a22 = a23 = np.int64(0)
        a30 = a31 = a32 = a33 = np.int64(0)
        for k in range(K):
            u0 = x0[k]
            u1 = x1[k]
            u2 = x2[k]
            u3 = x3[k]
            v0 = w0[k]
            v1 = w1[k]
            v2 = w2[k]
            v3 = w3[k]
            a00 += u0 * v0
            a01 += u0 * v1
            a02 += u0 * v2
            a03 += u0 * v3
            a10 += u1 * v0
            a11 += u1 * v1
            a12 += u1 * v2
            a13 += u1 * v3
            a20 += u2 * v0
            a21 += u2 * v1
            a22 += u2 * v2
            a23 += u2 * v3
            a30 += u3 * v0
            a31 += u3 * v1
            a32 += u3 * v2
            a33 += u3 * v3
        out[t, n0] += a00
        out[t, n0 + 1] += a01
        out[t, n0 + 2] += a02
        out[t, n0 + 3] += a03
        out[t + 1, n0] += a10
        out[t + 1, n0 + 1] += a11
        out[t + 1, n0 + 2] += a12
        out[t + 1, n0 + 3] += a13
        out[t + 2, n0] += a20
        out[t + 2, n0 + 1] += a21
        out[t + 2, n0 + 2] += a22
        out[t + 2, n0 + 3] += a23
        out[t + 3, n0] += a30
        out[t + 3, n0 + 1] += a31
        out[t + 3, n0 + 2] += a32
        out[t + 3, n0 + 3] += a33
        t += 4
    while t < T:
        x0 = x[t, k0:k0 + K]
        a00 = a01 = a02 = a03 = np.int64(0)
        for k in range(K):
            u0 = x0[k]
            a00 += u0 * w0[k]
            a01 += u0 * w1[k]
            a02 += u0 * w2[k]
            a03 += u0 * w3[k]
        out[t, n0] += a00
        out[t, n0 + 1] += a01
        out[t, n0 + 2] += a02
        out[t, n0 + 3] += a03
        t += 1


@njit(cache=True, nogil=True, inline="always")
def _row_nt(x, k0, K, wr, out, n, T):
    """out[t, n] += Σ_{k<K} x[t, k0 + k]·wr[k] for every t < T."""
    for t in range(T):
        xt = x[t, k0:k0 + K]
        a = np.int64(0)
        for k in range(K):
            a += xt[k] * wr[k]
        out[t, n] += a


@njit(cache=True, nogil=True, inline="always")
def _s32(v):
    """v's low 32 bits, sign-extended: v itself where -2^31 <= v < 2^31 (a product of two
    such values is one ``vpmuldq`` lane, 3x cheaper than ``vpmullq``)."""
    return np.int64(np.int32(v))


@njit(cache=True, nogil=True)
def _wide32(a):
    """0 when every entry of the flat int64 array ``a`` is in [-2^31, 2^31), else not 0."""
    b = np.int64(0)
    for i in range(a.shape[0]):
        v = a[i]
        b |= v ^ _s32(v)
    return b


@njit(cache=True, nogil=True, inline="always")
def _rows_nt32(x, K, w, r0, out, n0, T):
    """`_rows_nt` (k0 = 0) for x and w[r0:r0 + 4] whose entries are in int32's range:
    the same sums, from ``vpmuldq`` products."""
    w0 = w[r0]
    w1 = w[r0 + 1]
    w2 = w[r0 + 2]
    w3 = w[r0 + 3]
    t = 0
    while t + 4 <= T:
        x0 = x[t]
        x1 = x[t + 1]
        x2 = x[t + 2]
        x3 = x[t + 3]
        a00 = a01 = a02 = a03 = np.int64(0)
        a10 = a11 = a12 = a13 = np.int64(0)
        a20 = a21 = a22 = a23 = np.int64(0)
        a30 = a31 = a32 = a33 = np.int64(0)
        for k in range(K):
            u0 = _s32(x0[k])
            u1 = _s32(x1[k])
            u2 = _s32(x2[k])
            u3 = _s32(x3[k])
            v0 = _s32(w0[k])
            v1 = _s32(w1[k])
            v2 = _s32(w2[k])
            v3 = _s32(w3[k])
            a00 += u0 * v0
            a01 += u0 * v1
            a02 += u0 * v2
            a03 += u0 * v3
            a10 += u1 * v0
            a11 += u1 * v1
            a12 += u1 * v2
            a13 += u1 * v3
            a20 += u2 * v0
            a21 += u2 * v1
            a22 += u2 * v2
            a23 += u2 * v3
            a30 += u3 * v0
            a31 += u3 * v1
            a32 += u3 * v2
            a33 += u3 * v3
        out[t, n0] = a00
        out[t, n0 + 1] = a01
        out[t, n0 + 2] = a02
        out[t, n0 + 3] = a03
        out[t + 1, n0] = a10
        out[t + 1, n0 + 1] = a11
        out[t + 1, n0 + 2] = a12
        out[t + 1, n0 + 3] = a13
        out[t + 2, n0] = a20
        out[t + 2, n0 + 1] = a21
        out[t + 2, n0 + 2] = a22
        out[t + 2, n0 + 3] = a23
        out[t + 3, n0] = a30
        out[t + 3, n0 + 1] = a31
        out[t + 3, n0 + 2] = a32
        out[t + 3, n0 + 3] = a33
        t += 4
    while t < T:
        x0 = x[t]
        a00 = a01 = a02 = a03 = np.int64(0)
        for k in range(K):
            u0 = _s32(x0[k])
            a00 += u0 * _s32(w0[k])
            a01 += u0 * _s32(w1[k])
            a02 += u0 * _s32(w2[k])
            a03 += u0 * _s32(w3[k])
        out[t, n0] = a00
        out[t, n0 + 1] = a01
        out[t, n0 + 2] = a02
        out[t, n0 + 3] = a03
        t += 1


@njit(cache=True, nogil=True)
def gemm_nt(x, w, out):
    """out[t, n] = Σ_k x[t, k]·w[n, k] (int64, wrapping) for C-contiguous x (T, K),
    w (N, K), out (T, N): Y = X·Wᵀ with W stored row-major (N, K).  Where x and a block
    of 4 rows of w have every entry in int32's range (the bench's values have <= 21
    bits), that block's sums come from 32-bit products (`_rows_nt32`, s40h4: x0.64-0.90
    CPU at the 84m shapes); other blocks from the 64-bit ones: the same integers."""
    _wide512()  # zmm code (s38h5: x0.69-0.74 CPU at the 25m/84m shapes, same values)
    T, K = x.shape
    N = w.shape[0]
    out[:] = 0
    narrow = _wide32(x.reshape(-1)) == 0
    n = 0
    while n + 4 <= N:
        if narrow and (_wide32(w[n]) | _wide32(w[n + 1]) | _wide32(w[n + 2])
                       | _wide32(w[n + 3])) == 0:
            _rows_nt32(x, K, w, n, out, n, T)
        else:
            _rows_nt(x, 0, K, w, n, out, n, T)
        n += 4
    for r in range(n, N):
        _row_nt(x, 0, K, w[r], out, r, T)


@njit(cache=True, nogil=True)
def minmax_i64(a):
    """(min, max) of the non-empty flat int64 array ``a``."""
    _wide512()  # zmm code (s38h5: x0.65-0.83 CPU at 32k-262k entries, same values)
    lo = a[0]
    hi = a[0]
    for i in range(1, a.shape[0]):
        x = a[i]
        lo = min(lo, x)
        hi = max(hi, x)
    return lo, hi


def minmax_ref(a: np.ndarray) -> tuple[int, int]:
    """Twin of `minmax_i64`."""
    a = np.asarray(a, dtype=np.int64)
    return int(a.min()), int(a.max())


def gemm_nt_ref(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Twin of `gemm_nt`: numpy's int64 X·Wᵀ (wraps mod 2^64 like torch)."""
    return np.matmul(np.asarray(x, dtype=np.int64), np.asarray(w, dtype=np.int64).T)



# --- folds of small-integer base tables by an extension vector (einsum's base folds) ----
#
# `GoldilocksExt2.vecmat` (eᵀ·M: e over goldilocks-ext2, M a base table) folds the
# einsums' operand tables, which hold small signed integers (the 84m prove's
# folds: |m| < 2^20) as field elements (m or p − |m|).  A field product per entry and
# component (`gl_mul`: 64×64→128 and a reduction) is replaced by integer products: each
# component x of e (canonical, < 2^64) is split as x = hi'·2^32 + lo' + 2^63 + 2^31 with
# hi', lo' ∈ [−2^31, 2^31) (its 32-bit halves less 2^31), so
#     Σ_i x_i·m_i = 2^32·Σ hi'_i·m_i + Σ lo'_i·m_i + (2^63 + 2^31)·Σ m_i   (mod p)
# where every product is one ``vpmuldq`` lane (|m| ≤ 2^25: |hi'·m| ≤ 2^56) and the sums
# of `SMALL_TILE` = 64 rows stay below 2^62 in int64; each tile's five int64 sums (H, L
# of both components, S = Σ m) are then reduced mod p and added in the field.  The same
# field elements as the field kernels.  A table with an entry outside ±2^25 (as a signed
# field element) makes the kernel return False (its partial result discarded) and the
# caller runs the field kernel.  Twin: `goldilocks.vecmat_ref`.  (M·e, `matvec`, the same
# way was no cheaper, s42h4: `goldilocks.e_matvec_base` is bound by reading M there.)

#: |m| ≤ 2^SMALL_BITS for every entry m (signed) of a table `e_vecmat_small` folds
SMALL_BITS = 25
#: rows summed in int64 before a reduction mod p
SMALL_TILE = 64
#: columns a vecmat tile sums at once (five int64 accumulators each: 20 KiB)
SMALL_COLS = 512

_OFF = np.int64(1 << SMALL_BITS)
_C0 = np.uint64((1 << 63) + (1 << 31))   # < p
_H31 = np.int64(1 << 31)
_M32 = np.uint64(0xFFFFFFFF)
_EPS_I = np.int64(0xFFFFFFFF)
_EPS_U = np.uint64(0xFFFFFFFF)
_T32 = np.uint64(1 << 32)


@njit(cache=True, nogil=True, inline="always")
def _signed(v):
    """A canonical field element v as the signed integer it stands for: v where
    v < 2^63, else v − p (exact where |v − p| < 2^63; the tables' entries are small)."""
    x = np.int64(v)
    return x + ((x >> 63) & _EPS_I)


def _sval(v):
    """An entry of a table `e_vecmat_small` folds as the signed integer it stands for:
    a canonical field element (uint64) through `_signed`; a signed integer (an int64
    table holding the integers themselves, `zklora.zkcore.published.IntTable`) as it
    is.  Python twin (numba: the overload below, chosen by the entry's type)."""
    if isinstance(v, (np.unsignedinteger,)):
        x = int(v)
        return x - (2 ** 64 - 2 ** 32 + 1) if x >= 1 << 63 else x
    return int(v)


@overload(_sval, inline="always")
def _sval_impl(v):
    if isinstance(v, types.Integer) and v.signed:
        return lambda v: np.int64(v)
    return lambda v: _signed(v)


@njit(cache=True, nogil=True, inline="always")
def _field(v):
    """The int64 v as a canonical field element (v ≥ 0: v; else p + v)."""
    u = np.uint64(v)
    return u - _EPS_U if v < 0 else u



@njit(cache=True, nogil=True, inline="always")
def _limbs(x):
    """(hi', lo') of the module section's split of a canonical x."""
    return np.int64(x >> np.uint64(32)) - _H31, np.int64(x & _M32) - _H31


@njit(cache=True, nogil=True, inline="always")
def _combine(h, lo, fs):
    """2^32·h + lo + fs mod p for int64 sums h, lo and a field element fs."""
    return gl_add(gl_add(gl_mul(_field(h), _T32), _field(lo)), fs)


@njit(parallel=True, cache=True, nogil=True)
def e_vecmat_small(e, M, out, nchunks):
    """out[j] = Σ_i e[i]·M[i, j] (e (R, 2) extension, M (R, C) base C-contiguous — or
    int64, the signed integers its elements stand for (`_sval`) —, out (C, 2)) by
    integer products (section above); ``nchunks`` runs of rows in parallel,
    each over tiles of `SMALL_TILE` rows × `SMALL_COLS` columns.  Returns False (``out``
    not written) when an entry of M is outside ±2^SMALL_BITS (a chunk stops at the first
    tile holding one)."""
    R = M.shape[0]
    C = M.shape[1]
    hi0 = np.empty(R, np.int64)
    lo0 = np.empty(R, np.int64)
    hi1 = np.empty(R, np.int64)
    lo1 = np.empty(R, np.int64)
    for i in range(R):
        hi0[i], lo0[i] = _limbs(e[i, 0])
        hi1[i], lo1[i] = _limbs(e[i, 1])
    part = np.zeros((nchunks, 2, C), np.uint64)
    wide = np.zeros(nchunks, np.int64)
    step = (R + nchunks - 1) // nchunks
    for c in prange(nchunks):
        _wide512()
        H0 = np.empty(SMALL_COLS, np.int64)
        L0 = np.empty(SMALL_COLS, np.int64)
        H1 = np.empty(SMALL_COLS, np.int64)
        L1 = np.empty(SMALL_COLS, np.int64)
        S = np.empty(SMALL_COLS, np.int64)
        p0 = part[c, 0]
        p1 = part[c, 1]
        chk = np.int64(0)
        r1 = min(R, (c + 1) * step)
        for t0 in range(c * step, r1, SMALL_TILE):
            t1 = min(r1, t0 + SMALL_TILE)
            for j0 in range(0, C, SMALL_COLS):
                cnt = min(C, j0 + SMALL_COLS) - j0
                H0[:cnt] = 0
                L0[:cnt] = 0
                H1[:cnt] = 0
                L1[:cnt] = 0
                S[:cnt] = 0
                for i in range(t0, t1):
                    a0 = _s32(hi0[i])
                    b0 = _s32(lo0[i])
                    a1 = _s32(hi1[i])
                    b1 = _s32(lo1[i])
                    row = M[i, j0:j0 + cnt]
                    for j in range(cnt):
                        s = _sval(row[j])
                        chk |= s + _OFF
                        m = _s32(s)
                        H0[j] += a0 * m
                        L0[j] += b0 * m
                        H1[j] += a1 * m
                        L1[j] += b1 * m
                        S[j] += s
                if chk >> (SMALL_BITS + 1) != 0:
                    break     # a wide entry: the caller's field kernel serves the call
                for j in range(cnt):
                    fs = gl_mul(_field(S[j]), _C0)
                    p0[j0 + j] = gl_add(p0[j0 + j], _combine(H0[j], L0[j], fs))
                    p1[j0 + j] = gl_add(p1[j0 + j], _combine(H1[j], L1[j], fs))
            if chk >> (SMALL_BITS + 1) != 0:
                break
        wide[c] = chk >> (SMALL_BITS + 1)
    for c in range(nchunks):
        if wide[c] != 0:
            return False
    for j in range(C):
        s0 = part[0, 0, j]
        s1 = part[0, 1, j]
        for c in range(1, nchunks):
            s0 = gl_add(s0, part[c, 0, j])
            s1 = gl_add(s1, part[c, 1, j])
        out[j, 0] = s0
        out[j, 1] = s1
    return True


#: `vecmat_small` serves tables of at least this many entries and rows (fewer: the field
#: kernels, no slower there: 32 × 1024 … 8192 measured x1.0-1.9 on one chunk, s42h4)
SMALL_MIN = 1 << 14
SMALL_MIN_ROWS = 256


def vecmat_small(e: np.ndarray, M: np.ndarray, out: np.ndarray, threads: int) -> bool:
    """`e_vecmat_small` for e (R, 2), M (R, C) uint64 (or int64) C-contiguous, out (C, 2),
    row chunks as `goldilocks.e_vecmat_rows` takes them (2 a thread, ≥ 64 rows each): True when
    ``out`` holds eᵀ·M; False (``out`` untouched) for a table under `SMALL_MIN` entries
    or `SMALL_MIN_ROWS` rows or with an entry outside ±2^SMALL_BITS."""
    R, C = M.shape
    if R < SMALL_MIN_ROWS or R * C < SMALL_MIN:
        return False
    return bool(e_vecmat_small(e, M, out, max(1, min(2 * threads, R // 64))))
