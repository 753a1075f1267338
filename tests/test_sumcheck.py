"""Sumcheck and claim reduction: completeness (degrees 1–4, n = 0..6, both fields,
batched), soundness against tampering of the claim, of every round-message element and
of every final evaluation, strict framing, and a pinned proof (format test vector).

The pinned hashes in PINNED catch an accidental change of the sumcheck proof format
(message order, which evaluations are sent, labels, transcript).  If the change is
intended, bump the proof version and regenerate them with

    .venv/bin/python -c "import tests.test_sumcheck as t; t.print_pinned()"
"""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

from zklora.plugins.fields.bls12_381 import BLS12_381_FR
from zklora.plugins.fields.goldilocks import GOLDILOCKS
from zklora.zkcore import claims, mle, sumcheck
from zklora.zkcore.claims import Claim
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.op import ProverContext, VerifierContext
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

FIELDS = [GOLDILOCKS.ext, BLS12_381_FR]
IDS = ["goldilocks-ext2", "bls12-381-fr"]
REJECT = (VerificationError, ProofFormatError)

# term shapes per degree: (coefficient, factor indices); several tables, repeats
TERMS = {
    1: [(1, (0,))],
    2: [(3, (0, 1)), (-1, (2,))],
    3: [(1, (0, 1, 2)), (5, (1, 1)), (2, (3,))],
    4: [(1, (0, 1, 2, 3)), (-7, (0, 0, 3)), (1, (2,)), (4, ())],
}
NTABLES = {1: 1, 2: 3, 3: 4, 4: 4}


@pytest.fixture(params=FIELDS, ids=IDS)
def E(request):
    return request.param


def brute_claim(E, tables, terms):
    """Σ_x Σ_t c_t Π f_i(x), straight from the definition."""
    n = E.length(tables[0])
    acc = E.scalar(0)
    for x in range(n):
        acc = E.add(acc, sumcheck.combine(E, terms, [t[x] for t in tables]))
    return acc


def make(E, degree, nv, seed=0):
    rng = np.random.default_rng(1000 * degree + 10 * nv + seed)
    tables = [E.random(rng, 1 << nv) for _ in range(NTABLES[degree])]
    terms = [(c if c >= 0 else E.neg(E.scalar(-c)), fs) for c, fs in TERMS[degree]]
    # an extension coefficient, too
    terms.append((E.random(rng, 1)[0], (0,)))
    return tables, terms, brute_claim(E, tables, terms)


def prove(E, tables, terms, claim, proto="sc", public=()):
    ch = ProverChannel(Transcript(proto))
    point, finals = sumcheck.prove(ch, E, tables, terms, claim, public=public)
    return ch.proof_bytes(), point, finals


def verify(E, proof, nv, ntab, terms, claim, proto="sc", public=None):
    ch = VerifierChannel(Transcript(proto), proof)
    out = sumcheck.verify(ch, E, nv, ntab, terms, claim, public=public)
    ch.finish()
    return out


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
@pytest.mark.parametrize("nv", [0, 1, 2, 3, 4, 5, 6])
def test_completeness(E, degree, nv):
    tables, terms, claim = make(E, degree, nv)
    proof, point, finals = prove(E, tables, terms, claim)
    assert len(proof) == (nv * degree + len(tables)) * E.nbytes
    vpoint, vfinals = verify(E, proof, nv, len(tables), terms, claim)
    assert E.equal(vpoint, point)
    for t, f, vf in zip(tables, finals, vfinals):
        assert E.equal(f, vf)
        assert E.equal(vf, mle.evaluate(E, t, point))  # finals are the MLEs at r


@pytest.mark.parametrize("degree", [2, 3])
def test_public_tables(E, degree):
    tables, terms, claim = make(E, degree, 4)
    proof, point, finals = prove(E, tables, terms, claim, public=[1])
    assert len(proof) == (4 * degree + len(tables) - 1) * E.nbytes
    # public value given as a function of the point, or as the value itself
    fn = {1: lambda r: mle.evaluate(E, tables[1], r)}
    verify(E, proof, 4, len(tables), terms, claim, public=fn)
    verify(E, proof, 4, len(tables), terms, claim, public={1: finals[1]})
    with pytest.raises(VerificationError):
        verify(E, proof, 4, len(tables), terms, claim,
               public={1: E.add(finals[1], E.scalar(1))})


def test_prover_rejects_wrong_claim(E):
    tables, terms, claim = make(E, 2, 3)
    with pytest.raises(ProverError):
        prove(E, tables, terms, E.add(claim, E.scalar(1)))


