"""The masked stack reduction and sum claims (issue 15, docs/zero-knowledge.md §5.2).

* `SumClaim` on hiding ligero: Σ_j λ_j·t̃_{i_j}(p_j) = v over several commitments (terms
  on several rows of one matrix, an ordinary claim beside it) verifies; a wrong value, a
  wrong coefficient, a term moved to another commitment, each new message changed in the
  proof bytes: rejected; sum claims outside a ZK session refused on both sides; with the
  challenges programmed, no element of the opening distinguishes two tables whose terms
  differ but whose sum is the same (the terms are never revealed one by one);
* the graph (matmul + rescale + lookup, hiding ligero): the stack reduction runs masked
  (G, masked rounds, no finals, no u_i), verifies, and is rejected when a reduction
  message, the mask's coefficients or the claimed value change; with the challenges
  programmed no reduction message distinguishes two witnesses of one statement.
"""

from __future__ import annotations

from collections import defaultdict
from unittest import mock

import numpy as np
import pytest

from zklora.plugins.commitments.ligero import Ligero
from zklora.zkcore import graph as graphlib
from zklora.zkcore import mle, stack, zk
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem, SumClaim, SumTerm
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.testing.commitment_suite import PROTOCOL, Harness
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .conftest import backend_for
from .test_rescale_op import rescale_graph, wit
from .test_zk import _distinguishable, _profile, _two_witnesses, programmed, recorded

REJECT = (VerificationError, ProofFormatError)


@pytest.fixture(scope="module")
def F(reg):
    return reg.field("goldilocks")


# -- sum claims on hiding ligero -----------------------------------------------------------


def _value(E, tabs, terms):
    v = E.scalar(0)
    for t in terms:
        v = E.add(v, E.mul(t.coefficient, mle.evaluate(E, tabs[t.item], t.point, base=True)))
    return v


def _setup(F, seed=0, tabs=None, points=None, coefs=None):
    """Two hiding commitments (2^10, 2^8 entries); one ordinary claim on the first and a
    sum claim of three terms (two on the first at different rows, one on the second)."""
    E = F.ext
    rng = np.random.default_rng(seed)
    if tabs is None:
        tabs = [F.random(rng, 1 << 10), F.random(rng, 1 << 8)]
    s = Harness(Ligero, F).scheme()
    coms, states = zip(*(s.commit(t) for t in tabs))
    if points is None:
        points = [E.random(rng, 10), E.random(rng, 10), E.random(rng, 8), E.random(rng, 10)]
    if coefs is None:
        coefs = [E.random(rng, 1)[0] for _ in range(3)]
    terms = [SumTerm(0, points[0], coefs[0]), SumTerm(0, points[1], coefs[1]),
             SumTerm(1, points[2], coefs[2])]
    sums = [SumClaim(terms, _value(E, tabs, terms))]
    evs = [[Evaluation(points[3], mle.evaluate(E, tabs[0], points[3], base=True))], []]
    return s, tabs, coms, states, evs, sums


def _open(s, states, evs, sums):
    ch = ProverChannel(Transcript(PROTOCOL, "blake3"))
    s.open(ch, [OpenItem(st, list(e)) for st, e in zip(states, evs)], sums=sums)
    return ch.proof_bytes()


def _check(s, coms, evs, sums, proof):
    ch = VerifierChannel(Transcript(PROTOCOL, "blake3"), proof)
    s.verify(ch, [CheckItem(c, n, list(e)) for c, n, e in zip(coms, (10, 8), evs)],
             sums=sums)
    ch.finish()


def test_sum_claim_roundtrip(F):
    with zk.session():
        s, tabs, coms, states, evs, sums = _setup(F)
        assert s.sum_claims
        proof = _open(s, states, evs, sums)
        _check(s, coms, evs, sums, proof)
        # a sum claim alone (the second item has no ordinary claim either)
        only = [[], []]
        _check(s, coms, only, sums, _open(s, states, only, sums))
    assert not Ligero(F).sum_claims


