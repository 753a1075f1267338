"""s40h4: `int_gemm.gemm_nt` multiplies the 4-row blocks of W whose entries (and all of
X's) are in int32's range with 32-bit products (``vpmuldq``, `_rows_nt32`), the others
with 64-bit ones: its values are the numpy twin's (int64 wrap-around included) with
narrow, wide and mixed operands, at the int32 edges, and on ragged shapes; the 32-bit
block is in the kernel's machine code."""

import numpy as np
import pytest
from numba import njit

from zklora.kernels import int_gemm as IG

rng = np.random.default_rng(40)
LO, HI = -(1 << 31), (1 << 31) - 1


def _check(x, w):
    out = np.full((x.shape[0], w.shape[0]), 7, np.int64)
    IG.gemm_nt(x, w, out)
    assert np.array_equal(out, IG.gemm_nt_ref(x, w))


@pytest.mark.parametrize("T,K,N", [(1, 1, 1), (3, 5, 7), (4, 8, 4), (9, 33, 13),
                                   (32, 1024, 20), (33, 257, 9)])
def test_narrow_same_as_twin(T, K, N):
    _check(rng.integers(-(1 << 20), 1 << 20, (T, K), dtype=np.int64),
           rng.integers(-(1 << 20), 1 << 20, (N, K), dtype=np.int64))


@pytest.mark.parametrize("T,K,N", [(5, 17, 11), (32, 64, 16)])
def test_int32_edges_and_wrap(T, K, N):
    """Entries at int32's ends (sums past 2^63 wrap) and one past them."""
    x = rng.choice(np.array([LO, HI, -1, 0, 1], np.int64), (T, K))
    w = rng.choice(np.array([LO, HI, -1, 0, 1], np.int64), (N, K))
    _check(x, w)
    x[T // 2, K // 2] = HI + 1          # X wide: every block 64-bit
    _check(x, w)
    x[T // 2, K // 2] = LO - 1
    _check(x, w)


@pytest.mark.parametrize("row", [0, 3, 4, 9, 10])
def test_mixed_blocks(row):
    """One wide row of W (in a full block or the ragged tail): its block takes 64-bit
    products, the others 32-bit ones; all equal the twin's."""
    T, K, N = 9, 40, 11
    x = rng.integers(-(1 << 30), 1 << 30, (T, K), dtype=np.int64)
    w = rng.integers(-(1 << 30), 1 << 30, (N, K), dtype=np.int64)
    w[row, 5] = np.int64(1) << 40
    w[row, 6] = -(np.int64(1) << 62)
    _check(x, w)
    w = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, (N, K),
                     dtype=np.int64)
    _check(x, w)


def test_wide32_flags():
    f = IG._wide32
    assert f(np.array([LO, HI, 0, -1], np.int64)) == 0
    for v in (HI + 1, LO - 1, 1 << 40, -(1 << 62)):
        assert f(np.array([0, v, 0], np.int64)) != 0
    assert f(np.zeros(0, np.int64)) == 0


def test_vpmuldq_in_machine_code():
    g = njit(cache=False, nogil=True)(IG.gemm_nt.py_func)
    g(np.ones((4, 16), np.int64), np.ones((4, 16), np.int64), np.zeros((4, 4), np.int64))
    asm = "\n".join(g.inspect_asm().values())
    assert "vpmuldq" in asm and "vpmullq" in asm
