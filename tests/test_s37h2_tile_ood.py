"""s37h2: `kernels.whir.TileOod` / `_tile_ood_ifma` — the out-of-domain evaluation of a
tiled coefficient file, both points in one pass over each tile on IFMA52 limbs, against
its Python twin (`_tile_ood_ref`) and against the old per-point `ntt.mat_evec` + `horner`
path (`Whir._horner_tiles` before)."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import ntt
from zklora.kernels import whir as K
from zklora.kernels.goldilocks import P_INT

ifma = pytest.mark.skipif(not K.IFMA, reason="host without AVX-512 IFMA52")

P = P_INT
EDGE = np.array([0, 1, 2, P - 1, P - 2, (1 << 52) - 1, 1 << 52, (1 << 52) + 1,
                 (1 << 32) - 1, 1 << 32, (1 << 32) + 1, (1 << 63) + 5], dtype=np.uint64)


def _values(rng, kind, shape):
    if kind == "uniform":
        return rng.integers(0, P, size=shape, dtype=np.uint64)
    if kind == "edge":
        return rng.choice(EDGE, size=shape)
    return rng.integers(0, 16, size=shape, dtype=np.uint64)


def _consts(B):
    """(R, 4) constants as `tile_ood_sums` takes them: (R, 8) (b, b >> 52) pairs."""
    Bc = np.empty((B.shape[0], 8), dtype=np.uint64)
    Bc[:, 0::2] = B
    Bc[:, 1::2] = B >> np.uint64(52)
    return Bc


@ifma
@pytest.mark.parametrize("R,C", [(1, 8), (3, 16), (31, 8), (32, 24), (33, 8), (70, 40),
                                 (1024, 8), (1025, 16), (2100, 8)])
@pytest.mark.parametrize("kind", ["uniform", "edge", "small"])
def test_sums_twin(R, C, kind):
    rng = np.random.default_rng(R * 131 + C + len(kind))
    Y = _values(rng, kind, (R, C))
    B = _values(rng, kind, (R, 4))
    assert np.array_equal(K.tile_ood_sums(Y, _consts(B)), K._tile_ood_ref(Y, B))


@ifma
def test_sums_max_values_full_flush():
    """All entries and constants p − 1 over 2 full flushes and a partial one: the limbs at
    their largest (the middle limb's bound in `whir_eq.IFMA_FLUSH`)."""
    R, C = 2 * 1024 + 40, 16
    Y = np.full((R, C), P - 1, dtype=np.uint64)
    B = np.full((R, 4), P - 1, dtype=np.uint64)
    want = (R * (P - 1) * (P - 1)) % P
    S = K.tile_ood_sums(Y, _consts(B))
    assert (S == np.uint64(want)).all()


@ifma
def test_sums_shape_errors():
    Y = np.zeros((4, 12), dtype=np.uint64)
    with pytest.raises(ValueError):
        K.tile_ood_sums(Y, np.zeros((4, 8), dtype=np.uint64))
    with pytest.raises(ValueError):
        K.tile_ood_sums(np.zeros((4, 16), dtype=np.uint64), np.zeros((3, 8), dtype=np.uint64))


def _old_tiles(coef, zs, T, cb):
    """`Whir._horner_tiles`' old per-tile sum (per point `mat_evec`, `horner`)."""
    R = coef.shape[0] // T
    C = coef.reshape(R, T)
    acc = [(0, 0)] * len(zs)
    for j in range(T // cb):
        y = np.ascontiguousarray(C[:, j * cb:(j + 1) * cb])
        for i, z in enumerate(zs):
            v = K.horner(ntt.mat_evec(y, K.epowers(z, 0, cb)), K.epowers(z, T, 1)[0])
            w = K.epowers(z, j * cb, 1)[0]
            m = K._e2_mul_arr(w, v)
            acc[i] = ((acc[i][0] + int(m[0])) % P, (acc[i][1] + int(m[1])) % P)
    return np.array(acc, dtype=np.uint64).reshape(-1, 2)


def _ood(coef, zs, T, cb, fast):
    R = coef.shape[0] // T
    C = coef.reshape(R, T)
    o = K.TileOod(zs, T, cb, R, ifma=fast)
    assert o.fast == (fast and len(zs) == 2 and cb % 8 == 0)
    acc = [(0, 0)] * len(zs)
    for j in range(T // cb):
        for i, v in enumerate(o.tile(C[:, j * cb:(j + 1) * cb], j)):
            acc[i] = ((acc[i][0] + int(v[0])) % P, (acc[i][1] + int(v[1])) % P)
    return np.array(acc, dtype=np.uint64).reshape(-1, 2)


SHAPES = [(8, 8, 8), (8, 64, 16), (10, 32, 8), (12, 64, 32), (14, 128, 64),
          (16, 256, 128), (17, 512, 64), (16, 1024, 1024)]


@pytest.mark.parametrize("n,T,cb", SHAPES)
@pytest.mark.parametrize("kind", ["uniform", "edge"])
@pytest.mark.parametrize("fast", [pytest.param(True, marks=ifma), False])
def test_tiles_equal_old_and_horner(n, T, cb, kind, fast):
    rng = np.random.default_rng(n * 7 + T + cb + len(kind))
    coef = _values(rng, kind, 1 << n)
    zs = rng.integers(0, P, size=(2, 2), dtype=np.uint64)
    got = _ood(coef, zs, T, cb, fast)
    assert np.array_equal(got, _old_tiles(coef, zs, T, cb))
    assert np.array_equal(got, np.stack([K.horner(coef, z) for z in zs]))


@pytest.mark.parametrize("q", [0, 1, 3])
def test_other_point_counts_take_old_path(q):
    rng = np.random.default_rng(q)
    coef = rng.integers(0, P, size=1 << 12, dtype=np.uint64)
    zs = rng.integers(0, P, size=(q, 2), dtype=np.uint64)
    got = _ood(coef, zs, 64, 16, K.IFMA)
    assert got.shape == (q, 2)
    for i, z in enumerate(zs):
        assert np.array_equal(got[i], K.horner(coef, z))


def test_width_not_multiple_of_8_takes_old_path():
    rng = np.random.default_rng(5)
    coef = rng.integers(0, P, size=1 << 10, dtype=np.uint64)
    zs = rng.integers(0, P, size=(2, 2), dtype=np.uint64)
    got = _ood(coef, zs, 16, 4, K.IFMA)
    assert np.array_equal(got, np.stack([K.horner(coef, z) for z in zs]))


def test_tile_shape_error():
    o = K.TileOod(np.ones((2, 2), dtype=np.uint64), 16, 8, 4)
    with pytest.raises(ValueError):
        o.tile(np.zeros((4, 16), dtype=np.uint64), 0)


def test_wide512_marks_the_function():
    """`_wide512` puts "prefer-vector-width"="512" on the function it is lowered into
    (what lets `_twist_dft_tiles`' loops use zmm vectors)."""
    from numba import njit

    @njit(cache=False)
    def f(x):
        K._wide512()
        s = 0
        for i in range(x.shape[0]):
            s += x[i]
        return s

    assert f(np.arange(10, dtype=np.uint64)) == 45
    ll = f.inspect_llvm(f.signatures[0])
    assert '"prefer-vector-width"="512"' in ll

