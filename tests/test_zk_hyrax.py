"""The zero-knowledge variant of ``hyrax`` (inside a `zklora.zkcore.zk` session; module
doc of `zklora.plugins.commitments.hyrax`, docs/zero-knowledge.md §5.4): the commitment
conformance suite with ZK on, non-ZK proofs unchanged (pinned), mode mismatches, two
proofs of one evaluation sharing no 8-byte word, tampered group elements and scalars
(a blinded row, an L/R term, the mask commitment, the Schnorr proof, a claimed value),
a simulator that builds accepting openings without the table, the reused-blinding
attack, and a small graph proved with hyrax and ZK on."""

from __future__ import annotations

import hashlib
from unittest import mock

import numpy as np
import pytest

from zklora.kernels import bls_msm
from zklora.kernels.bls_msm import POINT_BYTES, R
from zklora.plugins.commitments import hyrax as hy
from zklora.plugins.commitments.hyrax import Hyrax
from zklora.zkcore import mle, zk
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem, SumClaim, SumTerm
from zklora.zkcore.errors import ProofFormatError, ProverError, VerificationError
from zklora.zkcore.plugins import registry
from zklora.zkcore.testing.commitment_suite import CHECKS, Harness
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

from .test_zk import oracle, programmed

REG = registry()
F = REG.field("bls12-381-fr")
REJECT = (VerificationError, ProofFormatError)
SC = 32          # bytes of an encoded scalar


@pytest.fixture(scope="module")
def scheme():
    return Hyrax(F)


# -- helpers ----------------------------------------------------------------------------


def _prove(sch, states, evals, label="hyrax-zk-test"):
    ch = ProverChannel(Transcript(label))
    sch.open(ch, [OpenItem(s, e) for s, e in zip(states, evals)])
    return ch.proof_bytes()


def _verify(sch, proof, coms, ns, evals, label="hyrax-zk-test"):
    ch = VerifierChannel(Transcript(label), proof)
    sch.verify(ch, [CheckItem(c, n, e) for c, n, e in zip(coms, ns, evals)])
    ch.finish()


def _evals(rng, t, n, k, point=None):
    out = []
    for _ in range(k):
        r = F.random(rng, n) if point is None else point
        out.append(Evaluation(r, mle.evaluate(F, t, r, base=True)))
    return out


def _setup(sch, rng, ns, claims, point=None, tabs=None):
    tabs = tabs or [F.from_ints(rng.integers(-1000, 1000, 1 << n)) for n in ns]
    cs = [sch.commit(t) for t in tabs]
    evs = [_evals(rng, t, n, k, point) for t, n, k in zip(tabs, ns, claims)]
    return tabs, [c for c, _ in cs], [s for _, s in cs], evs


def _rejects(sch, proof, coms, ns, evs):
    with zk.session(), pytest.raises(REJECT):
        _verify(sch, proof, coms, ns, evs)


def _words(s: bytes) -> set[bytes]:
    return {s[i:i + 8] for i in range(0, len(s) - 7, 8)}


def _add_h(buf: bytes, k: int = 1) -> bytes:
    """A compressed point plus k·H: another valid point (tampering with a blind)."""
    p = bls_msm.decode_point(buf)
    return bls_msm.encode_point(p + bls_msm.msm([bls_msm.blinding_generator(
        hy.DEFAULT_SEED.encode())], [k % R]))


def _add_scalar(buf: bytes, pos: int, k: int = 1) -> bytes:
    v = int(F.decode(buf[pos:pos + SC]).reshape(()))
    new = F.encode(np.array((v + k) % R, dtype=object))
    return buf[:pos] + new + buf[pos + SC:]


def _replace(buf: bytes, pos: int, new: bytes) -> bytes:
    return buf[:pos] + new + buf[pos + len(new):]


# -- the conformance suite and modes ---------------------------------------------------------


@pytest.mark.parametrize("name", list(CHECKS), ids=list(CHECKS))
def test_conformance_hiding(name):
    with zk.session():
        CHECKS[name](Harness(Hyrax, F, large=8))


#: sha256 of (commitments ‖ proof) of non-ZK openings made before the ZK variant existed
PINNED = [
    (([3, 3, 3], [1, 2, 1], False),
     "e0a3cb990083c0f3498cda7736b58e6b07e504fa427809b8b2e34af8150d0169"),
    (([6, 6, 6], [1, 1, 1], True),
     "5f940f5dee570c35097df561b2189dde012e4c36d27cffd35cdf0e36f2aabcd2"),
]


@pytest.mark.parametrize("case,digest", PINNED, ids=["reduced", "one-point"])
def test_non_zk_proofs_unchanged(scheme, case, digest):
    """Outside a session nothing changed, byte for byte (commitments and proof)."""
    ns, claims, same = case
    rng = np.random.default_rng(sum(ns) * 31 + sum(claims))
    point = F.random(rng, ns[0]) if same else None
    _, coms, states, evs = _setup(scheme, rng, ns, claims, point=point)
    proof = _prove(scheme, states, evs, label="hyrax-test")
    _verify(scheme, proof, coms, ns, evs, label="hyrax-test")
    assert hashlib.sha256(b"".join(coms) + proof).hexdigest() == digest


