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
from numba import njit

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

