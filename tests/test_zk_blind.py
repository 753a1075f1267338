"""Blinded claims (issue 15, docs/zero-knowledge.md §5.1): building blocks.

* multi-term stack claims (`stack.StackClaim` with ``terms``): S̃(p) + Σ_t c_t·S̃(p_t) = v
  reduced with the other claims of the stack (in RAM and streaming: same bytes), the
  reduced claim true; a wrong value, a wrong term coefficient, a term moved: the reduced
  claim false (the opening rejects it) or the verifier rejects at once;
* blinded `Claim`s (T̃(p) + Σ c·M̃(q) = v) reduced by `claims.reduce` inside a ZK
  session: no final, no u_i sent; the reduced blinded claim is true; tampered
  values, blind coefficients and proof bytes rejected; two witnesses of one statement,
  programmed challenges: no message of the reduction distinguishes them;
* the committer opens a blinded claim on a committed tensor whose blinds are in the
  same stack (one multi-term stack claim): verifies under plain and hiding ligero; a
  wrong value rejected.
"""

from __future__ import annotations

import attrs
import numpy as np
import pytest

from zklora.zkcore import claims as claimlib
from zklora.zkcore import mle, selfcheck, stack, zk
from zklora.zkcore.claims import Blind, Claim
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.op import ProverContext, TensorSpec, VerifierContext
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .conftest import backend_for
from .test_zk import recorded

REJECT = (VerificationError, ProofFormatError)


# -- multi-term stack claims ---------------------------------------------------------------


def _stack_case(reg, seed, sizes=(64, 32, 16, 8, 4)):
    F = reg.field("goldilocks")
    E = F.ext
    lay = stack.StackLayout(list(sizes))
    rng = np.random.default_rng(seed)
    tables = [F.from_ints(rng.integers(-50, 50, s)) for s in sizes]
    S = lay.stack(F, tables)
    S.flags.writeable = False

    def ev(i, r):
        return mle.evaluate(E, tables[i], r, base=True)

    claims = []
    for i in range(len(sizes)):
        r = E.random(rng, lay.block(i).num_vars)
        claims.append(lay.claim(E, i, r, ev(i, r)))
    # multi-term claims: item 0 blinded by item 3 and item 4 terms, item 1 by item 1
    for i, blinds in ((0, (3, 4)), (1, (1,)), (2, ())):
        r = E.random(rng, lay.block(i).num_vars)
        v = ev(i, r)
        terms = []
        for j in blinds:
            q = E.random(rng, lay.block(j).num_vars)
            c = E.random(rng, 1)[0]
            b = lay.block(j)
            terms.append(stack.StackTerm(b.num_vars, b.index, q, c))
            v = E.add(v, E.mul(c, ev(j, q)))
        head = lay.claim(E, i, r, v)
        claims.append(attrs.evolve(head, terms=tuple(terms)))
    return F, E, lay, S, claims


def _prove(F, stacks, label="x"):
    pch = ProverChannel(Transcript(b"t"))
    out = stack.reduce_many(ProverContext(F, pch, {}, {}, {}, None), stacks, label=label)
    return out, pch.proof_bytes()


def _verify(F, shapes, data, label="x"):
    vch = VerifierChannel(Transcript(b"t"), data)
    out = stack.reduce_many(VerifierContext(F, vch, {}, {}, None), shapes, label=label)
    vch.finish()
    return out


def test_multi_term_stack_claims_reduce(reg, monkeypatch):
    F, E, lay, S, claims = _stack_case(reg, 1)
    K = lay.num_vars
    (ref,), data = _prove(F, [(K, claims, S)])
    ((r, v),) = _verify(F, [(K, claims, None)], data)
    assert E.equal(v, mle.evaluate(E, S, r, base=True)) and E.equal(v, ref[1])
    # the streaming prover: same bytes
    monkeypatch.setattr(stack, "STREAM_VARS", 5)
    monkeypatch.setattr(stack, "CHUNK_VARS", 4)
    monkeypatch.setattr(stack, "STREAM_ROUNDS", 2)
    (got,), data2 = _prove(F, [(K, claims, S)])
    assert data2 == data