def test_hiding_commitments_and_modes(scheme):
    rng = np.random.default_rng(1)
    t = F.from_ints(rng.integers(-9, 9, 1 << 6))
    with zk.session():
        assert scheme.hiding
        c1, s1 = scheme.commit(t)
        c2, _ = scheme.commit(t)
        assert c1 != c2 and not _words(c1) & _words(c2)   # randomised row by row
        evs = _evals(rng, t, 6, 2)
        proof = _prove(scheme, [s1], [evs])
        _verify(scheme, proof, [c1], [6], [evs])
    assert not scheme.hiding
    c0, s0 = scheme.commit(t)
    assert c0 == scheme.commit(t)[0] != c1
    # the blind is H's coefficient: C_i − β_i·H is the binding commitment's row
    H = bls_msm.blinding_generator(hy.DEFAULT_SEED.encode())
    row0 = bls_msm.decode_point(c1[:POINT_BYTES]) - bls_msm.msm([H], [int(s1.blinds[0])])
    assert bls_msm.encode_point(row0) == c0[:POINT_BYTES]
    with pytest.raises(REJECT):                      # a ZK opening outside a session
        _verify(scheme, proof, [c1], [6], [evs])
    with pytest.raises(ProverError, match="hiding commitment"):
        _prove(scheme, [s1], [evs])
    with zk.session(), pytest.raises(ProverError, match="binding-only"):
        _prove(scheme, [s0], [evs])
    plain = _prove(scheme, [s0], [evs])
    _verify(scheme, plain, [c0], [6], [evs])
    with zk.session(), pytest.raises(REJECT):        # a non-ZK opening inside one
        _verify(scheme, plain, [c0], [6], [evs])


def test_blinding_generator_is_nothing_up_my_sleeve():
    seed = hy.DEFAULT_SEED.encode()
    H = bls_msm.blinding_generator(seed)
    assert H == bls_msm.hash_point(seed, b"blind") == Hyrax(F).H
    assert H not in bls_msm.generators(seed, 64) and H != Hyrax(F).U
    assert H != bls_msm.IDENTITY


@pytest.mark.parametrize("claims", [1, 3], ids=["one-point", "reduced"])
def test_two_proofs_share_no_word(scheme, claims):
    """The same table, the same claims, two ZK commitments and openings: no aligned
    8-byte word in common (the proof stream holds no public part: the claims are the
    caller's statement)."""
    rng = np.random.default_rng(7)
    t = F.from_ints(rng.integers(-1000, 1000, 1 << 7))
    evs = _evals(rng, t, 7, claims)
    out = []
    for _ in range(2):
        with zk.session():
            com, st = scheme.commit(t)
            proof = _prove(scheme, [st], [evs])
            _verify(scheme, proof, [com], [7], [evs])
        out.append(com + proof)
    assert len(out[0]) == len(out[1])
    assert not _words(out[0]) & _words(out[1])
    plain = [scheme.commit(t)[1] for _ in range(2)]
    assert _prove(scheme, [plain[0]], [evs]) == _prove(scheme, [plain[1]], [evs])


# -- tampering with well-formed elements --------------------------------------------------


def _offsets(n: int, reduced: bool):
    """Byte offsets in the proof of one item of 2^n elements: (mask commitment, mask sum,
    first round, L0, R0, T, z_a, z_b); the first three None for one point."""
    lay = hy.Layout(n)
    pos = 0
    cg = gsum = rnd = None
    size = lay.cols
    if reduced:
        cg, gsum, rnd = 0, POINT_BYTES, POINT_BYTES + SC
        pos = POINT_BYTES + SC + n * 2 * SC
        size = hy._mask_size(lay, n)
    rounds = size.bit_length() - 1
    L0, R0 = pos, pos + POINT_BYTES
    T = pos + rounds * 2 * POINT_BYTES
    return cg, gsum, rnd, L0, R0, T, T + POINT_BYTES, T + POINT_BYTES + SC


def _honest(scheme, claims):
    rng = np.random.default_rng(11)
    n = 6
    with zk.session():
        tabs, coms, states, evs = _setup(scheme, rng, [n], [claims])
        proof = _prove(scheme, states, evs)
        _verify(scheme, proof, coms, [n], evs)
    return n, claims > 1, coms, evs, proof


@pytest.fixture(scope="module", params=[1, 2], ids=["one-point", "reduced"])
def honest(request, scheme):
    return _honest(scheme, request.param)


@pytest.fixture(scope="module")
def honest_reduced(scheme):
    return _honest(scheme, 2)


def test_offsets_cover_the_proof(honest):
    n, reduced, coms, evs, proof = honest
    assert _offsets(n, reduced)[-1] + SC == len(proof)


