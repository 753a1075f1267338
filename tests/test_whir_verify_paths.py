"""The verifier's numba-free paths (a cold process, `zklora.kernels.goldilocks.cold`):
every numpy / Python-integer twin gives the bytes of its numba kernel, on random
canonical inputs of edge and ordinary sizes."""

from __future__ import annotations

import numpy as np
import pytest
from numba import njit

from zklora.kernels import goldilocks as K
from zklora.kernels import reference as R

P = K.P_INT
SIZES = [0, 1, 2, 3, K.PY_BELOW - 1, K.PY_BELOW, K.PY_BELOW + 1, 257, 1000]


def _base(rng, *shape):
    a = rng.integers(0, 2**63, size=shape, dtype=np.uint64) * np.uint64(2)
    a += rng.integers(0, 2, size=shape, dtype=np.uint64)
    a[a >= np.uint64(P)] -= np.uint64(P)
    flat = a.reshape(-1)
    if flat.size > 4:  # edge values
        flat[:4] = [0, 1, P - 1, P - 2]
    return a


def _ext(rng, n):
    return _base(rng, n, 2)


@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("name", ["eadd", "esub", "emul", "eadd_s", "esub_s", "emul_s"])
def test_binary(name, n):
    rng = np.random.default_rng(n)
    a, b = _ext(rng, n), _ext(rng, n)
    f = getattr(K, name)
    want = np.empty_like(a)
    got = np.zeros_like(a)
    f.kernel(a, b, want)
    f.cold(a, b, got)
    assert np.array_equal(want, got)


@pytest.mark.parametrize("n", SIZES)
def test_scalar_and_base(n):
    rng = np.random.default_rng(100 + n)
    a, s, b = _ext(rng, n), _ext(rng, 1)[0], _base(rng, n)
    for name, args in (("emul_scalar", (a, s[0], s[1])), ("emul_scalar_s", (a, s[0], s[1])),
                       ("emul_base", (a, b)), ("emul_base_s", (a, b))):
        f = getattr(K, name)
        want, got = np.empty_like(a), np.zeros_like(a)
        f.kernel(*args, want)
        f.cold(*args, got)
        assert np.array_equal(want, got), name


@pytest.mark.parametrize("n", SIZES)
def test_reductions(n):
    rng = np.random.default_rng(200 + n)
    a, b = _ext(rng, n), _ext(rng, n)
    if n:
        a[:] = np.uint64(P - 1)  # the largest sums
    assert np.array_equal(K.esum_s.kernel(a), K.esum_s.cold(a))
    assert np.array_equal(K.esum.kernel(a, 3), K.esum.cold(a, 3))
    assert np.array_equal(K.edot_s.kernel(a, b), K.edot_s.cold(a, b))
    assert np.array_equal(K.edot.kernel(a, b, 3), K.edot.cold(a, b, 3))


