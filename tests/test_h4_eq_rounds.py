"""The eq-factored sumcheck rounds (`zklora.kernels.sumcheck` section "eq-factored
rounds", `zklora.zkcore.sumcheck.prove(eq=…)`): kernels against their Python-int twins,
and the prover with ``eq`` against the one without (same proof bytes, same finals), for
eq(τ, ·) factors and factors constant along some variables (einsum's eq over its free
letters), base and extension tables, n = 1.. and the parallel chunking."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.kernels import sumcheck as KS
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import mle, sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

E = GOLDILOCKS.ext
P = K.P_INT


def _e(rng, n, const=()):
    """(n, 2, 2) factors: eq(τ, ·)'s (1 − τ_j, τ_j), (1, 1) for the variables in const."""
    tau = E.random(rng, n)
    e = np.empty((n, 2, 2), np.uint64)
    for j in range(n):
        if j in const:
            e[j] = [[1, 0], [1, 0]]
        else:
            e[j, 0] = E.sub(E.scalar(1), tau[j])
            e[j, 1] = tau[j]
    return e


def _table(e):
    """Π_j e_j(x_j) for every x (bit j ↔ variable j)."""
    out = E.ones(1)
    for j in range(e.shape[0]):
        out = np.concatenate([E.mul(out, e[j, 0]), E.mul(out, e[j, 1])], axis=0)
    return out


def test_e2_inv():
    rng = np.random.default_rng(1)
    for a in list(E.random(rng, 20)) + [np.array([1, 0], np.uint64),
                                        np.array([0, P - 1], np.uint64)]:
        i0, i1 = KS.e2_inv(np.uint64(a[0]), np.uint64(a[1]))
        assert np.array_equal(E.mul(a, np.array([i0, i1], np.uint64)), E.scalar(1))


@pytest.mark.parametrize("n,const", [(1, ()), (2, (0,)), (5, ()), (6, (0, 1, 4)), (5, "any")])
def test_eq_suffix_matches_reference(n, const):
    rng = np.random.default_rng(n)
    e = E.random(rng, 2 * n).reshape(n, 2, 2) if const == "any" else _e(rng, n, const)
    out = np.empty((max(1, (1 << n) - 1), 2), np.uint64)
    KS.e_eq_suffix(e, out)
    assert np.array_equal(out, KS.ref_eq_suffix(e))
    # W_0 is the product table without the first variable
    assert np.array_equal(out[:1 << (n - 1)], _table(e[1:]) if n > 1 else E.ones(1))


TERMS = {  # eq table 0 in every term
    2: [((1, 0), (0, 1)), ((2, 9), (0, 2)), ((7, 1), (0,))],
    3: [((1, 0), (1, 0, 2)), ((4, 4), (0, 3)), ((1, 2), (2, 0))],
    4: [((1, 0), (0, 1, 1, 2)), ((P - 1, 0), (3, 0)), ((3, 0), (0,)), ((2, 5), (1, 0, 2, 3))],
}


def _strip(degree):
    starts, factors = [0], []
    for _, fs in TERMS[degree]:
        factors.extend(f - 1 for f in fs if f != 0)
        starts.append(len(factors))
    coeffs = np.array([c for c, _ in TERMS[degree]], np.uint64)
    return np.array(starts, np.int64), np.array(factors, np.int64), coeffs