def test_reject_blinded_row_changed(scheme, honest):
    """A row commitment with another blind (C_0 + H) or another row (C_0 + G_0): both
    well-formed commitments, neither opens with this proof."""
    n, _, coms, evs, proof = honest
    com = coms[0]
    _rejects(scheme, proof, [_replace(com, 0, _add_h(com[:POINT_BYTES]))], [n], evs)
    g0 = bls_msm.generators(hy.DEFAULT_SEED.encode(), 1)[0]
    moved = bls_msm.encode_point(bls_msm.decode_point(com[-POINT_BYTES:]) + g0)
    _rejects(scheme, proof, [com[:-POINT_BYTES] + moved], [n], evs)


@pytest.mark.parametrize("which", ["L", "R", "T"])
def test_reject_ipa_point_changed(scheme, honest, which):
    n, reduced, coms, evs, proof = honest
    o = _offsets(n, reduced)
    pos = {"L": o[3], "R": o[4], "T": o[5]}[which]
    bad = _replace(proof, pos, _add_h(proof[pos:pos + POINT_BYTES]))
    _rejects(scheme, bad, coms, [n], evs)


@pytest.mark.parametrize("which", ["z_a", "z_b"])
def test_reject_sigma_response_changed(scheme, honest, which):
    n, reduced, coms, evs, proof = honest
    pos = _offsets(n, reduced)[6 if which == "z_a" else 7]
    _rejects(scheme, _add_scalar(proof, pos), coms, [n], evs)


@pytest.mark.parametrize("which", ["mask-commitment", "mask-sum", "round"])
def test_reject_mask_messages_changed(scheme, honest_reduced, which):
    n, reduced, coms, evs, proof = honest_reduced
    cg, gsum, rnd = _offsets(n, reduced)[:3]
    if which == "mask-commitment":
        bad = _replace(proof, cg, _add_h(proof[cg:cg + POINT_BYTES]))
    else:
        bad = _add_scalar(proof, gsum if which == "mask-sum" else rnd + SC)
    _rejects(scheme, bad, coms, [n], evs)


def test_reject_claimed_value_changed(scheme, honest):
    n, _, coms, evs, proof = honest
    for k in range(len(evs[0])):
        bad = [list(evs[0])]
        ev = bad[0][k]
        bad[0][k] = Evaluation(ev.point, np.array((int(ev.value) + 1) % R, dtype=object))
        _rejects(scheme, proof, coms, [n], bad)


def test_reject_false_claim_from_honest_prover(scheme):
    """The prover proves what its table holds: a false claim yields a rejected proof."""
    rng = np.random.default_rng(3)
    for claims in (1, 2):
        with zk.session():
            tabs, coms, states, evs = _setup(scheme, rng, [5], [claims])
            ev = evs[0][-1]
            evs[0][-1] = Evaluation(ev.point, np.array((int(ev.value) + 5) % R, dtype=object))
            proof = _prove(scheme, states, evs)
        _rejects(scheme, proof, coms, [5], evs)


# -- the simulator ---------------------------------------------------------------------------


def _random_point() -> bytes:
    return bls_msm.encode_point(bls_msm.msm([Hyrax(F).H], [int(zk.MaskRng().elements(F, 1)
                                                                 [0])]))


def _scalar_bytes(v: int) -> bytes:
    return F.encode(np.array(v % R, dtype=object))


