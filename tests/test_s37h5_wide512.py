"""s37h5: kernels whose autovectorised loops are marked "prefer-vector-width"="512"
(`jit_util._wide512`): the mark is in the LLVM IR of the function each is compiled into
(serial njit functions, inlined helpers and parallel bodies alike), and an uncached
compile of each marked kernel gives the values of the Python-level twin / cached kernel."""

import numpy as np
import pytest
from numba import njit

from zklora.kernels import goldilocks as G
from zklora.kernels import ntt as N
from zklora.kernels import sumcheck as S
from zklora.kernels.jit_util import _wide512

MARK = '"prefer-vector-width"="512"'
P = G.P_INT
rng = np.random.default_rng(37)


def rnd(*shape):
    return rng.integers(0, P, size=shape, dtype=np.uint64)


def _ir(f):
    return "\n".join(f.inspect_llvm().values())


def test_serial_function_marked():
    @njit(cache=False)
    def f(x):
        _wide512()
        s = 0
        for i in range(x.shape[0]):
            s += x[i]
        return s

    assert f(np.arange(10, dtype=np.uint64)) == 45
    assert MARK in _ir(f)


def test_unmarked_function_not_marked():
    @njit(cache=False)
    def f(x):
        s = 0
        for i in range(x.shape[0]):
            s += x[i]
        return s

    assert f(np.arange(10, dtype=np.uint64)) == 45
    assert MARK not in _ir(f)


def _fresh(f, parallel=False):
    """An uncached compile of kernel ``f``'s Python source (its module's globals)."""
    kw = dict(cache=False, nogil=True, fastmath=False)
    if parallel:
        kw["parallel"] = True
    return njit(**kw)(f.py_func)


def test_sumcheck_helpers_marked_and_same():
    k, m = 4, 100  # 100 pairs: full lane blocks and a partial one
    st = rnd(k, 2 * m, 2)
    isb = np.array([False, True, False, True])
    st[isb, :, 1] = 0
    r0, r1 = np.uint64(rnd(1)[0]), np.uint64(rnd(1)[0])
    w = rnd(m, 2)
    for name, args, oi in [
        ("_fold_range", lambda: (st, r0, r1, np.zeros((k, m, 2), np.uint64), 0, m), 3),
        ("_fold_range_b", lambda: (st, isb, r0, r1, np.zeros((k, m, 2), np.uint64), 0, m), 4),
        ("_p2_range", lambda: (st, np.array([0, 1]), np.array([2, 3]), 3, m,
                               np.zeros((2, 2, 2), np.uint64)), 5),
        ("_blocks", lambda: (st, w, True, isb, np.array([0, 3, 5]),
                             np.array([0, 1, 2, 1, 3]), np.array([0, -1]), 3, 1, m,
                             np.zeros((2, 3, 2), np.uint64)), 10),
    ]:
        f = getattr(S, name)
        fresh = _fresh(f)
        a = args()
        f(*a)
        b = args()
        fresh(*b)
        assert np.array_equal(a[oi], b[oi]), name
        assert MARK in _ir(fresh), name


@pytest.mark.parametrize("R,C", [(5, 3), (64, 40), (130, 17)])
def test_goldilocks_kernels_marked_and_twins(R, C):
    e = rnd(R, 2)
    M = rnd(R, C)
    eq = rnd(C, 2)
    for name, args, want in [
        ("e_vecmat_base", (e, M, np.zeros((C, 2), np.uint64)), G.vecmat_ref(e, M)),
        ("e_vecmat_rows", (e, M, np.zeros((C, 2), np.uint64), 3), G.vecmat_ref(e, M)),
        ("e_matvec_base", (eq, M, np.zeros((R, 2), np.uint64)), G.matvec_ref(eq, M)),
    ]:
        getattr(G, name)(*args)
        assert np.array_equal(args[2], want), name
        fresh = _fresh(getattr(G, name), parallel=True)
        args[2][:] = 0
        fresh(*args)
        assert np.array_equal(args[2], want), name
        assert MARK in _ir(fresh), name


def test_evec_mat_marked_and_same():
    e = rnd(70, 2)
    M = rnd(70, 37)
    out = np.zeros((37, 2), np.uint64)
    N._evec_mat_ser(e, M, out)
    fresh = _fresh(N._evec_mat_ser)
    out2 = np.zeros((37, 2), np.uint64)
    fresh(e, M, out2)
    assert np.array_equal(out, out2)
    assert MARK in _ir(fresh)
    fp = _fresh(N._evec_mat_par, parallel=True)
    out3 = np.zeros((37, 2), np.uint64)
    fp(e, M, out3, 8)
    assert np.array_equal(out, out3)
    assert MARK in _ir(fp)


def test_whir_sumcheck_helpers_marked_and_same():
    from zklora.kernels import whir_sumcheck as W

    N = 4 * 37 + 8  # 39 folded pairs: a full lane block and a partial one
    f, w, fb = rnd(N, 2), rnd(N, 2), rnd(N)
    a0, a1 = np.uint64(rnd(1)[0]), np.uint64(rnd(1)[0])

    def z(*s):
        return np.zeros(s, np.uint64)

    for name, args, oi in [
        ("_round_ext_range", lambda: (f, w, 1, N // 2, z(4)), 4),
        ("_round_base_range", lambda: (fb, w, 1, N // 2, z(4)), 4),
        ("_fold_round_range_ext", lambda: (f, w, a0, a1, z(N // 2, 2), z(N // 2, 2), 0, N // 4,
                                           z(4)), 8),
        ("_fold_round_range_base", lambda: (fb, w, a0, a1, z(N // 2, 2), z(N // 2, 2), 0, N // 4,
                                            z(4)), 8),
        ("_fold_range_ext", lambda: (f, w, a0, a1, z(N // 2, 2), z(N // 2, 2), 0, N // 2), 5),
        ("_fold_range_base", lambda: (fb, w, a0, a1, z(N // 2, 2), z(N // 2, 2), 0, N // 2), 5),
    ]:
        k = getattr(W, name)
        fresh = _fresh(k)
        a, b = args(), args()
        k(*a)
        fresh(*b)
        assert np.any(a[oi] != 0), name
        assert all(np.array_equal(x, y) for x, y in zip(a, b)), name  # outputs and fo / wo
        assert MARK in _ir(fresh), name