def test_sum_claim_wrong_statement_rejected(F):
    E = F.ext
    with zk.session():
        s, tabs, coms, states, evs, sums = _setup(F, seed=1)
        proof = _open(s, states, evs, sums)
        sc = sums[0]
        bad_value = [SumClaim(sc.terms, E.add(sc.value, E.scalar(1)))]
        t0 = sc.terms[0]
        bad_coef = [SumClaim([SumTerm(0, t0.point, E.add(t0.coefficient, E.scalar(1)))]
                             + sc.terms[1:], sc.value)]
        t2 = sc.terms[2]
        moved = [SumClaim(sc.terms[:2] + [SumTerm(0, np.concatenate(
            [t2.point, E.zeros(2)]), t2.coefficient)], sc.value)]
        for bad in (bad_value, bad_coef, moved):
            with pytest.raises(VerificationError):
                _check(s, coms, evs, bad, proof)
        # the prover, asked to open a false sum, is caught as well
        with pytest.raises(VerificationError, match="sum claim"):
            _check(s, coms, evs, bad_value, _open(s, states, evs, bad_value))


def test_sum_claim_messages_tampered_rejected(F):
    starts: dict[str, int] = {}
    orig = ProverChannel.send_field

    def send_field(self, label, field, a):
        starts.setdefault(label, len(self.buf))
        return orig(self, label, field, a)

    with zk.session():
        s, tabs, coms, states, evs, sums = _setup(F, seed=2)
        with mock.patch.object(ProverChannel, "send_field", send_field):
            proof = _open(s, states, evs, sums)
        _check(s, coms, evs, sums, proof)
        assert {"ligero/zk/sum-s", "ligero/zk/sum-y", "ligero/zk/sum-t"} <= set(starts)
        for _label, off in starts.items():
            bad = bytearray(proof)
            bad[off + 3] ^= 1
            with pytest.raises(VerificationError):
                _check(s, coms, evs, sums, bytes(bad))


def test_sum_claim_outside_session_refused(F):
    with zk.session():
        s, tabs, coms, states, evs, sums = _setup(F, seed=3)
        proof = _open(s, states, evs, sums)
    with pytest.raises(ProverError):
        _open(s, states, evs, sums)
    with pytest.raises(VerificationError):
        _check(s, coms, evs, sums, proof)
    # a malformed sum claim (a term on no item) is rejected by the verifier's reading
    bad = [SumClaim([SumTerm(5, sums[0].terms[0].point, sums[0].terms[0].coefficient)],
                    sums[0].value)]
    with zk.session(), pytest.raises(VerificationError, match="sum claim 0"):
        _check(s, coms, evs, bad, proof)


def test_sum_claim_terms_not_revealed(F):
    """Programmed challenges, one statement Σ = t_0[i] + t_1[j] (boolean points) of two
    table pairs: B moves one unit from t_1[j] to t_0[i], so each term differs and the sum
    does not; no element of the opening (σ, y, t, w, columns) tells A from B."""
    E = F.ext
    rng = np.random.default_rng(9)
    ta = [F.random(rng, 1 << 10), F.random(rng, 1 << 8)]
    tb = [ta[0].copy(), ta[1].copy()]
    i, j = 700, 77
    tb[0][i] = F.add(ta[0][i], F.scalar(1))
    tb[1][j] = F.sub(ta[1][j], F.scalar(1))

    def bits(k, n):
        return E.from_ints(np.array([(k >> b) & 1 for b in range(n)], np.int64))

    one = E.scalar(1)
    terms = [SumTerm(0, bits(i, 10), one), SumTerm(1, bits(j, 8), one)]
    value = _value(E, ta, terms)
    assert E.equal(value, _value(E, tb, terms))
    assert not E.equal(_value(E, ta, terms[:1]), _value(E, tb, terms[:1]))

    def runs(tabs, count):
        out = []
        for _ in range(count):
            with zk.session(), recorded() as log:
                s = Harness(Ligero, F).scheme()
                coms, states = zip(*(s.commit(t) for t in tabs))
                sums = [SumClaim(terms, value)]
                _check(s, coms, [[], []], sums, _open(s, states, [[], []], sums))
            out.append(_profile(E, log, skip=()))
        return out

    with programmed():
        ra, rb = runs(ta, 12), runs(tb, 12)
    assert len(ra[0]) > 100
    assert _distinguishable(ra, rb, skip=()) == []


# -- the masked stack reduction in a graph -------------------------------------------------


@pytest.fixture(scope="module")
def lig(reg):
    return backend_for(reg, "goldilocks", "ligero", "logup-gkr")


def _labels():
    starts: dict[str, int] = {}
    orig = ProverChannel.send_field

    def send_field(self, label, field, a):
        starts.setdefault(label, len(self.buf))
        return orig(self, label, field, a)

    return starts, mock.patch.object(ProverChannel, "send_field", send_field)