def simulate(sch: Hyrax, coms: list[bytes], n: int, evs, label="hyrax-zk-test") -> bytes:
    """An opening of one item built from the statement only (no table, no blinds): the
    challenges are programmed (each a function of its label), so the simulator knows
    them in advance; it samples C_g, G, the rounds, every L and R, and z_a, z_b
    uniformly and solves the Schnorr commitment T from the verifier's equation."""
    rng = zk.MaskRng()
    lay = hy.Layout(n)
    rows = bls_msm.decode_points(coms[0], lay.rows)
    claims = sch._claims(n, evs, VerificationError)
    ch = ProverChannel(Transcript(label))
    sch._absorb(ch, [(n, coms[0], claims)], hiding=True)
    pre = f"hyrax/n{n}"
    extra_pts, extra_sc = [], []
    if len(claims) == 1:
        point = claims[0].point
        weights = [1]
        ch.challenge(f"{pre}/sigma", F)
        v = claims[0].value
        size = lay.cols
        b = list(mle.eq_table(F, point[: lay.col_vars]))
    else:
        rho = hy._scalar(ch.challenge(f"{pre}/rho", F))
        coefs = sch._eq_combo([claims], rho)
        v = sum(co * c.value for c, co in zip(claims, coefs[0])) % R
        cg = _random_point()
        ch.send_bytes(f"{pre}/zk/mask", cg)
        G = int(rng.elements(F, 1)[0])
        ch.send_bytes(f"{pre}/zk/sum", _scalar_bytes(G))
        rho_g = hy._scalar(ch.challenge(f"{pre}/zk/rho", F))
        v = (v + rho_g * G) % R
        point = F.zeros(n)
        for j in range(n):
            g0, g2 = (int(x) for x in rng.elements(F, 2))
            ch.send_bytes(f"{pre}/reduce/round{j}", _scalar_bytes(g0) + _scalar_bytes(g2))
            r = hy._scalar(ch.challenge(f"{pre}/reduce/r{j}", F))
            point[j] = r
            v = hy._quadratic_at(g0, (v - g0) % R, g2, r)
        weights = [int(sch._eq_at(claims, coefs[0])(point))]
        size = hy._mask_size(lay, n)
        b = [0] * size
        b[:lay.cols] = list(mle.eq_table(F, point[: lay.col_vars]))
        b[lay.cols:lay.cols + 3 * n] = hy._mask_powers(point)
        extra_pts, extra_sc = [bls_msm.decode_point(cg)], [rho_g]
    eq_row = [int(e) for e in mle.eq_table(F, point[lay.col_vars:])]
    p_pts = extra_pts + rows
    p_sc = extra_sc + [weights[0] * e % R for e in eq_row]
    ipa = f"{pre}/ipa"
    x0 = hy._scalar(ch.challenge(f"{ipa}/u", F))
    Ls, Rs, xs = [], [], []
    for k in range(size.bit_length() - 1):
        L, Rp = _random_point(), _random_point()
        ch.send_bytes(f"{ipa}/LR{k}", L + Rp)
        Ls.append(bls_msm.decode_point(L))
        Rs.append(bls_msm.decode_point(Rp))
        xs.append(hy._scalar(ch.challenge(f"{ipa}/x{k}", F)))
    s = hy._fold_weights(xs)
    b_f = int(np.sum(s * hy._vec(b))) % R
    # e is programmed (a function of its label and squeeze count): known before T
    count = ch.transcript.__dict__.get("_programmed", {}).get(f"{ipa}/e", 0) + 1
    e = hy._scalar(F.sample(oracle(b"simulator", f"{ipa}/e", count)))
    z_a, z_b = (int(x) for x in rng.elements(F, 2))
    # T = z_a·(Σ s_j G_j + b_f·U') + z_b·H − e·Q  (Q = P + v·U' + Σ x²L + x⁻²R)
    gens = sch.gens(size)
    pts = gens + Ls + Rs + [sch.U, sch.H] + p_pts
    sc = ([z_a * int(sj) % R for sj in s] + [(-e * x * x) % R for x in xs]
          + [(-e * hy._inv(x * x % R)) % R for x in xs]
          + [(z_a * b_f - e * v) % R * x0 % R, z_b] + [(-e * c) % R for c in p_sc])
    ch.send_bytes(f"{ipa}/T", bls_msm.encode_point(bls_msm.msm(pts, sc)))
    assert hy._scalar(ch.challenge(f"{ipa}/e", F)) == e
    ch.send_bytes(f"{ipa}/z", _scalar_bytes(z_a) + _scalar_bytes(z_b))
    return ch.proof_bytes()


@pytest.mark.parametrize("claims", [1, 2], ids=["one-point", "reduced"])
def test_simulator_accepted(scheme, claims):
    """Acceptance 1 for the opening: with the challenges programmed, openings simulated
    from the statement alone verify; with the oracle not programmed they do not (the
    simulator needs to know e before T)."""
    rng = np.random.default_rng(21 + claims)
    n = 5
    with zk.session():
        tabs, coms, states, evs = _setup(scheme, rng, [n], [claims])
        with programmed():
            fake = simulate(scheme, coms, n, evs[0])
            _verify(scheme, fake, coms, [n], evs)
            real = _prove(scheme, states, evs)
            _verify(scheme, real, coms, [n], evs)
        assert len(fake) == len(real)
        bad = [[Evaluation(evs[0][0].point, np.array((int(evs[0][0].value) + 1) % R,
                                                     dtype=object))] + evs[0][1:]]
        with programmed(), pytest.raises(REJECT):   # bound to the claimed values
            _verify(scheme, fake, coms, [n], bad)
    _rejects(scheme, fake, coms, [n], evs)


def _messages(proof: bytes, n: int, reduced: bool) -> list[bytes]:
    """The proof cut into its elements (points and scalars)."""
    cg, gsum, rnd, L0, R0, T, za, zb = _offsets(n, reduced)
    cuts = []
    if reduced:
        cuts += [(cg, POINT_BYTES), (gsum, SC)] + [(rnd + k * SC, SC) for k in range(2 * n)]
    cuts += [(p, POINT_BYTES) for p in range(L0, T + POINT_BYTES, POINT_BYTES)]
    cuts += [(za, SC), (zb, SC)]
    return [proof[p:p + k] for p, k in cuts]


