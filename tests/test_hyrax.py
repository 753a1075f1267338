"""Hyrax over BLS12-381: the MSM/point kernel against py_ecc, completeness of batched
openings, and rejection of every malformed or wrong input."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
from py_arkworks_bls12381 import G1Point
from py_ecc.bls.hash_to_curve import hash_to_G1
from py_ecc.optimized_bls12_381 import Z1, b, curve_order, field_modulus, is_on_curve, multiply

from zklora.kernels import bls_msm
from zklora.kernels.bls_msm import POINT_BYTES, R
from zklora.plugins.commitments import hyrax as hy
from zklora.zkcore import mle
from zklora.zkcore.commit import CheckItem, Evaluation, OpenItem
from zklora.zkcore.errors import (
    PluginError,
    ProofFormatError,
    ProverError,
    VerificationError,
    ZkLoraError,
)
from zklora.zkcore.plugins import registry
from zklora.zkcore.transcript import ProverChannel, Transcript, VerifierChannel

REG = registry()
F = REG.field("bls12-381-fr")
REJECT = (VerificationError, ProofFormatError)


@pytest.fixture(scope="module")
def scheme():
    return REG.commitment("hyrax")(F)


def _points(n, salt=b"t"):
    return [bls_msm.hash_point(b"test/" + salt, i.to_bytes(4, "little")) for i in range(n)]


# -- kernel: MSM and codec vs py_ecc -------------------------------------------------------


@pytest.mark.parametrize("n", [1, 3, 8])
def test_msm_matches_py_ecc(n):
    rng = np.random.default_rng(n)
    pts = _points(n)
    full = [int(v) for v in F.random(rng, n)]
    full[0] = R - 1
    assert bls_msm.affine(bls_msm.msm(pts, full)) == bls_msm.msm_reference(pts, full)
    small = F.from_ints(rng.integers(-50, 50, n))
    assert bls_msm.affine(bls_msm.msm_signed(pts, small)) == bls_msm.msm_reference(pts, small)


def test_msm_signed_paths_agree():
    rng = np.random.default_rng(7)
    pts = _points(16)
    for vals in (F.from_ints(rng.integers(-(1 << 40), 1 << 40, 16)),  # split path
                 F.random(rng, 16),  # full-size path
                 F.zeros(16),  # identity
                 F.from_ints(np.arange(16))):  # positive only
        assert bls_msm.msm_signed(pts, vals) == bls_msm.msm(pts, vals)
    assert bls_msm.msm_signed(pts, F.zeros(16)) == bls_msm.IDENTITY
    with pytest.raises(ValueError):
        bls_msm.msm(pts, [1])


def test_generators_are_rfc9380_hash_to_curve():
    g = bls_msm.generators(b"seed", 3)
    assert len(set(p.to_compressed_bytes() for p in g)) == 3
    ref = hash_to_G1(b"seed/gen" + (2).to_bytes(8, "little"), bls_msm.DST, hashlib.sha256)
    from py_ecc.optimized_bls12_381 import normalize

    x, y = normalize(ref)
    assert bls_msm.affine(g[2]) == (int(x.n), int(y.n))
    assert bls_msm.generators(b"seed", 2) == g[:2]  # cached prefix
    assert bls_msm.generators(b"other", 1)[0] != g[0]


def _sqrt(a):
    s = pow(a, (field_modulus + 1) // 4, field_modulus)
    return s if s * s % field_modulus == a else None


def _xbytes(x, flags=0x80):
    buf = bytearray(x.to_bytes(48, "big"))
    buf[0] |= flags
    return bytes(buf)


def test_decode_point_strict():
    g = bls_msm.IDENTITY
    for p in [g, G1Point(), *_points(2)]:
        enc = bls_msm.encode_point(p)
        assert bls_msm.decode_point(enc) == p
    gen = G1Point().to_compressed_bytes()
    bad = {
        "short": gen[:47],
        "long": gen + b"\x00",
        "no compression flag": bytes([gen[0] & 0x7F]) + gen[1:],
        "infinity with garbage": bytes([0xC0]) + b"\x00" * 46 + b"\x01",
        "infinity with sign bit": bytes([0xE0]) + b"\x00" * 47,
    }
    gx = int.from_bytes(bytes([gen[0] & 0x1F]) + gen[1:], "big")
    bad["x >= p"] = _xbytes(gx + field_modulus, gen[0] & 0xE0)
    off = next(x for x in range(1, 100) if _sqrt((x**3 + 4) % field_modulus) is None)
    bad["off curve"] = _xbytes(off)
    x = next(x for x in range(1, 100) if _sqrt((x**3 + 4) % field_modulus) is not None)
    from py_ecc.optimized_bls12_381 import FQ

    pt = (FQ(x), FQ(_sqrt((x**3 + 4) % field_modulus)), FQ(1))
    assert is_on_curve(pt, b) and multiply(pt, curve_order) != Z1  # really off-subgroup
    bad["not in subgroup"] = _xbytes(x)
    for what, buf in bad.items():
        with pytest.raises(ProofFormatError):
            bls_msm.decode_point(buf, what)
    with pytest.raises(ProofFormatError):
        bls_msm.decode_points(gen * 2, 3)


def test_fold_helpers_match_direct():
    rng = np.random.default_rng(3)
    for k in range(4):
        xs = [int(v) for v in F.random(rng, k)]
        r = F.random(rng, k)
        s = hy._fold_weights(xs)
        assert hy._eq_fold(r, xs) == int(F.dot(s, mle.eq_table(F, r)))
        # s equals the coefficient vector of the generator folded round by round
        ident = np.eye(1 << k, dtype=np.int64).astype(object)
        cur = ident
        for x in xs:
            h = cur.shape[0] // 2
            cur = (cur[:h] * pow(x, R - 2, R) + cur[h:] * x) % R
        assert list(cur.reshape(-1)) == list(s)


# -- completeness ---------------------------------------------------------------------------


def _table(rng, n, small=True):
    if small:
        return F.from_ints(rng.integers(-1000, 1000, 1 << n))
    return F.random(rng, 1 << n)


def _evals(rng, t, n, k, point=None):
    out = []
    for _ in range(k):
        r = F.random(rng, n) if point is None else point
        out.append(Evaluation(r, mle.evaluate(F, t, r, base=True)))
    return out


def _prove(sch, states, evals, label="hyrax-test"):
    ch = ProverChannel(Transcript(label))
    sch.open(ch, [OpenItem(s, e) for s, e in zip(states, evals)])
    return ch.proof_bytes()


def _verify(sch, proof, coms, ns, evals, label="hyrax-test"):
    ch = VerifierChannel(Transcript(label), proof)
    sch.verify(ch, [CheckItem(c, n, e) for c, n, e in zip(coms, ns, evals)])
    ch.finish()


def _setup(sch, rng, ns, claims, small=True, point=None):
    tabs = [_table(rng, n, small) for n in ns]
    cs = [sch.commit(t) for t in tabs]
    evs = [_evals(rng, t, n, k, point) for t, n, k in zip(tabs, ns, claims)]
    coms = [c for c, _ in cs]
    states = [s for _, s in cs]
    return tabs, coms, states, evs


@pytest.mark.parametrize("ns,claims,small", [
    ([0], [1], True),
    ([1], [2], True),
    ([2], [1], False),
    ([5], [3], True),
    ([8], [1], False),
    ([3, 3, 3], [1, 2, 1], True),
    ([4, 7, 4, 2], [2, 1, 1, 3], False),
    ([6, 6], [0, 2], True),
])
def test_completeness(scheme, ns, claims, small):
    rng = np.random.default_rng(sum(ns) * 31 + sum(claims))
    tabs, coms, states, evs = _setup(scheme, rng, ns, claims, small)
    for c, n in zip(coms, ns):
        assert len(c) == scheme.commitment_size(n) == POINT_BYTES << (n // 2)
    proof = _prove(scheme, states, evs)
    _verify(scheme, proof, coms, ns, evs)


def test_same_point_batch_is_one_short_argument(scheme):
    rng = np.random.default_rng(5)
    point = F.random(rng, 6)
    tabs, coms, states, evs = _setup(scheme, rng, [6, 6, 6], [1, 1, 1], point=point)
    proof = _prove(scheme, states, evs)
    _verify(scheme, proof, coms, [6, 6, 6], evs)
    assert len(proof) == 2 * 3 * POINT_BYTES + 32  # no reduction sumcheck, one IPA


def test_commit_is_deterministic_and_binding_to_content(scheme):
    rng = np.random.default_rng(9)
    t = _table(rng, 6)
    assert scheme.commit(t)[0] == scheme.commit(t.copy())[0]
    t2 = t.copy()
    t2[17] = (t2[17] + 1) % R
    assert scheme.commit(t2)[0] != scheme.commit(t)[0]
    # all-zero rows commit to the identity, which still decodes
    z = F.zeros(1 << 4)
    com, st = scheme.commit(z)
    ev = _evals(rng, z, 4, 2)
    _verify(scheme, _prove(scheme, [st], [ev]), [com], [4], [ev])


def test_bad_inputs_to_prover(scheme):
    with pytest.raises(ProverError):
        scheme.commit(F.zeros(3))
    with pytest.raises(ProverError):
        scheme.commit(np.array([0.5, 1.0]))
    rng = np.random.default_rng(2)
    tabs, coms, states, evs = _setup(scheme, rng, [4], [1])
    # a false claim is not refused: the prover proves its real table, the verifier rejects
    wrong = [[Evaluation(evs[0][0].point, (evs[0][0].value + 1) % R)]]
    _rejects(scheme, _prove(scheme, states, wrong), coms, [4], wrong, VerificationError)
    tabs, coms, states, evs = _setup(scheme, rng, [4, 4], [2, 1])
    wrong = [[evs[0][0], Evaluation(evs[0][1].point, (evs[0][1].value + 1) % R)], evs[1]]
    _rejects(scheme, _prove(scheme, states, wrong), coms, [4, 4], wrong, VerificationError)
    with pytest.raises(ProverError):
        _prove(scheme, [object()], [evs[1]])
    with pytest.raises(PluginError):
        REG.commitment("hyrax")(REG.field("goldilocks"))
    with pytest.raises(PluginError):
        REG.commitment("hyrax")(F, {"nope": 1})


# -- soundness: every rejection ---------------------------------------------------------------


@pytest.fixture(scope="module")
def honest(scheme):
    rng = np.random.default_rng(11)
    ns = [4, 5, 4]
    tabs, coms, states, evs = _setup(scheme, rng, ns, [2, 1, 1])
    proof = _prove(scheme, states, evs)
    _verify(scheme, proof, coms, ns, evs)
    return tabs, coms, states, evs, ns, proof


def _rejects(scheme, proof, coms, ns, evs, exc=REJECT):
    with pytest.raises(exc):
        _verify(scheme, proof, coms, ns, evs)


def _with_eval(evs, i, k, point=None, value=None):
    out = [list(e) for e in evs]
    ev = out[i][k]
    out[i][k] = Evaluation(ev.point if point is None else point,
                           ev.value if value is None else value)
    return out


def test_reject_wrong_value(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    for i, k in [(0, 0), (0, 1), (1, 0), (2, 0)]:
        bad = _with_eval(evs, i, k, value=(int(evs[i][k].value) + 1) % R)
        _rejects(scheme, proof, coms, ns, bad, VerificationError)


def test_reject_wrong_point(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    for i, k in [(0, 1), (2, 0)]:
        pt = evs[i][k].point.copy()
        pt[-1] = (pt[-1] + 1) % R
        _rejects(scheme, proof, coms, ns, _with_eval(evs, i, k, point=pt), VerificationError)


def test_reject_bad_statement_encodings(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    pt = evs[0][0].point.copy()
    pt[0] = R
    _rejects(scheme, proof, coms, ns, _with_eval(evs, 0, 0, point=pt), VerificationError)
    _rejects(scheme, proof, coms, ns, _with_eval(evs, 0, 0, value=R), VerificationError)
    _rejects(scheme, proof, coms, ns, _with_eval(evs, 0, 0, value=-1), VerificationError)
    _rejects(scheme, proof, coms, ns, _with_eval(evs, 0, 0, point=pt[:-1]), VerificationError)
    dup = [list(e) for e in evs]
    dup[1] = [evs[1][0], Evaluation(evs[1][0].point, (int(evs[1][0].value) + 1) % R)]
    _rejects(scheme, proof, coms, ns, dup, VerificationError)
    _rejects(scheme, proof, coms, [4, 5, 5], evs)  # wrong num_vars


def test_reject_tampered_commitment(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    c = bytearray(coms[1])
    c[50] ^= 1  # a flipped bit: almost surely not a valid point
    _rejects(scheme, proof, [coms[0], bytes(c), coms[2]], ns, evs)
    other = bls_msm.encode_point(G1Point())  # a valid but wrong row
    c = coms[1][:POINT_BYTES] + other + coms[1][2 * POINT_BYTES:]
    _rejects(scheme, proof, [coms[0], c, coms[2]], ns, evs, VerificationError)
    _rejects(scheme, proof, [coms[0], coms[1][:-1], coms[2]], ns, evs, ProofFormatError)
    _rejects(scheme, proof, [coms[0], coms[1] + other, coms[2]], ns, evs, ProofFormatError)
    _rejects(scheme, proof, [coms[2], coms[1], coms[0]], ns, evs)  # swapped items
    noncanon = bytes([0xC0]) + b"\x00" * 46 + b"\x01"
    c = noncanon + coms[1][POINT_BYTES:]
    _rejects(scheme, proof, [coms[0], c, coms[2]], ns, evs, ProofFormatError)


def test_reject_tensor_changed_after_commitment(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    t2 = tabs[0].copy()
    t2[3] = (t2[3] + 1) % R
    _, st2 = scheme.commit(t2)
    ev2 = [_evals(np.random.default_rng(1), t2, 4, 1)[0]]
    # honest proof for the changed tensor, checked against the original commitment
    p2 = _prove(scheme, [st2, states[1], states[2]], [ev2, evs[1], evs[2]])
    _rejects(scheme, p2, coms, ns, [ev2, evs[1], evs[2]], VerificationError)
    # a cheating prover that keeps the old commitment bytes in its state
    forged = hy.HyraxState(t2, 4, coms[0])
    p3 = _prove(scheme, [forged, states[1], states[2]], [ev2, evs[1], evs[2]])
    _rejects(scheme, p3, coms, ns, [ev2, evs[1], evs[2]], VerificationError)


def test_reject_tampered_proof_bytes(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    positions = sorted(set(range(0, len(proof), 23)) | {0, len(proof) - 1})
    for pos in positions:
        bad = bytearray(proof)
        bad[pos] ^= 1 << (pos % 8)
        _rejects(scheme, bytes(bad), coms, ns, evs)
    _rejects(scheme, proof[:-1], coms, ns, evs, ProofFormatError)
    _rejects(scheme, proof + b"\x00", coms, ns, evs, ProofFormatError)
    _rejects(scheme, b"", coms, ns, evs, ProofFormatError)


def _layout_of(proof_len):
    """The honest fixture's proof: group n=4 (2 items, 3 claims, reduced) then n=5."""
    sc4 = 4 * 2 * 32 + 2 * 32
    ipa4 = 2 * 2 * POINT_BYTES + 32
    sc5 = 0  # one item with one claim: no reduction
    ipa5 = 3 * 2 * POINT_BYTES + 32
    assert proof_len == sc4 + ipa4 + sc5 + ipa5
    return sc4, ipa4


