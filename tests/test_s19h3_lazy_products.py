"""The goldilocks product forms (`mul128`, `gl_mul`, `gl_dot2`, `gl_mul7`, `e2_mul`, `gl_mul_s`)
against Python ints, and lookup_gkr's lazy-reduction `_v_merge` / `_v_leaf_pair_c` against
Python ints and plain `e2_mul` compositions, on edge values (0, 1, p − 1, 2^32 ± 1,
2^64 − 1 …)."""

from __future__ import annotations

import numpy as np
from numba import njit

from zklora.kernels import goldilocks as G
from zklora.kernels import lookup_gkr as KL

P = G.P_INT
EDGE = [0, 1, 2, 7, (1 << 32) - 1, 1 << 32, (1 << 32) + 1, P - 2, P - 1,
        (1 << 63), P - (1 << 32), (1 << 64) - (1 << 33) + 1, 0xDEADBEEFCAFEBABE % P]
RAW = EDGE + [P, P + 1, (1 << 64) - 2, (1 << 64) - 1]   # non-canonical uint64 inputs


@njit(cache=False)
def _apply(a, b, c, d, out):
    for i in range(a.shape[0]):
        h, lo = G.mul128(a[i], b[i])
        out[0, i] = h
        out[1, i] = lo
        out[2, i] = G.gl_mul(a[i], b[i])
        out[3, i] = G.gl_dot2(a[i], b[i], c[i], d[i])


@njit(cache=False)
def _apply_c(a, b, c, d, out):
    for i in range(a.shape[0]):
        out[0, i] = G.gl_mul7(a[i])
        out[1, i], out[2, i] = G.e2_mul(a[i], b[i], c[i], d[i])
        out[3, i], out[4, i] = G.e2_mul_s(a[i], b[i], c[i], d[i])
        out[5, i] = G.gl_mul_s(a[i], b[i])


def _grid(vals, k, rng, extra):
    rows = [list(x) for x in np.array(np.meshgrid(*[vals] * k)).reshape(k, -1)]
    rnd = rng.integers(0, P, (k, extra), dtype=np.uint64)
    return [np.concatenate([np.array(r, np.uint64), rnd[j]]) for j, r in enumerate(rows)]


def test_raw_products_and_dot2():
    rng = np.random.default_rng(3)
    a, b, c, d = _grid(RAW, 4, rng, 4000)
    out = np.empty((4, a.shape[0]), np.uint64)
    _apply(a, b, c, d, out)
    for i in range(a.shape[0]):
        x, y, z, w = int(a[i]), int(b[i]), int(c[i]), int(d[i])
        assert (int(out[0, i]) << 64) | int(out[1, i]) == x * y
        assert int(out[2, i]) == x * y % P
        assert int(out[3, i]) == (x * y + z * w) % P


def test_mul7_and_e2_mul():
    rng = np.random.default_rng(4)
    a, b, c, d = _grid(EDGE, 4, rng, 4000)
    out = np.empty((6, a.shape[0]), np.uint64)
    _apply_c(a, b, c, d, out)
    assert (out[1] == out[3]).all() and (out[2] == out[4]).all()
    for i in range(a.shape[0]):
        x, y, z, w = int(a[i]), int(b[i]), int(c[i]), int(d[i])
        assert int(out[0, i]) == 7 * x % P
        assert int(out[5, i]) == x * y % P
        assert int(out[1, i]) == (x * z + 7 * y * w) % P
        assert int(out[2, i]) == (x * w + y * z) % P


@njit(cache=False)
def _old_merge(a, b, o, cnt):
    for i in range(cnt):
        x0, x1 = G.e2_mul(a[0, i], a[1, i], b[2, i], b[3, i])
        y0, y1 = G.e2_mul(b[0, i], b[1, i], a[2, i], a[3, i])
        o[0, i] = G.gl_add(x0, y0)
        o[1, i] = G.gl_add(x1, y1)
        o[2, i], o[3, i] = G.e2_mul(a[2, i], a[3, i], b[2, i], b[3, i])


def _ext(x0, x1, y0, y1):
    return (x0 * y0 + 7 * x1 * y1) % P, (x0 * y1 + x1 * y0) % P


