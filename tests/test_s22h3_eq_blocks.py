"""s22h3: the eq-factored rounds' block kernel (`sumcheck._eqgen_blocks`, lanes of
`EQ_BLOCK` pairs) against the pure-Python twin `ref_eq_round`: edge values (0, 1, p − 1,
p − 2), pair counts around the block size, base tables (a product that starts base and
turns extension), constant (empty) terms, serial and parallel chunking; and `eq_step`
(fold, then the block sums) against the twin on the folded stack."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.kernels import sumcheck as KS
from zklora.zkcore.sumcheck import _inv_den_array

P = K.P_INT
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)

SHAPES = {  # (term lengths, factors, tables, degree with the eq factor)
    "ab": ([2], [0, 1], 2, 3),
    "mixed": ([2, 0, 3, 1, 2], [0, 1, 2, 2, 0, 1, 2, 1], 3, 4),
    "lin": ([1, 1, 0], [0, 1], 2, 2),
}


def _stack(rng, k, m2, base, edge):
    st = rng.integers(0, P, size=(k, m2, 2), dtype=np.uint64)
    if edge:
        st = EDGE[rng.integers(0, 4, size=(k, m2, 2))]
    for b in base:
        st[b, :, 1] = 0
    return st


def _running(st, w, starts, factors, coeffs, deg, sc, ej):
    """The true claim g(0) + g(1) (the twin's g(0), and its g(0) on the stack with every
    lo replaced by its hi and e_j(0) by e_j(1): g(1))."""
    z = np.zeros(2, np.uint64)
    g0 = KS.ref_eq_round(st, w, starts, factors, coeffs, deg, z, sc, ej)[0]
    hi = st.copy()
    hi[:, 0::2] = st[:, 1::2]
    e1 = np.stack([ej[1], ej[1]])
    g1 = KS.ref_eq_round(hi, w, starts, factors, coeffs, deg, z, sc, e1)[0]
    return ((g0.astype(object) + g1.astype(object)) % P).astype(np.uint64)


def _args(rng, name, m, base=(), edge=False):
    lens, fa, k, deg = SHAPES[name]
    starts = np.concatenate([[0], np.cumsum(lens)]).astype(np.int64)
    factors = np.array(fa, np.int64)
    coeffs = rng.integers(0, P, size=(len(lens), 2), dtype=np.uint64)
    isb = np.zeros(k, np.bool_)
    isb[list(base)] = True
    w = rng.integers(0, P, size=(m, 2), dtype=np.uint64)
    if edge:
        w = EDGE[rng.integers(0, 4, size=(m, 2))]
        coeffs[0] = [P - 1, 1]
    sc = rng.integers(1, P, size=2, dtype=np.uint64)
    ej = rng.integers(1, P, size=(2, 2), dtype=np.uint64)
    run = rng.integers(0, P, size=2, dtype=np.uint64)
    return k, deg, starts, factors, coeffs, isb, w, sc, ej, run


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("m", [1, 5, 31, 32, 33, 70, 1 << 12])
@pytest.mark.parametrize("edge", [False, True])
def test_eq_sums_blocks_match_twin(name, m, edge):
    rng = np.random.default_rng(m * 7 + len(name) + edge)
    for base in ((), (0,), tuple(range(SHAPES[name][2]))):
        k, deg, starts, factors, coeffs, isb, w, sc, ej, run = _args(rng, name, m, base, edge)
        st = _stack(rng, k, 2 * m, base, edge)
        run = _running(st, w, starts, factors, coeffs, deg, sc, ej)
        g = np.zeros((deg + 1, 2), np.uint64)
        flag = KS.eq_sums(st, w, isb, starts, factors, coeffs, deg, run, sc.copy(), ej, g)
        assert flag == 0
        want = KS.ref_eq_round(st, w, starts, factors, coeffs, deg, run, sc, ej)
        assert np.array_equal(g, want)


def _twin_sums_only(st, w, isb, starts, factors, npts):
    """acc (T, npts, 2) of `_eqgen_blocks` from Python ints."""
    out = np.zeros((starts.shape[0] - 1, npts, 2), np.uint64)
    m = st.shape[1] // 2
    for j in range(starts.shape[0] - 1):
        for s in range(npts):
            t = 0 if s == 0 else s + 1
            a0 = a1 = 0
            for i in range(m):
                p = (int(w[i, 0]), int(w[i, 1]))
                for q in range(int(starts[j]), int(starts[j + 1])):
                    f = int(factors[q])
                    lo = (int(st[f, 2 * i, 0]), int(st[f, 2 * i, 1]))
                    hi = (int(st[f, 2 * i + 1, 0]), int(st[f, 2 * i + 1, 1]))
                    v = tuple((lo[c] + t * (hi[c] - lo[c])) % P for c in range(2))
                    p = ((p[0] * v[0] + 7 * p[1] * v[1]) % P, (p[0] * v[1] + p[1] * v[0]) % P)
                a0, a1 = (a0 + p[0]) % P, (a1 + p[1]) % P
            out[j, s] = [a0, a1]
    return out


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("m,lo,hi", [(40, 0, 40), (40, 3, 37), (70, 31, 65), (8, 2, 2)])
def test_blocks_kernel_ranges(name, m, lo, hi):
    rng = np.random.default_rng(m + lo)
    k, deg, starts, factors, coeffs, isb, w, sc, ej, run = _args(rng, name, m, (0,), True)
    st = _stack(rng, k, 2 * m, (0,), True)
    npts = deg - 1
    acc = rng.integers(0, P, size=(starts.shape[0] - 1, npts, 2), dtype=np.uint64)
    got = acc.copy()
    KS._eqgen_blocks(st, w, isb, starts, factors, npts, lo, hi, got)
    sub = np.ascontiguousarray(st[:, 2 * lo:2 * hi])
    want = _twin_sums_only(sub, w[lo:hi], isb, starts, factors, npts)
    want = (acc.astype(object) + want.astype(object)) % P
    assert np.array_equal(got, want.astype(np.uint64))


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("m", [3, 33, 1 << 13])
def test_eq_step_blocks_match_twin(name, m):
    rng = np.random.default_rng(m + 11)
    k, deg, starts, factors, coeffs, isb, w, sc, ej, run = _args(rng, name, m, (0,))
    st = _stack(rng, k, 4 * m, (0,), False)
    ep = rng.integers(1, P, size=(2, 2), dtype=np.uint64)
    r = rng.integers(0, P, size=2, dtype=np.uint64)
    g = rng.integers(0, P, size=(deg + 1, 2), dtype=np.uint64)
    out = np.empty((k, 2 * m, 2), np.uint64)
    msg = np.empty((deg, 2), np.uint64)
    runv = np.empty(2, np.uint64)
    sc2 = sc.copy()
    g2 = g.copy()
    KS.eq_step(st, r, out, w, np.zeros(k, np.bool_), starts, factors, coeffs, deg,
               _inv_den_array(deg), g2, msg, runv, sc2, ep, ej, isb)
    fold = np.stack([KS.ref_fold_one(st[f], r) for f in range(k)])
    assert np.array_equal(out, fold)
    if m < 100:  # g(d) comes from g(1) = run − g(0) (run is not a true claim here)
        want = KS.ref_eq_round(out, w, starts, factors, coeffs, deg, runv, sc2, ej)
        assert np.array_equal(g2[:deg], want[:deg])
    # the same round by `eq_sums` (twin-tested above) on the folded stack
    want = np.zeros((deg + 1, 2), np.uint64)
    KS.eq_sums(out, w, np.zeros(k, np.bool_), starts, factors, coeffs, deg, runv,
               sc2.copy(), ej, want)
    assert np.array_equal(g2, want)
    assert np.array_equal(msg, want[[0, *range(2, deg + 1)]])


@pytest.mark.parametrize("name", list(SHAPES))
@pytest.mark.parametrize("m", [1, 31, 33, 70, 1 << 12])
@pytest.mark.parametrize("edge", [False, True])
def test_gen_sums_blocks_match_twin(name, m, edge):
    """The unweighted blocks (`_gen_blocks`: `gen_sums`, ``gen_fold_sums``) against
    `ref_gen_sums` / ``ref_gen_fold_sums`` (degree without an eq factor: d − 1)."""
    rng = np.random.default_rng(m * 5 + len(name) + edge)
    for base in ((), (0,), tuple(range(SHAPES[name][2]))):
        k, deg, starts, factors, coeffs, isb, w, sc, ej, run = _args(rng, name, m, base, edge)
        deg -= 1
        st = _stack(rng, k, 2 * m, base, edge)
        got = KS.gen_sums(st, isb, starts, factors, coeffs, deg, run)
        assert np.array_equal(got, KS.ref_gen_sums(st, starts, factors, coeffs, deg, run))
    r = rng.integers(0, P, size=2, dtype=np.uint64)
    st = _stack(rng, k, 4 * m, (), edge)
    out = np.empty((k, 2 * m, 2), np.uint64)
    got = KS.gen_fold_sums(st, r, out, starts, factors, coeffs, deg, run,
                           np.zeros(k, np.bool_))
    want_out, want = KS.ref_gen_fold_sums(st, r, starts, factors, coeffs, deg, run)
    assert np.array_equal(out.reshape(k, -1, 2), want_out.reshape(k, -1, 2))
    assert np.array_equal(got, want)