@pytest.mark.parametrize("degree", [1, 2, 4])
def test_rejects_changed_claim(E, degree):
    tables, terms, claim = make(E, degree, 3)
    proof, _, _ = prove(E, tables, terms, claim)
    for delta in (1, -1, 2**40):
        with pytest.raises(VerificationError):
            verify(E, proof, 3, len(tables), terms, E.add(claim, E.from_ints(np.array(delta))))
    # a different term list (statement) is rejected as well
    other = terms[:-1] + [(E.scalar(2), (0,))]
    with pytest.raises(VerificationError):
        verify(E, proof, 3, len(tables), other, claim)


@pytest.mark.parametrize("degree", [1, 2, 3, 4])
def test_rejects_every_tampered_element(E, degree):
    """Flip one byte of every round-message element and of every final evaluation."""
    nv = 3
    tables, terms, claim = make(E, degree, nv)
    proof, _, _ = prove(E, tables, terms, claim)
    nel = len(proof) // E.nbytes
    assert nel == nv * degree + len(tables)
    rng = np.random.default_rng(degree)
    for k in range(nel):
        for pos in (k * E.nbytes, k * E.nbytes + int(rng.integers(1, E.nbytes))):
            bad = bytearray(proof)
            bad[pos] ^= 1 << int(rng.integers(0, 8))
            with pytest.raises(REJECT):
                verify(E, bytes(bad), nv, len(tables), terms, claim)
    # an element replaced by a non-canonical encoding
    bad = bytearray(proof)
    bad[: E.nbytes] = b"\xff" * E.nbytes
    with pytest.raises(ProofFormatError):
        verify(E, bytes(bad), nv, len(tables), terms, claim)


