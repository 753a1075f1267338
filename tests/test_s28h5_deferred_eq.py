"""`sumcheck.Deferred`: an eq table built only where `sumcheck.prove` reads it (s28h5).
The eq-factored rounds (`_prove_eq`) never read table ``eq[0]``: given as a `Deferred`
it is not built there; on every other path (no hint, too few variables, pairwise
terms, a point with a 0 coordinate, a term without the factor) it is built once.  Same
proof bytes and finals as the materialised table; edge values 0, 1, p − 1, p − 2 in
the tables and the point."""

from __future__ import annotations

import numpy as np
import pytest

from zklora.kernels import goldilocks as K
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import mle, sumcheck
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

E = GOLDILOCKS.ext
P = K.P_INT
EDGE = np.array([0, 1, P - 1, P - 2], np.uint64)


def _tables(rng, n, tau, base):
    eqt = mle.eq_table(E, tau)
    others = [GOLDILOCKS.random(rng, 1 << n) if b else E.random(rng, 1 << n) for b in base]
    for t in others:   # edge values in the first entries
        if t.ndim == 1:
            t[:4] = EDGE
        else:
            t[:4, 0] = EDGE
            t[:4, 1] = EDGE[::-1]
    return eqt, others


def _claim(terms, tables):
    lifted = [E.embed(t) if t.ndim == 1 else t for t in tables]
    acc = E.scalar(0)
    for x in range(lifted[0].shape[0]):
        acc = E.add(acc, sumcheck.combine(E, terms, [t[x] for t in lifted]))
    return acc


def _prove(tables, terms, claim, eq, min_vars=None):
    ch = ProverChannel(Transcript("s28h5"))
    old = sumcheck.EQ_MIN_VARS
    if min_vars is not None:
        sumcheck.EQ_MIN_VARS = min_vars
    try:
        point, finals = sumcheck.prove(ch, E, list(tables), terms, claim, public=(0,), eq=eq,
                                       own=True)
    finally:
        sumcheck.EQ_MIN_VARS = old
    return ch.proof_bytes(), point, finals


def _deferred(eqt, calls):
    def make():
        calls.append(1)
        return eqt.copy()
    return sumcheck.Deferred(eqt.shape[0], make)


CASES = [  # (n, degree-3 terms or pairwise, base flags, EQ_MIN_VARS, eq hint, served)
    (10, "deg3", (False, True), None, True, True),
    (11, "deg3", (True, True), None, True, True),
    (4, "deg3", (False, False), None, True, False),       # below EQ_MIN_VARS
    (4, "deg3", (False, True), 1, True, True),
    (10, "deg3", (False, True), None, False, False),     # no hint
    (10, "pair", (False,), None, True, False),           # pairwise terms
    (10, "mixed", (False, True), None, True, False),     # a term without the factor
]


@pytest.mark.parametrize("n,kind,base,min_vars,hint,served", CASES)
@pytest.mark.parametrize("edge_point", [False, True])
def test_deferred_eq_same_bytes(n, kind, base, min_vars, hint, served, edge_point):
    rng = np.random.default_rng(n * 10 + len(base))
    tau = E.random(rng, n)
    if edge_point:   # coordinates 1, p − 1, p − 2 (no 0: that takes the plain rounds)
        tau[0] = [1, 0]
        tau[1] = [P - 1, 0]
        tau[2] = [P - 2, 1]
    eqt, others = _tables(rng, n, tau, base)
    if kind == "pair":
        terms = [(E.scalar(3), (0, 1))]
    elif kind == "deg3":
        terms = [(E.scalar(1), (0, 1, 2)), (np.array([5, 7], np.uint64), (0, 2))]
    else:
        terms = [(E.scalar(1), (0, 1, 2)), (E.scalar(P - 1), (1, 2))]
    tables = [eqt, *others]
    claim = _claim(terms, tables)
    e = np.stack([E.sub(E.ones(n), tau), tau], 1)
    eq = (0, e) if hint else None
    want, p0, f0 = _prove(tables, terms, claim, eq, min_vars)
    calls: list = []
    got, p1, f1 = _prove([_deferred(eqt, calls), *others], terms, claim, eq, min_vars)
    assert got == want
    assert np.array_equal(p0, p1) and all(np.array_equal(a, b) for a, b in zip(f0, f1))
    assert len(calls) == (0 if served else 1)
    deg = max(len(fs) for _, fs in terms)
    ch = VerifierChannel(Transcript("s28h5"), got)
    sumcheck.verify(ch, E, n, deg, terms, claim, public={0: f1[0]})
    ch.finish()


def test_deferred_eq_zero_coordinate_builds_it():
    """A point with a 0 coordinate: the eq-factored rounds do not serve, the table is
    built (and the proof is the materialised table's)."""
    rng = np.random.default_rng(3)
    n = 10
    tau = E.random(rng, n)
    tau[4] = [0, 0]
    eqt, others = _tables(rng, n, tau, (False, True))
    terms = [(E.scalar(1), (0, 1, 2))]
    claim = _claim(terms, [eqt, *others])
    e = np.stack([E.sub(E.ones(n), tau), tau], 1)
    calls: list = []
    want = _prove([eqt, *others], terms, claim, (0, e))[0]
    assert _prove([_deferred(eqt, calls), *others], terms, claim, (0, e))[0] == want
    assert calls == [1]


def test_table_len():
    assert sumcheck.table_len(sumcheck.Deferred(8, lambda: None)) == 8
    assert sumcheck.table_len(E.zeros(16)) == 16
    assert sumcheck.table_len(np.zeros(4, np.uint64)) == 4