def test_reject_bad_points_and_scalars_in_proof(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    sc4, ipa4 = _layout_of(len(proof))
    L0 = sc4  # first L point of the n=4 argument
    gen = G1Point().to_compressed_bytes()
    x = next(x for x in range(1, 100) if _sqrt((x**3 + 4) % field_modulus) is not None)
    off = next(x for x in range(1, 100) if _sqrt((x**3 + 4) % field_modulus) is None)
    for pt in [_xbytes(x), _xbytes(off), bytes([0xC0]) + b"\x00" * 46 + b"\x01",
               bytes([gen[0] & 0x7F]) + gen[1:]]:
        bad = proof[:L0] + pt + proof[L0 + POINT_BYTES:]
        _rejects(scheme, bad, coms, ns, evs, ProofFormatError)
    # a valid but wrong point
    bad = proof[:L0] + gen + proof[L0 + POINT_BYTES:]
    _rejects(scheme, bad, coms, ns, evs, VerificationError)
    # final scalar a of each argument, and a sumcheck scalar, set to values >= r
    for pos in [sc4 + ipa4 - 32, len(proof) - 32, 0]:
        for v in [R, R + 1, (1 << 256) - 1]:
            bad = proof[:pos] + v.to_bytes(32, "little") + proof[pos + 32:]
            _rejects(scheme, bad, coms, ns, evs, ProofFormatError)
    # a + r would be the same element: must still be rejected as non-canonical
    a = int.from_bytes(proof[-32:], "little")
    if a + R < 1 << 256:
        bad = proof[:-32] + (a + R).to_bytes(32, "little")
        _rejects(scheme, bad, coms, ns, evs, ProofFormatError)


def test_verifier_raises_only_zklora_errors_on_garbage(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    rng = np.random.default_rng(0)
    for _ in range(10):
        junk = rng.integers(0, 256, len(proof), dtype=np.uint8).tobytes()
        with pytest.raises(ZkLoraError):
            _verify(scheme, junk, coms, ns, evs)
    with pytest.raises(ZkLoraError):
        _verify(scheme, proof, [b"\xff" * len(c) for c in coms], ns, evs)


def test_other_seed_or_transcript_rejects(scheme, honest):
    tabs, coms, states, evs, ns, proof = honest
    other = REG.commitment("hyrax")(F, {"seed": "another/seed"})
    _rejects(other, proof, coms, ns, evs)
    with pytest.raises(REJECT):
        _verify(scheme, proof, coms, ns, evs, label="another-protocol")


def test_graph_proof_through_hyrax():
    torch = pytest.importorskip("torch")
    from zklora.zkcore.graph import Backend, Graph, prove, verify

    be = Backend(F, REG.commitment("hyrax")(F), None, REG)
    g = Graph()
    g.tensor("X", (2, 4, 8), "committed")
    g.tensor("W", (8, 4), "committed")
    g.tensor("Y", (2, 4, 4), "committed")
    g.op("matmul", "mm", ["X", "W"], ["Y"])
    g.outputs = ["Y"]
    gen = torch.Generator().manual_seed(0)
    x = torch.randint(-100, 100, (2, 4, 8), generator=gen)
    w = torch.randint(-100, 100, (8, 4), generator=gen)
    proof, sections = prove(g, {"X": x, "W": w}, be, {"k": 1})
    verify(g, proof, be, {"k": 1}, sections)
    opening = [s for s in sections if s[0] == "openings"][0]
    for pos in (opening[1], (opening[1] + opening[2]) // 2, opening[2] - 1, len(proof) // 3):
        bad = bytearray(proof)
        bad[pos] ^= 4
        with pytest.raises(ZkLoraError):
            verify(g, bytes(bad), be, {"k": 1}, sections)
    with pytest.raises(ZkLoraError):
        verify(g, proof, be, {"k": 2}, sections)