@pytest.mark.parametrize("claims", [1, 2], ids=["one-point", "reduced"])
def test_openings_reveal_nothing(scheme, claims):
    """Programmed challenges, the same claims on two tables that differ elsewhere:
    real openings on table A, on table B and simulated ones agree element by element
    (no repeated element within a family — a uniform 255-bit value never repeats —
    and bit-count means within 6σ); the binding-only opening repeats every element
    (control: with the challenges fixed it is a function of the table)."""
    n = 4
    runs = 12
    rng = np.random.default_rng(5)
    ta = F.from_ints(rng.integers(-1000, 1000, 1 << n))
    evs = _evals(rng, ta, n, claims)
    # table B = A + d, d random with its first `claims` entries fixed so that d̃
    # vanishes at every claimed point (unit vector u_k contributes eq(k, p) at p)
    pts = [ev.point for ev in evs]
    tb = None
    for _ in range(20):
        d = F.from_ints(rng.integers(-5, 5, 1 << n))
        vals = [int(mle.evaluate(F, d, p, base=True)) for p in pts]
        M = np.array([[int(mle.evaluate(F, _unit(k), p, base=True)) for k in range(claims)]
                      for p in pts], dtype=object)
        lam = _solve(M, vals)
        if lam is None:
            continue
        for k in range(claims):
            d[k] = (int(d[k]) - lam[k]) % R
        tb = F.add(ta, d)
        break
    assert tb is not None and not np.array_equal(ta, tb)
    for ev in evs:
        assert int(mle.evaluate(F, tb, ev.point, base=True)) == int(ev.value)
    fams = {"A": [], "B": [], "sim": []}
    with zk.session(), programmed():
        for _ in range(runs):
            for name, t in (("A", ta), ("B", tb)):
                com, st = scheme.commit(t)
                proof = _prove(scheme, [st], [evs])
                fams[name].append(_messages(proof, n, claims > 1))
            com, _ = scheme.commit(ta)
            fams["sim"].append(_messages(simulate(scheme, [com], n, evs), n, claims > 1))
    for fam in fams.values():
        for k in range(len(fam[0])):
            vals = [m[k] for m in fam]
            assert len(set(vals)) == runs, f"element {k} repeats"

    def ones(b):
        return sum(bin(x).count("1") for x in b)

    for k in range(len(fams["A"][0])):
        means = {f: sum(ones(m[k]) for m in fams[f]) / runs for f in fams}
        bits = 8 * len(fams["A"][0][k])
        sd = (bits / 4 * 2 / runs) ** 0.5
        assert abs(means["A"] - means["B"]) <= 6 * sd and abs(means["A"] - means["sim"]) <= 6 * sd
    with programmed():   # control: binding-only openings repeat exactly
        st = scheme.commit(ta)[1]
        assert _prove(scheme, [st], [evs]) == _prove(scheme, [st], [evs])


def _unit(k: int) -> np.ndarray:
    u = F.zeros(16)
    u[k] = 1
    return u


def _solve(M: np.ndarray, y: list[int]) -> list[int] | None:
    """M·λ = y mod r (small dense Gauss–Jordan), None if singular."""
    n = len(y)
    A = [[int(M[i, j]) % R for j in range(n)] + [int(y[i]) % R] for i in range(n)]
    for c in range(n):
        piv = next((i for i in range(c, n) if A[i][c]), None)
        if piv is None:
            return None
        A[c], A[piv] = A[piv], A[c]
        inv = hy._inv(A[c][c])
        A[c] = [x * inv % R for x in A[c]]
        for i in range(n):
            if i != c and A[i][c]:
                f = A[i][c]
                A[i] = [(x - f * yv) % R for x, yv in zip(A[i], A[c])]
    return [A[i][n] for i in range(n)]


# -- reused blinding ----------------------------------------------------------------------


def _recorded_challenges(sch, proof, com, n, evs, label):
    """The verifier's challenges (label → int) while it checks ``proof``."""
    got = {}
    orig = VerifierChannel.challenge

    def challenge(self, lab, field):
        v = orig(self, lab, field)
        got[lab] = int(np.asarray(v).reshape(()))
        return v

    with zk.session(), mock.patch.object(VerifierChannel, "challenge", challenge):
        _verify(sch, proof, [com], [n], [evs], label=label)
    return got


def _attack(sch, t, evs, seeds):
    """Two ZK openings of one table at one point, in two different proofs (transcript
    labels), with the sessions' randomness from ``seeds`` (None = the OS).  With the
    same randomness both use the same blinds and the same Schnorr nonce k_a, so
    z_a − z_a' = e·(x·a_0 + x⁻¹·a_1) − e'·(x'·a_0 + x'⁻¹·a_1): with the public claim
    v = a_0·b_0 + a_1·b_1 two linear equations in the table (1 row × 2 columns)."""
    n = 1
    zs, chs = [], []
    for seed, label in zip(seeds, ("proof-1", "proof-2")):
        rng = zk.MaskRng.seeded(seed) if seed is not None else None
        with zk.session(rng=rng):
            com, st = sch.commit(t)
            proof = _prove(sch, [st], [evs], label=label)
        chs.append(_recorded_challenges(sch, proof, com, n, evs, label))
        zs.append(int(F.decode(proof[-2 * SC:-SC]).reshape(())))
    lab = f"hyrax/n{n}/ipa"
    (x1, e1), (x2, e2) = [(c[f"{lab}/x0"], c[f"{lab}/e"]) for c in chs]
    # ⟨(e1·x1 − e2·x2, e1/x1 − e2/x2), a⟩ = z1 − z2 and ⟨b, a⟩ = v
    r0 = int(evs[0].point[0])
    M = np.array([[(e1 * x1 - e2 * x2) % R, (e1 * hy._inv(x1) - e2 * hy._inv(x2)) % R],
                  [(1 - r0) % R, r0]], dtype=object)
    return _solve(M, [(zs[0] - zs[1]) % R, int(evs[0].value)])