def test_single_multi_term_claim_is_reduced(reg):
    """A stack whose only claim has terms is still reduced (its value is no single
    evaluation)."""
    F, E, lay, S, claims = _stack_case(reg, 2)
    one = [claims[-3]]
    assert one[0].terms
    _, data = _prove(F, [(lay.num_vars, one, S)])
    ((r, v),) = _verify(F, [(lay.num_vars, one, None)], data)
    assert E.equal(v, mle.evaluate(E, S, r, base=True))


def test_multi_term_stack_claim_tampered(reg):
    F, E, lay, S, claims = _stack_case(reg, 3)
    K = lay.num_vars
    k = len(claims) - 3
    c = claims[k]
    t0 = c.terms[0]
    bad_value = attrs.evolve(c, value=E.add(c.value, E.scalar(1)))
    bad_coef = attrs.evolve(c, terms=(attrs.evolve(t0, coefficient=E.add(
        t0.coefficient, E.scalar(1))),) + c.terms[1:])
    moved = attrs.evolve(c, terms=(attrs.evolve(t0, index=t0.index ^ 1),) + c.terms[1:])
    dropped = attrs.evolve(c, terms=c.terms[1:])
    for bad in (bad_value, bad_coef, moved, dropped):
        cl = list(claims)
        cl[k] = bad
        with pytest.raises(ProverError):     # the honest prover's self-check
            _prove(F, [(K, cl, S)])
        with selfcheck.disabled():
            _, data = _prove(F, [(K, cl, S)])
        try:
            ((r, v),) = _verify(F, [(K, cl, None)], data)
        except VerificationError:
            continue
        assert not E.equal(mle.evaluate(E, S, r, base=True), v)
    # the statement the verifier absorbs covers the terms: the honest proof of the true
    # claims does not verify for the claims with a term changed
    _, data = _prove(F, [(K, claims, S)])
    for bad in (bad_coef, moved, dropped):
        cl = list(claims)
        cl[k] = bad
        try:
            ((r, v),) = _verify(F, [(K, cl, None)], data)
        except VerificationError:
            continue
        assert not E.equal(mle.evaluate(E, S, r, base=True), v)


def test_multi_term_stack_claim_malformed(reg):
    F, E, lay, S, claims = _stack_case(reg, 4)
    K = lay.num_vars
    c = claims[-3]
    t0 = c.terms[0]
    for bad_t in (attrs.evolve(t0, index=1 << (K - t0.num_vars)),
                  attrs.evolve(t0, point=E.zeros(t0.num_vars + 1))):
        cl = list(claims)
        cl[-3] = attrs.evolve(c, terms=(bad_t,))
        with pytest.raises(VerificationError, match="stack: claim"):
            _verify(F, [(K, cl, None)], b"")


# -- blinded claims: reduction and opening -------------------------------------------------

NV = 14   # T and the 64 first-group slots (2^8 entries) fill one 2^15 stack
SLOT = "zk:masks/63"      # the last slot of the main pool's first group (unused here)


def _witness_table(F, which: int):
    """Two witnesses: T differs in entry 0."""
    t = np.arange(1, 1 + (1 << NV), dtype=np.int64) * 5 - 40
    if which:
        t[0] += 11
    return t


