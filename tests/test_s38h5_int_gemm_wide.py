"""s38h5: the witness's int64 kernels `int_gemm.gemm_nt` and `int_gemm.minmax_i64` marked
"prefer-vector-width"="512" (`jit_util._wide512`): the mark is in the LLVM IR of each
(cached) kernel, and their values are their numpy twins' (int64 wrap-around included), on
shapes with full 4x4 blocks, ragged row/column tails and the bench's projection shapes."""

import numpy as np
import pytest
from numba import njit

from zklora.kernels import int_gemm as IG

MARK = '"prefer-vector-width"="512"'
rng = np.random.default_rng(38)


def _ir(f):
    return "\n".join(f.inspect_llvm().values())


def _fresh(f):
    """An uncached compile of kernel ``f``'s Python source (a cached kernel has no IR)."""
    return njit(cache=False, nogil=True)(f.py_func)


GEMM = _fresh(IG.gemm_nt)
MINMAX = _fresh(IG.minmax_i64)


@pytest.mark.parametrize("T,K,N", [(1, 1, 1), (3, 5, 7), (4, 8, 4), (9, 33, 13),
                                   (64, 512, 36), (32, 1024, 20)])
def test_gemm_nt_wide_same_as_twin(T, K, N):
    x = rng.integers(-(1 << 20), 1 << 20, (T, K), dtype=np.int64)
    w = rng.integers(-(1 << 20), 1 << 20, (N, K), dtype=np.int64)
    out = np.full((T, N), 7, np.int64)
    IG.gemm_nt(x, w, out)
    assert np.array_equal(out, IG.gemm_nt_ref(x, w))
    out[:] = 7
    GEMM(x, w, out)
    assert np.array_equal(out, IG.gemm_nt_ref(x, w))
    assert MARK in _ir(GEMM)


def test_gemm_nt_wraps_like_numpy():
    x = rng.integers(-(1 << 62), 1 << 62, (6, 40), dtype=np.int64)
    w = rng.integers(-(1 << 62), 1 << 62, (9, 40), dtype=np.int64)
    out = np.empty((6, 9), np.int64)
    IG.gemm_nt(x, w, out)
    assert np.array_equal(out, IG.gemm_nt_ref(x, w))


@pytest.mark.parametrize("n", [1, 7, 8, 9, 1000, 32768 + 3])
def test_minmax_wide_same_as_twin(n):
    a = rng.integers(-(1 << 62), 1 << 62, n, dtype=np.int64)
    assert IG.minmax_i64(a) == MINMAX(a) == IG.minmax_ref(a)
    a[n // 2] = np.iinfo(np.int64).min
    a[-1] = np.iinfo(np.int64).max
    assert IG.minmax_i64(a) == MINMAX(a) == IG.minmax_ref(a)
    assert MARK in _ir(MINMAX)


def test_elementwise_max_abs_same_as_torch():
    import torch

    from zklora.plugins.ops.elementwise import _max_abs

    def ref(x):
        return int(x.abs().max()) if x.numel() else 0

    for n in (1, 5, 1000, 40000):
        for lo, hi in ((-(1 << 40), 1 << 40), (-(1 << 40), -5), (3, 1 << 30), (-9, 2)):
            x = torch.from_numpy(rng.integers(lo, hi, n, dtype=np.int64))
            assert _max_abs(x) == ref(x)
            assert _max_abs(x.reshape(-1, 1).t()) == ref(x)
    x = torch.from_numpy(rng.integers(-(1 << 40), 1 << 40, (64, 48), dtype=np.int64))
    assert _max_abs(x.t()) == ref(x)                 # not contiguous: torch
    assert _max_abs(x[:, ::2]) == ref(x[:, ::2])
    assert _max_abs(torch.zeros(0, dtype=torch.int64)) == 0
    assert _max_abs(torch.tensor([-7, 3], dtype=torch.int32)) == 7
