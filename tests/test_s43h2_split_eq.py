"""s43h2: the eq-factored rounds over split stacks (`zklora.kernels.sumcheck`'s section
"Split stacks": round 0 and the fold into round 1 read the base tables as a (kb, N) base
stack, not lifted): the split kernels against the lifted-stack kernels and the Python-int
twins (`ref_eq_round`, `ref_fold`) on small-integer, full-field and edge-valued base
tables mixed with extension tables, odd chunkings (serial and parallel sizes), degrees
2-4; and the prover with `sumcheck.SPLIT_BASE` on against off (same proof bytes, finals,
point)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.test_h4_eq_rounds import TERMS, _direct_g1, _e, _strip, _table
from zklora.kernels import goldilocks as K
from zklora.kernels import sumcheck as KS
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

E = GOLDILOCKS.ext
P = K.P_INT


def _field(v) -> np.ndarray:
    """Signed Python ints as canonical goldilocks elements (uint64)."""
    return np.array([int(x) % P for x in v], np.uint64)


def _base(rng, size, kind):
    """A base table of ``size`` entries: small signed ints (|v| < 2^20), any field
    element, or edge values (0, 1, p − 1, ±2^k, p − 2^k)."""
    if kind == "small":
        return _field(rng.integers(-(1 << 20), 1 << 20, size))
    if kind == "full":
        return rng.integers(0, P, size, dtype=np.uint64)
    edges = [0, 1, -1, P - 1, 1 << 31, -(1 << 31), 1 << 32, (1 << 63), -(1 << 25),
             (1 << 64) - (1 << 32), P - (1 << 32)]
    return _field(rng.choice(np.array(edges, dtype=object), size))


#: table kinds (3 tables, as `TERMS` over tables 1..3): b = base ("small", "full",
#: "edge"), e = extension
LAYOUTS = [("small", "small", "small"), ("full", "e", "small"), ("e", "edge", "e"),
           ("edge", "edge", "full"), ("small", "e", "e")]


def _tables(rng, size, layout):
    return [_base(rng, size, kd) if kd != "e" else E.random(rng, size) for kd in layout]


@pytest.mark.parametrize("degree", [2, 3, 4])
@pytest.mark.parametrize("size", [2, 4, 64, 1 << 13])
@pytest.mark.parametrize("layout", LAYOUTS)
def test_split_kernels_match_lifted_and_reference(degree, size, layout):
    rng = np.random.default_rng(degree * 7919 + size + 31 * LAYOUTS.index(layout))
    tabs = _tables(rng, size, layout)
    stack, isb = sumcheck._stacked(tabs)   # the lifted stack of the old path
    split = KS.split_stacks(tabs)
    assert np.array_equal(split[2], isb)
    starts, factors, coeffs = _strip(degree)
    plan0 = KS.eq_plan(starts, factors, isb, degree)
    w = E.random(rng, size // 2)
    sc = E.random(rng, 1)[0]
    ej = E.random(rng, 2)
    running = E.random(rng, 1)[0]
    if size <= 64:   # an honest running claim g(0) + g(1): the reference's g(2..) match
        ref = KS.ref_eq_round(stack, w, starts, factors, coeffs, degree, running, sc, ej)
        running = E.add(ref[0], _direct_g1(stack, w, starts, factors, coeffs, sc, ej))
    g_old = np.empty((degree + 1, 2), np.uint64)
    g_new = np.empty((degree + 1, 2), np.uint64)
    f_old = KS.eq_sums(stack, w, isb, starts, factors, coeffs, degree, running, sc.copy(), ej,
                       g_old, plan=plan0)
    f_new = KS.eq_sums_split(*split, w, isb, starts, coeffs, degree, running, sc.copy(), ej,
                             g_new, plan0)
    assert f_new == f_old == 0
    assert np.array_equal(g_new, g_old)
    if size <= 64:
        assert np.array_equal(g_new, KS.ref_eq_round(stack, w, starts, factors, coeffs, degree,
                                                     running, sc, ej))
    if size < 4:
        return
    # round 1: the fold at r of the split stacks and its sums
    r = E.random(rng, 1)[0]
    ep = E.random(rng, 2)
    inv = sumcheck._inv_den_array(degree)
    gp = E.random(rng, degree + 1)
    noflag = np.zeros(3, np.bool_)
    plan = KS.eq_plan(starts, factors, noflag, degree)
    w2 = E.random(rng, size // 4)
    res = []
    for new in (False, True):
        g, msg, run = gp.copy(), np.empty((degree, 2), np.uint64), np.empty(2, np.uint64)
        s = sc.copy()
        out = np.full((3, size // 2, 2), 7, np.uint64)
        if new:
            flag = KS.eq_step_split(*split, r, out, w2, noflag, starts, coeffs, degree, inv, g,
                                    msg, run, s, ep, ej, plan)
        else:
            flag = KS.eq_step(stack, r, out, w2, noflag, starts, factors, coeffs, degree, inv,
                              g, msg, run, s, ep, ej, isb, plan=plan)
        res.append((flag, g, msg, run, s, out))
    for a, b in zip(*res):
        assert np.array_equal(a, b)
    assert np.array_equal(res[1][5], KS.ref_fold(stack, r))


def test_split_stacks_layout():
    """One contiguous base table is used in place; several are copied in order; the
    extension tables go to their own stack; none: a (0, 2, 2) placeholder."""
    rng = np.random.default_rng(3)
    a = _base(rng, 16, "small")
    sb, st, fromb, tmap = KS.split_stacks([a])
    assert np.shares_memory(sb, a) and sb.shape == (1, 16) and st.shape == (0, 2, 2)
    b, c = _base(rng, 16, "edge"), E.random(rng, 16)
    sb, st, fromb, tmap = KS.split_stacks([c, a, b, c])
    assert fromb.tolist() == [False, True, True, False] and tmap.tolist() == [0, 0, 1, 1]
    assert np.array_equal(sb, np.stack([a, b])) and np.array_equal(st, np.stack([c, c]))


def _prove(tables, terms, claim, eq, split):
    ch = ProverChannel(Transcript("s43h2"))
    old = sumcheck.EQ_MIN_VARS, sumcheck.SPLIT_BASE
    sumcheck.EQ_MIN_VARS, sumcheck.SPLIT_BASE = 1, split
    try:
        point, finals = sumcheck.prove(ch, E, list(tables), terms, claim, public=(0,), eq=eq)
    finally:
        sumcheck.EQ_MIN_VARS, sumcheck.SPLIT_BASE = old
    return ch.proof_bytes(), point, finals


def _claim(tables, terms):
    lifted = [E.embed(t) if t.ndim == 1 else t for t in tables]
    acc = E.scalar(0)
    for c, fs in terms:
        p = lifted[fs[0]]
        for f in fs[1:]:
            p = E.mul(p, lifted[f])
        acc = E.add(acc, E.mul(c, E.sum(p)))
    return acc


@pytest.mark.parametrize("degree", [2, 3, 4])
@pytest.mark.parametrize("nv", [1, 2, 3, 7, 13])
@pytest.mark.parametrize("layout", LAYOUTS[:4])
def test_prover_split_same_bytes(degree, nv, layout):
    rng = np.random.default_rng(degree * 100 + nv)
    e = _e(rng, nv, (1,) if nv > 3 else ())
    tables = [_table(e)] + _tables(rng, 1 << nv, layout)
    terms = [(E.scalar(c[0]) if c[1] == 0 else np.array(c, np.uint64), fs)
             for c, fs in TERMS[degree]]
    claim = _claim(tables, terms)
    new, p1, f1 = _prove(tables, terms, claim, (0, e), True)
    old, p2, f2 = _prove(tables, terms, claim, (0, e), False)
    assert new == old
    assert np.array_equal(p1, p2) and all(np.array_equal(a, b) for a, b in zip(f1, f2))
    ch = VerifierChannel(Transcript("s43h2"), new)
    sumcheck.verify(ch, E, nv, 4, terms, claim, public={0: f1[0]})   # 4 tables
    ch.finish()


def test_prover_split_one_base_table_not_copied(monkeypatch):
    """A single base table (the embed lookup's zero-check shape): its stack is the table
    itself; same bytes as the lifted path."""
    rng = np.random.default_rng(11)
    nv = 12
    e = _e(rng, nv)
    tables = [_table(e), _base(rng, 1 << nv, "small")]
    terms = [(E.scalar(1), (0, 1, 1)), (E.scalar(P - 1), (0, 1))]
    claim = _claim(tables, terms)
    seen = []
    real = KS.split_stacks

    def spy(tabs):
        out = real(tabs)
        seen.append(np.shares_memory(out[0], tables[1]))
        return out

    monkeypatch.setattr(KS, "split_stacks", spy)
    new = _prove(tables, terms, claim, (0, e), True)[0]
    assert seen == [True]
    assert new == _prove(tables, terms, claim, (0, e), False)[0]
