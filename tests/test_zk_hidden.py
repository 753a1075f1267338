"""The hidden-finals ZK sumcheck (issue 15, docs/zero-knowledge.md §5.1,
`zk.run_hidden`): tables masked by Z·ν in the last round, the final check a claim on the
masks, the finals' claims blinded.

* Σ_x f·h = H (and f·h·e with e public, and with a blinded input claim) over committed
  f, h whose masks share their stack: verifies under plain and hiding ligero, one and
  several variables; the blinded claims on f, h are true; nothing but G, the rounds and
  f̂(r) is sent (no u_i, no ν);
* every message kind changed (G, a round, the last round, a final), a claim value or a
  blind coefficient changed, the prover's claim false: rejected;
* **simulator** (acceptance 1 for one sumcheck, statement only): with programmed
  challenges a simulator that sees only (n, terms, H) — not the finals — produces
  transcripts the verifier accepts, and no revealed element (finals included)
  distinguishes real runs on two witnesses of one statement and simulated ones; the
  plain masked sumcheck (`run_sumcheck`, finals in the clear) on the same witnesses is
  distinguished by its finals (control).
"""

from __future__ import annotations

import numpy as np
import pytest

from zklora.zkcore import mle, selfcheck, zk
from zklora.zkcore import sumcheck as sc
from zklora.zkcore.claims import Blind, Claim, blind_value
from zklora.zkcore.committer import Committer
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.op import ProverContext, TensorSpec, VerifierContext
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .conftest import backend_for
from .test_zk import _distinguishable, _profile, oracle, programmed, recorded

REJECT = (VerificationError, ProofFormatError)
SEED = b"hidden-sim"