@pytest.fixture(scope="module")
def proven(lig):
    g = rescale_graph()
    starts, patch = _labels()
    calls = []
    orig = stack._reduce_masked

    def spy(*a, **k):
        calls.append(a[1])
        return orig(*a, **k)

    with zk.session(), patch, mock.patch.object(stack, "_reduce_masked", spy):
        stream, sections = graphlib.prove(g, wit(), lig, {})
    return g, stream, sections, starts, calls


def test_graph_reduction_masked(lig, proven):
    g, stream, sections, starts, calls = proven
    assert calls, "the stack reduction did not run masked"
    red = [k for k in starts if k.startswith("stack/reduce/")]
    assert any(k.endswith("/zk/sum") for k in red)
    assert not any(k.endswith("/finals") or "/zk/mask" in k for k in red)
    assert "ligero/zk/sum-s" in starts
    with zk.session():
        graphlib.verify(g, stream, lig, {}, sections)


def test_graph_reduction_messages_tampered_rejected(lig, proven):
    g, stream, sections, starts, _ = proven
    red = {k: v for k, v in starts.items() if k.startswith("stack/reduce/")
           and ("/zk/sum" in k or "/round" in k)}
    assert red
    for _label, off in red.items():
        bad = bytearray(stream)
        bad[off + 2] ^= 1
        with zk.session(), pytest.raises(REJECT):
            graphlib.verify(g, bytes(bad), lig, {}, sections)


def test_graph_reduction_value_changed_rejected(lig, proven):
    """The verifier's final check handed to the opening with another value: rejected
    (the sum claim is what binds the reduction's last round)."""
    g, stream, sections, _, _ = proven
    orig = stack._reduce_masked

    def shifted(ctx, *a, **k):
        red = orig(ctx, *a, **k)
        if ctx.prover:
            return red
        import attrs
        return attrs.evolve(red, value=ctx.E.add(red.value, ctx.E.scalar(1)))

    with zk.session(), mock.patch.object(stack, "_reduce_masked", shifted), \
            pytest.raises(REJECT):
        graphlib.verify(g, stream, lig, {}, sections)


def test_graph_reduction_mask_changed_rejected(lig):
    """The prover masks the reduction with coefficients other than the committed slot's
    (one coefficient changed after the commitment): the sum claim fails."""
    g = rescale_graph()
    orig = zk.coefficients

    def other(E, F, reg, table):
        c = orig(E, F, reg, table)
        if reg.name.startswith(zk.OPEN_PREFIX):
            c = c.copy()
            c[0, 1] = E.add(c[0, 1], E.scalar(1))
        return c

    with zk.session():
        with mock.patch.object(zk, "coefficients", other):
            stream, sections = graphlib.prove(g, wit(), lig, {})
        with pytest.raises(REJECT):
            graphlib.verify(g, stream, lig, {}, sections)


def test_open_slots_only_with_sum_claims(reg):
    """The opening's masks are committed only for a scheme that opens sum claims: a ZK
    proof under plain has none (its reduction is not masked: plain does not hide)."""
    be = backend_for(reg, "goldilocks", "plain", "logup-gkr")
    g = rescale_graph()
    seen = defaultdict(int)
    orig = stack._reduce_masked

    def spy(*a, **k):
        seen["masked"] += 1
        return orig(*a, **k)

    with zk.session(), mock.patch.object(stack, "_reduce_masked", spy):
        stream, sections = graphlib.prove(g, wit(), be, {})
        graphlib.verify(g, stream, be, {}, sections)
    assert not seen


def test_graph_reduction_indistinguishable(lig):
    """Programmed challenges, two witnesses of one statement, hiding ligero: no message
    of the stack reduction (G, rounds) distinguishes them; without zero knowledge its
    rounds and finals do (control)."""
    a, b = _two_witnesses()
    g = rescale_graph()
    E = lig.field.ext

    def runs(inputs, n, on=True):
        out = []
        for _ in range(n):
            with zk.session(on), recorded() as log:
                data, sec = graphlib.prove(g, inputs, lig, {})
            out.append(_profile(E, [x for x in log if x[0].startswith("stack/reduce")],
                                skip=()))
        return out

    with programmed():
        ra, rb = runs(a, 8), runs(b, 8)
        pa, pb = runs(a, 2, on=False), runs(b, 2, on=False)
    assert ra[0]
    assert _distinguishable(ra, rb, skip=()) == []
    assert _distinguishable(pa, pb, skip=()) != []