@pytest.mark.parametrize("n", [0, 1, 2, 7, 40])
def test_einv(n):
    rng = np.random.default_rng(300 + n)
    a = _ext(rng, n)
    a[a.sum(axis=1) == 0] = 1
    want, got = np.empty_like(a), np.zeros_like(a)
    assert K.einv.kernel(a, want) == K.einv.cold(a, got) == -1
    assert np.array_equal(want, got)
    if n:
        a[n // 2] = 0
        assert K.einv.kernel(a, want) == K.einv.cold(a, got) == n // 2


@pytest.mark.parametrize("nv", [0, 1, 2, 6, 7, 8, 11])
def test_eq_expand(nv):
    rng = np.random.default_rng(400 + nv)
    r = _ext(rng, nv)
    want = np.zeros((1 << nv, 2), np.uint64)
    K.eq_expand_s.kernel(r, want)
    for f in (K.eq_expand_s, K.eq_expand):
        got = np.full((1 << nv, 2), 5, np.uint64)
        f.cold(r, got)
        assert np.array_equal(want, got)
    if nv <= 6:
        assert np.array_equal(want, R.eq_expand(r))


@pytest.mark.parametrize("npts", [1, 2, 3, 4, 9])
def test_interpolate(npts):
    rng = np.random.default_rng(500 + npts)
    g = _ext(rng, npts)
    r = _ext(rng, 1)[0]
    den = []
    for i in range(npts):
        d = 1
        for j in range(npts):
            if j != i:
                d *= i - j
        den.append(pow(d % P, P - 2, P))
    den = np.array(den, np.uint64)
    want = K.e_interpolate.kernel(g, den, r[0], r[1])
    assert np.array_equal(want, K.e_interpolate.cold(g, den, r[0], r[1]))
    assert np.array_equal(want, R.e_interpolate(g, int(r[0]), int(r[1])))


def test_interpolate_inside_numba():
    """Compiled code calling `e_interpolate` gets the kernel (an overload)."""

    @njit
    def f(g, den, r0, r1):
        return K.e_interpolate(g, den, r0, r1)

    g = np.array([[3, 1], [5, 0]], np.uint64)
    den = np.array([P - 1, 1], np.uint64)
    r0, r1 = np.uint64(7), np.uint64(2)
    assert np.array_equal(f(g, den, r0, r1), K.e_interpolate.kernel(g, den, r0, r1))


def test_np_arith_exhaustive_edges():
    """numpy `gl_*` mirrors on every pair of edge values and on random non-canonical
    words: the same bits as the compiled element functions."""

    @njit
    def ref(a, b, add, sub, mul):
        for i in range(a.shape[0]):
            add[i] = K.gl_add(a[i], b[i])
            sub[i] = K.gl_sub(a[i], b[i])
            mul[i] = K.gl_mul(a[i], b[i])

    edges = np.array([0, 1, 2, P - 1, P - 2, 2**32 - 1, 2**32, 2**63, P // 2], np.uint64)
    rng = np.random.default_rng(7)
    a = np.concatenate([np.repeat(edges, edges.size), rng.integers(0, P, 5000, np.uint64)])
    b = np.concatenate([np.tile(edges, edges.size), rng.integers(0, P, 5000, np.uint64)])
    add, sub, mul = (np.empty_like(a) for _ in range(3))
    ref(a, b, add, sub, mul)
    assert np.array_equal(add, K.np_add(a, b))
    assert np.array_equal(sub, K.np_sub(a, b))
    assert np.array_equal(mul, K.np_mul(a, b))
    s = K.np_sum(np.stack([a, b]), axis=0)
    assert np.array_equal(s, add)


def test_cold_dispatch(monkeypatch):
    """The wrappers call the twin only while numba has not started, and only up to
    `COLD_LIMIT` elements."""
    a = np.ones((3, 2), np.uint64)
    out = np.empty_like(a)
    calls = []
    monkeypatch.setattr(K, "numba_started", lambda: False)
    w = K._cold_first(lambda *x: calls.append("kernel"), lambda *x: calls.append("cold"))
    w(a, a, out)
    monkeypatch.setattr(K, "COLD_LIMIT", 2)
    w(a, a, out)
    monkeypatch.setattr(K, "COLD_LIMIT", 3)
    monkeypatch.setattr(K, "numba_started", lambda: True)
    w(a, a, out)
    assert calls == ["cold", "kernel", "kernel"]


@pytest.mark.parametrize("T,n,k", [(1, 1, 1), (2, 5, 3), (3, 4096, 2), (8, 300, 40)])
def test_np_matmul(T, n, k):
    """The exact float64 product against Python integers, including all-(p−1) inputs
    (the largest limb sums)."""
    rng = np.random.default_rng(T * n + k)
    for X, Y in ((_base(rng, T, n), _base(rng, n, k)),
                 (np.full((T, n), P - 1, np.uint64), np.full((n, k), P - 1, np.uint64))):
        want = [[sum(int(X[t, i]) * int(Y[i, j]) for i in range(n)) % P for j in range(k)]
                for t in range(T)]
        assert K.np_matmul(X, Y).tolist() == want
    x0, x1, y0, y1 = _base(rng, T, n), _base(rng, T, n), _base(rng, n, k), _base(rng, n, k)
    z0, z1 = K.np_e2_matmul(x0, x1, y0, y1)
    for t in range(T):
        for j in range(k):
            s0 = s1 = 0
            for i in range(n):
                a0, a1 = R.e2_mul(x0[t, i], x1[t, i], y0[i, j], y1[i, j])
                s0 += a0
                s1 += a1
            assert (int(z0[t, j]), int(z1[t, j])) == (s0 % P, s1 % P)