def _blinded_run(be, prover: bool, which: int = 0, data: bytes = b"", points=None,
                 tamper=None, nclaims: int = 3, blind_first: bool = False):
    """Commit T (2^NV entries) with the main pool's first mask group in one stack, make
    ``nclaims`` blinded claims T̃(p_k) + c_k·M̃(q_k) = v_k (M a pre-committed slot; one
    claim without a blind), reduce them (`claims.reduce`, blinded path) and open.
    ``tamper(claims)`` edits the claims the verifier is given.  Returns (proof bytes,
    reduced claim)."""
    F, E = be.field, be.field.ext
    t = Transcript(b"zklora/test/zk-blind", "blake3")
    com = Committer(be.scheme, prover)
    specs = {"T": TensorSpec("T", (1 << NV,), "committed", None)}
    if prover:
        ch = ProverChannel(t)
        ctx = ProverContext(F, ch, specs, {}, {"T": _witness_table(F, which)}, com)
        com.commit(ch, specs["T"], ctx.table("T"))
    else:
        ch = VerifierChannel(t, data)
        ctx = VerifierContext(F, ch, specs, {}, com)
        com.commit(ch, specs["T"])
    zk.precommit(ctx)
    com.flush_packed(ch)
    ch.before_challenge = lambda: com.flush(ch)
    sv = zk.slot_vars(E.degree)
    rng = np.random.default_rng(7)
    pts = points or [(E.random(rng, NV), E.random(rng, sv), E.random(rng, 1)[0])
                     for _ in range(nclaims)]
    cl = []
    for k, (p, q, c) in enumerate(pts):
        blind = (Blind(SLOT, q, c),) if k or blind_first else ()
        if prover:
            v = E.add(ctx.evaluate("T", p), claimlib.blind_value(ctx, blind))
        else:
            v = np.asarray(_VALUES[k])
        cl.append(Claim("T", p, v, blind))
    if prover:
        _VALUES[:] = [c.value for c in cl]
    if tamper is not None:
        cl = tamper(E, cl)
    red = claimlib.reduce(ctx, cl, num_vars=NV, label="reduce:T",
                          table=lambda: ctx.table("T"))
    com.open(ctx, {"T": [red]})
    if prover:
        return ch.proof_bytes(), red
    ch.finish()
    return b"", red


_VALUES: list = []


@pytest.fixture(params=["plain", "ligero"])
def zbe(request, reg):
    return backend_for(reg, "goldilocks", request.param)


def test_blinded_reduce_verifies(zbe):
    E = zbe.field.ext
    with zk.session(), recorded() as log:
        proof, red = _blinded_run(zbe, True)
        assert red.blind   # the reduced claim is blinded: the mask's g(r*) and the blinds
        _, vred = _blinded_run(zbe, False, data=proof)
    assert E.equal(red.value, vred.value) and E.equal(red.point, vred.point)
    assert len(red.blind) == len(vred.blind)
    for a, b in zip(red.blind, vred.blind):
        assert a.tensor == b.tensor and E.equal(a.point, b.point) \
            and E.equal(a.coefficient, b.coefficient)
    labels = {lab for lab, _, _ in log if lab.startswith("reduce:T")}
    assert labels == {"reduce:T/zk/sum"} | {f"reduce:T/round{j}" for j in range(NV)}


def test_blinded_reduce_outside_session_refused(zbe):
    with pytest.raises((ProverError, VerificationError), match="outside"):
        _blinded_run(zbe, True)


def test_blinded_reduce_tampered(zbe):
    with zk.session():
        proof, _ = _blinded_run(zbe, True)

        def value(E, cl):
            cl[1] = attrs.evolve(cl[1], value=E.add(cl[1].value, E.scalar(1)))
            return cl

        def coef(E, cl):
            b = cl[2].blind[0]
            cl[2] = attrs.evolve(cl[2], blind=(attrs.evolve(
                b, coefficient=E.add(b.coefficient, E.scalar(1))),))
            return cl

        def unblind(E, cl):
            cl[2] = attrs.evolve(cl[2], blind=())
            return cl

        def other_mask(E, cl):
            b = cl[2].blind[0]
            cl[2] = attrs.evolve(cl[2], blind=(attrs.evolve(b, tensor="zk:masks/62"),))
            return cl

        for bad in (value, coef, unblind, other_mask):
            with pytest.raises(REJECT):
                _blinded_run(zbe, False, data=proof, tamper=bad)
        for pos in np.linspace(0, len(proof) - 1, 24).astype(int):
            badp = bytearray(proof)
            badp[pos] ^= 4
            with pytest.raises(REJECT):
                _blinded_run(zbe, False, data=bytes(badp))