def _witness(n: int, which: int):
    """f, h (2^n entries) with Σ f·h the same for both witnesses (one statement)."""
    f = np.arange(1, (1 << n) + 1, dtype=np.int64) * 3
    h = np.array([2, 7, 1, 8, 2, 8, 1, 8] * max(1, (1 << n) // 8), np.int64)[:1 << n]
    if which == 2:   # the simulator's commitments: zeros (it knows no witness)
        return np.zeros_like(f), np.zeros_like(h)
    if which == 1:   # move weight between entries 0 and 1: Σ f·h unchanged
        f = f.copy()
        f[0] += h[1]
        f[1] -= h[0]
    return f, h


def _ctx(be, prover: bool, n: int, which: int = 0, data: bytes = b""):
    """f, h committed together with the main pool's first mask group (one stack)."""
    F = be.field
    t = Transcript(b"zklora/test/zk-hidden", "blake3")
    com = Committer(be.scheme, prover)
    specs = {k: TensorSpec(k, (1 << n,), "committed", None) for k in ("f", "h")}
    if prover:
        f, h = _witness(n, which)
        ch = ProverChannel(t)
        ctx = ProverContext(F, ch, specs, {}, {"f": f, "h": h}, com)
        for k in ("f", "h"):
            com.commit(ch, specs[k], ctx.table(k))
    else:
        ch = VerifierChannel(t, data)
        ctx = VerifierContext(F, ch, specs, {}, com)
        for k in ("f", "h"):
            com.commit(ch, specs[k])
    ctx.new_claims = []
    zk.precommit(ctx)
    com.flush(ch)
    ch.before_challenge = lambda: com.flush(ch)
    return ctx


def _claim(E, n, which=0):
    f, h = _witness(n, which)
    return E.from_ints(np.array([int((f * h).sum())], np.int64))[0] if E.degree == 1 \
        else E.embed(np.asarray(E.base.from_ints(np.array([int((f * h).sum())],
                                                          np.int64))))[0]


def _eq_point(E, n):
    return E.from_ints(np.arange(3, 3 + n, dtype=np.int64)) if E.degree == 1 else \
        E.embed(np.asarray(E.base.from_ints(np.arange(3, 3 + n, dtype=np.int64))))


def _finish(ctx, point, values, blinds, tensors):
    """File the blinded claims on the committed tensors, open everything."""
    for i, name in enumerate(tensors):
        ctx.new_claims.append(Claim(name, point, values[i], blinds[i]))
    opened: dict = {}
    for c in ctx.new_claims:
        opened.setdefault(c.tensor, []).append(c)
    ctx.committer.open(ctx, opened)


def prove(be, n, which=0, *, eq=False, tamper=None, claim_shift=None):
    E = be.field.ext
    ctx = _ctx(be, True, n, which)
    H = _claim(E, n, which)
    tabs = [ctx.table("f"), ctx.table("h")]
    terms = [(1, (0, 1))]
    public = ()
    if eq:   # Σ f·h·eq(τ, ·) = Σ_x f(x) h(x) eq(τ, x)
        tau = _eq_point(E, n)
        e = mle.eq_table(E, tau)
        tabs = [mle.lift(E, t, True) for t in tabs] + [e]
        terms = [(1, (0, 1, 2))]
        public = (2,)
        H = E.dot(E.mul(mle.lift(E, ctx.table("f"), True), mle.lift(E, ctx.table("h"), True)),
                  e)
    if claim_shift is not None:
        H = E.add(H, claim_shift)
    point, values, blinds = zk.run_hidden(ctx, "sc", n, terms, H, tabs, public)
    for i, name in enumerate(("f", "h")):   # the blinded claims hold
        assert E.equal(values[i], E.add(ctx.evaluate(name, point),
                                        blind_value(ctx, blinds[i])))
    _finish(ctx, point, values, blinds, ("f", "h"))
    return ctx.ch.proof_bytes(), H


def verify(be, n, data, H, *, eq=False):
    E = be.field.ext
    ctx = _ctx(be, False, n, data=data)
    terms = [(1, (0, 1))]
    public = {}
    if eq:
        terms = [(1, (0, 1, 2))]
        tau = _eq_point(E, n)
        public = {2: lambda r: mle.eq_eval(E, tau, r)}
    point, values, blinds = zk.run_hidden(ctx, "sc", n, terms, H, None, public)
    _finish(ctx, point, values, blinds, ("f", "h"))
    ctx.ch.finish()
    return values


@pytest.fixture(params=["plain", "ligero"])
def zbe(request, reg):
    return backend_for(reg, "goldilocks", request.param)


@pytest.mark.parametrize("n", [1, 3])
@pytest.mark.parametrize("eq", [False, True])
def test_hidden_sumcheck_verifies(zbe, n, eq):
    with zk.session(), recorded() as log:
        data, H = prove(zbe, n, eq=eq)
        verify(zbe, n, data, H, eq=eq)
    labels = {lab for lab, _, v in log if lab.startswith("sc/")}
    assert labels == {"sc/zk/sum", "sc/finals"} | {f"sc/round{j}" for j in range(n)}
    last = next(v for lab, _, v in log if lab == f"sc/round{n - 1}")
    d_last = 4 if not eq else 5           # f̂·ĥ (·eq): degree 2 + 2 (+ 1)
    assert last.shape[0] == d_last
    if n > 1:
        assert next(v for lab, _, v in log if lab == "sc/round0").shape[0] == (2 if not eq
                                                                              else 3)


def test_hidden_sumcheck_bls(reg):
    be = backend_for(reg, "bls12-381-fr", "plain")
    with zk.session():
        data, H = prove(be, 3, eq=True)
        verify(be, 3, data, H, eq=True)


def test_hidden_sumcheck_blinded_input(reg):
    """A blinded input claim: Σ f·h + c·M̃(q) = v, M a pre-committed slot."""
    be = backend_for(reg, "goldilocks", "ligero")
    E = be.field.ext
    rng = np.random.default_rng(3)
    q = E.random(rng, zk.slot_vars(E.degree))
    c = E.random(rng, 1)[0]
    blind = (Blind("zk:masks/63", q, c),)
    n = 3
    with zk.session():
        ctx = _ctx(be, True, n)
        v = E.add(_claim(E, n), blind_value(ctx, blind))
        point, values, blinds = zk.run_hidden(ctx, "sc", n, [(1, (0, 1))], v,
                                              [ctx.table("f"), ctx.table("h")], (),
                                              blinds=blind)
        _finish(ctx, point, values, blinds, ("f", "h"))
        data = ctx.ch.proof_bytes()

        def check(v, blind):
            vctx = _ctx(be, False, n, data=data)
            point, values, blinds = zk.run_hidden(vctx, "sc", n, [(1, (0, 1))], v, None, {},
                                                  blinds=blind)
            _finish(vctx, point, values, blinds, ("f", "h"))
            vctx.ch.finish()

        check(v, blind)
        with pytest.raises(REJECT):
            check(E.add(v, E.scalar(1)), blind)
        with pytest.raises(REJECT):
            check(v, (Blind("zk:masks/63", q, E.add(c, E.scalar(1))),))
        with pytest.raises(REJECT):
            check(v, ())


@pytest.mark.parametrize("kind", ["sc/zk/sum", "sc/round0", "sc/round2", "sc/finals"])
def test_hidden_sumcheck_tampered(zbe, kind):
    from unittest import mock

    orig = ProverChannel.send_field
    hit = []

    def send_field(self, label, field, a):
        if label == kind and not hit:
            hit.append(label)
            a = np.array(a, copy=True)
            a.reshape(-1)[-1] ^= 1
        return orig(self, label, field, a)

    with zk.session():
        with mock.patch.object(ProverChannel, "send_field", send_field), \
                selfcheck.disabled():
            data, H = prove(zbe, 3)
        assert hit
        with pytest.raises(REJECT):
            verify(zbe, 3, data, H)


def test_hidden_sumcheck_false_claim(zbe):
    E = zbe.field.ext
    with zk.session():
        with pytest.raises(ProverError):
            prove(zbe, 3, claim_shift=E.scalar(1))
        with selfcheck.disabled():
            data, H = prove(zbe, 3, claim_shift=E.scalar(1))
        with pytest.raises(REJECT):
            verify(zbe, 3, data, H)
        data, H = prove(zbe, 3)
        with pytest.raises(REJECT):      # the honest proof, another statement
            verify(zbe, 3, data, E.add(H, E.scalar(1)))


# -- the simulator: the statement only ---------------------------------------------------


def simulate(be, n, H):
    """Sees (n, terms = f·h, H) only.  Commits random masks (as the prover does), sends
    their G, rounds 0..n−2 uniform with the right sums, f̂(r) uniform, and the last round
    solved so that the final-check claim on the (simulator's own) masks holds at the
    programmed r_{n−1}; the blinded claims on f, h are the prover's to make true — the
    simulator does not open f, h (they are not its to open): only the masks' claim is
    opened."""
    E = be.field.ext
    ctx = _ctx(be, True, n, 2)       # f, h committed as zeros, never opened
    terms = [(1, (0, 1))]
    d, D = 2, zk.hidden_degree(terms, (0, 1))
    regA = ctx.zk_pool.allocate(ctx, n, d)
    regB = ctx.zk_pool.allocate(ctx, 1, D)
    cA = zk.coefficients(E, ctx.F, regA, ctx._tables[regA.name])
    cB = zk.coefficients(E, ctx.F, regB, ctx._tables[regB.name])
    c = E.zeros((n, D + 1))
    c[:, :d + 1] = cA
    c[n - 1] = E.add(c[n - 1], cB[0])
    G = zk.mask_sum(E, c, n)
    ctx.ch.send_field("sc/zk/sum", E, np.stack([G]))
    rho = ctx.challenge("sc/zk/rho")
    rng = zk.MaskRng()
    running = E.add(H, E.mul(rho, G))
    point = E.zeros(n)
    for j in range(n):
        deg = d if j < n - 1 else D
        free = rng.elements(E, deg)
        vals = E.zeros(deg + 1)
        vals[0] = free[0]
        vals[1] = E.sub(running, free[0])
        vals[2:] = free[1:]
        if j == n - 1:
            r = E.sample(oracle(SEED, f"sc/r{j}", 1))
            point[j] = r
            finals = rng.elements(E, 2)
            g = E.scalar(0)
            for i in range(n):
                g = E.add(g, zk._poly(E, c[i], point[i]))
            target = E.add(E.mul(finals[0], finals[1]), E.mul(rho, g))
            w = sc._lagrange_weights(E, deg, r)
            rest = E.dot(vals[2:], w[2:])
            x = E.mul(E.sub(E.sub(target, E.mul(w[1], running)), rest),
                      E.inv(E.sub(w[0], w[1])))
            vals[0] = x
            vals[1] = E.sub(running, x)
        ctx.ch.send_field(f"sc/round{j}", E, np.concatenate([vals[:1], vals[2:]], axis=0))
        r = ctx.challenge(f"sc/r{j}")
        point[j] = r
        running = sc._interpolate(E, vals, r)
    assert E.equal(running, target)
    ctx.ch.send_field("sc/finals", E, np.stack(finals))
    # the masks' claim (the final check), as the prover files it
    ptsA, facA = zk._tensor_points(E, regA, point, VerificationError)
    ptsB, facB = zk._tensor_points(E, regB, point[n - 1:], VerificationError)
    tm = [(regA.name, ptsA[i], E.mul(rho, facA[i])) for i in range(n)]
    tm.append((regB.name, ptsB[0], E.mul(rho, facB[0])))
    value = E.sub(running, E.mul(finals[0], finals[1]))
    inv0 = E.inv(tm[0][2])
    mclaim = Claim(tm[0][0], tm[0][1], E.mul(value, inv0),
                   tuple(Blind(t, q, E.mul(cf, inv0)) for t, q, cf in tm[1:]))
    ctx.committer.open(ctx, {mclaim.tensor: [mclaim]})
    return ctx.ch.proof_bytes()


def verify_masks_only(be, n, data, H):
    """The verifier of the simulated transcript: the sumcheck and the masks' claim (the
    blinded claims on f, h are left to whoever proves f and h)."""
    ctx = _ctx(be, False, n, data=data)
    zk.run_hidden(ctx, "sc", n, [(1, (0, 1))], H, None, {})
    opened: dict = {}
    for cl in ctx.new_claims:
        opened.setdefault(cl.tensor, []).append(cl)
    ctx.committer.open(ctx, opened)
    ctx.ch.finish()


def prove_masks_only(be, n, which):
    E = be.field.ext
    ctx = _ctx(be, True, n, which)
    zk.run_hidden(ctx, "sc", n, [(1, (0, 1))], _claim(E, n, which),
                  [ctx.table("f"), ctx.table("h")], ())
    opened: dict = {}
    for cl in ctx.new_claims:
        opened.setdefault(cl.tensor, []).append(cl)
    ctx.committer.open(ctx, opened)
    return ctx.ch.proof_bytes()


RUNS = 16


def test_hidden_simulator_statement_only(reg):
    """Acceptance 1 for one sumcheck, finals included: programmed challenges; the real
    prover on witnesses A and B (same H) and the simulator (H only) are accepted, and
    no revealed element — G, every round, f̂(r), ĥ(r) — tells them apart (the opening's
    messages are the commitment's, tested on their own: left out)."""
    be = backend_for(reg, "goldilocks", "plain")
    E = be.field.ext
    n = 3
    H = _claim(E, n, 0)
    assert E.equal(H, _claim(E, n, 1))
    fams = {"A": [], "B": [], "sim": []}
    with programmed(SEED), zk.session():
        for _ in range(RUNS):
            for which, name in ((0, "A"), (1, "B")):
                with recorded() as log:
                    data = prove_masks_only(be, n, which)
                verify_masks_only(be, n, data, H)
                fams[name].append(_profile(E, [x for x in log if x[0].startswith("sc/")],
                                           skip=()))
            with recorded() as log:
                data = simulate(be, n, H)
            verify_masks_only(be, n, data, H)
            fams["sim"].append(_profile(E, [x for x in log if x[0].startswith("sc/")],
                                        skip=()))
    assert set(fams["A"][0]) == set(fams["sim"][0])
    assert ("sc/finals", 1) in fams["A"][0]
    assert _distinguishable(fams["A"], fams["B"]) == []
    assert _distinguishable(fams["A"], fams["sim"]) == []
    # control: the masked sumcheck with its finals in the clear (`run_sumcheck`)
    with programmed(SEED), zk.session():
        runs = {}
        for which in (0, 1):
            runs[which] = []
            for _ in range(3):
                ctx = _ctx(be, True, n, which)
                with recorded() as log:
                    ctx.run_sumcheck("sc", n, [(1, (0, 1))], H,
                                     lambda ctx=ctx: [ctx.table("f"), ctx.table("h")])
                runs[which].append(_profile(E, log, skip=()))
    bad = _distinguishable(runs[0], runs[1])
    assert any(k[0] == "sc/finals" for k, _ in bad)
