"""`whir_eq.ifma_madd` (the IFMA52 limb multiply-accumulate IR shared by the IFMA
kernels): a one-vector kernel built from it against a Python model of vpmadd52luq /
vpmadd52huq and against the exact product (limb0 + limb1·2^52 + limb2·2^104 = Σ x·y),
edge values included; skipped off IFMA hosts."""

import numpy as np
import pytest
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from zklora.kernels import whir_eq as QE

P = (1 << 64) - (1 << 32) + 1
M52 = (1 << 52) - 1
L = QE.IFMA_LANES
EDGE = [0, 1, P - 1, P - 2, (1 << 64) - 1, M52, 1 << 52, (1 << 63) + 5]

pytestmark = pytest.mark.skipif(not QE.IFMA, reason="no AVX-512 IFMA52 on this host")


@intrinsic
def _madd_rows(typingctx, X, Y, n, K):
    """K (3·8 limbs) += Σ_r X[8r : 8r + 8]·Y[8r : 8r + 8] by `whir_eq.ifma_madd`."""
    sig = types.void(X, Y, types.int64, K)

    def codegen(context, builder, sig, args):
        import llvmlite.ir as ir
        i64 = ir.IntType(64)
        vt = ir.VectorType(i64, L)
        mlo, mhi = QE.ifma_decl(builder)
        xa, ya, ka = [context.make_array(sig.args[k])(context, builder, args[k])
                      for k in (0, 1, 3)]
        kp = [builder.bitcast(builder.gep(ka.data, [ir.Constant(i64, L * i)]), vt.as_pointer())
              for i in range(3)]
        slots = []
        for p in kp:
            s = cgutils.alloca_once(builder, vt)
            builder.store(builder.load(p, align=8), s)
            slots.append(s)
        s52 = ir.Constant(vt, [52] * L)
        with cgutils.for_range(builder, args[2]) as loop:
            o = builder.mul(loop.index, ir.Constant(i64, L))
            x, y = [builder.load(builder.bitcast(builder.gep(a.data, [o]), vt.as_pointer()),
                                 align=8) for a in (xa, ya)]
            QE.ifma_madd(builder, mlo, mhi, slots, x, builder.lshr(x, s52), y,
                         builder.lshr(y, s52))
        for p, s in zip(kp, slots):
            builder.store(builder.load(s), p, align=8)
        return context.get_dummy_value()

    return sig, codegen


@njit(cache=False)
def _run(X, Y, n, K):
    _madd_rows(X, Y, n, K)


def _model(xs, ys, k0):
    """vpmadd52luq(a, b, c) = a + lo52(b52·c52), vpmadd52huq = a + hi52(b52·c52), mod 2^64,
    in ifma_madd's order."""
    mask = (1 << 64) - 1

    def lo(a, b, c):
        return (a + (((b & M52) * (c & M52)) & M52)) & mask

    def hi(a, b, c):
        return (a + (((b & M52) * (c & M52)) >> 52)) & mask

    k = [list(map(int, k0[i * L:(i + 1) * L])) for i in range(3)]
    for r in range(len(xs) // L):
        for e in range(L):
            x, y = int(xs[r * L + e]), int(ys[r * L + e])
            x1, y1 = x >> 52, y >> 52
            k[0][e] = lo(k[0][e], x, y)
            a1 = hi(k[1][e], x, y)
            a1 = lo(a1, x, y1)
            k[1][e] = lo(a1, x1, y)
            a2 = hi(k[2][e], x, y1)
            a2 = hi(a2, x1, y)
            k[2][e] = lo(a2, x1, y1)
    return np.array(k[0] + k[1] + k[2], dtype=np.uint64)


@pytest.mark.parametrize("rows", [1, 3, 16])
def test_ifma_madd_model_and_product(rows):
    rng = np.random.default_rng(rows)
    n = rows * L
    xs = rng.integers(0, 1 << 64, size=n, dtype=np.uint64)
    ys = rng.integers(0, 1 << 64, size=n, dtype=np.uint64)
    e = np.array(EDGE, dtype=np.uint64)
    xs[:L], ys[:L] = e, e[::-1]
    if rows > 1:
        xs[L:2 * L], ys[L:2 * L] = e, e
    K = np.zeros(3 * L, dtype=np.uint64)
    _run(xs, ys, rows, K)
    assert np.array_equal(K, _model(xs, ys, np.zeros(3 * L, dtype=np.uint64)))
    for lane in range(L):   # the limbs are the exact sum of products
        tot = sum(int(K[i * L + lane]) << (52 * i) for i in range(3))
        want = sum(int(xs[r * L + lane]) * int(ys[r * L + lane]) for r in range(rows))
        assert tot == want
    K2 = K.copy()   # accumulates onto the limbs given
    _run(xs, ys, rows, K2)
    assert np.array_equal(K2, _model(xs, ys, K))
