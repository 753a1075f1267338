"""s37h6: the LogUp-GKR fill kernels `e_fill_segments`, `e_fill_reduce`,
`e_fill_reduce_fold` and `e_fill_fold` are marked "prefer-vector-width"="512"
(`jit_util._wide512`, first statement of the prange body): an uncached compile of each
carries the mark in its LLVM IR and gives the values of the cached kernel (through its
wrapper) — zmm instead of ymm lanes, the same field elements (the twins' tests:
test_s36h4_fill_fold, test_s37h4_fill_fold_leaves, test_h3_fill_reduce_lanes)."""

import numpy as np
import pytest
from numba import njit

from zklora.kernels import lookup_gkr as KL
from zklora.kernels.goldilocks import P_INT

MARK = '"prefer-vector-width"="512"'
rng = np.random.default_rng(376)


def _ir(f):
    return "\n".join(f.inspect_llvm().values())


def _fresh(f):
    return njit(cache=False, nogil=True, fastmath=False, parallel=True)(f.py_func)


def _plan(n):
    cols = [rng.integers(0, 1 << 20, n, dtype=np.uint64) for _ in range(2)]
    AP = np.zeros((1, 1, KL.FILL_WIDTH, 2), np.uint64)
    AP[0, 0, 0] = (1, 0)
    AP[0, 0, 1] = rng.integers(0, P_INT, 2, dtype=np.uint64)
    BT = rng.integers(0, P_INT, (1, 1, 2), dtype=np.uint64)
    # rows [0, n - 40) from the columns, the rest padding (SEG_PAD's constant)
    plan = (np.array([0, n - 40], np.int64), np.array([n - 40, n], np.int64),
            np.array([KL.SEG_COLS, KL.SEG_PAD], np.int64), np.zeros(2, np.int64),
            np.array([2, 0], np.int64), np.zeros(2, np.int64), KL.col_table(cols), AP, BT,
            rng.integers(0, P_INT, (2, 1, 2), dtype=np.uint64))
    return plan, cols


@pytest.mark.parametrize("nch", [1, 3])
def test_fill_kernels_marked_and_same(nch):
    wx, m, j, rbx = 4 * KL.FILL_RB, 4, 2, KL.FILL_RB
    plan, _cols = _plan(wx * m + 8)
    rhos = [rng.integers(0, P_INT, 2, dtype=np.uint64) for _ in range(j)]
    rr = np.ascontiguousarray(np.asarray(rhos, np.uint64).reshape(j, 2))

    po, qo = np.zeros((wx, 2), np.uint64), np.zeros((wx, 2), np.uint64)
    KL.fill_reduce(8, wx, wx, m, plan, po, qo)
    po2, qo2 = np.zeros_like(po), np.zeros_like(qo)
    f = _fresh(KL.e_fill_reduce)
    f(8, wx, wx, m, *plan, po2, qo2, rbx, nch)
    assert np.any(qo != 0) and np.array_equal(po, po2) and np.array_equal(qo, qo2)
    assert MARK in _ir(f)

    o = np.zeros((2, 4, (wx >> j) // 2), np.uint64)
    assert KL.fill_reduce_fold(8, wx, wx, m, plan, rhos, o, 0, 1, 0)
    o2 = np.zeros_like(o)
    f = _fresh(KL.e_fill_reduce_fold)
    f(8, wx, wx, m, *plan, rr, o2, 0, 1, 0, rbx, nch)
    assert np.any(o != 0) and np.array_equal(o, o2)
    assert MARK in _ir(f)

    o = np.zeros((2, 4, (wx >> j) // 2), np.uint64)
    assert KL.fill_fold(wx * m + 8 - wx, wx, plan, rhos, o, 1, 0)   # the padding's rows too
    o2 = np.zeros_like(o)
    f = _fresh(KL.e_fill_fold)
    f(wx * m + 8 - wx, wx, *plan, rr, o2, 1, 0, rbx, nch)
    assert np.any(o[1] != 0) and np.array_equal(o, o2)
    assert MARK in _ir(f)

    q = np.zeros((wx, 1, 2), np.uint64)
    KL.fill_segments(wx * m + 8 - wx, wx * m + 8, q, plan)
    q2 = np.zeros_like(q)
    f = _fresh(KL.e_fill_segments)
    f(wx * m + 8 - wx, wx * m + 8, q2, *plan, nch)
    assert np.any(q != 0) and np.array_equal(q, q2)
    assert MARK in _ir(f)