def test_reused_blinding_reveals_the_table(scheme):
    """Acceptance 3 for hyrax: a prover reusing its randomness across two proofs gives
    the committed table away; with fresh randomness the same algebra finds garbage."""
    t = F.from_ints(np.array([1234, -567]))
    rng = np.random.default_rng(0)
    evs = _evals(rng, t, 1, 1)
    got = _attack(scheme, t, evs, [b"reused", b"reused"])
    assert got == [int(v) for v in t]
    fresh = _attack(scheme, t, evs, [None, None])
    assert fresh != [int(v) for v in t]


# -- a small graph ----------------------------------------------------------------------------


def test_graph_proof_with_hyrax_zk(reg):
    """matmul + rescale + lookup over bls12-381-fr with hyrax and ZK on: verifies, two
    proofs share no aligned 8-byte word, a non-ZK verifier refuses it, flipped bytes
    in the openings are rejected."""
    from zklora.zkcore import graph as graphlib

    from .conftest import backend_for
    from .test_rescale_op import rescale_graph, wit

    be = backend_for(reg, "bls12-381-fr", "hyrax", "logup-gkr")
    g = rescale_graph()
    with zk.session():
        a, sa = graphlib.prove(g, wit(), be, {})
        b, sb = graphlib.prove(g, wit(), be, {})
        graphlib.verify(g, a, be, {}, sa)
        graphlib.verify(g, b, be, {}, sb)
    assert not _words(a) & _words(b)
    with pytest.raises(REJECT):
        graphlib.verify(g, a, be, {}, sa)
    opening = [s for s in sa if s[0] == "openings"][0]
    for pos in (opening[1], (opening[1] + opening[2]) // 2, opening[2] - 1):
        bad = bytearray(a)
        bad[pos] ^= 4
        with zk.session(), pytest.raises(REJECT):
            graphlib.verify(g, bytes(bad), be, {}, sa)


# -- sum claims (docs/zero-knowledge.md §5.2, §5.4 "Sum claims") ---------------------------


def _sum_value(tabs, terms) -> np.ndarray:
    return np.array(sum(int(t.coefficient) * int(mle.evaluate(F, tabs[t.item], t.point,
                                                               base=True))
                        for t in terms) % R, dtype=object)


def _sum_setup(sch, seed=0, tabs=None, points=None, coefs=None):
    """Three hiding commitments (2^6, 2^4, 2^6 entries); an ordinary claim on the first,
    a sum claim spanning both sizes (two terms on the first, one on the second, one on
    the third) and a sum claim within one size (the first two terms)."""
    rng = np.random.default_rng(seed)
    ns = [6, 4, 6]
    if tabs is None:
        tabs = [F.from_ints(rng.integers(-1000, 1000, 1 << n)) for n in ns]
    cs = [sch.commit(t) for t in tabs]
    if points is None:
        points = [F.random(rng, 6), F.random(rng, 6), F.random(rng, 4), F.random(rng, 6),
                  F.random(rng, 6)]
    if coefs is None:
        coefs = [F.random(rng, 1)[0] for _ in range(4)]
    terms = [SumTerm(0, points[0], coefs[0]), SumTerm(0, points[1], coefs[1]),
             SumTerm(1, points[2], coefs[2]), SumTerm(2, points[3], coefs[3])]
    sums = [SumClaim(terms, _sum_value(tabs, terms)),
            SumClaim(terms[:2], _sum_value(tabs, terms[:2]))]
    evs = [[Evaluation(points[4], mle.evaluate(F, tabs[0], points[4], base=True))], [], []]
    return ns, tabs, [c for c, _ in cs], [s for _, s in cs], evs, sums


def _sum_prove(sch, states, evs, sums, label="hyrax-zk-test"):
    ch = ProverChannel(Transcript(label))
    sch.open(ch, [OpenItem(s, list(e)) for s, e in zip(states, evs)], sums=sums)
    return ch.proof_bytes()


def _sum_verify(sch, proof, coms, ns, evs, sums, label="hyrax-zk-test"):
    ch = VerifierChannel(Transcript(label), proof)
    sch.verify(ch, [CheckItem(c, n, list(e)) for c, n, e in zip(coms, ns, evs)], sums=sums)
    ch.finish()


def test_sum_claim_roundtrip(scheme):
    with zk.session():
        assert scheme.sum_claims
        ns, tabs, coms, states, evs, sums = _sum_setup(scheme)
        _sum_verify(scheme, _sum_prove(scheme, states, evs, sums), coms, ns, evs, sums)
        none = [[], [], []]   # sum claims alone
        _sum_verify(scheme, _sum_prove(scheme, states, none, sums), coms, ns, none, sums)
        one = sums[1:]        # one size only: no hidden partial value is sent
        _sum_verify(scheme, _sum_prove(scheme, states, evs, one), coms, ns, evs, one)
        # terms all at one point (the one-point path is not taken with a sum claim)
        p = sums[0].terms[0].point
        at = [SumTerm(0, p, F.scalar(3)), SumTerm(2, p, F.scalar(5))]
        at = [SumClaim(at, _sum_value(tabs, at))]
        _sum_verify(scheme, _sum_prove(scheme, states, none, at), coms, ns, none, at)
    assert not scheme.sum_claims


def test_sum_claim_wrong_statement_rejected(scheme):
    with zk.session():
        ns, tabs, coms, states, evs, sums = _sum_setup(scheme, seed=1)
        proof = _sum_prove(scheme, states, evs, sums)
    sc = sums[0]
    t0, t2 = sc.terms[0], sc.terms[2]
    bad_value = [SumClaim(sc.terms, np.array((int(sc.value) + 1) % R, dtype=object)),
                 sums[1]]
    bad_coef = [SumClaim([SumTerm(0, t0.point, np.array((int(t0.coefficient) + 1) % R,
                                                       dtype=object))] + sc.terms[1:],
                         sc.value), sums[1]]
    # the term on the 2^4 table moved to the other 2^6 table (another item, same sum)
    moved = [SumClaim(sc.terms[:2] + [SumTerm(2, np.concatenate([t2.point, F.zeros(2)]),
                                              t2.coefficient)] + sc.terms[3:], sc.value),
             sums[1]]
    item = [SumClaim(sc.terms[:3] + [SumTerm(0, sc.terms[3].point, sc.terms[3].coefficient)],
                     sc.value), sums[1]]
    for bad in (bad_value, bad_coef, moved, item):
        with zk.session(), pytest.raises(REJECT):
            _sum_verify(scheme, proof, coms, ns, evs, bad)
    # the prover, asked to open a false sum, is caught as well (it proves its tables)
    with zk.session():
        lie = _sum_prove(scheme, states, evs, bad_value)
    with zk.session(), pytest.raises(VerificationError):
        _sum_verify(scheme, lie, coms, ns, evs, bad_value)


def _sent():
    """Record every message the prover sends: (label, offset, bytes)."""
    log: list[tuple[str, int, bytes]] = []
    orig = ProverChannel.send_bytes

    def send_bytes(self, label, data):
        log.append((label, len(self.buf), bytes(data)))
        return orig(self, label, data)

    return log, mock.patch.object(ProverChannel, "send_bytes", send_bytes)


def _is_point(label: str) -> bool:
    tail = label.rsplit("/", 1)[-1]
    return tail.startswith("LR") or tail in ("T", "mask") or label.startswith("hyrax/sum")


def _elements(log) -> list[tuple[str, int, int, bool]]:
    """Every element of the recorded messages: (label, offset, length, is a point)."""
    out = []
    for label, off, data in log:
        k = POINT_BYTES if _is_point(label) else SC
        assert len(data) % k == 0, label
        out += [(label, off + i, k, k == POINT_BYTES) for i in range(0, len(data), k)]
    return out


def test_sum_claim_messages_tampered_rejected(scheme):
    """Every element of a sum-claim opening (the hidden partial value V, the forced
    reduction's mask commitment, G and rounds, L, R, T, z) changed to another
    well-formed element: rejected."""
    log, patch = _sent()
    with zk.session():
        ns, tabs, coms, states, evs, sums = _sum_setup(scheme, seed=2)
        with patch:
            proof = _sum_prove(scheme, states, evs, sums)
        _sum_verify(scheme, proof, coms, ns, evs, sums)
    els = _elements(log)
    labels = {lab for lab, *_ in els}
    assert "hyrax/sum0/n4" in labels and not any(x.startswith("hyrax/sum1") for x in labels)
    assert {"hyrax/n4/zk/mask", "hyrax/n6/zk/mask", "hyrax/n4/ipa/T"} <= labels
    assert sum(k for *_, k, _ in els) == len(proof)
    for _label, off, k, point in els:
        bad = (_replace(proof, off, _add_h(proof[off:off + k])) if point
               else _add_scalar(proof, off))
        with zk.session(), pytest.raises(REJECT):
            _sum_verify(scheme, bad, coms, ns, evs, sums)


def test_sum_claim_outside_session_or_malformed_refused(scheme):
    with zk.session():
        ns, tabs, coms, states, evs, sums = _sum_setup(scheme, seed=3)
        proof = _sum_prove(scheme, states, evs, sums)
    with pytest.raises(ProverError, match="hiding variant"):
        _sum_prove(scheme, states, evs, sums)
    with pytest.raises(VerificationError, match="hiding variant"):
        _sum_verify(scheme, proof, coms, ns, evs, sums)
    t = sums[0].terms[0]
    malformed = [
        [SumClaim([SumTerm(5, t.point, t.coefficient)], sums[0].value)],     # no item 5
        [SumClaim([SumTerm(1, t.point, t.coefficient)], sums[0].value)],     # 6 coords on 2^4
        [SumClaim([SumTerm(0, t.point, np.array(R, dtype=object))], sums[0].value)],
        [SumClaim([], sums[0].value)],
        [SumClaim([t], np.array(-1, dtype=object))],
        [SumClaim([SumTerm(True, t.point, t.coefficient)], sums[0].value)],
    ]
    for bad in malformed:
        with zk.session(), pytest.raises(VerificationError, match="sum claim 0"):
            _sum_verify(scheme, proof, coms, ns, evs, bad)
        with zk.session(), pytest.raises(ProverError, match="sum claim 0"):
            _sum_prove(scheme, states, evs, bad)


def test_sum_claim_terms_not_revealed(scheme):
    """Programmed challenges, one statement Σ = t_0[i] + t_1[j] + t_2[k] (boolean points,
    two sizes) of two table triples: B moves one unit from t_1[j] to t_0[i], so the
    partial sums per size differ and the total does not; no element of the opening (V,
    C_g, G, rounds, L, R, T, z) repeats within a family or tells A from B by its bit
    count; the binding reduction would send the terms' values (control: their partial
    sums differ)."""
    rng = np.random.default_rng(9)
    ns = [6, 4, 6]
    ta = [F.from_ints(rng.integers(-1000, 1000, 1 << n)) for n in ns]
    tb = [t.copy() for t in ta]
    i, j, k = 40, 9, 17
    tb[0][i] = (int(ta[0][i]) + 1) % R
    tb[1][j] = (int(ta[1][j]) - 1) % R

    def bits(x, n):
        return _vec_bits(x, n)

    one = F.scalar(1)
    terms = [SumTerm(0, bits(i, 6), one), SumTerm(1, bits(j, 4), one),
             SumTerm(2, bits(k, 6), one)]
    value = _sum_value(ta, terms)
    assert int(value) == int(_sum_value(tb, terms))
    assert int(_sum_value(ta, terms[1:2])) != int(_sum_value(tb, terms[1:2]))
    runs = 12

    def family(tabs):
        out = []
        for _ in range(runs):
            log, patch = _sent()
            with zk.session():
                cs = [scheme.commit(t) for t in tabs]
                sums = [SumClaim(terms, value)]
                none = [[], [], []]
                with patch:
                    proof = _sum_prove(scheme, [s for _, s in cs], none, sums)
                _sum_verify(scheme, proof, [c for c, _ in cs], ns, none, sums)
            out.append([proof[o:o + k_] for _, o, k_, _ in _elements(log)])
        return out

    with programmed():
        fa, fb = family(ta), family(tb)
    assert len(fa[0]) == len(fb[0]) > 30

    def ones(b):
        return sum(bin(x).count("1") for x in b)

    for e in range(len(fa[0])):
        for fam in (fa, fb):
            assert len({m[e] for m in fam}) == runs, f"element {e} repeats"
        bits_ = 8 * len(fa[0][e])
        sd = (bits_ / 4 * 2 / runs) ** 0.5
        ma = sum(ones(m[e]) for m in fa) / runs
        mb = sum(ones(m[e]) for m in fb) / runs
        assert abs(ma - mb) <= 6 * sd, f"element {e}: bit means {ma} vs {mb}"


def _vec_bits(x: int, n: int) -> np.ndarray:
    return hy._vec([(x >> b) & 1 for b in range(n)])


def test_graph_reduction_masked_with_hyrax(reg):
    """matmul + rescale + lookup, hyrax, ZK on: the stack reduction runs masked (G sent,
    no finals) and its final check goes to hyrax as a sum claim; the proof verifies; a
    reduction message changed is rejected."""
    from zklora.zkcore import graph as graphlib
    from zklora.zkcore import stack

    from .conftest import backend_for
    from .test_rescale_op import rescale_graph, wit

    be = backend_for(reg, "bls12-381-fr", "hyrax", "logup-gkr")
    g = rescale_graph()
    calls, sums_seen = [], []
    orig_red, orig_open = stack._reduce_masked, Hyrax.open

    def spy(*a, **k):
        calls.append(a[1])
        return orig_red(*a, **k)

    def open_spy(self, ch, items, sums=()):
        sums_seen.append(len(sums))
        return orig_open(self, ch, items, sums=sums)

    log, patch = _sent()
    with zk.session(), patch, mock.patch.object(stack, "_reduce_masked", spy), \
            mock.patch.object(Hyrax, "open", open_spy):
        stream, sections = graphlib.prove(g, wit(), be, {})
    assert calls and sums_seen and sums_seen[-1] >= 1
    red = {lab: off for lab, off, _ in log if lab.startswith("stack/reduce/")}
    assert any(lab.endswith("/zk/sum") for lab in red)
    assert not any(lab.endswith("/finals") for lab in red)
    with zk.session():
        graphlib.verify(g, stream, be, {}, sections)
    for lab, off in red.items():
        if "/zk/sum" in lab or "/round" in lab:
            with zk.session(), pytest.raises(REJECT):
                graphlib.verify(g, _add_scalar(stream, off), be, {}, sections)