def test_blinded_reduce_false_claim_rejected(zbe):
    """An honest prover given a false blinded claim (self-checks off) is rejected."""

    def lie(E, cl):
        cl[1] = attrs.evolve(cl[1], value=E.add(cl[1].value, E.scalar(3)))
        return cl

    with zk.session():
        with pytest.raises(ProverError):
            _blinded_run(zbe, True, tamper=lie)
        with selfcheck.disabled():
            proof, _ = _blinded_run(zbe, True, tamper=lie)
        with pytest.raises(REJECT):
            _blinded_run(zbe, False, data=proof, tamper=lie)


def test_blinded_reduced_claim_true(zbe):
    """The reduced claim holds: T̃(r*) + Σ_b c_b·M̃_b(q_b) = v (g(r*) on the mask slot,
    the input claims' blinds scaled)."""
    E = zbe.field.ext
    with zk.session():
        F = zbe.field
        t = Transcript(b"x", "blake3")
        com = Committer(zbe.scheme, True)
        specs = {"T": TensorSpec("T", (1 << NV,), "committed", None)}
        ch = ProverChannel(t)
        ctx = ProverContext(F, ch, specs, {}, {"T": _witness_table(F, 0)}, com)
        com.commit(ch, specs["T"], ctx.table("T"))
        zk.precommit(ctx)
        com.flush_packed(ch)
        rng = np.random.default_rng(1)
        sv = zk.slot_vars(E.degree)
        cl = []
        for k in range(3):
            p, q, c = E.random(rng, NV), E.random(rng, sv), E.random(rng, 1)[0]
            b = (Blind(SLOT, q, c),) if k else ()
            cl.append(Claim("T", p, E.add(ctx.evaluate("T", p), claimlib.blind_value(ctx, b)),
                            b))
        red = claimlib.reduce(ctx, cl, num_vars=NV, label="r", table=lambda: ctx.table("T"))
        assert len(red.blind) > 2
        assert E.equal(red.value, E.add(ctx.evaluate("T", red.point),
                                        claimlib.blind_value(ctx, red.blind)))
        # without the blinds the value is not T̃(r*)
        assert not E.equal(red.value, ctx.evaluate("T", red.point))


def test_blinded_reduce_indistinguishable(reg):
    """Programmed challenges, fixed claim points and blind coefficients, two witnesses
    (T differs in one entry): no revealed element — the input claims' values (uniform:
    fresh masks), G, the reduction's rounds — distinguishes them; an unblinded claim's
    value does (control)."""
    from .test_zk import _distinguishable, _profile, programmed

    be = backend_for(reg, "goldilocks", "plain")
    E = be.field.ext
    rng = np.random.default_rng(11)
    sv = zk.slot_vars(E.degree)
    pts = [(E.random(rng, NV), E.random(rng, sv), E.random(rng, 1)[0]) for _ in range(3)]

    def runs(which, n, blind_first=True):
        out = []
        for _ in range(n):
            with zk.session(), recorded() as log:
                _blinded_run(be, True, which, points=pts, blind_first=blind_first)
            log = [x for x in log if x[0].startswith("reduce:T")]
            log.append(("claims/value", E, np.stack(_VALUES)))
            out.append(_profile(E, log, skip=()))
        return out

    with programmed():
        ra, rb = runs(0, 10), runs(1, 10)
    assert _distinguishable(ra, rb) == []
    assert ("claims/value", 0) in ra[0] and ("reduce:T/round3", 1) in ra[0]
    # control: the first claim unblinded, its value tells the witnesses apart
    with programmed():
        ca, cb = runs(0, 3, False), runs(1, 3, False)
    assert ("claims/value", 0) in {k for k, _ in _distinguishable(ca, cb)}