@pytest.mark.parametrize("degree", [2, 3, 4])
@pytest.mark.parametrize("size,base", [(2, ()), (16, (0, 2)), (64, (0, 1, 2)), (1 << 13, (0, 2))])
def test_eq_sums_and_step_match_reference(degree, size, base):
    rng = np.random.default_rng(degree * 100 + size)
    st = rng.integers(0, P, (3, size, 2), dtype=np.uint64)
    isb = np.zeros(3, np.bool_)
    for f in base:
        st[f, :, 1] = 0
        isb[f] = True
    starts, factors, coeffs = _strip(degree)
    w = E.random(rng, size // 2)
    sc = E.random(rng, 1)[0]
    ej = E.random(rng, 2)
    running = E.random(rng, 1)[0]
    g = np.empty((degree + 1, 2), np.uint64)
    assert KS.eq_sums(st, w, isb, starts, factors, coeffs, degree, running, sc.copy(), ej,
                      g) == 0
    want = KS.ref_eq_round(st, w, starts, factors, coeffs, degree, running, sc, ej)
    # g(1) is derived from the running claim: the rest matches when the claim is the sum
    true1 = E.sub(E.add(want[0], want[1]), want[0])
    assert np.array_equal(g[0], want[0]) and np.array_equal(g[1], true1)
    honest = E.add(want[0], KS.ref_eq_round(st, w, starts, factors, coeffs, degree,
                                            E.scalar(0), sc, ej)[1])
    # an honest running claim: g(0) + g(1) with g(1) = s·b·h(1) computed directly
    h1 = _direct_g1(st, w, starts, factors, coeffs, sc, ej)
    honest = E.add(want[0], h1)
    assert KS.eq_sums(st, w, isb, starts, factors, coeffs, degree, honest, sc.copy(), ej,
                      g) == 0
    want = KS.ref_eq_round(st, w, starts, factors, coeffs, degree, honest, sc, ej)
    assert np.array_equal(g, want)
    if size >= 4:  # the step: g_prev(r), scale update, fold, next round
        r = E.random(rng, 1)[0]
        ep = E.random(rng, 2)
        inv = sumcheck._inv_den_array(degree)
        gp = E.random(rng, degree + 1)
        g2, msg, run = gp.copy(), np.empty((degree, 2), np.uint64), np.empty(2, np.uint64)
        sc2 = sc.copy()
        out = np.empty((3, size // 2, 2), np.uint64)
        w2 = E.random(rng, size // 4)
        KS.eq_step(st, r, out, w2, np.zeros(3, np.bool_), starts, factors, coeffs, degree,
                   inv, g2, msg, run, sc2, ep, ej, isb)   # the base tables folded as such
        assert np.array_equal(run, sumcheck._interpolate(E, gp, r))
        assert np.array_equal(sc2, E.mul(sc, E.add(ep[0], E.mul(r, E.sub(ep[1], ep[0])))))
        assert np.array_equal(out, KS.ref_fold(st, r))
        want = KS.ref_eq_round(out, w2, starts, factors, coeffs, degree, run, sc2, ej)
        assert np.array_equal(g2[0], want[0]) and np.array_equal(msg[0], want[0])


def _direct_g1(st, w, starts, factors, coeffs, sc, ej):
    """g(1) = s·b·Σ w_i·Σ c·Π hi (the plain value at t = 1)."""
    acc = E.scalar(0)
    for i in range(st.shape[1] // 2):
        for j in range(len(starts) - 1):
            p = E.mul(coeffs[j], w[i])
            for q in range(int(starts[j]), int(starts[j + 1])):
                p = E.mul(p, st[int(factors[q]), 2 * i + 1])
            acc = E.add(acc, p)
    return E.mul(E.mul(sc, ej[1]), acc)


def _instance(rng, degree, nv, base, const):
    e = _e(rng, nv, const)
    tables = [_table(e)] + [GOLDILOCKS.random(rng, 1 << nv) if i in base
                            else E.random(rng, 1 << nv) for i in range(1, 4)]
    terms = [(E.scalar(c[0]) if c[1] == 0 else np.array(c, np.uint64), fs)
             for c, fs in TERMS[degree]]
    lifted = [E.embed(t) if t.ndim == 1 else t for t in tables]
    claim = E.scalar(0)
    for x in range(1 << nv):
        claim = E.add(claim, sumcheck.combine(E, terms, [t[x] for t in lifted]))
    return tables, terms, claim, e


def _prove(tables, terms, claim, eq):
    ch = ProverChannel(Transcript("eq"))
    old = sumcheck.EQ_MIN_VARS
    sumcheck.EQ_MIN_VARS = 1
    try:
        point, finals = sumcheck.prove(ch, E, list(tables), terms, claim, public=(0,), eq=eq)
    finally:
        sumcheck.EQ_MIN_VARS = old
    return ch.proof_bytes(), point, finals


@pytest.mark.parametrize("degree", [2, 3, 4])
@pytest.mark.parametrize("nv", [1, 2, 5, 12])
@pytest.mark.parametrize("base,const", [((), ()), ((1, 3), ()), ((1, 2, 3), (0, 2))])
def test_eq_prover_same_bytes(degree, nv, base, const):
    rng = np.random.default_rng(degree * 1000 + nv * 10 + len(base))
    const = tuple(c for c in const if c < nv)
    tables, terms, claim, e = _instance(rng, degree, nv, base, const)
    new, p1, f1 = _prove(tables, terms, claim, (0, e))
    old, p2, f2 = _prove(tables, terms, claim, None)
    assert new == old
    assert np.array_equal(p1, p2) and all(np.array_equal(a, b) for a, b in zip(f1, f2))
    ch = VerifierChannel(Transcript("eq"), new)
    sumcheck.verify(ch, E, nv, 4, terms, claim, public={0: f1[0]})
    ch.finish()


def test_eq_prover_falls_back_when_a_term_lacks_the_factor():
    rng = np.random.default_rng(5)
    tables, terms, claim, e = _instance(rng, 3, 4, (), ())
    terms = terms + [(E.scalar(3), (1, 2))]
    lifted = tables
    extra = E.scalar(0)
    for x in range(16):
        extra = E.add(extra, E.mul(E.scalar(3), E.mul(lifted[1][x], lifted[2][x])))
    claim = E.add(claim, extra)
    assert _prove(tables, terms, claim, (0, e))[0] == _prove(tables, terms, claim, None)[0]


def test_eq_table_of_vanishes_is_mle_eq_table():
    rng = np.random.default_rng(9)
    tau = E.random(rng, 5)
    e = np.stack([np.stack([E.sub(E.scalar(1), t), t]) for t in tau])
    assert np.array_equal(_table(e), mle.eq_table(E, tau))


@pytest.mark.parametrize("zero_at", [0, 3])
def test_eq_prover_point_with_a_zero_coordinate(zero_at):
    """A claim point with a 0 coordinate (e_j(1) = 0: h(1) not recoverable from the
    claim) takes the plain rounds: the honest prover still proves, same bytes."""
    rng = np.random.default_rng(11 + zero_at)
    e = _e(rng, 5, ())
    e[zero_at] = np.stack([E.scalar(1), E.scalar(0)])  # eq(τ, ·) with τ_j = 0
    tables = [_table(e)] + [E.random(rng, 32) for _ in range(1, 4)]
    terms = [(E.scalar(c[0]) if c[1] == 0 else np.array(c, np.uint64), fs)
             for c, fs in TERMS[3]]
    claim = E.scalar(0)
    for x in range(32):
        claim = E.add(claim, sumcheck.combine(E, terms, [t[x] for t in tables]))
    new, p1, f1 = _prove(tables, terms, claim, (0, e))
    assert new == _prove(tables, terms, claim, None)[0]
    ch = VerifierChannel(Transcript("eq"), new)
    sumcheck.verify(ch, E, 5, 4, terms, claim, public={0: f1[0]})
    ch.finish()
