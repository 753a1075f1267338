"""s42h4: `int_gemm.e_vecmat_small` / `vecmat_small` (eᵀ·M for small-integer base tables by
integer products) against the Python-integer twin `goldilocks.vecmat_ref`, at the limbs'
and the bound's edges, with row chunks and column blocks split unevenly; wide tables
refused (out untouched); `GoldilocksExt2.vecmat` the same field elements either way."""

import numpy as np
import pytest

from zklora.kernels import int_gemm as IG
from zklora.kernels.goldilocks import P_INT, vecmat_ref

B = IG.SMALL_BITS


def _fe(s: np.ndarray) -> np.ndarray:
    """Signed integers as canonical field elements."""
    s = np.asarray(s, dtype=object)
    return np.array([int(v) % P_INT for v in s.reshape(-1)], dtype=np.uint64).reshape(s.shape)


def _e(rng, R: int) -> np.ndarray:
    e = rng.integers(0, 2**63, size=(R, 2), dtype=np.uint64) * np.uint64(2) \
        + rng.integers(0, 2, size=(R, 2), dtype=np.uint64)
    e %= np.uint64(P_INT)
    edges = [0, 1, P_INT - 1, 2**63, 2**63 - 1, 2**32 - 1, 2**32, P_INT - 2**32, 2**31,
             (2**32 - 1) << 32]   # hi / lo halves at 0, 2^31 and 2^32 − 1
    for i, v in enumerate(edges[:R]):
        e[i, i & 1] = v % P_INT
    return e


def _m(rng, R: int, C: int, bits: int) -> np.ndarray:
    lo, hi = -(1 << bits), 1 << bits   # [−2^b, 2^b): the range the kernel accepts at b = B
    s = rng.integers(lo, hi, size=(R, C), dtype=np.int64)
    s.reshape(-1)[:4] = [lo, hi - 1, 0, -1][:s.size]
    return _fe(s)


@pytest.mark.parametrize("R,C,bits,nchunks", [
    (256, 1, 3, 1), (256, 64, 20, 4), (300, 513, B, 3), (1024, 7, B, 4), (64, 1100, 18, 1),
    (1000, 1025, 12, 4), (130, 40, B, 2), (1, 5, B, 1), (257, 3, B, 5)])
def test_twin(R, C, bits, nchunks):
    rng = np.random.default_rng(R * 1000 + C)
    e, M = _e(rng, R), _m(rng, R, C, bits)
    out = np.empty((C, 2), np.uint64)
    assert IG.e_vecmat_small(e, M, out, nchunks)
    assert np.array_equal(out, vecmat_ref(e, M))


def test_bound_edge():
    """Every product at its largest (|lo'| = 2^31 with m = −2^25, hi' = 2^31 − 1 with
    m = 2^25 − 1) over whole 64-row tiles: the int64 sums at ±2^62, still exact."""
    R, C = 1024, 600
    e = np.zeros((R, 2), np.uint64)
    e[:, 0] = np.uint64(P_INT - 1)              # hi = 2^32 − 1, lo = 0: p − 1
    e[:, 1] = np.uint64(2**31 - 1 + (2**31 << 32))   # hi' = 0, lo' = −1
    e[::3, 1] = np.uint64(P_INT - 1 - 2**31)      # lo = 2^31 − 1 … mixed
    M = np.full((R, C), np.uint64(P_INT - (1 << B)))   # m = −2^25 everywhere
    M[:, ::2] = np.uint64((1 << B) - 1)
    for nchunks in (1, 2, 4, 16):
        out = np.empty((C, 2), np.uint64)
        assert IG.e_vecmat_small(e, M, out, nchunks)
        assert np.array_equal(out, vecmat_ref(e, M)), nchunks


@pytest.mark.parametrize("bad", [1 << B, -(1 << B) - 1, 1 << 40, -(1 << 62), P_INT // 2,
                                 P_INT // 2 + 1])
@pytest.mark.parametrize("where", [0, -1, 700])
def test_wide_refused(bad, where):
    rng = np.random.default_rng(7)
    R, C = 512, 96
    e, M = _e(rng, R), _m(rng, R, C, 10)
    M.reshape(-1)[where] = np.uint64(bad % P_INT)
    out = np.full((C, 2), 12345, np.uint64)
    assert not IG.e_vecmat_small(e, M, out, 4)
    assert not IG.vecmat_small(e, M, out, 2)
    assert (out == 12345).all()


def test_small_tables_not_served():
    rng = np.random.default_rng(3)
    for R, C in ((IG.SMALL_MIN_ROWS - 1, 1024), (IG.SMALL_MIN_ROWS, IG.SMALL_MIN // 256 - 1)):
        e, M = _e(rng, R), _m(rng, R, C, 8)
        out = np.full((C, 2), 9, np.uint64)
        assert not IG.vecmat_small(e, M, out, 2)
        assert (out == 9).all()
    e, M = _e(rng, 256), _m(rng, 256, 64, 8)
    out = np.empty((64, 2), np.uint64)
    assert IG.vecmat_small(e, M, out, 2)
    assert np.array_equal(out, vecmat_ref(e, M))


@pytest.mark.parametrize("bits", [6, B, 40, 63])
def test_field_vecmat_same_values(bits):
    """`GoldilocksExt2.vecmat`, whichever kernel serves it (small tables by integer
    products where routed, wide ones by the field kernels), equals the twin."""
    from zklora.plugins.fields.goldilocks import Goldilocks

    rng = np.random.default_rng(bits)
    R, C = 512, 160
    e = _e(rng, R)
    if bits == 63:
        M = rng.integers(0, P_INT, size=(R, C), dtype=np.uint64)
    else:
        M = _m(rng, R, C, bits)
    assert np.array_equal(Goldilocks().ext.vecmat(e, M), vecmat_ref(e, M))