def test_v_merge_edges():
    rng = np.random.default_rng(5)
    vals = [0, 1, P - 1, P - 2, 1 << 32, (1 << 32) - 1]
    cols = _grid(vals, 4, rng, 0)                  # a's rows over the edge grid
    n = cols[0].shape[0]
    a = np.stack(cols)
    b = np.stack([np.roll(cols[(k + 1) % 4], 3 * k + 1) for k in range(4)])
    a = np.concatenate([a, rng.integers(0, P, (4, 3000), dtype=np.uint64)], axis=1)
    b = np.concatenate([b, rng.integers(0, P, (4, 3000), dtype=np.uint64)], axis=1)
    b[:, n:n + 500] = P - 1
    a[:, n + 250:n + 750] = P - 1
    cnt = a.shape[1]
    o_new = np.empty_like(a)
    o_old = np.empty_like(a)
    KL._v_merge(a, b, o_new, cnt)
    _old_merge(a, b, o_old, cnt)
    assert (o_new == o_old).all()
    for i in range(0, cnt, 5):
        pa = (int(a[0, i]), int(a[1, i]))
        qa = (int(a[2, i]), int(a[3, i]))
        pb = (int(b[0, i]), int(b[1, i]))
        qb = (int(b[2, i]), int(b[3, i]))
        x = _ext(*pa, *qb)
        y = _ext(*pb, *qa)
        assert int(o_new[0, i]) == (x[0] + y[0]) % P
        assert int(o_new[1, i]) == (x[1] + y[1]) % P
        assert (int(o_new[2, i]), int(o_new[3, i])) == _ext(*qa, *qb)


def test_v_leaf_pair_c_edges():
    rng = np.random.default_rng(6)
    u0 = np.array(EDGE * 3 + list(rng.integers(0, P, 500, dtype=np.uint64)), np.uint64)
    v0 = np.array(EDGE[::-1] * 3 + list(rng.integers(0, P, 500, dtype=np.uint64)), np.uint64)
    cnt = u0.shape[0]
    for b1, d1 in [(P - 1, P - 1), (P - 1, 1), (1 << 32, P - 2), (5, 9), (0, P - 1)]:
        out = [np.empty(cnt, np.uint64) for _ in range(4)]
        KL._v_leaf_pair_c(u0, v0, np.uint64(b1), np.uint64(d1), *out, cnt)
        for i in range(cnt):
            x, y = int(u0[i]), int(v0[i])
            q = _ext(x, b1, y, d1)
            assert int(out[0][i]) == (x + y) % P and int(out[1][i]) == (b1 + d1) % P
            assert (int(out[2][i]), int(out[3][i])) == q


def _lanes4(rng, cnt, fill):
    x = rng.integers(0, P, (8, cnt), dtype=np.uint64)
    if fill == "max":
        x[:] = P - 1
    elif fill == "edge":
        e = np.array(EDGE, np.uint64)
        for k in range(8):
            x[k, :] = np.resize(np.roll(e, k), cnt)
    return x


def test_window_acc_kernels_edges():
    rng = np.random.default_rng(8)
    for fill in ("max", "edge", "rand"):
        for cnt in (1, 37, 256):
            x = _lanes4(rng, cnt, fill)
            acc = np.zeros((1, 3, 2, 4, 2), np.uint64)
            acc[0, 1, 1, 2] = (P - 1, P - 3)
            KL._v_mul_acc(x[0], x[1], x[2], x[3], acc, 0, 1, 1, 2, cnt)
            KL._v_addmul_acc(x[0], x[1], x[2], x[3], x[4], x[5], acc, 0, 2, 3, cnt)
            KL._v_dot_acc(*x, acc, 0, 0, 0, 1, cnt)
            v = [[int(y) for y in row] for row in x]
            want = [P - 1, P - 3]
            want2 = [0, 0]
            want3 = [0, 0]
            for i in range(cnt):
                m = _ext(v[0][i], v[1][i], v[2][i], v[3][i])
                want = [(want[0] + m[0]) % P, (want[1] + m[1]) % P]
                m = _ext(v[0][i], v[1][i], v[2][i] + v[4][i], v[3][i] + v[5][i])
                want2 = [(want2[0] + m[0]) % P, (want2[1] + m[1]) % P]
                m = _ext(v[0][i], v[1][i], v[2][i], v[3][i])
                n = _ext(v[4][i], v[5][i], v[6][i], v[7][i])
                want3 = [(want3[0] + m[0] + n[0]) % P, (want3[1] + m[1] + n[1]) % P]
            assert [int(y) for y in acc[0, 1, 1, 2]] == want
            assert [int(y) for y in acc[0, 2, 0, 3]] == want2
            assert [int(y) for y in acc[0, 0, 0, 1]] == want3