def test_truncated_and_extra_bytes(E):
    tables, terms, claim = make(E, 2, 3)
    proof, _, _ = prove(E, tables, terms, claim)
    for cut in (1, E.nbytes, len(proof) // 2, len(proof)):
        with pytest.raises(ProofFormatError):
            verify(E, proof[:-cut], 3, len(tables), terms, claim)
    for extra in (b"\x00", b"\x00" * E.nbytes):
        with pytest.raises(ProofFormatError, match="trailing"):
            verify(E, proof + extra, 3, len(tables), terms, claim)


# -- batched ---------------------------------------------------------------------------


def _batch(E, nv, seed=0):
    insts = []
    for k, degree in enumerate((2, 3, 1)):
        tables, terms, claim = make(E, degree, nv, seed + k)
        insts.append(sumcheck.Instance(tables, terms, claim))
    return insts


@pytest.mark.parametrize("nv", [0, 2, 5])
def test_batch_completeness_and_rejection(E, nv):
    insts = _batch(E, nv)
    ch = ProverChannel(Transcript("batch"))
    point, finals = sumcheck.prove_batch(ch, E, insts, public=[[], [0], []])
    proof = ch.proof_bytes()
    shapes = [(len(i.tables), i.terms) for i in insts]
    claims_ = [i.claim for i in insts]
    pub = [{}, {0: lambda r: mle.evaluate(E, insts[1].tables[0], r)}, {}]

    def run(proof, cl):
        vc = VerifierChannel(Transcript("batch"), proof)
        out = sumcheck.verify_batch(vc, E, nv, shapes, cl, public=pub)
        vc.finish()
        return out

    vpoint, vfinals = run(proof, claims_)
    assert E.equal(vpoint, point)
    for inst, fs in zip(insts, vfinals):
        assert len(fs) == len(inst.tables)
        for t, f in zip(inst.tables, fs):
            assert E.equal(f, mle.evaluate(E, t, point))
    for k in range(len(claims_)):  # change one claim of the batch
        bad = list(claims_)
        bad[k] = E.add(bad[k], E.scalar(1))
        with pytest.raises(VerificationError):
            run(proof, bad)
    for pos in range(0, len(proof), E.nbytes):
        bad = bytearray(proof)
        bad[pos + 1] ^= 0x10
        with pytest.raises(REJECT):
            run(bytes(bad), claims_)


# -- claim reduction -------------------------------------------------------------------


def _pctx(E, ch):
    """A bare prover context over ``E`` (the reductions use only its channel and E)."""
    assert E.base.ext is E
    return ProverContext(E.base, ch, {}, {}, {}, None)


def _vctx(E, ch):
    return VerifierContext(E.base, ch, {}, {}, None)


@pytest.mark.parametrize("base", [True, False])
@pytest.mark.parametrize("nclaims", [1, 2, 4])
def test_reduce_claims(E, base, nclaims):
    nv = 4
    rng = np.random.default_rng(nclaims + 10 * base)
    table = E.base.random(rng, 1 << nv) if base else E.random(rng, 1 << nv)
    cl = []
    for _ in range(nclaims):
        r = E.random(rng, nv)
        cl.append(Claim("T", r, mle.evaluate(E, table, r, base=base)))
    cl.append(Claim("T", cl[0].point.copy(), cl[0].value.copy()))  # a duplicate merges
    ch = ProverChannel(Transcript("red"))
    out = claims.reduce(_pctx(E, ch), cl, num_vars=nv, label="red", table=lambda: table,
                        base=base)
    assert E.equal(out.value, mle.evaluate(E, table, out.point, base=base))
    proof = ch.proof_bytes()
    assert (len(proof) == 0) == (nclaims == 1)

    def run(proof, cl):
        vc = VerifierChannel(Transcript("red"), proof)
        res = claims.reduce(_vctx(E, vc), cl, num_vars=nv, label="red")
        vc.finish()
        return res

    vout = run(proof, cl)
    assert E.equal(vout.point, out.point) and E.equal(vout.value, out.value)
    if nclaims == 1:
        return
    for k in range(nclaims):  # one claimed value changed
        bad = [Claim(c.tensor, c.point, c.value) for c in cl[:-1]]
        bad[k] = Claim("T", bad[k].point, E.add(bad[k].value, E.scalar(1)))
        with pytest.raises(VerificationError):
            run(proof, bad)
    bad = [Claim(c.tensor, c.point.copy(), c.value) for c in cl[:-1]]
    bad[0].point[0] = E.add(bad[0].point[0], E.scalar(1))  # one point changed
    with pytest.raises(VerificationError):
        run(proof, bad)
    for pos in range(0, len(proof), E.nbytes):
        badp = bytearray(proof)
        badp[pos] ^= 4
        with pytest.raises(REJECT):
            run(bytes(badp), cl)


def test_dedupe(E):
    rng = np.random.default_rng(5)
    r = E.random(rng, 3)
    v = np.asarray(E.random(rng, 1)[0], dtype=E.dtype)
    a, b = Claim("T", r, v), Claim("T", r.copy(), v.copy())
    assert len(claims.dedupe(E, [a, b])) == 1
    c = Claim("T", r.copy(), E.add(v, E.scalar(1)))
    with pytest.raises(VerificationError, match="different values"):
        claims.dedupe(E, [a, c])
    with pytest.raises(VerificationError):
        claims.reduce(_vctx(E, VerifierChannel(Transcript("x"), b"")), [a, c], num_vars=3,
                      label="x")


# -- pinned proof bytes ----------------------------------------------------------------


def pinned_proof(E) -> bytes:
    """A fixed small sumcheck from deterministic integer tables (no RNG)."""
    nv = 3
    x = np.arange(1 << nv, dtype=np.int64)
    tables = [E.from_ints(x * x + 3), E.from_ints(5 * x - 11), E.from_ints(x ^ 5)]
    terms = [(1, (0, 1, 2)), (2, (1,)), (E.from_ints(np.array(-3)), (0, 2))]
    claim = brute_claim(E, tables, terms)
    ch = ProverChannel(Transcript("zklora/pinned-sumcheck"))
    sumcheck.prove(ch, E, tables, terms, claim, public=[2])
    proof = ch.proof_bytes()
    vc = VerifierChannel(Transcript("zklora/pinned-sumcheck"), proof)
    sumcheck.verify(vc, E, nv, 3, terms, claim, public={2: lambda r: mle.evaluate(E, tables[2], r)})
    vc.finish()
    return proof


PINNED = {
    "goldilocks-ext2": "02c8d6b418337884fd8caa0c92f8c4e599b3800f0294772aef950ddf1063ec58",
    "bls12-381-fr": "93ee356d46468ac46aebeaa1adf78af300102db9d465fdaf7bd2689a25734f02",
}


def print_pinned() -> None:
    for E in FIELDS:
        print(f'    "{E.name}": "{hashlib.sha256(pinned_proof(E)).hexdigest()}",')


def test_pinned_proof_bytes(E):
    proof = pinned_proof(E)
    assert len(proof) == (3 * 3 + 2) * E.nbytes
    assert hashlib.sha256(proof).hexdigest() == PINNED[E.name]
